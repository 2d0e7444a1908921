/* Unit tests for src/client/http_reply.c, keg's reading of kegd's replies:
 * where a head ends, status and framing and keep-alive from the headers,
 * and bodies (Content-Length, chunked, until EOF) fed in every split. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/http_reply.h"
#include "harness.h"

static size_t
head_length(const char *s)
{
	return http_head_length(s, strlen(s));
}

static void
head_end_found(void)
{
	CHECK_UINT_EQ(head_length("HTTP/1.1 200 OK\r\n\r\n"), 19);
	CHECK_UINT_EQ(head_length("HTTP/1.1 200 OK\r\nA: b\r\n\r\nbody"), 25);
	CHECK_UINT_EQ(head_length("HTTP/1.1 200 OK\n\nbody"), 17);
	CHECK_UINT_EQ(head_length("HTTP/1.1 200 OK\nA: b\r\n\r\n"), 24);
	CHECK_UINT_EQ(head_length("HTTP/1.1 200 OK\r\n\r\n\r\n\r\n"), 19);
}

static void
head_end_not_yet(void)
{
	CHECK_UINT_EQ(head_length(""), 0);
	CHECK_UINT_EQ(head_length("HTTP/1.1 200 OK"), 0);
	CHECK_UINT_EQ(head_length("HTTP/1.1 200 OK\r\n"), 0);
	CHECK_UINT_EQ(head_length("HTTP/1.1 200 OK\r\n\r"), 0);
	CHECK_UINT_EQ(head_length("HTTP/1.1 200 OK\r\nA: b\r\n"), 0);
	CHECK_UINT_EQ(head_length("HTTP/1.1 200 OK\r\nA: b\r"), 0);
}

static int
parse(const char *text, struct http_reply_head *h, const char **why)
{
	memset(h, 0xa5, sizeof(*h));
	*why = NULL;
	return http_reply_head_parse(text, strlen(text), h, why);
}

static void
head_status_and_framing(void)
{
	struct http_reply_head h;
	const char *why;
	CHECK_INT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n", &h, &why), 0);
	CHECK_INT_EQ(h.status, 200);
	CHECK_INT_EQ(h.framing, HTTP_BODY_LENGTH);
	CHECK_UINT_EQ(h.length, 12);
	CHECK(h.keep_alive);

	CHECK_INT_EQ(parse("HTTP/1.1 404 Not Found\r\ncontent-length:0\r\n\r\n", &h, &why), 0);
	CHECK_INT_EQ(h.status, 404);
	CHECK_INT_EQ(h.framing, HTTP_BODY_LENGTH);
	CHECK_UINT_EQ(h.length, 0);

	CHECK_INT_EQ(parse("HTTP/1.1 200 OK\r\ntransfer-encoding: Chunked\r\n\r\n", &h, &why), 0);
	CHECK_INT_EQ(h.framing, HTTP_BODY_CHUNKED);
	CHECK(h.keep_alive);

	/* Neither: the body runs until the connection closes, which ends it. */
	CHECK_INT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Type: x\r\n\r\n", &h, &why), 0);
	CHECK_INT_EQ(h.framing, HTTP_BODY_EOF);
	CHECK(!h.keep_alive);

	/* A reason phrase is optional; bare LF line ends are read too. */
	CHECK_INT_EQ(parse("HTTP/1.1 503\nContent-Length: 2\n\n", &h, &why), 0);
	CHECK_INT_EQ(h.status, 503);
	CHECK_UINT_EQ(h.length, 2);
}

static void
head_without_body(void)
{
	struct http_reply_head h;
	const char *why;
	CHECK_INT_EQ(parse("HTTP/1.1 204 No Content\r\n\r\n", &h, &why), 0);
	CHECK_INT_EQ(h.framing, HTTP_BODY_NONE);
	CHECK(h.keep_alive);
	CHECK_INT_EQ(parse("HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n", &h, &why), 0);
	CHECK_INT_EQ(h.framing, HTTP_BODY_NONE);
	CHECK_INT_EQ(parse("HTTP/1.1 100 Continue\r\n\r\n", &h, &why), 0);
	CHECK_INT_EQ(h.status, 100);
	CHECK_INT_EQ(h.framing, HTTP_BODY_NONE);
	CHECK_INT_EQ(parse("HTTP/1.1 101 Switching Protocols\r\nUpgrade: keg-attach\r\n"
	    "Connection: Upgrade\r\n\r\n", &h, &why), 0);
	CHECK_INT_EQ(h.status, 101);
	CHECK_INT_EQ(h.framing, HTTP_BODY_NONE);
}

