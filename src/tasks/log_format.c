#include "tasks/log_format.h"

#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "tasks/cri_log.h"

void
log_fmt_init(struct log_fmt *f, const struct log_read_opts *o)
{
	memset(f, 0, sizeof(*f));
	f->format = o->format;
	f->streams = o->streams ? o->streams : LOG_STREAM_BOTH;
	f->since_ns = o->since_ns;
}

void
log_fmt_free(struct log_fmt *f)
{
	for (int i = 0; i < 2; i++)
		if (f->pend[i] != NULL)
			evbuffer_free(f->pend[i]);
	memset(f, 0, sizeof(*f));
}

/* How many bytes of a valid UTF-8 sequence start at s (0: invalid). */
static size_t
utf8_seq(const unsigned char *s, size_t len)
{
	unsigned char c = s[0];
	size_t n;
	unsigned char lo = 0x80, hi = 0xBF;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4;
	else
		return 0;
	/* The second byte's range rules out overlongs, surrogates and code
	 * points past U+10FFFF. */
	if (c == 0xE0)
		lo = 0xA0;
	else if (c == 0xED)
		hi = 0x9F;
	else if (c == 0xF0)
		lo = 0x90;
	else if (c == 0xF4)
		hi = 0x8F;
	if (len < n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return n;
}

static void
escape_ascii(struct evbuffer *out, unsigned char c)
{
	switch (c) {
	case '"': evbuffer_add(out, "\\\"", 2); break;
	case '\\': evbuffer_add(out, "\\\\", 2); break;
	case '\n': evbuffer_add(out, "\\n", 2); break;
	case '\r': evbuffer_add(out, "\\r", 2); break;
	case '\t': evbuffer_add(out, "\\t", 2); break;
	default:
		if (c < 0x20 || c == 0x7f)
			evbuffer_add_printf(out, "\\u%04x", c);
		else
			evbuffer_add(out, &c, 1);
	}
}

void
log_json_escape(struct evbuffer *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		size_t n = utf8_seq(p + i, len - i);
		if (n == 0) {
			evbuffer_add(out, "\\ufffd", 6);
			i++;
		} else if (n == 1) {
			escape_ascii(out, p[i++]);
		} else {
			evbuffer_add(out, p + i, n);
			i += n;
		}
	}
}

static void
emit_json(struct evbuffer *out, const char *time, size_t time_len, unsigned stream,
    const char *a, size_t alen, const char *b, size_t blen)
{
	evbuffer_add(out, "{\"time\":\"", 9);
	log_json_escape(out, time, time_len);
	evbuffer_add_printf(out, "\",\"stream\":\"%s\",\"log\":\"",
	    stream == LOG_STREAM_STDERR ? "stderr" : "stdout");
	log_json_escape(out, a, alen);
	log_json_escape(out, b, blen);
	evbuffer_add(out, "\"}\n", 3);
}

/* Emits the pieces pending for stream slot i (plus the final text). */
static void
flush_pending(struct log_fmt *f, int i, unsigned stream, const char *text,
    size_t len, struct evbuffer *out)
{
	struct evbuffer *p = f->pend[i];
	size_t plen = evbuffer_get_length(p);
	const char *pdata = (const char *)evbuffer_pullup(p, -1);
	emit_json(out, f->pend_time[i], strlen(f->pend_time[i]), stream,
	    pdata ? pdata : "", plen, text, len);
	evbuffer_free(p);
	f->pend[i] = NULL;
}

/* NDJSON: a P piece waits for the rest of its line (the entry keeps the
 * first piece's time: when the line began); an F line ends it. */
static void
ndjson_line(struct log_fmt *f, const struct cri_line *l, struct evbuffer *out)
{
	int i = l->stream == LOG_STREAM_STDERR;
	if (!l->partial) {
		if (f->pend[i] != NULL)
			flush_pending(f, i, l->stream, l->text, l->text_len, out);
		else
			emit_json(out, l->time, l->time_len, l->stream, l->text,
			    l->text_len, "", 0);
		return;
	}
	if (f->pend[i] == NULL) {
		f->pend[i] = evbuffer_new();
		size_t n = l->time_len < sizeof(f->pend_time[i]) - 1 ?
		    l->time_len : sizeof(f->pend_time[i]) - 1;
		memcpy(f->pend_time[i], l->time, n);
		f->pend_time[i][n] = '\0';
	}
	evbuffer_add(f->pend[i], l->text, l->text_len);
	if (evbuffer_get_length(f->pend[i]) >= LOG_JOIN_MAX)
		flush_pending(f, i, l->stream, "", 0, out);
}

void
log_fmt_line(struct log_fmt *f, const char *line, size_t len, struct evbuffer *out)
{
	struct cri_line l;
	if (cri_parse_line(line, len, &l) < 0 || !(l.stream & f->streams) ||
	    l.time_ns < f->since_ns)
		return;
	switch (f->format) {
	case LOG_FORMAT_RAW:
		evbuffer_add(out, line, len);
		evbuffer_add(out, "\n", 1);
		break;
	case LOG_FORMAT_NDJSON:
		ndjson_line(f, &l, out);
		break;
	default:
		/* A P piece's text is followed directly by the next piece:
		 * joining needs no buffering in text form. */
		evbuffer_add(out, l.text, l.text_len);
		if (!l.partial)
			evbuffer_add(out, "\n", 1);
	}
}

void
log_fmt_finish(struct log_fmt *f, struct evbuffer *out)
{
	for (int i = 0; i < 2; i++)
		if (f->pend[i] != NULL)
			flush_pending(f, i, i ? LOG_STREAM_STDERR : LOG_STREAM_STDOUT,
			    "", 0, out);
}
