sbin_PROGRAMS += kegd
noinst_LIBRARIES += libkegd.a
libkegd_a_CFLAGS = $(AM_CFLAGS) $(KEGD_CFLAGS)
libkegd_a_SOURCES = \
	src/kegd/settings.c src/kegd/settings.h \
	src/kegd/daemon.c src/kegd/daemon.h \
	src/kegd/lockfile.c src/kegd/lockfile.h \
	src/kegd/socket_group.c src/kegd/socket_group.h
kegd_CFLAGS = $(AM_CFLAGS) $(KEGD_CFLAGS)
kegd_SOURCES = src/kegd/main.c
# Order matters for static libraries: users before what they use.
KEGD_INTERNAL_LIBS = libkegd.a libkegapi.a libkegtasks.a libkegcontainers.a libkegsnapshots.a libkegsnapshotters.a libkegimages.a libkegunpack.a libkegops.a libkegdist.a \
	libkegcontent.a libkegevents.a libkegstore.a libkeghttp.a libkegimages.a libkegoci.a libkegruntime.a libkegcommon.a \
	libkeglazy.a
kegd_LDADD = $(KEGD_INTERNAL_LIBS) $(KEGD_LIBS)