static void
head_keep_alive(void)
{
	struct http_reply_head h;
	const char *why;
	CHECK_INT_EQ(parse("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n",
	    &h, &why), 0);
	CHECK(!h.keep_alive);
	CHECK_INT_EQ(parse("HTTP/1.1 200 OK\r\nConnection: Keep-Alive, CLOSE\r\n"
	    "Content-Length: 1\r\n\r\n", &h, &why), 0);
	CHECK(!h.keep_alive);
	CHECK_INT_EQ(parse("HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n"
	    "Content-Length: 1\r\n\r\n", &h, &why), 0);
	CHECK(h.keep_alive);
	/* HTTP/1.0 closes unless it says otherwise. */
	CHECK_INT_EQ(parse("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", &h, &why), 0);
	CHECK(!h.keep_alive);
	CHECK_INT_EQ(parse("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n"
	    "Content-Length: 1\r\n\r\n", &h, &why), 0);
	CHECK(h.keep_alive);
}

static void
head_malformed(void)
{
	static const char *const bad[] = {
		"\r\n\r\n",
		"HTTP/2 200 OK\r\n\r\n",
		"HTTP/1.1 20 OK\r\n\r\n",
		"HTTP/1.1 2000 OK\r\n\r\n",
		"HTTP/1.1 abc OK\r\n\r\n",
		"HTTP/1.1 099 Low\r\n\r\n",
		"HTTP/1.1200 OK\r\n\r\n",
		"ICY 200 OK\r\n\r\n",
		"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
		"HTTP/1.1 200 OK\r\n folded: line\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
	};
	for (size_t i = 0; i < UNIT_COUNT(bad); i++) {
		struct http_reply_head h;
		const char *why;
		if (!CHECK_INT_EQ(parse(bad[i], &h, &why), -1))
			continue;
		CHECK(why != NULL && *why != '\0');
	}
	/* The same length twice is one length. */
	struct http_reply_head h;
	const char *why;
	CHECK_INT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\n",
	    &h, &why), 0);
	CHECK_UINT_EQ(h.length, 4);
	/* A NUL anywhere in the head is refused. */
	static const char nul[] = "HTTP/1.1 200 OK\r\nA: b\0c\r\n\r\n";
	CHECK_INT_EQ(http_reply_head_parse(nul, sizeof(nul) - 1, &h, &why), -1);
}

/* Collects content; stops (returns -1) once it holds stop_after bytes. */
struct sink {
	char data[256];
	size_t len;
	size_t calls;
	size_t stop_after;
};

static int
collect(const char *data, size_t len, void *arg)
{
	struct sink *s = arg;
	s->calls++;
	if (s->len + len >= sizeof(s->data))
		return -1;
	memcpy(s->data + s->len, data, len);
	s->len += len;
	s->data[s->len] = '\0';
	return s->stop_after && s->len >= s->stop_after ? -1 : 0;
}

static struct http_reply_head
head_of(enum http_framing framing, uint64_t length)
{
	struct http_reply_head h = { 200, true, framing, length };
	return h;
}

/* Feeds wire in pieces of step bytes; returns the total consumed, or the
 * first error. */
static ssize_t
feed_in_steps(struct http_body *b, const char *wire, size_t len, size_t step,
    struct sink *s)
{
	size_t used = 0;
	while (used < len && !b->done) {
		size_t n = len - used < step ? len - used : step;
		ssize_t took = http_body_feed(b, wire + used, n, collect, s);
		if (took < 0)
			return took;
		used += (size_t)took;
		if ((size_t)took < n)
			break;
	}
	return (ssize_t)used;
}

/* Decodes wire (all of a chunked body, then extra bytes) in every step
 * size, and checks content and where the body ended. */
static void
check_chunked(const char *wire, const char *content, size_t body_len)
{
	size_t len = strlen(wire);
	for (size_t step = 1; step <= len; step++) {
		struct http_reply_head h = head_of(HTTP_BODY_CHUNKED, 0);
		struct http_body b;
		struct sink s = { .len = 0 };
		http_body_init(&b, &h);
		ssize_t used = feed_in_steps(&b, wire, len, step, &s);
		if (!CHECK_INT_EQ(used, (ssize_t)body_len) || !CHECK(b.done) ||
		    !CHECK_STR_EQ(s.data, content))
			return;
		CHECK(http_body_complete_at_eof(&b));
	}
}

static void
chunked_bodies(void)
{
	check_chunked("5\r\nhello\r\n0\r\n\r\n", "hello", 15);
	check_chunked("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world", 26);
	check_chunked("0\r\n\r\n", "", 5);
	/* Upper and lower hex, extensions, bare LF, trailers. */
	check_chunked("A;name=value\r\n0123456789\r\n0\r\n\r\n", "0123456789", 31);
	check_chunked("a\n0123456789\n0\n\n", "0123456789", 16);
	check_chunked("3\r\nabc\r\n0\r\nTrailer: x\r\nMore: y\r\n\r\n", "abc", 34);
	/* What follows the body is not taken. */
	check_chunked("3\r\nabc\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n", "abc", 13);
}

static ssize_t
chunked_feed(const char *wire, struct sink *s)
{
	struct http_reply_head h = head_of(HTTP_BODY_CHUNKED, 0);
	struct http_body b;
	http_body_init(&b, &h);
	return http_body_feed(&b, wire, strlen(wire), collect, s);
}

