# OCI runtime spec generation (the options: ContainerOptions in api-spec/openapi.yaml): one file
# per job so each stays short. Linked by kegd and the oci unit tests.
noinst_LIBRARIES += libkegoci.a
libkegoci_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(LIBSECCOMP_CFLAGS) $(LIBCAP_CFLAGS)
libkegoci_a_SOURCES = \
	src/oci/spec.h src/oci/internal.h \
	src/oci/build.c \
	src/oci/util.c \
	src/oci/defaults.c \
	src/oci/caps.c \
	src/oci/seccomp.c \
	src/oci/etcfile.c \
	src/oci/user.c \
	src/oci/env.c \
	src/oci/image_config.c \
	src/oci/mounts.c \
	src/oci/resources.c \
	src/oci/options.c \
	src/oci/check.c
