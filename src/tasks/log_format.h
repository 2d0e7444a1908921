/* Turning CRI log lines into what a logs client reads (text, NDJSON or the
 * raw lines), applying the stream and since filters and joining the P
 * pieces of a long line. Shared by the streaming reader and log_collect. */
#ifndef KEG_TASKS_LOG_FORMAT_H
#define KEG_TASKS_LOG_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tasks/logs.h"

struct evbuffer;

/* A joined NDJSON entry longer than this is sent in pieces, so one endless
 * line without a newline cannot grow kegd's memory. */
#define LOG_JOIN_MAX (1024 * 1024)

struct log_fmt {
	enum log_format format;
	unsigned streams;
	int64_t since_ns;
	struct evbuffer *pend[2];	/* NDJSON: P pieces so far, per stream */
	char pend_time[2][48];
};

void log_fmt_init(struct log_fmt *f, const struct log_read_opts *o);
/* One line as read (without its "\n"); malformed ones are skipped. */
void log_fmt_line(struct log_fmt *f, const char *line, size_t len, struct evbuffer *out);
/* The end of the log: pieces still waiting for their F line go out. */
void log_fmt_finish(struct log_fmt *f, struct evbuffer *out);
void log_fmt_free(struct log_fmt *f);

/* len bytes as the inside of a JSON string; bytes that are not UTF-8
 * become U+FFFD (output can be anything, JSON must stay valid). */
void log_json_escape(struct evbuffer *out, const char *s, size_t len);

#endif
