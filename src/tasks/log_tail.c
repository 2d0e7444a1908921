#include "tasks/log_tail.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "tasks/cri_log.h"
#include "tasks/logs.h"

#define TAIL_BLOCK (64 * 1024)
/* The timestamp, stream and tag of a line fit in this many bytes. */
#define HEAD_MAX 64

void
log_tail_init(struct log_tail_scan *t, int fd, int64_t size, int64_t n,
    unsigned streams)
{
	memset(t, 0, sizeof(*t));
	t->fd = fd;
	t->want = n;
	t->streams = streams ? streams : LOG_STREAM_BOTH;
	t->pos = size;
	t->next_nl = -1;
	t->buf = xmalloc(TAIL_BLOCK);
}

void
log_tail_free(struct log_tail_scan *t)
{
	free(t->buf);
	t->buf = NULL;
}

/* Reads exactly len bytes at off; a shorter file (truncated under us)
 * reads as an error so the scan ends at the start. */
static int
read_at(int fd, char *buf, size_t len, int64_t off)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = pread(fd, buf + got, len - got, (off_t)(off + (int64_t)got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		got += (size_t)n;
	}
	return 0;
}

/* Whether the line [s, e) is a full line of a selected stream. Its head is
 * in the block when it fits there, else read again (a few bytes). */
static bool
line_counts(struct log_tail_scan *t, int64_t lo, int64_t s, int64_t e)
{
	char head[HEAD_MAX];
	size_t hl = e - s < HEAD_MAX ? (size_t)(e - s) : HEAD_MAX;
	const char *p = head;
	if (s + (int64_t)hl <= t->pos)
		p = t->buf + (s - lo);
	else if (read_at(t->fd, head, hl, s) < 0)
		return false;
	struct cri_line l;
	return cri_parse_line(p, hl, &l) == 0 && !l.partial && (l.stream & t->streams);
}

/* A line [s, next_nl) was found; 1 when it was the (N+1)th counted. */
static int
found_line(struct log_tail_scan *t, int64_t lo, int64_t s)
{
	if (line_counts(t, lo, s, t->next_nl) && ++t->found > t->want) {
		t->start = t->next_nl + 1;
		return 1;
	}
	return 0;
}

int
log_tail_step(struct log_tail_scan *t)
{
	if (t->pos == 0) {
		/* The first line of the file has no newline before it. */
		if (t->next_nl < 0 || found_line(t, 0, 0) == 0)
			t->start = 0;
		return 1;
	}
	int64_t lo = t->pos > TAIL_BLOCK ? t->pos - TAIL_BLOCK : 0;
	if (read_at(t->fd, t->buf, (size_t)(t->pos - lo), lo) < 0)
		return -1;
	for (int64_t i = t->pos - 1; i >= lo; i--) {
		if (t->buf[i - lo] != '\n')
			continue;
		/* Bytes after the last newline are a line still being written:
		 * it is read later, not counted. */
		if (t->next_nl >= 0 && found_line(t, lo, i + 1))
			return 1;
		t->next_nl = i;
	}
	t->pos = lo;
	return 0;
}
