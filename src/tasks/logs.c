/* The logs API's options from the query string, and an exec's whole
 * output read at once. The streaming reader is in log_follow.c. */
#include "tasks/logs.h"

#include <errno.h>
#include <event2/buffer.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "http/request.h"
#include "tasks/cri_log.h"
#include "tasks/log_format.h"

const char *const log_query_params[] = {
	"follow", "tail", "since", "stream", "format", NULL
};

void
log_read_opts_default(struct log_read_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->tail = -1;
	o->streams = LOG_STREAM_BOTH;
	o->format = LOG_FORMAT_TEXT;
}

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int
parse_bool(const char *v, bool *out)
{
	if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0 || *v == '\0')
		*out = true;
	else if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0)
		*out = false;
	else
		return -1;
	return 0;
}

static int
parse_tail(const char *v, int64_t *out)
{
	if (strcmp(v, "all") == 0 || strcmp(v, "-1") == 0) {
		*out = -1;
		return 0;
	}
	char *end;
	errno = 0;
	long long n = strtoll(v, &end, 10);
	if (*v < '0' || *v > '9' || *end != '\0' || errno != 0)
		return -1;
	*out = n;
	return 0;
}

static int
parse_stream(const char *v, unsigned *out)
{
	if (strcmp(v, "stdout") == 0)
		*out = LOG_STREAM_STDOUT;
	else if (strcmp(v, "stderr") == 0)
		*out = LOG_STREAM_STDERR;
	else if (strcmp(v, "both") == 0 || strcmp(v, "all") == 0)
		*out = LOG_STREAM_BOTH;
	else
		return -1;
	return 0;
}

static int
parse_format(const char *v, enum log_format *out)
{
	if (strcmp(v, "text") == 0)
		*out = LOG_FORMAT_TEXT;
	else if (strcmp(v, "ndjson") == 0)
		*out = LOG_FORMAT_NDJSON;
	else if (strcmp(v, "raw") == 0)
		*out = LOG_FORMAT_RAW;
	else
		return -1;
	return 0;
}

/* One parameter: 0 absent or good, -1 bad (err set). */
static int
query_one(const struct http_request *req, const char *name, struct log_read_opts *o,
    char *err, size_t errlen)
{
	char *v = http_query(req, name);
	int rc = 0;
	if (v == NULL)
		return 0;
	if (strcmp(name, "follow") == 0)
		rc = parse_bool(v, &o->follow);
	else if (strcmp(name, "tail") == 0)
		rc = parse_tail(v, &o->tail);
	else if (strcmp(name, "since") == 0)
		rc = log_parse_since(v, &o->since_ns);
	else if (strcmp(name, "stream") == 0)
		rc = parse_stream(v, &o->streams);
	else
		rc = parse_format(v, &o->format);
	free(v);
	if (rc < 0)
		return fail(err, errlen, "%s: %s", name,
		    strcmp(name, "follow") == 0 ? "must be true or false" :
		    strcmp(name, "tail") == 0 ? "must be a count or all" :
		    strcmp(name, "since") == 0 ?
		    "must be an RFC 3339 time or unix seconds" :
		    strcmp(name, "stream") == 0 ? "must be stdout, stderr or both" :
		    "must be text, ndjson or raw");
	return 0;
}

int
log_read_opts_from_query(const struct http_request *req,
    struct log_read_opts *o, char *err, size_t errlen)
{
	log_read_opts_default(o);
	if (!http_query_valid(req))
		return fail(err, errlen, "malformed escape in the query");
	for (int i = 0; log_query_params[i] != NULL; i++)
		if (query_one(req, log_query_params[i], o, err, errlen) < 0)
			return -1;
	return 0;
}

/* The joined text of one stream, capped. */
static void
collect_line(const char *line, size_t len, struct evbuffer *bufs[2],
    size_t max, bool *truncated)
{
	struct cri_line l;
	if (cri_parse_line(line, len, &l) < 0)
		return;
	struct evbuffer *b = bufs[l.stream == LOG_STREAM_STDERR];
	size_t have = evbuffer_get_length(b), add = l.text_len + !l.partial;
	if (have + add > max) {
		*truncated = true;
		return;
	}
	evbuffer_add(b, l.text, l.text_len);
	if (!l.partial)
		evbuffer_add(b, "\n", 1);
}

/* An evbuffer's bytes as a NUL-terminated string (the length beside it:
 * output may hold NULs). */
static char *
take_string(struct evbuffer *b, size_t *len)
{
	*len = evbuffer_get_length(b);
	char *s = xmalloc(*len + 1);
	evbuffer_remove(b, s, *len);
	s[*len] = '\0';
	evbuffer_free(b);
	return s;
}

static int
collect_fd(int fd, struct evbuffer *bufs[2], size_t max, bool *truncated)
{
	struct evbuffer *raw = evbuffer_new();
	if (raw == NULL)
		abort();
	/* Four times the cap is enough room for the CRI heads around the
	 * text; past that the output is truncated anyway. */
	size_t limit = max * 4 + 4096;
	ssize_t n;
	while ((n = evbuffer_read(raw, fd, 65536)) > 0)
		if (evbuffer_get_length(raw) > limit) {
			*truncated = true;
			break;
		}
	if (n < 0) {
		evbuffer_free(raw);
		return -1;
	}
	size_t len = evbuffer_get_length(raw);
	char *data = (char *)evbuffer_pullup(raw, -1), *p = data, *nl;
	while (p != NULL && (nl = memchr(p, '\n', len - (size_t)(p - data))) != NULL) {
		collect_line(p, (size_t)(nl - p), bufs, max, truncated);
		p = nl + 1;
	}
	evbuffer_free(raw);
	return 0;
}

int
log_collect(const char *path, size_t max, char **out, size_t *out_len,
    char **err, size_t *err_len, bool *truncated)
{
	struct evbuffer *bufs[2] = { evbuffer_new(), evbuffer_new() };
	if (bufs[0] == NULL || bufs[1] == NULL)
		abort();
	*truncated = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 && errno != ENOENT)
		goto fail;
	if (fd >= 0) {
		int rc = collect_fd(fd, bufs, max, truncated);
		int saved = errno;
		close(fd);
		errno = saved;
		if (rc < 0)
			goto fail;
	}
	*out = take_string(bufs[0], out_len);
	*err = take_string(bufs[1], err_len);
	return 0;
fail:;
	int saved = errno;
	evbuffer_free(bufs[0]);
	evbuffer_free(bufs[1]);
	errno = saved;
	return -1;
}
