/* Starting a kegd-shim: fork+exec with the write end of a ready pipe as
 * its fd 3, then the one JSON line read in the loop. The process started
 * exits as soon as the real shim is forked; it is reaped through
 * children_watch and never waited for. */
#include "runtime/shim_client.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/children.h"
#include "common/util.h"
#include "runtime/exec.h"

#define READY_FD 3
#define LINE_MAX_BYTES 4096

struct shim_launch {
	int fd;
	struct event *ev;
	char line[LINE_MAX_BYTES + 1];
	size_t len;
	shim_launch_fn done;
	void *arg;
	struct shim_launch *next;
};

static struct shim_launch *launches;

static void
launch_free(struct shim_launch *l)
{
	for (struct shim_launch **p = &launches; *p; p = &(*p)->next)
		if (*p == l) {
			*p = l->next;
			break;
		}
	event_free(l->ev);
	close(l->fd);
	free(l);
}

/* The ready line: the shim's report, or its error. */
static void
finish(struct shim_launch *l, const char *fallback)
{
	struct shim_info info = { 0 };
	char *error = NULL;
	json_t *j = fallback ? NULL : json_loads(l->line, 0, NULL);
	const char *msg = json_string_value(json_object_get(j, "error"));
	json_int_t pid = json_integer_value(json_object_get(j, "pid"));
	json_int_t spid = json_integer_value(json_object_get(j, "shim_pid"));
	json_t *start = json_object_get(j, "shim_start");
	if (fallback != NULL)
		error = xstrdup(fallback);
	else if (msg != NULL)
		error = xstrdup(msg);
	else if (pid <= 0 || spid <= 0 || !json_is_integer(start) ||
	    json_integer_value(start) < 0)
		error = xasprintf("shim sent a garbled ready line");
	else
		info = (struct shim_info){ (pid_t)pid, (pid_t)spid,
			(unsigned long long)json_integer_value(start) };
	json_decref(j);
	shim_launch_fn done = l->done;
	void *arg = l->arg;
	launch_free(l);
	done(error ? NULL : &info, error, arg);
	free(error);
}

static void
on_ready(evutil_socket_t fd, short what, void *arg)
{
	struct shim_launch *l = arg;
	if (what & EV_TIMEOUT) {
		finish(l, "shim timed out");
		return;
	}
	ssize_t n = read(fd, l->line + l->len, LINE_MAX_BYTES - l->len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0) {
		l->len += (size_t)n;
		l->line[l->len] = '\0';
		if (memchr(l->line, '\n', l->len) == NULL && l->len < LINE_MAX_BYTES)
			return;
	}
	/* A newline, EOF after part of a line, or a line too long. */
	finish(l, l->len == 0 ? "shim exited without reporting" : NULL);
}

static pid_t
spawn(const struct shim_launch_config *cfg, int ready_w)
{
	const char *argv[24];
	int n = 0;
	argv[n++] = cfg->shim_binary;
	argv[n++] = "--id";
	argv[n++] = cfg->id;
	argv[n++] = "--bundle";
	argv[n++] = cfg->bundle;
	argv[n++] = "--state-dir";
	argv[n++] = cfg->state_dir;
	argv[n++] = "--runtime";
	argv[n++] = cfg->runtime;
	argv[n++] = "--runtime-root";
	argv[n++] = cfg->runtime_root;
	argv[n++] = "--log";
	argv[n++] = cfg->log_path;
	argv[n++] = "--ready-fd";
	argv[n++] = "3";
	if (cfg->exec_process != NULL) {
		argv[n++] = "--exec-process";
		argv[n++] = cfg->exec_process;
	} else if (cfg->restore != NULL) {
		argv[n++] = "--restore";
		argv[n++] = cfg->restore;
	} else if (cfg->start) {
		argv[n++] = "--start";
	}
	if (cfg->tty)
		argv[n++] = "--tty";
	if (cfg->stdin_open)
		argv[n++] = "--stdin";
	argv[n] = NULL;
	/* stdin and stdout /dev/null; stderr is kegd's, for the shim's
	 * own complaints. */
	int fds[READY_FD + 1] = { -1, -1, 2, ready_w };
	return exec_child(argv, fds, READY_FD + 1);
}

int
shim_launch(const struct shim_launch_config *cfg, shim_launch_fn done, void *arg)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	struct shim_launch *l = xcalloc(1, sizeof(*l));
	l->fd = p[0];
	l->done = done;
	l->arg = arg;
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	l->ev = event_new(cfg->base, p[0], EV_READ | EV_PERSIST, on_ready, l);
	pid_t pid = l->ev ? spawn(cfg, p[1]) : -1;
	int saved = errno;
	close(p[1]);
	if (pid < 0) {
		if (l->ev != NULL)
			event_free(l->ev);
		close(p[0]);
		free(l);
		errno = saved;
		return -1;
	}
	/* Nothing to learn from its exit: the ready line tells all. */
	children_watch(pid, NULL, NULL);
	struct timeval tv = { SHIM_READY_TIMEOUT_MS / 1000, 0 };
	event_add(l->ev, &tv);
	l->next = launches;
	launches = l;
	return 0;
}

void
shim_launch_abort_all(void)
{
	while (launches != NULL)
		launch_free(launches);
}
