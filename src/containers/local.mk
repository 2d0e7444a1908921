# src/containers: the container service (/v1/containers in api-spec/openapi.yaml):
# metadata rows made from an image, with their snapshot and runtime spec.
noinst_LIBRARIES += libkegcontainers.a
libkegcontainers_a_CFLAGS = $(AM_CFLAGS) $(KEGD_CFLAGS)
libkegcontainers_a_SOURCES = \
	src/containers/containers.h \
	src/containers/error.c \
	src/containers/runtime.c \
	src/containers/labels.c \
	src/containers/rootfs.c \
	src/containers/create.c \
	src/containers/update.c \
	src/containers/delete.c
