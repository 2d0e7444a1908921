/* The shim's poll loop, in two phases: while the runtime's create/exec
 * runs (loop_create), and while the container process lives plus the
 * drain of its output afterwards (loop_run). Every wait is a poll() on
 * non-blocking descriptors, SIGCHLD included (signalfd). */
#include "runtime/shim/shim.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum kind {
	K_SIG, K_OUT, K_ERR, K_RUNTIME_ERR, K_CONSOLE_LISTEN, K_CONSOLE_CONN,
	K_ATTACH_LISTEN, K_CONTROL_LISTEN, K_STDIN, K_ATTACH, K_CONTROL,
};

#define MAX_SLOTS (16 + MAX_ATTACH + MAX_CONTROL)

struct pollset {
	struct pollfd pfd[MAX_SLOTS];
	enum kind kind[MAX_SLOTS];
	size_t n;
};

static void
add(struct pollset *ps, int fd, short events, enum kind k)
{
	if (fd < 0)
		return;
	ps->pfd[ps->n] = (struct pollfd){ .fd = fd, .events = events };
	ps->kind[ps->n++] = k;
}

static void
build(struct shim *s, struct pollset *ps)
{
	ps->n = 0;
	add(ps, s->sig_fd, POLLIN, K_SIG);
	/* Captured output stops being read at its cap: the runtime has
	 * not finished, and the pipe holds the rest. */
	for (int st = 0; st < 2; st++)
		if (s->cpid != 0 || s->capture[st].len < CAPTURE_MAX)
			add(ps, s->out_fd[st], POLLIN, st == 0 ? K_OUT : K_ERR);
	add(ps, s->runtime_err, POLLIN, K_RUNTIME_ERR);
	add(ps, s->console_lfd, POLLIN, K_CONSOLE_LISTEN);
	add(ps, s->console_conn, POLLIN, K_CONSOLE_CONN);
	add(ps, s->attach_lfd, POLLIN, K_ATTACH_LISTEN);
	add(ps, s->control_lfd, POLLIN, K_CONTROL_LISTEN);
	if (s->in_pending.len > 0)
		add(ps, s->in_fd, POLLOUT, K_STDIN);
	for (size_t i = 0; i < s->n_attach; i++) {
		short ev = s->in_pending.len < STDIN_BUF_MAX ? POLLIN : 0;
		if (s->attach[i].out.len > 0)
			ev |= POLLOUT;
		add(ps, s->attach[i].fd, ev, K_ATTACH);
	}
	for (size_t i = 0; i < s->n_control; i++)
		add(ps, s->control[i].fd, POLLIN, K_CONTROL);
}

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void
on_output(struct shim *s, enum stream st)
{
	if (output_read(s, st))
		return;
	if (s->out_fd[st] == s->master) {
		s->master = -1;
		if (s->in_fd == s->out_fd[st])
			s->in_fd = -1;
		buf_free(&s->in_pending);
	}
	close_fd(&s->out_fd[st]);
}

static void
on_runtime_err(struct shim *s)
{
	char data[4096];
	ssize_t n = read(s->runtime_err, data, sizeof(data));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0)
		close_fd(&s->runtime_err);
	else
		(void)buf_append(&s->capture[STREAM_STDERR], data, (size_t)n, CAPTURE_MAX);
}

static void
on_console(struct shim *s)
{
	int m = recv_fd(s->console_conn);
	if (m < 0 && errno == EAGAIN)
		return;
	close_fd(&s->console_conn);
	if (m < 0 || set_nonblock(m) < 0) {
		close_fd(&m);
		return;
	}
	close_fd(&s->console_lfd);
	unlink(SHIM_CONSOLE_SOCK);
	s->master = s->in_fd = s->out_fd[STREAM_STDOUT] = m;
	s->console_received = true;
}

/* Clients are found by descriptor: handling one may drop another, which
 * moves the array around. */
static size_t
find_client(int fd, const void *arr, size_t n, size_t size)
{
	for (size_t i = 0; i < n; i++)
		if (*(const int *)((const char *)arr + i * size) == fd)
			return i;
	return SIZE_MAX;
}

static void
dispatch_client(struct shim *s, enum kind k, const struct pollfd *p)
{
	if (k == K_ATTACH) {
		size_t i = find_client(p->fd, s->attach, s->n_attach, sizeof(s->attach[0]));
		if (i != SIZE_MAX && (p->revents & POLLOUT))
			attach_flush(s, i);
		i = find_client(p->fd, s->attach, s->n_attach, sizeof(s->attach[0]));
		if (i != SIZE_MAX && (p->revents & (POLLIN | POLLHUP | POLLERR)))
			attach_read(s, i);
	} else {
		size_t i = find_client(p->fd, s->control, s->n_control, sizeof(s->control[0]));
		if (i != SIZE_MAX)
			control_read(s, i);
	}
}

