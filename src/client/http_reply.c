#include "client/http_reply.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"
#include "http/parser.h"

enum chunk_state {
	CHUNK_SIZE,		/* the size line */
	CHUNK_DATA,		/* left bytes of content */
	CHUNK_DATA_END,		/* the line break after the content */
	CHUNK_TRAILER,		/* trailer lines, up to the empty one */
};

size_t
http_head_length(const char *data, size_t len)
{
	const char *p = memchr(data, '\n', len);
	while (p != NULL) {
		size_t at = (size_t)(p - data) + 1;	/* just after this line */
		if (at < len && data[at] == '\n')
			return at + 1;
		if (at + 1 < len && data[at] == '\r' && data[at + 1] == '\n')
			return at + 2;
		p = memchr(data + at, '\n', len - at);
	}
	return 0;
}

/* The next line of *p in place (its line break, CR included, taken off);
 * NULL after the last. */
static char *
next_line(char **p)
{
	if (**p == '\0')
		return NULL;
	char *line = *p, *nl = strchr(line, '\n');
	if (nl != NULL) {
		*nl = '\0';
		*p = nl + 1;
	} else {
		*p = line + strlen(line);
	}
	size_t n = strlen(line);
	if (n > 0 && line[n - 1] == '\r')
		line[n - 1] = '\0';
	return line;
}

/* "HTTP/1.1 200 OK": 0 with the minor version and the status, or -1. */
static int
parse_status_line(const char *line, int *minor, int *status)
{
	if (strncmp(line, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)line[7]) ||
	    line[8] != ' ')
		return -1;
	for (int i = 9; i < 12; i++)
		if (!isdigit((unsigned char)line[i]))
			return -1;
	if (line[12] != ' ' && line[12] != '\0')
		return -1;
	*minor = line[7] - '0';
	*status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
	return *status >= 100 ? 0 : -1;
}

struct head_fields {
	bool has_length, has_te, chunked, close, keep_alive;
	uint64_t length;
};

static int
take_header(const char *name, const char *value, struct head_fields *f, const char **why)
{
	if (strcasecmp(name, "Content-Length") == 0) {
		uint64_t v;
		if (http_parse_content_length(value, INT64_MAX, &v) < 0) {
			*why = "an invalid Content-Length";
			return -1;
		}
		if (f->has_length && v != f->length) {
			*why = "two different Content-Lengths";
			return -1;
		}
		f->has_length = true;
		f->length = v;
	} else if (strcasecmp(name, "Transfer-Encoding") == 0) {
		f->has_te = true;
		f->chunked = f->chunked || http_header_has_token(value, "chunked");
	} else if (strcasecmp(name, "Connection") == 0) {
		f->close = f->close || http_header_has_token(value, "close");
		f->keep_alive = f->keep_alive || http_header_has_token(value, "keep-alive");
	}
	return 0;
}

static int
parse_head(char *text, struct http_reply_head *h, const char **why)
{
	struct head_fields f = { false };
	int minor;
	char *p = text, *line = next_line(&p), *name, *value;
	if (line == NULL || parse_status_line(line, &minor, &h->status) < 0) {
		*why = "a reply that is not HTTP/1.x";
		return -1;
	}
	while ((line = next_line(&p)) != NULL && *line != '\0') {
		if (http_parse_header_line(line, &name, &value) < 0) {
			*why = "a malformed header line";
			return -1;
		}
		if (take_header(name, value, &f, why) < 0)
			return -1;
	}
	/* Both framings at once is how replies are smuggled: refused. */
	if (f.has_te && f.has_length) {
		*why = "both Content-Length and Transfer-Encoding";
		return -1;
	}
	h->keep_alive = minor >= 1 ? !f.close : f.keep_alive && !f.close;
	h->length = 0;
	if (h->status < 200 || h->status == 204 || h->status == 304)
		h->framing = HTTP_BODY_NONE;
	else if (f.has_te)
		h->framing = f.chunked ? HTTP_BODY_CHUNKED : HTTP_BODY_EOF;
	else if (f.has_length)
		h->framing = HTTP_BODY_LENGTH;
	else
		h->framing = HTTP_BODY_EOF;
	if (h->framing == HTTP_BODY_LENGTH)
		h->length = f.length;
	if (h->framing == HTTP_BODY_EOF)
		h->keep_alive = false;
	return 0;
}

