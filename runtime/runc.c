/* The runtime run on the loop: a child per call, its stdout and stderr read
 * through non-blocking pipes, its stdin fed from memory, its exit learned
 * from children_watch. The callback runs once the process is reaped and
 * its output read (or a short grace has passed: `restore --detach` leaves
 * the restored process holding the pipes). */
#include "runtime/runc.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/children.h"
#include "common/util.h"
#include "runtime/exec.h"

#define GRACE_MS 500
#define MAX_ARGV 32

struct capture {
	int fd;
	struct event *ev;
	char *data;
	size_t len, max;
};

struct runc_call {
	pid_t pid;
	struct capture out, err;
	int in_fd;
	struct event *in_ev;
	char *in_data;
	size_t in_len, in_off;
	struct event *timer;	/* the timeout, then the grace after the exit */
	struct event *finish;
	bool exited, timed_out;
	int status;
	runc_done_fn done;
	void *arg;
	struct runc_call *next;
};

static struct runc_call *calls;

static void maybe_finish(struct runc_call *c);

static void
unlink_call(struct runc_call *c)
{
	for (struct runc_call **p = &calls; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			return;
		}
}

static void
capture_close(struct capture *cap)
{
	if (cap->ev != NULL)
		event_free(cap->ev);
	if (cap->fd >= 0)
		close(cap->fd);
	cap->ev = NULL;
	cap->fd = -1;
}

static void
stdin_close(struct runc_call *c)
{
	if (c->in_ev != NULL)
		event_free(c->in_ev);
	if (c->in_fd >= 0)
		close(c->in_fd);
	c->in_ev = NULL;
	c->in_fd = -1;
}

static void
call_free(struct runc_call *c)
{
	capture_close(&c->out);
	capture_close(&c->err);
	stdin_close(c);
	if (c->timer != NULL)
		event_free(c->timer);
	if (c->finish != NULL)
		event_free(c->finish);
	free(c->out.data);
	free(c->err.data);
	free(c->in_data);
	free(c);
}

static void
on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct runc_call *c = arg;
	struct capture *cap = fd == c->out.fd ? &c->out : &c->err;
	char buf[16384];
	ssize_t n = read(fd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		capture_close(cap);
		maybe_finish(c);
		return;
	}
	/* Past the bound the output is read and dropped, so the runtime
	 * never blocks on a full pipe. */
	size_t keep = cap->max - cap->len < (size_t)n ? cap->max - cap->len : (size_t)n;
	memcpy(cap->data + cap->len, buf, keep);
	cap->len += keep;
}

static void
on_writable(evutil_socket_t fd, short what, void *arg)
{
	struct runc_call *c = arg;
	ssize_t n = write(fd, c->in_data + c->in_off, c->in_len - c->in_off);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		c->in_off += (size_t)n;
	/* Done, or the runtime stopped reading (EPIPE): either way, EOF. */
	if (n <= 0 || c->in_off == c->in_len)
		stdin_close(c);
}

static void
on_finish(evutil_socket_t fd, short what, void *arg)
{
	struct runc_call *c = arg;
	unlink_call(c);
	c->out.data[c->out.len] = '\0';
	c->err.data[c->err.len] = '\0';
	if (c->timed_out) {
		const char *msg = "runtime timed out";
		size_t room = c->err.max - c->err.len;
		size_t n = strlen(msg) < room ? strlen(msg) : room;
		memcpy(c->err.data + c->err.len, msg, n);
		c->err.data[c->err.len + n] = '\0';
	}
	c->done(c->status, c->out.data, c->err.data, c->arg);
	call_free(c);
}

static void
maybe_finish(struct runc_call *c)
{
	if (c->exited && c->out.fd < 0 && c->err.fd < 0)
		event_active(c->finish, EV_TIMEOUT, 0);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct runc_call *c = arg;
	if (c->exited) {
		/* The grace is over: whoever still holds the pipes is not
		 * the runtime. */
		capture_close(&c->out);
		capture_close(&c->err);
		maybe_finish(c);
		return;
	}
	c->timed_out = true;
	kill(c->pid, SIGKILL);
}

static void
on_exit_status(pid_t pid, int status, void *arg)
{
	struct runc_call *c = arg;
	c->exited = true;
	c->status = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
	stdin_close(c);
	struct timeval grace = { 0, GRACE_MS * 1000 };
	evtimer_add(c->timer, &grace);
	maybe_finish(c);
}

