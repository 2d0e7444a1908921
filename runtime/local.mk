# runtime: the OCI runtime run from the daemon's loop (libkegruntime.a) and
# kegd-shim, the one small process per container process (runtime/README).
noinst_LIBRARIES += libkegruntime.a
libkegruntime_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(LIBEVENT_CFLAGS)
libkegruntime_a_SOURCES = \
	runtime/runc.c runtime/runc.h \
	runtime/runc_cmds.c \
	runtime/runc_util.c \
	runtime/exec.c runtime/exec.h \
	runtime/shim_client.c runtime/shim_client.h \
	runtime/shim_watch.c \
	runtime/shim_files.c \
	runtime/proc_stat.c runtime/proc_stat.h

# The shim links only libc: it outlives kegd and must stay small and
# independent of the daemon's libraries.
sbin_PROGRAMS += kegd-shim
kegd_shim_CFLAGS = $(AM_CFLAGS)
kegd_shim_LDADD =
kegd_shim_SOURCES = \
	runtime/shim/shim.h \
	runtime/shim/main.c \
	runtime/shim/loop.c \
	runtime/shim/spawn.c \
	runtime/shim/reap.c \
	runtime/shim/output.c \
	runtime/shim/crilog.c \
	runtime/shim/attach.c \
	runtime/shim/control.c \
	runtime/shim/sockets.c \
	runtime/shim/report.c \
	runtime/shim/json.c \
	runtime/shim/util.c \
	runtime/proc_stat.c runtime/proc_stat.h
EXTRA_DIST += runtime/README