int
http_reply_head_parse(const char *data, size_t len, struct http_reply_head *h,
    const char **why)
{
	if (memchr(data, '\0', len) != NULL) {
		*why = "a reply head with a NUL byte";
		return -1;
	}
	char *text = xstrndup(data, len);
	int rc = parse_head(text, h, why);
	free(text);
	return rc;
}

void
http_body_init(struct http_body *b, const struct http_reply_head *h)
{
	memset(b, 0, sizeof(*b));
	b->framing = h->framing;
	b->state = CHUNK_SIZE;
	b->left = h->length;
	b->done = h->framing == HTTP_BODY_NONE ||
	    (h->framing == HTTP_BODY_LENGTH && h->length == 0);
}

/* A whole framing line of a chunked body (without its line break). */
static int
chunk_line(struct http_body *b, const char *line, size_t len)
{
	switch (b->state) {
	case CHUNK_SIZE:
		if (http_parse_chunk_size(line, UINT64_MAX, &b->left) < 0)
			return -1;
		b->state = b->left > 0 ? CHUNK_DATA : CHUNK_TRAILER;
		return 0;
	case CHUNK_DATA_END:
		b->state = CHUNK_SIZE;
		return len == 0 ? 0 : -1;
	default:
		/* Trailer fields say nothing keg needs; the empty line ends all. */
		b->done = len == 0;
		return 0;
	}
}

/* Takes from the n bytes at p what the chunked framing is at: content, or
 * (part of) a framing line. Returns the bytes taken, or an HTTP_BODY_ error. */
static ssize_t
chunked_step(struct http_body *b, const char *p, size_t n, http_body_fn fn, void *arg)
{
	if (b->state == CHUNK_DATA) {
		size_t take = b->left < n ? (size_t)b->left : n;
		if (fn(p, take, arg) < 0)
			return HTTP_BODY_STOP;
		b->left -= take;
		if (b->left == 0)
			b->state = CHUNK_DATA_END;
		return (ssize_t)take;
	}
	const char *nl = memchr(p, '\n', n);
	size_t take = nl ? (size_t)(nl - p) + 1 : n, text = nl ? take - 1 : take;
	if (b->line_len + text > HTTP_CHUNK_LINE_MAX || memchr(p, '\0', text) != NULL)
		return HTTP_BODY_BAD;
	memcpy(b->line + b->line_len, p, text);
	b->line_len += text;
	if (nl == NULL)
		return (ssize_t)take;
	size_t len = b->line_len;
	if (len > 0 && b->line[len - 1] == '\r')
		len--;
	b->line[len] = '\0';
	b->line_len = 0;
	return chunk_line(b, b->line, len) < 0 ? HTTP_BODY_BAD : (ssize_t)take;
}

ssize_t
http_body_feed(struct http_body *b, const char *data, size_t len, http_body_fn fn,
    void *arg)
{
	size_t used = 0;
	while (used < len && !b->done) {
		size_t n = len - used;
		ssize_t took;
		switch (b->framing) {
		case HTTP_BODY_LENGTH:
			if (n > b->left)
				n = (size_t)b->left;
			if (fn(data + used, n, arg) < 0)
				return HTTP_BODY_STOP;
			b->left -= n;
			b->done = b->left == 0;
			took = (ssize_t)n;
			break;
		case HTTP_BODY_CHUNKED:
			took = chunked_step(b, data + used, n, fn, arg);
			if (took < 0)
				return took;
			break;
		default:	/* HTTP_BODY_EOF: everything is the body */
			if (fn(data + used, n, arg) < 0)
				return HTTP_BODY_STOP;
			took = (ssize_t)n;
			break;
		}
		used += (size_t)took;
	}
	return (ssize_t)used;
}

bool
http_body_complete_at_eof(const struct http_body *b)
{
	return b->done || b->framing == HTTP_BODY_EOF;
}