static int
capture_open(struct event_base *base, struct capture *cap, size_t max, int *child_end,
    struct runc_call *c)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	/* Only our end is non-blocking: the runtime's writes must block. */
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	cap->fd = p[0];
	*child_end = p[1];
	cap->max = max;
	cap->data = xmalloc(max + 1);
	cap->ev = event_new(base, p[0], EV_READ | EV_PERSIST, on_readable, c);
	return cap->ev == NULL ? -1 : 0;
}

static int
stdin_open(struct event_base *base, struct runc_call *c, const void *data, size_t len,
    int *child_end)
{
	int p[2];
	if (data == NULL) {
		*child_end = -1;	/* exec_child gives /dev/null */
		return 0;
	}
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	c->in_fd = p[1];
	*child_end = p[0];
	c->in_len = len;
	c->in_data = xmalloc(len ? len : 1);
	memcpy(c->in_data, data, len);
	c->in_ev = event_new(base, p[1], EV_WRITE | EV_PERSIST, on_writable, c);
	return c->in_ev == NULL ? -1 : 0;
}

static int
build_argv(const struct runc_ctx *ctx, const char *const *args, const char **argv)
{
	int n = 0;
	argv[n++] = ctx->binary;
	argv[n++] = "--root";
	argv[n++] = ctx->root;
	if (ctx->log != NULL) {
		argv[n++] = "--log";
		argv[n++] = ctx->log;
		argv[n++] = "--log-format";
		argv[n++] = "json";
	}
	for (; *args != NULL; args++) {
		if (n == MAX_ARGV - 1)
			return -1;
		argv[n++] = *args;
	}
	argv[n] = NULL;
	return 0;
}

static void
close_ends(int *ends)
{
	for (int i = 0; i < 3; i++)
		if (ends[i] >= 0)
			close(ends[i]);
}

int
runc_run(const struct runc_ctx *ctx, const char *const *args,
    const void *stdin_data, size_t stdin_len, runc_done_fn done, void *arg)
{
	const char *argv[MAX_ARGV];
	if (build_argv(ctx, args, argv) < 0) {
		errno = E2BIG;
		return -1;
	}
	struct runc_call *c = xcalloc(1, sizeof(*c));
	int ends[3] = { -1, -1, -1 };
	c->out.fd = c->err.fd = c->in_fd = -1;
	c->done = done;
	c->arg = arg;
	c->timer = evtimer_new(ctx->base, on_timer, c);
	c->finish = evtimer_new(ctx->base, on_finish, c);
	if (c->timer == NULL || c->finish == NULL ||
	    capture_open(ctx->base, &c->out, RUNC_OUT_MAX, &ends[1], c) < 0 ||
	    capture_open(ctx->base, &c->err, RUNC_ERR_MAX, &ends[2], c) < 0 ||
	    stdin_open(ctx->base, c, stdin_data, stdin_len, &ends[0]) < 0 ||
	    (c->pid = exec_child(argv, ends, 3)) < 0) {
		int saved = errno;
		close_ends(ends);
		call_free(c);
		errno = saved;
		return -1;
	}
	close_ends(ends);
	event_add(c->out.ev, NULL);
	event_add(c->err.ev, NULL);
	if (c->in_ev != NULL)
		event_add(c->in_ev, NULL);
	if (ctx->timeout_ms > 0) {
		struct timeval tv = { ctx->timeout_ms / 1000, (ctx->timeout_ms % 1000) * 1000 };
		evtimer_add(c->timer, &tv);
	}
	c->next = calls;
	calls = c;
	children_watch(c->pid, on_exit_status, c);
	return 0;
}

/* How long calls in flight get to end by themselves at shutdown. */
#define ABORT_GRACE_MS 5000

/* A runtime killed half-way can leave a container's cgroup frozen (delete
 * --force, kill --all and pause freeze it first), and every later
 * container of that id then hangs in it. Calls are short: at shutdown
 * they get ABORT_GRACE_MS to end (reaped here, the loop being stopped)
 * before the rest are killed. */
static void
await_calls(void)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	for (int waited = 0; waited < ABORT_GRACE_MS; waited += 10) {
		bool pending = false;
		for (struct runc_call *c = calls; c != NULL; c = c->next) {
			if (c->exited)
				continue;
			pid_t r = waitpid(c->pid, NULL, WNOHANG);
			if (r == c->pid || (r < 0 && errno == ECHILD)) {
				c->exited = true;
				children_forget(c->pid);
			} else {
				pending = true;
			}
		}
		if (!pending)
			return;
		nanosleep(&tick, NULL);
	}
}

void
runc_abort_all(void)
{
	await_calls();
	while (calls != NULL) {
		struct runc_call *c = calls;
		calls = c->next;
		if (!c->exited) {
			kill(c->pid, SIGKILL);
			children_forget(c->pid);
		}
		call_free(c);
	}
}
