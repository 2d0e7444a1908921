noinst_LIBRARIES += libkegapi.a
libkegapi_a_CFLAGS = $(AM_CFLAGS) $(KEGD_CFLAGS)
libkegapi_a_SOURCES = \
	src/api/api.h \
	src/api/helpers.c src/api/helpers.h \
	src/api/labels_patch.c src/api/labels_patch.h \
	src/api/system.c \
	src/api/namespaces.c \
	src/api/events.c \
	src/api/operations.c \
	src/api/images.c \
	src/api/content.c \
	src/api/snapshots.c \
	src/api/mount.c \
	src/api/containers.c \
	src/api/tasks.c src/api/tasks_api.h src/api/tasks_common.c \
	src/api/tasks_exec.c src/api/tasks_io.c \
	src/api/import.c \
	src/api/export.c
