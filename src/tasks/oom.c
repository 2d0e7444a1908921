/* OOM kills of a task's cgroup, as events: on cgroup v1 an eventfd
 * registered for memory.oom_control through cgroup.event_control; on v2
 * inotify on memory.events, whose oom_kill counter is compared. Both are
 * read in the loop. */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "events/bus.h"
#include "tasks/internal.h"

#define CGROUP_ROOT "/sys/fs/cgroup"

struct oom_watch {
	struct event *ev;
	int fd;			/* eventfd (v1) or inotify (v2) */
	char *events_path;	/* v2: memory.events */
	uint64_t kills;		/* v2: oom_kill seen so far */
	oom_fn fn;
	void *arg;
};

/* The cgroup of pid in the memory hierarchy (v1) or the unified one (v2):
 * the path after the second ':' of its line in /proc/PID/cgroup. */
static char *
proc_cgroup(pid_t pid, bool *v2)
{
	char path[64], line[4096];
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	FILE *f = fopen(path, "re");
	char *v1 = NULL, *unified = NULL;
	if (f == NULL)
		return NULL;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (c2 == NULL)
			continue;
		*c2 = '\0';
		if (strcmp(c1 + 1, "memory") == 0 && v1 == NULL)
			v1 = xstrdup(c2 + 1);
		else if (c1[1] == '\0' && strncmp(line, "0", 1) == 0 && unified == NULL)
			unified = xstrdup(c2 + 1);
	}
	fclose(f);
	*v2 = v1 == NULL;
	free(v1 ? unified : NULL);
	return v1 ? v1 : unified;
}

static uint64_t
read_oom_kills(const char *path)
{
	FILE *f = fopen(path, "re");
	char key[64];
	uint64_t v, kills = 0;
	if (f == NULL)
		return 0;
	while (fscanf(f, "%63s %" SCNu64, key, &v) == 2)
		if (strcmp(key, "oom_kill") == 0)
			kills = v;
	fclose(f);
	return kills;
}

/* Returns whether an OOM happened since the last look. */
static bool
oom_check(struct oom_watch *w)
{
	if (w->events_path == NULL) {
		uint64_t n;
		return read(w->fd, &n, sizeof(n)) == (ssize_t)sizeof(n);
	}
	char buf[4096];
	while (read(w->fd, buf, sizeof(buf)) > 0)
		;
	uint64_t kills = read_oom_kills(w->events_path);
	bool more = kills > w->kills;
	w->kills = kills;
	return more;
}

static void
on_ready(evutil_socket_t fd, short what, void *arg)
{
	struct oom_watch *w = arg;
	if (oom_check(w))
		w->fn(w->arg);
}

static int
v1_register(const char *cg, int efd)
{
	char *ctl = xasprintf(CGROUP_ROOT "/memory%s/memory.oom_control", cg);
	char *evc = xasprintf(CGROUP_ROOT "/memory%s/cgroup.event_control", cg);
	int ofd = open(ctl, O_RDONLY | O_CLOEXEC);
	int cfd = open(evc, O_WRONLY | O_CLOEXEC);
	int rc = -1;
	if (ofd >= 0 && cfd >= 0) {
		char line[64];
		int n = snprintf(line, sizeof(line), "%d %d", efd, ofd);
		rc = write(cfd, line, (size_t)n) == n ? 0 : -1;
	}
	/* The kernel holds what it needs once registered. */
	if (ofd >= 0)
		close(ofd);
	if (cfd >= 0)
		close(cfd);
	free(ctl);
	free(evc);
	return rc;
}

static int
v2_register(struct oom_watch *w, const char *cg)
{
	w->events_path = xasprintf(CGROUP_ROOT "%s/memory.events", cg);
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0 || inotify_add_watch(w->fd, w->events_path, IN_MODIFY) < 0)
		return -1;
	w->kills = read_oom_kills(w->events_path);
	return 0;
}

static void
watch_free(struct oom_watch *w)
{
	if (w->ev)
		event_free(w->ev);
	if (w->fd >= 0)
		close(w->fd);
	free(w->events_path);
	free(w);
}

struct oom_watch *
oom_watch_start(struct event_base *base, pid_t pid, oom_fn fn, void *arg)
{
	bool v2 = false;
	char *cg = proc_cgroup(pid, &v2);
	if (cg == NULL)
		return NULL;
	struct oom_watch *w = xcalloc(1, sizeof(*w));
	w->fn = fn;
	w->arg = arg;
	w->fd = -1;
	int rc;
	if (v2) {
		rc = v2_register(w, cg);
	} else {
		w->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		rc = w->fd < 0 ? -1 : v1_register(cg, w->fd);
	}
	if (rc == 0) {
		w->ev = event_new(base, w->fd, EV_READ | EV_PERSIST, on_ready, w);
		rc = w->ev ? event_add(w->ev, NULL) : -1;
	}
	if (rc < 0) {
		log_warn("tasks: cannot watch %s for OOM: %s", cg, strerror(errno));
		watch_free(w);
		w = NULL;
	}
	free(cg);
	return w;
}

void
oom_watch_stop(struct oom_watch *w)
{
	if (w == NULL)
		return;
	if (oom_check(w))
		w->fn(w->arg);
	watch_free(w);
}

static void
task_oom(void *arg)
{
	struct task *k = arg;
	log_info("tasks: %s/%s: OOM", k->ns, k->cid);
	event_bus_publish(k->t->bus, k->ns, "/tasks/oom",
	    json_pack("{s:s}", "container_id", k->cid));
}

void
task_oom_start(struct task *k, pid_t pid)
{
	if (k->oom == NULL && pid > 0)
		k->oom = oom_watch_start(k->t->base, pid, task_oom, k);
}
