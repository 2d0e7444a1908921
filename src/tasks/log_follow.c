/* The streaming log reader: one timer drives it. Each firing does one
 * bounded step (a tail block, or one chunk of lines) and re-arms itself at
 * once while there is more, or after POLL_MS at EOF when following.
 * Reading waits while the client has not taken PENDING_MAX bytes. */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/errcode.h"
#include "common/log.h"
#include "common/util.h"
#include "http/request.h"
#include "http/response.h"
#include "tasks/log_format.h"
#include "tasks/log_tail.h"
#include "tasks/logs.h"

#define CHUNK (64 * 1024)
/* A CRI line is at most 16 KiB of text plus its head; anything longer
 * without a newline is not one and is skipped up to its end. */
#define LINE_MAX_BYTES (64 * 1024)
#define PENDING_MAX (1024 * 1024)
#define POLL_MS 100

struct log_reader {
	struct http_request *req;
	char *path;
	struct log_read_opts opts;
	int fd;			/* -1 until the file exists */
	int64_t offset;		/* next byte to read */
	bool tailing;
	struct log_tail_scan tail;
	char *buf;		/* carry (an unfinished line) + one chunk */
	size_t carry;
	bool skipping;		/* inside an overlong line: drop up to its newline */
	struct log_fmt fmt;
	struct evbuffer *out;
	struct event *tick;
	bool stopped;
	log_reader_gone_fn gone;
	void *gone_arg;
};

static void
reader_free(struct log_reader *r)
{
	if (r->tick != NULL)
		event_free(r->tick);
	if (r->fd >= 0)
		close(r->fd);
	log_tail_free(&r->tail);
	log_fmt_free(&r->fmt);
	if (r->out != NULL)
		evbuffer_free(r->out);
	free(r->buf);
	free(r->path);
	free(r);
}

static void
schedule(struct log_reader *r, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	event_add(r->tick, &tv);
}

static void
send_out(struct log_reader *r)
{
	size_t len = evbuffer_get_length(r->out);
	if (len == 0)
		return;
	http_stream_write(r->req, evbuffer_pullup(r->out, -1), len);
	evbuffer_drain(r->out, len);
}

/* The end: what is still joined goes out, the stream ends. */
static void
reader_finish(struct log_reader *r)
{
	log_fmt_finish(&r->fmt, r->out);
	send_out(r);
	http_stream_end(r->req);
	log_reader_gone_fn gone = r->gone;
	void *arg = r->gone_arg;
	reader_free(r);
	if (gone != NULL)
		gone(r, arg);
}

/* Complete lines in buf[0, len) go to the formatter; the unfinished rest
 * stays as the carry. */
static void
take_lines(struct log_reader *r, size_t len)
{
	char *p = r->buf, *e = r->buf + len, *nl;
	while ((nl = memchr(p, '\n', (size_t)(e - p))) != NULL) {
		if (!r->skipping)
			log_fmt_line(&r->fmt, p, (size_t)(nl - p), r->out);
		r->skipping = false;
		p = nl + 1;
	}
	r->carry = (size_t)(e - p);
	if (r->carry >= LINE_MAX_BYTES) {
		r->skipping = true;
		r->carry = 0;
	}
	memmove(r->buf, p, r->carry);
}

/* The file shrank (recreated or truncated): start over. */
static void
check_truncated(struct log_reader *r)
{
	struct stat st;
	if (fstat(r->fd, &st) == 0 && st.st_size < r->offset) {
		log_warn("logs: %s shrank; reading it again from the start", r->path);
		r->offset = 0;
		r->carry = 0;
		r->skipping = false;
	}
}

/* At EOF: the end unless following a running task. */
static void
at_eof(struct log_reader *r)
{
	if (!r->opts.follow || r->stopped) {
		reader_finish(r);
		return;
	}
	if (r->fd >= 0)
		check_truncated(r);
	schedule(r, POLL_MS);
}