static void
dispatch(struct shim *s, struct pollset *ps)
{
	for (size_t i = 0; i < ps->n; i++) {
		const struct pollfd *p = &ps->pfd[i];
		if (p->revents == 0)
			continue;
		switch (ps->kind[i]) {
		case K_SIG: reap_children(s); break;
		case K_OUT: if (p->fd == s->out_fd[0]) on_output(s, STREAM_STDOUT); break;
		case K_ERR: if (p->fd == s->out_fd[1]) on_output(s, STREAM_STDERR); break;
		case K_RUNTIME_ERR: on_runtime_err(s); break;
		case K_CONSOLE_LISTEN:
			if (s->console_conn < 0 && s->console_lfd >= 0)
				s->console_conn = unix_accept(s->console_lfd);
			break;
		case K_CONSOLE_CONN: if (s->console_conn >= 0) on_console(s); break;
		case K_ATTACH_LISTEN: attach_accept(s); break;
		case K_CONTROL_LISTEN: control_accept(s); break;
		case K_STDIN: if (p->fd == s->in_fd) stdin_flush(s); break;
		default: dispatch_client(s, ps->kind[i], p); break;
		}
	}
}

static void
poll_once(struct shim *s, int timeout_ms)
{
	struct pollset ps;
	build(s, &ps);
	if (poll(ps.pfd, ps.n, timeout_ms) > 0)
		dispatch(s, &ps);
}

/* After the runtime exited 0 with a tty: the master it sent before
 * exiting may still sit unread in the console socket. */
static void
console_late(struct shim *s)
{
	if (s->console_conn < 0 && s->console_lfd >= 0)
		s->console_conn = unix_accept(s->console_lfd);
	if (s->console_conn >= 0)
		on_console(s);
}

static const char *
captured_text(struct shim *s, enum stream st)
{
	(void)buf_append(&s->capture[st], "", 1, CAPTURE_MAX + 1);
	return s->capture[st].data ? s->capture[st].data : "";
}

/* The runtime succeeded: learn the container process and go live. */
static int
created(struct shim *s, off_t log_offset)
{
	if (s->o->tty)
		console_late(s);
	if (read_pid_file(SHIM_PID_FILE, &s->cpid) < 0) {
		report_failure(s->o, log_offset, "runtime wrote no pid file");
		return -1;
	}
	/* Not s->master: a quick exec's tty may already have read its EOF
	 * (and been closed) before the runtime itself exited. */
	if (s->o->tty && !s->console_received) {
		report_failure(s->o, log_offset, "runtime sent no console");
		return -1;
	}
	reap_match_early(s);
	/* With a tty the second capture is the runtime's own stderr. */
	if (s->o->tty)
		buf_free(&s->capture[STREAM_STDERR]);
	output_replay(s);
	report_ready(s->o, s->cpid);
	return 0;
}

int
loop_create(struct shim *s, off_t log_offset)
{
	int64_t deadline = mono_ms() + CREATE_TIMEOUT_MS;
	bool timed_out = false;
	while (!s->runtime_exited) {
		int64_t left = deadline - mono_ms();
		if (left <= 0 && !timed_out) {
			kill(s->runtime_pid, SIGKILL);
			timed_out = true;
		}
		poll_once(s, timed_out ? -1 : (int)left);
	}
	if (s->runtime_err >= 0) {
		while (s->runtime_err >= 0 && s->capture[STREAM_STDERR].len < CAPTURE_MAX)
			on_runtime_err(s);
		close_fd(&s->runtime_err);
	}
	if (timed_out) {
		report_failure(s->o, (off_t)-1, "runtime timed out");
		return -1;
	}
	if (s->runtime_status != 0) {
		report_failure(s->o, log_offset, captured_text(s, STREAM_STDERR));
		return -1;
	}
	return created(s, log_offset);
}

void
loop_run(struct shim *s)
{
	int64_t deadline = -1;
	for (;;) {
		if (s->cpid_exited && deadline < 0)
			deadline = mono_ms() + DRAIN_MS;
		int64_t left = deadline < 0 ? -1 : deadline - mono_ms();
		bool drained = s->out_fd[0] < 0 && s->out_fd[1] < 0;
		if (s->cpid_exited && (drained || left <= 0))
			break;
		poll_once(s, (int)left);
	}
	for (int st = 0; st < 2; st++) {
		if (s->out_fd[st] >= 0 && s->out_fd[st] == s->master)
			s->master = s->in_fd = -1;
		close_fd(&s->out_fd[st]);
	}
	/* Clients get what is queued for them if they take it now. */
	for (size_t i = s->n_attach; i-- > 0; )
		attach_flush(s, i);
	while (s->n_attach > 0)
		attach_drop(s, s->n_attach - 1);
}
