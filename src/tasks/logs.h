/* Reading a task's CRI-format log file (LOG_ROOT/<ns>/<id>[.<exec>].log,
 * written by kegd-shim) for GET /v1/tasks/{id}/logs: tail, since, stream
 * filter, follow. A reader lives on the event_base and never blocks it: the
 * file is read in bounded chunks, one per loop turn, and reading pauses
 * while the client has not taken what was sent. Follow polls the file
 * (100 ms) until the task service says the task stopped; the reader then
 * reads to EOF and ends the stream. Malformed lines are skipped. */
#ifndef KEG_TASKS_LOGS_H
#define KEG_TASKS_LOGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct http_request;
struct log_reader;

/* How entries are written:
 * TEXT   the text of each line; P (partial) pieces joined, each full line
 *        ends with "\n" (what `kubectl logs` prints), content type
 *        text/plain;
 * NDJSON one object per (joined) line {"time": RFC3339Nano, "stream":
 *        "stdout"|"stderr", "log": text without the "\n"}, content type
 *        application/x-ndjson;
 * RAW    the CRI lines as stored, text/plain. */
enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_NDJSON, LOG_FORMAT_RAW };

#define LOG_STREAM_STDOUT 1u
#define LOG_STREAM_STDERR 2u
#define LOG_STREAM_BOTH (LOG_STREAM_STDOUT | LOG_STREAM_STDERR)

struct log_read_opts {
	int64_t tail;		/* the last N lines only; -1: all */
	int64_t since_ns;	/* lines stamped at or after (ns since epoch); 0: all */
	unsigned streams;	/* LOG_STREAM_* bits */
	bool follow;		/* keep reading until log_reader_task_stopped */
	enum log_format format;
};

/* tail -1, since 0, both streams, no follow, TEXT. */
void log_read_opts_default(struct log_read_opts *o);

/* The query parameters log_read_opts_from_query understands (for
 * api_check_query; NULL-terminated): follow, tail, since, stream, format. */
extern const char *const log_query_params[];

/* Reads ?follow=1|true|0|false &tail=N|all &since=RFC3339|unix-seconds[.frac]
 * &stream=stdout|stderr|both &format=text|ndjson|raw into o (defaults for
 * absent ones). Returns -1 with a message in err for invalid_argument. */
int log_read_opts_from_query(const struct http_request *req,
    struct log_read_opts *o, char *err, size_t errlen);

/* Called once when a reader is gone (stream ended, client went away, or an
 * error); r is already freed (only its address is passed, to find it) and
 * the caller drops its pointer. Not called after log_reader_cancel. */
typedef void (*log_reader_gone_fn)(struct log_reader *r, void *arg);

/* Answers req with the log at path as a stream (200 and the format's
 * content type; the reader begins and ends the stream itself). A missing
 * file reads as empty (the shim may not have created it yet; with follow it
 * is waited for). Returns the reader, owned by itself: it frees itself when
 * done and calls gone (may be NULL). Returns NULL when it already replied:
 * with the head alone to HEAD, or with an error (the file exists but cannot
 * be opened). */
struct log_reader *log_reader_serve(struct event_base *base, struct http_request *req,
    const char *path, const struct log_read_opts *opts,
    log_reader_gone_fn gone, void *arg);

/* The task (or exec) has stopped and its shim has flushed everything: a
 * following reader reads to EOF, then ends the stream. Call it for a
 * reader created after the stop too, or pass follow=false. Idempotent. */
void log_reader_task_stopped(struct log_reader *r);

/* Stops the reader now and ends its stream (e.g. kegd shutting down);
 * gone is not called; r is freed. */
void log_reader_cancel(struct log_reader *r);

/* Synchronously reads the whole (small) log at path, for an exec's output
 * returned by POST .../execs {wait:true}: the joined text of stdout and of
 * stderr, each capped at max bytes (*truncated set when cut). Returns 0, or
 * -1 with errno (a missing file gives two empty strings and 0). The caller
 * frees *out and *err. */
int log_collect(const char *path, size_t max, char **out, size_t *out_len,
    char **err, size_t *err_len, bool *truncated);

#endif
