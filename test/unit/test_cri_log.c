/* Unit tests for src/tasks/cri_log.c, log_format.c, log_tail.c and
 * log_collect: CRI lines, timestamps, joining P pieces, filters, tail. */
#include <event2/buffer.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "tasks/cri_log.h"
#include "tasks/log_format.h"
#include "tasks/log_tail.h"
#include "tasks/logs.h"

#define NS 1000000000LL

static int
parse(const char *s, struct cri_line *l)
{
	return cri_parse_line(s, strlen(s), l);
}

static void
full_line(void)
{
	struct cri_line l;
	const char *s = "2024-02-29T12:00:00.5Z stdout F hello world";
	if (!CHECK(parse(s, &l) == 0))
		return;
	CHECK_INT_EQ(l.time_ns, 1709208000 * NS + NS / 2);
	CHECK_INT_EQ(l.stream, LOG_STREAM_STDOUT);
	CHECK(!l.partial);
	CHECK_INT_EQ(l.text_len, 11);
	CHECK(memcmp(l.text, "hello world", 11) == 0);
	CHECK_INT_EQ(l.time_len, 22);
}

static void
partial_and_stderr(void)
{
	struct cri_line l;
	CHECK(parse("2024-01-01T00:00:00.000000001Z stderr P abc ", &l) == 0);
	CHECK_INT_EQ(l.stream, LOG_STREAM_STDERR);
	CHECK(l.partial);
	CHECK_INT_EQ(l.text_len, 4); /* the trailing space is text */
	CHECK_INT_EQ(l.time_ns % NS, 1);
}

static void
empty_lines(void)
{
	struct cri_line l;
	CHECK(parse("2024-01-01T00:00:00Z stdout F ", &l) == 0);
	CHECK_INT_EQ(l.text_len, 0);
	CHECK(parse("2024-01-01T00:00:00Z stdout F", &l) == 0);
	CHECK_INT_EQ(l.text_len, 0);
}

static void
malformed_lines(void)
{
	struct cri_line l;
	CHECK(parse("", &l) < 0);
	CHECK(parse("garbage", &l) < 0);
	CHECK(parse("2024-01-01T00:00:00Z stdin F x", &l) < 0);
	CHECK(parse("2024-01-01T00:00:00Z stdout X x", &l) < 0);
	CHECK(parse("2024-01-01T00:00:00Z stdout FF x", &l) < 0);
	CHECK(parse("2024-01-01T00:00:00Z stdout", &l) < 0);
	CHECK(parse("2024-13-01T00:00:00Z stdout F x", &l) < 0);
	CHECK(parse("2024-01-01 00:00:00Z stdout F x", &l) < 0);
	CHECK(parse(" 2024-01-01T00:00:00Z stdout F x", &l) < 0);
}

static int64_t
t(const char *s)
{
	int64_t ns = -1;
	if (cri_parse_time(s, strlen(s), &ns) < 0)
		return -1;
	return ns;
}

static void
timestamps(void)
{
	CHECK_INT_EQ(t("1970-01-01T00:00:00Z"), 0);
	CHECK_INT_EQ(t("2000-01-01T00:00:00.123456789Z"), 946684800 * NS + 123456789);
	CHECK_INT_EQ(t("2000-01-01T01:00:00+01:00"), 946684800 * NS);
	CHECK_INT_EQ(t("1999-12-31T23:30:00-00:30"), 946684800 * NS);
	CHECK_INT_EQ(t("2024-02-29T12:00:00Z"), 1709208000 * NS);
	CHECK_INT_EQ(t("2023-02-29T12:00:00Z"), -1);
	CHECK_INT_EQ(t("2000-01-01T00:00:00.1234567891Z"), -1);
	CHECK_INT_EQ(t("2000-01-01T00:00:00.Z"), -1);
	CHECK_INT_EQ(t("2000-01-01T00:00:00"), -1);
	CHECK_INT_EQ(t("2000-01-01T24:00:00Z"), -1);
	CHECK_INT_EQ(t("2000-01-01T00:00:00+25:00"), -1);
	CHECK_INT_EQ(t("1969-12-31T23:59:59Z"), -1);
	CHECK_INT_EQ(t("9999-01-01T00:00:00Z"), -1);
}

