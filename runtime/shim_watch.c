/* Learning that a shim is gone: a pidfd (readable once the process has
 * exited, whoever's child it is) on the loop. The shim is identified by
 * pid and start time, so a pid reused after a kegd restart is never taken
 * for the shim. Without pidfd_open (kernels before 5.3) the watch polls
 * /proc twice a second. */
#include "runtime/shim_client.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/util.h"
#include "runtime/proc_stat.h"

#define POLL_MS 500

struct shim_watch {
	pid_t pid;
	unsigned long long start;
	int pidfd;
	struct event *ev;
	shim_gone_fn fn;
	void *arg;
};

bool
shim_alive(pid_t shim_pid, unsigned long long shim_start)
{
	unsigned long long start;
	if (shim_pid <= 0 || proc_start_time(shim_pid, &start) != 0 || start != shim_start)
		return false;
	/* A zombie still has its /proc entry but is gone as a shim. */
	char state = proc_state(shim_pid);
	return state != '\0' && state != 'Z' && state != 'X';
}

static void
gone(struct shim_watch *w)
{
	shim_gone_fn fn = w->fn;
	void *arg = w->arg;
	shim_watch_cancel(w);
	fn(arg);
}

static void
on_pidfd(evutil_socket_t fd, short what, void *arg)
{
	gone(arg);
}

static void
on_poll(evutil_socket_t fd, short what, void *arg)
{
	struct shim_watch *w = arg;
	if (!shim_alive(w->pid, w->start))
		gone(w);
}

struct shim_watch *
shim_watch(struct event_base *base, pid_t shim_pid, unsigned long long shim_start,
    shim_gone_fn fn, void *arg)
{
	struct shim_watch *w = xcalloc(1, sizeof(*w));
	*w = (struct shim_watch){ shim_pid, shim_start, -1, NULL, fn, arg };
	int open_err = 0;
	if (shim_pid > 0 && (w->pidfd = (int)syscall(SYS_pidfd_open, shim_pid, 0)) < 0)
		open_err = errno;
	/* Checked after opening: the pidfd then surely names the shim. */
	bool alive = shim_alive(shim_pid, shim_start);
	if (w->pidfd >= 0 && alive) {
		fd_set_cloexec(w->pidfd);
		w->ev = event_new(base, w->pidfd, EV_READ, on_pidfd, w);
		if (w->ev != NULL && event_add(w->ev, NULL) == 0)
			return w;
	} else if (alive && open_err == ENOSYS) {
		struct timeval tv = { 0, POLL_MS * 1000 };
		w->ev = event_new(base, -1, EV_PERSIST, on_poll, w);
		if (w->ev != NULL && event_add(w->ev, &tv) == 0)
			return w;
	} else if (!alive) {
		/* Already gone: called back from the loop, not from here. */
		w->ev = evtimer_new(base, on_pidfd, w);
		if (w->ev != NULL) {
			event_active(w->ev, EV_TIMEOUT, 0);
			return w;
		}
	}
	shim_watch_cancel(w);
	errno = open_err ? open_err : ENOMEM;
	return NULL;
}

void
shim_watch_cancel(struct shim_watch *w)
{
	if (w == NULL)
		return;
	if (w->ev != NULL)
		event_free(w->ev);
	if (w->pidfd >= 0)
		close(w->pidfd);
	free(w);
}
