# The layer unpacker: a library the daemon calls (unpack.h); its worker runs
# in a forked, chrooted, capability-dropped, seccomp-confined child.
noinst_LIBRARIES += libkegunpack.a
libkegunpack_a_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(JANSSON_CFLAGS) \
	$(LIBARCHIVE_CFLAGS) $(LIBSECCOMP_CFLAGS) $(LIBCAP_CFLAGS) $(NETTLE_CFLAGS)
libkegunpack_a_SOURCES = \
	src/unpack/unpack.c src/unpack/unpack.h \
	src/unpack/status.c \
	src/unpack/report.c src/unpack/report.h \
	src/unpack/worker.c src/unpack/worker.h \
	src/unpack/confine.c src/unpack/confine.h src/unpack/sanitizer.h \
	src/unpack/seccomp_filter.c \
	src/unpack/stream.c src/unpack/stream.h \
	src/unpack/extract.c src/unpack/extract.h \
	src/unpack/entry_rules.c src/unpack/entry_rules.h \
	src/unpack/xattr_policy.c src/unpack/xattr_policy.h \
	src/unpack/whiteout.c src/unpack/whiteout.h \
	src/unpack/beneath.c src/unpack/beneath.h \
	src/unpack/pathset.c src/unpack/pathset.h \
	src/unpack/failure.c src/unpack/failure.h

# What links the unpacker, in link order. libarchive is opened by the
# worker (src/lazy/lazy_archive.h), not linked.
UNPACK_LIBS = libkegunpack.a libkegcontent.a libkegcommon.a libkeglazy.a \
	$(LIBEVENT_LIBS) $(JANSSON_LIBS) $(LIBSECCOMP_LIBS) \
	$(LIBCAP_LIBS) $(NETTLE_LIBS) $(DL_LIBS)
