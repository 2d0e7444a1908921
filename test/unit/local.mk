# Unit tests: one program per pure-logic module, built on a tiny harness
# (harness.c/.h, no external library). They run before the integration suite
# because this file is included first.
check_LIBRARIES = libkegunit.a
libkegunit_a_CFLAGS = $(AM_CFLAGS)
libkegunit_a_SOURCES = test/unit/harness.c test/unit/harness.h

UNIT_CFLAGS = $(AM_CFLAGS) $(KEGD_CFLAGS)
UNIT_LDADD = libkegunit.a libkeghttp.a libkegevents.a libkegstore.a \
	libkegcommon.a $(KEGD_LIBS)

UNIT_TESTS = \
	test/unit/test_http_parser \
	test/unit/test_router \
	test/unit/test_sse \
	test/unit/test_query \
	test/unit/test_names \
	test/unit/test_timefmt \
	test/unit/test_errcode \
	test/unit/test_event_filter \
	test/unit/test_labels \
	test/unit/test_http_reply
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)

test_unit_test_http_parser_SOURCES = test/unit/test_http_parser.c
test_unit_test_http_parser_CFLAGS = $(UNIT_CFLAGS)
test_unit_test_http_parser_LDADD = $(UNIT_LDADD)

test_unit_test_router_SOURCES = test/unit/test_router.c
test_unit_test_router_CFLAGS = $(UNIT_CFLAGS)
test_unit_test_router_LDADD = $(UNIT_LDADD)

test_unit_test_sse_SOURCES = test/unit/test_sse.c
test_unit_test_sse_CFLAGS = $(UNIT_CFLAGS)
test_unit_test_sse_LDADD = $(UNIT_LDADD)

test_unit_test_query_SOURCES = test/unit/test_query.c
test_unit_test_query_CFLAGS = $(UNIT_CFLAGS)
test_unit_test_query_LDADD = $(UNIT_LDADD)

test_unit_test_names_SOURCES = test/unit/test_names.c
test_unit_test_names_CFLAGS = $(UNIT_CFLAGS)
test_unit_test_names_LDADD = $(UNIT_LDADD)

test_unit_test_timefmt_SOURCES = test/unit/test_timefmt.c
test_unit_test_timefmt_CFLAGS = $(UNIT_CFLAGS)
test_unit_test_timefmt_LDADD = $(UNIT_LDADD)

test_unit_test_errcode_SOURCES = test/unit/test_errcode.c
test_unit_test_errcode_CFLAGS = $(UNIT_CFLAGS)
test_unit_test_errcode_LDADD = $(UNIT_LDADD)

test_unit_test_event_filter_SOURCES = test/unit/test_event_filter.c
test_unit_test_event_filter_CFLAGS = $(UNIT_CFLAGS)
test_unit_test_event_filter_LDADD = $(UNIT_LDADD)

test_unit_test_labels_SOURCES = test/unit/test_labels.c
test_unit_test_labels_CFLAGS = $(UNIT_CFLAGS)
test_unit_test_labels_LDADD = $(UNIT_LDADD)

# keg's reading of replies (the client's; kegd does not link it).
test_unit_test_http_reply_SOURCES = test/unit/test_http_reply.c src/client/http_reply.c
test_unit_test_http_reply_CFLAGS = $(UNIT_CFLAGS)
test_unit_test_http_reply_LDADD = $(UNIT_LDADD)
