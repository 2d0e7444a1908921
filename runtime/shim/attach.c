/* Attach clients on attach.sock: each receives the raw output from the
 * moment it connects, and what it writes goes to the process's stdin.
 * Nothing here may block the shim: output a client does not take is
 * queued up to CLIENT_BUF_MAX and the client is dropped beyond that;
 * input is read only while stdin keeps up.
 *
 * An exec's process starts with its shim, before any client can attach
 * (an init's clients attach before `start`), so for an exec the output
 * that came before the first client (up to CAPTURE_MAX) is kept and
 * handed to that client: `keg tasks exec -t` sees its first prompt. */
#include "runtime/shim/shim.h"

#include <errno.h>
#include <unistd.h>

void
attach_accept(struct shim *s)
{
	int fd = unix_accept(s->attach_lfd);
	if (fd < 0)
		return;
	if (s->n_attach == MAX_ATTACH) {
		close(fd);
		return;
	}
	s->attach[s->n_attach++] = (struct attach_client){ .fd = fd };
	if (s->attached_once)
		return;
	s->attached_once = true;
	if (s->backlog.len > 0) {
		buf_append(&s->attach[s->n_attach - 1].out, s->backlog.data, s->backlog.len,
		    CLIENT_BUF_MAX);
		attach_flush(s, s->n_attach - 1);
	}
	buf_free(&s->backlog);
}

void
attach_drop(struct shim *s, size_t i)
{
	close(s->attach[i].fd);
	buf_free(&s->attach[i].out);
	s->attach[i] = s->attach[--s->n_attach];
}

void
attach_flush(struct shim *s, size_t i)
{
	struct attach_client *c = &s->attach[i];
	while (c->out.len > 0) {
		ssize_t n = write(c->fd, c->out.data, c->out.len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			attach_drop(s, i);
			return;
		}
		buf_consume(&c->out, (size_t)n);
	}
}

void
attach_broadcast(struct shim *s, const char *p, size_t n)
{
	if (s->o->exec_process != NULL && !s->attached_once)
		(void)buf_append(&s->backlog, p, n, CAPTURE_MAX);
	/* Backwards: a drop moves the last client into slot i. */
	for (size_t i = s->n_attach; i-- > 0; ) {
		if (!buf_append(&s->attach[i].out, p, n, CLIENT_BUF_MAX)) {
			attach_drop(s, i);
			continue;
		}
		attach_flush(s, i);
	}
}

void
attach_read(struct shim *s, size_t i)
{
	char data[4096];
	ssize_t n = read(s->attach[i].fd, data, sizeof(data));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		attach_drop(s, i);
		return;
	}
	/* Without a stdin the input has nowhere to go. */
	if (s->in_fd < 0)
		return;
	(void)buf_append(&s->in_pending, data, (size_t)n, STDIN_BUF_MAX + sizeof(data));
	stdin_flush(s);
}

void
stdin_flush(struct shim *s)
{
	while (s->in_fd >= 0 && s->in_pending.len > 0) {
		ssize_t n = write(s->in_fd, s->in_pending.data, s->in_pending.len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			/* The reader is gone: nothing will take input again. */
			stdin_close(s);
			return;
		}
		buf_consume(&s->in_pending, (size_t)n);
	}
}

void
stdin_close(struct shim *s)
{
	buf_free(&s->in_pending);
	if (s->in_fd < 0)
		return;
	if (s->in_fd == s->master) {
		/* A tty has no separate stdin to close: send the EOF
		 * character (^D) as a terminal user would. */
		(void)write(s->master, "\x04", 1);
	} else {
		close(s->in_fd);
	}
	s->in_fd = -1;
}