static void
chunked_malformed(void)
{
	static const char *const bad[] = {
		"x\r\n",
		"\r\n",
		";ext\r\n",
		"5\r\nhelloX\r\n",
		"5\r\nhello\r\nzz\r\n",
		"10000000000000000\r\n",
		"1 2\r\n",
	};
	for (size_t i = 0; i < UNIT_COUNT(bad); i++) {
		struct sink s = { .len = 0 };
		CHECK_INT_EQ(chunked_feed(bad[i], &s), HTTP_BODY_BAD);
	}
	/* A framing line longer than keg reads is refused before its end. */
	char line[HTTP_CHUNK_LINE_MAX + 8];
	memset(line, '0', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	struct sink s = { .len = 0 };
	CHECK_INT_EQ(chunked_feed(line, &s), HTTP_BODY_BAD);
	/* A NUL in a size line is not a size line. */
	struct http_reply_head h = head_of(HTTP_BODY_CHUNKED, 0);
	struct http_body b;
	http_body_init(&b, &h);
	CHECK_INT_EQ(http_body_feed(&b, "1\0\r\nx", 5, collect, &s), HTTP_BODY_BAD);
}

static void
chunked_cut_short(void)
{
	static const char *const partial[] = {
		"5\r\nhel", "5\r\nhello", "5\r\nhello\r\n", "5\r\nhello\r\n0\r\n",
		"5\r\nhello\r\n0\r\nTrailer: x\r\n",
	};
	for (size_t i = 0; i < UNIT_COUNT(partial); i++) {
		struct http_reply_head h = head_of(HTTP_BODY_CHUNKED, 0);
		struct http_body b;
		struct sink s = { .len = 0 };
		http_body_init(&b, &h);
		CHECK_INT_EQ(http_body_feed(&b, partial[i], strlen(partial[i]), collect, &s),
		    (ssize_t)strlen(partial[i]));
		CHECK(!b.done);
		CHECK(!http_body_complete_at_eof(&b));
	}
}

static void
length_bodies(void)
{
	struct http_reply_head h = head_of(HTTP_BODY_LENGTH, 5);
	struct http_body b;
	struct sink s = { .len = 0 };
	http_body_init(&b, &h);
	CHECK_INT_EQ(http_body_feed(&b, "he", 2, collect, &s), 2);
	CHECK(!b.done);
	CHECK(!http_body_complete_at_eof(&b));
	CHECK_INT_EQ(http_body_feed(&b, "lloEXTRA", 8, collect, &s), 3);
	CHECK(b.done);
	CHECK_STR_EQ(s.data, "hello");

	/* Nothing to read for an empty one, nor for a body-less status. */
	h = head_of(HTTP_BODY_LENGTH, 0);
	http_body_init(&b, &h);
	CHECK(b.done);
	CHECK_INT_EQ(http_body_feed(&b, "x", 1, collect, &s), 0);
	h = head_of(HTTP_BODY_NONE, 0);
	http_body_init(&b, &h);
	CHECK(b.done);
}

static void
eof_bodies(void)
{
	struct http_reply_head h = head_of(HTTP_BODY_EOF, 0);
	struct http_body b;
	struct sink s = { .len = 0 };
	http_body_init(&b, &h);
	CHECK_INT_EQ(http_body_feed(&b, "all of ", 7, collect, &s), 7);
	CHECK_INT_EQ(http_body_feed(&b, "it", 2, collect, &s), 2);
	CHECK(!b.done);
	CHECK(http_body_complete_at_eof(&b));
	CHECK_STR_EQ(s.data, "all of it");
}

static void
content_stops(void)
{
	struct sink s = { .stop_after = 3 };
	CHECK_INT_EQ(chunked_feed("5\r\nhello\r\n0\r\n\r\n", &s), HTTP_BODY_STOP);
	struct http_reply_head h = head_of(HTTP_BODY_LENGTH, 5);
	struct http_body b;
	struct sink t = { .stop_after = 1 };
	http_body_init(&b, &h);
	CHECK_INT_EQ(http_body_feed(&b, "hello", 5, collect, &t), HTTP_BODY_STOP);
}

static const struct unit_test tests[] = {
	UNIT_TEST(head_end_found),
	UNIT_TEST(head_end_not_yet),
	UNIT_TEST(head_status_and_framing),
	UNIT_TEST(head_without_body),
	UNIT_TEST(head_keep_alive),
	UNIT_TEST(head_malformed),
	UNIT_TEST(chunked_bodies),
	UNIT_TEST(chunked_malformed),
	UNIT_TEST(chunked_cut_short),
	UNIT_TEST(length_bodies),
	UNIT_TEST(eof_bodies),
	UNIT_TEST(content_stops),
};

int
main(void)
{
	return unit_run(tests, UNIT_COUNT(tests));
}
