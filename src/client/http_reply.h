/* The client's reading of kegd's HTTP/1.1 replies, as pure functions over
 * bytes (no socket), so that every rule is unit-tested: where a reply's
 * head ends, what it says (status, framing, keep-alive), and its body with
 * the framing taken out (Content-Length, chunked, or until the connection
 * closes). */
#ifndef KEG_CLIENT_HTTP_REPLY_H
#define KEG_CLIENT_HTTP_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The longest reply head keg reads; longer is a broken or hostile peer. */
#define HTTP_HEAD_MAX (64 * 1024)
/* The longest chunk-size or trailer line of a chunked body. */
#define HTTP_CHUNK_LINE_MAX 1024

enum http_framing {
	HTTP_BODY_NONE,		/* 1xx, 204, 304: no body whatever the headers say */
	HTTP_BODY_LENGTH,	/* Content-Length bytes */
	HTTP_BODY_CHUNKED,	/* Transfer-Encoding: chunked */
	HTTP_BODY_EOF,		/* neither: the body ends when the connection does */
};

struct http_reply_head {
	int status;
	bool keep_alive;	/* the connection may carry another request after this */
	enum http_framing framing;
	uint64_t length;	/* HTTP_BODY_LENGTH */
};

/* The length of the head at the start of data, through the empty line that
 * ends it (CRLF or bare LF line ends), or 0 while it has not all arrived. */
size_t http_head_length(const char *data, size_t len);

/* Parses a whole head of len bytes (as http_head_length measured it).
 * 0, or -1 with *why saying what is wrong with it. */
int http_reply_head_parse(const char *data, size_t len, struct http_reply_head *h,
    const char **why);

/* Takes a body's bytes as they arrive and hands on its content. */
struct http_body {
	enum http_framing framing;
	int state;
	uint64_t left;		/* of the body (length) or of the current chunk */
	char line[HTTP_CHUNK_LINE_MAX + 1];	/* a chunk-size or trailer line so far */
	size_t line_len;
	bool done;		/* the whole body has been seen */
};

/* Content for the caller: 0 to go on, -1 to stop reading. */
typedef int (*http_body_fn)(const char *data, size_t len, void *arg);

#define HTTP_BODY_BAD (-1)	/* malformed chunked framing */
#define HTTP_BODY_STOP (-2)	/* fn returned -1 */

void http_body_init(struct http_body *b, const struct http_reply_head *h);

/* Feeds len bytes that came after the head or the previous bytes; the
 * content among them goes to fn. Returns how many were the body's (fewer
 * than len only once it is done: the rest came after it), HTTP_BODY_BAD
 * or HTTP_BODY_STOP. */
ssize_t http_body_feed(struct http_body *b, const char *data, size_t len,
    http_body_fn fn, void *arg);

/* Whether the connection's end now ends the body properly (a body that runs
 * until the connection closes, or one already done). */
bool http_body_complete_at_eof(const struct http_body *b);

#endif
