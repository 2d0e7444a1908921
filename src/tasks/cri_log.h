/* The CRI log format kegd-shim writes, one line at a time:
 * "RFC3339Nano-timestamp SP stream SP tag SP text" where stream is stdout or
 * stderr and tag is F (a full line: its newline was stripped) or P (a piece
 * of a longer line; the next piece of the same stream continues it). Pure
 * parsing, no I/O, so it is unit-tested on its own. */
#ifndef KEG_TASKS_CRI_LOG_H
#define KEG_TASKS_CRI_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cri_line {
	int64_t time_ns;	/* ns since the epoch */
	const char *time;	/* the timestamp as written, time_len bytes */
	size_t time_len;
	unsigned stream;	/* LOG_STREAM_STDOUT or LOG_STREAM_STDERR */
	bool partial;		/* tag P */
	const char *text;	/* points into the parsed line */
	size_t text_len;
};

/* Parses one line of len bytes (without its "\n"; a trailing "\r" is not
 * stripped: it belongs to the text). Returns 0, or -1 when malformed. */
int cri_parse_line(const char *line, size_t len, struct cri_line *out);

/* "2006-01-02T15:04:05[.frac](Z|+hh:mm|-hh:mm)" → ns since the epoch.
 * Returns 0, or -1 when malformed or out of range. */
int cri_parse_time(const char *s, size_t len, int64_t *ns);

/* A ?since= value: an RFC 3339 timestamp or decimal unix seconds with an
 * optional fraction ("1700000000.25"). Returns 0, or -1. */
int log_parse_since(const char *s, int64_t *ns);

#endif
