# Unit tests for the image model's parsing (src/images/manifest.mk's files).
# Uses the shared harness library libkegunit.a from test/unit/local.mk.
IMAGES_UNIT_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(NETTLE_CFLAGS)
IMAGES_UNIT_LDADD = libkegunit.a libkegimages.a libkegcontent.a libkegcommon.a $(JANSSON_LIBS) $(NETTLE_LIBS)

check_PROGRAMS += test/unit/test_manifest test/unit/test_platform
TESTS += test/unit/test_manifest test/unit/test_platform

test_unit_test_manifest_SOURCES = test/unit/test_manifest.c
test_unit_test_manifest_CFLAGS = $(IMAGES_UNIT_CFLAGS)
test_unit_test_manifest_LDADD = $(IMAGES_UNIT_LDADD)

test_unit_test_platform_SOURCES = test/unit/test_platform.c
test_unit_test_platform_CFLAGS = $(IMAGES_UNIT_CFLAGS)
test_unit_test_platform_LDADD = $(IMAGES_UNIT_LDADD)
