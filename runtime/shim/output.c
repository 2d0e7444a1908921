/* The process's output: into the CRI log and to attached clients once the
 * runtime has succeeded; kept in memory before that, since it may turn
 * out to be the runtime's error message rather than the container's. */
#include "runtime/shim/shim.h"

#include <errno.h>
#include <unistd.h>

static void
deliver(struct shim *s, enum stream st, const char *p, size_t n)
{
	if (s->cpid == 0) {
		/* Beyond the cap the rest is dropped: the runtime has not
		 * finished, so this is not a container's output stream yet. */
		(void)buf_append(&s->capture[st], p, n, CAPTURE_MAX);
		return;
	}
	crilog_write(&s->log, st, p, n);
	attach_broadcast(s, p, n);
}

bool
output_read(struct shim *s, enum stream st)
{
	char data[65536];
	ssize_t n = read(s->out_fd[st], data, sizeof(data));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	/* A tty master reads EIO once every slave is closed: its EOF. */
	if (n <= 0)
		return false;
	deliver(s, st, data, (size_t)n);
	return true;
}

void
output_replay(struct shim *s)
{
	for (int st = 0; st < 2; st++) {
		if (s->capture[st].len > 0)
			deliver(s, (enum stream)st, s->capture[st].data, s->capture[st].len);
		buf_free(&s->capture[st]);
	}
}
