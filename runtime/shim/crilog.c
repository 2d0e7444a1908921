/* The CRI log format kubelet and log shippers read:
 *   2024-01-01T00:00:00.000000000Z stdout F a whole line
 *   2024-01-01T00:00:00.000000000Z stdout P the first 16 KiB of a long one
 * Each record is one write() on an O_APPEND file, so a reader following
 * the file never sees half a record. */
#include "runtime/shim/shim.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static const char *const stream_name[2] = { "stdout", "stderr" };

int
crilog_open(struct crilog *l, const char *path)
{
	l->len[0] = l->len[1] = 0;
	l->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	return l->fd < 0 ? -1 : 0;
}

static void
emit(struct crilog *l, enum stream s, char tag, const char *text, size_t n)
{
	static char rec[CRI_LINE_MAX + 64];
	char ts[32];
	format_rfc3339nano(now_ns(), ts);
	size_t head = strlen(ts);
	memcpy(rec, ts, head);
	rec[head++] = ' ';
	memcpy(rec + head, stream_name[s], 6);
	head += 6;
	rec[head++] = ' ';
	rec[head++] = tag;
	rec[head++] = ' ';
	memcpy(rec + head, text, n);
	rec[head + n] = '\n';
	/* A full disk must not stop the container: the record is lost. */
	if (l->fd >= 0)
		(void)write_all(l->fd, rec, head + n + 1);
}

void
crilog_write(struct crilog *l, enum stream s, const char *p, size_t n)
{
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t take = nl ? (size_t)(nl - p) : n;
		size_t room = CRI_LINE_MAX - l->len[s];
		if (take > room) {
			/* The line outgrows a record: cut it here as P. A line of
			 * exactly CRI_LINE_MAX waits for its newline and stays F. */
			memcpy(l->line[s] + l->len[s], p, room);
			emit(l, s, 'P', l->line[s], CRI_LINE_MAX);
			l->len[s] = 0;
			p += room;
			n -= room;
			continue;
		}
		memcpy(l->line[s] + l->len[s], p, take);
		l->len[s] += take;
		if (nl == NULL)
			return;
		emit(l, s, 'F', l->line[s], l->len[s]);
		l->len[s] = 0;
		p += take + 1;
		n -= take + 1;
	}
}

void
crilog_close(struct crilog *l)
{
	for (int s = 0; s < 2; s++)
		if (l->len[s] > 0)
			emit(l, (enum stream)s, 'F', l->line[s], l->len[s]);
	l->len[0] = l->len[1] = 0;
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}