static void
read_chunk(struct log_reader *r)
{
	ssize_t n = pread(r->fd, r->buf + r->carry, CHUNK, (off_t)r->offset);
	if (n < 0 && errno == EINTR) {
		schedule(r, 0);
		return;
	}
	if (n < 0) {
		log_error("logs: reading %s: %s", r->path, strerror(errno));
		reader_finish(r);
		return;
	}
	if (n == 0) {
		at_eof(r);
		return;
	}
	r->offset += n;
	take_lines(r, r->carry + (size_t)n);
	send_out(r);
	schedule(r, 0);
}

static int
open_log(struct log_reader *r)
{
	r->fd = open(r->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	return r->fd >= 0 ? 0 : -1;
}

/* The tail's start offset is known once every block it needs is read. */
static void
tail_step(struct log_reader *r)
{
	int rc = log_tail_step(&r->tail);
	if (rc < 0)
		log_warn("logs: scanning %s backwards: %s", r->path, strerror(errno));
	if (rc != 0) {
		r->offset = rc > 0 ? r->tail.start : 0;
		r->tailing = false;
		log_tail_free(&r->tail);
	}
	schedule(r, 0);
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct log_reader *r = arg;
	(void)fd;
	(void)what;
	if (http_stream_pending(r->req) > PENDING_MAX)
		return; /* on_drained resumes */
	if (r->fd < 0 && open_log(r) < 0) {
		at_eof(r); /* not created yet: as empty */
		return;
	}
	if (r->tailing)
		tail_step(r);
	else
		read_chunk(r);
}

static void
on_drained(void *arg)
{
	struct log_reader *r = arg;
	if (!event_pending(r->tick, EV_TIMEOUT, NULL))
		schedule(r, 0);
}

static void
on_client_gone(void *arg)
{
	struct log_reader *r = arg;
	log_reader_gone_fn gone = r->gone;
	void *garg = r->gone_arg;
	reader_free(r);
	if (gone != NULL)
		gone(r, garg);
}

static const char *
content_type(enum log_format f)
{
	return f == LOG_FORMAT_NDJSON ? "application/x-ndjson" : "text/plain; charset=utf-8";
}

/* With a tail, the scan starts from the size the file has now. */
static void
start_tail(struct log_reader *r)
{
	struct stat st;
	if (r->opts.tail < 0 || r->fd < 0 || fstat(r->fd, &st) < 0)
		return;
	log_tail_init(&r->tail, r->fd, st.st_size, r->opts.tail, r->opts.streams);
	r->tailing = true;
}

struct log_reader *
log_reader_serve(struct event_base *base, struct http_request *req,
    const char *path, const struct log_read_opts *opts,
    log_reader_gone_fn gone, void *arg)
{
	if (strcmp(req->method, "HEAD") == 0) {
		/* The head alone: a stream begun for HEAD could send nothing and
		 * would end the connection with it. */
		http_reply(req, 200, content_type(opts->format), NULL, 0);
		return NULL;
	}
	struct log_reader *r = xcalloc(1, sizeof(*r));
	r->req = req;
	r->path = xstrdup(path);
	r->opts = *opts;
	r->gone = gone;
	r->gone_arg = arg;
	if (open_log(r) < 0 && errno != ENOENT) {
		http_reply_error(req, ERR_INTERNAL, "opening the log: %s", strerror(errno));
		reader_free(r);
		return NULL;
	}
	start_tail(r);
	r->buf = xmalloc(LINE_MAX_BYTES + CHUNK);
	r->out = evbuffer_new();
	r->tick = evtimer_new(base, on_tick, r);
	if (r->out == NULL || r->tick == NULL)
		abort();
	log_fmt_init(&r->fmt, opts);
	http_stream_begin(req, 200, content_type(opts->format));
	http_set_close_cb(req, on_client_gone, r);
	http_set_drain_cb(req, on_drained, r);
	schedule(r, 0);
	return r;
}

void
log_reader_task_stopped(struct log_reader *r)
{
	if (r == NULL || r->stopped)
		return;
	r->stopped = true;
	/* A reader polling at EOF reads the rest now rather than in 100 ms. */
	if (!r->tailing && http_stream_pending(r->req) <= PENDING_MAX)
		schedule(r, 0);
}

void
log_reader_cancel(struct log_reader *r)
{
	if (r == NULL)
		return;
	send_out(r);
	http_stream_end(r->req);
	reader_free(r);
}
