# Unit tests for OCI spec generation (src/oci/local.mk's library): the
# spec and options in test_oci, user resolution against temporary rootfs
# trees in test_oci_user. Uses the harness library libkegunit.a.
OCI_UNIT_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(LIBSECCOMP_CFLAGS) $(LIBCAP_CFLAGS)
OCI_UNIT_LDADD = libkegunit.a libkegoci.a libkegcommon.a $(JANSSON_LIBS) \
	$(LIBSECCOMP_LIBS) $(LIBCAP_LIBS)

check_PROGRAMS += test/unit/test_oci test/unit/test_oci_user
TESTS += test/unit/test_oci test/unit/test_oci_user

test_unit_test_oci_SOURCES = test/unit/test_oci.c
test_unit_test_oci_CFLAGS = $(OCI_UNIT_CFLAGS)
test_unit_test_oci_LDADD = $(OCI_UNIT_LDADD)

test_unit_test_oci_user_SOURCES = test/unit/test_oci_user.c
test_unit_test_oci_user_CFLAGS = $(OCI_UNIT_CFLAGS)
test_unit_test_oci_user_LDADD = $(OCI_UNIT_LDADD)