static void
since_values(void)
{
	int64_t ns;
	CHECK(log_parse_since("1700000000", &ns) == 0 && ns == 1700000000 * NS);
	CHECK(log_parse_since("1700000000.25", &ns) == 0 && ns == 1700000000 * NS + NS / 4);
	CHECK(log_parse_since("2000-01-01T00:00:00Z", &ns) == 0 && ns == 946684800 * NS);
	CHECK(log_parse_since("", &ns) < 0);
	CHECK(log_parse_since("-5", &ns) < 0);
	CHECK(log_parse_since("12abc", &ns) < 0);
	CHECK(log_parse_since("99999999999999999999", &ns) < 0);
}

/* Runs lines (each "\n"-terminated) through a formatter. */
static char *
format(const char *lines, enum log_format fmt, unsigned streams, int64_t since)
{
	struct log_read_opts o;
	log_read_opts_default(&o);
	o.format = fmt;
	o.streams = streams;
	o.since_ns = since;
	struct log_fmt f;
	log_fmt_init(&f, &o);
	struct evbuffer *out = evbuffer_new();
	for (const char *p = lines, *nl; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
		log_fmt_line(&f, p, (size_t)(nl - p), out);
	log_fmt_finish(&f, out);
	log_fmt_free(&f);
	size_t len = evbuffer_get_length(out);
	char *s = calloc(1, len + 1);
	evbuffer_remove(out, s, len);
	evbuffer_free(out);
	return s;
}

#define L1 "2024-01-01T00:00:01Z stdout P hel\n"
#define L2 "2024-01-01T00:00:02Z stderr F oops\n"
#define L3 "2024-01-01T00:00:03Z stdout F lo\n"
#define BAD "not a cri line\n"

static void
text_joins_partials(void)
{
	char *s = format(L1 L2 BAD L3, LOG_FORMAT_TEXT, LOG_STREAM_STDOUT, 0);
	CHECK_STR_EQ(s, "hello\n");
	free(s);
	s = format(L1 L2 L3, LOG_FORMAT_TEXT, LOG_STREAM_STDERR, 0);
	CHECK_STR_EQ(s, "oops\n");
	free(s);
}

static void
ndjson_entries(void)
{
	char *s = format(L1 L2 L3, LOG_FORMAT_NDJSON, LOG_STREAM_BOTH, 0);
	CHECK_STR_EQ(s,
	    "{\"time\":\"2024-01-01T00:00:02Z\",\"stream\":\"stderr\",\"log\":\"oops\"}\n"
	    "{\"time\":\"2024-01-01T00:00:01Z\",\"stream\":\"stdout\",\"log\":\"hello\"}\n");
	free(s);
	/* A piece never finished still comes out at the end. */
	s = format(L1, LOG_FORMAT_NDJSON, LOG_STREAM_BOTH, 0);
	CHECK_STR_EQ(s, "{\"time\":\"2024-01-01T00:00:01Z\",\"stream\":\"stdout\",\"log\":\"hel\"}\n");
	free(s);
}

static void
since_and_raw(void)
{
	char *s = format(L1 L2 L3, LOG_FORMAT_RAW, LOG_STREAM_BOTH,
	    t("2024-01-01T00:00:02Z"));
	CHECK_STR_EQ(s, L2 L3);
	free(s);
}

static void
json_escaping(void)
{
	struct evbuffer *out = evbuffer_new();
	log_json_escape(out, "a\"\\\n\x01\xff\xc3\xa9\xed\xa0\x80z", 12);
	size_t len = evbuffer_get_length(out);
	char buf[128] = { 0 };
	evbuffer_remove(out, buf, len);
	CHECK_STR_EQ(buf, "a\\\"\\\\\\n\\u0001\\ufffd\xc3\xa9\\ufffd\\ufffd\\ufffdz");
	evbuffer_free(out);
}

/* A temp file holding text; returns its fd (the file is unlinked). */
static int
temp_log(const char *text, size_t len)
{
	char path[] = "/tmp/keg-test-cri-XXXXXX";
	int fd = mkstemp(path);
	unlink(path);
	if (fd >= 0 && write(fd, text, len) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	return fd;
}

static int64_t
tail_start(const char *text, size_t len, int64_t n, unsigned streams)
{
	int fd = temp_log(text, len);
	struct log_tail_scan ts;
	log_tail_init(&ts, fd, (int64_t)len, n, streams);
	int rc;
	while ((rc = log_tail_step(&ts)) == 0)
		;
	log_tail_free(&ts);
	close(fd);
	return rc < 0 ? -2 : ts.start;
}

#define T1 "2024-01-01T00:00:01Z stdout F one\n"
#define T2 "2024-01-01T00:00:02Z stderr F two\n"
#define T3 "2024-01-01T00:00:03Z stdout P thr\n"
#define T4 "2024-01-01T00:00:04Z stdout F ee\n"

static void
tail_offsets(void)
{
	const char *log = T1 T2 T3 T4;
	size_t len = strlen(log);
	CHECK_INT_EQ(tail_start(log, len, 0, LOG_STREAM_BOTH), (int64_t)len);
	/* The last line's P piece belongs to it. */
	CHECK_INT_EQ(tail_start(log, len, 1, LOG_STREAM_BOTH), (int64_t)strlen(T1 T2));
	CHECK_INT_EQ(tail_start(log, len, 2, LOG_STREAM_BOTH), (int64_t)strlen(T1));
	CHECK_INT_EQ(tail_start(log, len, 3, LOG_STREAM_BOTH), 0);
	CHECK_INT_EQ(tail_start(log, len, 50, LOG_STREAM_BOTH), 0);
	/* Only one stderr line: all of it; none: past the last one. */
	CHECK_INT_EQ(tail_start(log, len, 1, LOG_STREAM_STDERR), 0);
	CHECK_INT_EQ(tail_start(log, len, 0, LOG_STREAM_STDERR), (int64_t)strlen(T1 T2));
	CHECK_INT_EQ(tail_start(log, len, 2, LOG_STREAM_STDOUT), 0);
	CHECK_INT_EQ(tail_start("", 0, 2, LOG_STREAM_BOTH), 0);
	/* A line still being written is not counted. */
	CHECK_INT_EQ(tail_start(T1 "2024-01-01T00:00:0", strlen(T1) + 18, 0,
	    LOG_STREAM_BOTH), (int64_t)strlen(T1));
	CHECK_INT_EQ(tail_start(T1 BAD, strlen(T1 BAD), 1, LOG_STREAM_BOTH), 0);
}

/* Several 64 KiB blocks: the scan must cross block edges. */
static void
tail_big_file(void)
{
	size_t n = 20000, len = n * strlen(T1);
	char *log = malloc(len + 1);
	for (size_t i = 0; i < n; i++)
		memcpy(log + i * strlen(T1), T1, strlen(T1));
	CHECK_INT_EQ(tail_start(log, len, 10000, LOG_STREAM_BOTH),
	    (int64_t)(len - 10000 * strlen(T1)));
	CHECK_INT_EQ(tail_start(log, len, 19999, LOG_STREAM_BOTH), (int64_t)strlen(T1));
	free(log);
}

static void
collect_output(void)
{
	char path[] = "/tmp/keg-test-collect-XXXXXX";
	int fd = mkstemp(path);
	const char *log = T1 T2 T3 T4 BAD;
	CHECK(write(fd, log, strlen(log)) == (ssize_t)strlen(log));
	close(fd);
	char *out, *err;
	size_t olen, elen;
	bool trunc;
	CHECK(log_collect(path, 1024, &out, &olen, &err, &elen, &trunc) == 0);
	CHECK_STR_EQ(out, "one\nthree\n");
	CHECK_STR_EQ(err, "two\n");
	CHECK(!trunc);
	free(out);
	free(err);
	CHECK(log_collect(path, 5, &out, &olen, &err, &elen, &trunc) == 0);
	CHECK_STR_EQ(out, "one\n");
	CHECK(trunc);
	free(out);
	free(err);
	unlink(path);
	CHECK(log_collect(path, 5, &out, &olen, &err, &elen, &trunc) == 0);
	CHECK_INT_EQ(olen + elen, 0);
	free(out);
	free(err);
}

int
main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(full_line),
		UNIT_TEST(partial_and_stderr),
		UNIT_TEST(empty_lines),
		UNIT_TEST(malformed_lines),
		UNIT_TEST(timestamps),
		UNIT_TEST(since_values),
		UNIT_TEST(text_joins_partials),
		UNIT_TEST(ndjson_entries),
		UNIT_TEST(since_and_raw),
		UNIT_TEST(json_escaping),
		UNIT_TEST(tail_offsets),
		UNIT_TEST(tail_big_file),
		UNIT_TEST(collect_output),
	};
	return unit_run(tests, UNIT_COUNT(tests));
}
