# The unpacker's tests: a unit test of the pure entry rules, and the driver
# test_unpack.py runs (one unpack through the library and the event loop).
UNPACK_TEST_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(JANSSON_CFLAGS) $(NETTLE_CFLAGS)

check_PROGRAMS += test/unpack/unpack-run test/unpack/test_entry_rules
TESTS += test/unpack/test_entry_rules

test_unpack_unpack_run_SOURCES = test/unpack/unpack-run.c
test_unpack_unpack_run_CFLAGS = $(UNPACK_TEST_CFLAGS)
test_unpack_unpack_run_LDADD = $(UNPACK_LIBS)

test_unpack_test_entry_rules_SOURCES = test/unpack/test_entry_rules.c
test_unpack_test_entry_rules_CFLAGS = $(UNPACK_TEST_CFLAGS)
test_unpack_test_entry_rules_LDADD = libkegunit.a $(UNPACK_LIBS)
