/* Runs the runtime's `create`, `run --detach`, `restore --detach` or
 * `exec --detach`. What the runtime's child inherits is what the container
 * process inherits: its stdio and nothing else, default signal handling
 * and an empty signal mask (the shim ignores SIGTERM and blocks SIGCHLD;
 * exec would pass both on). */
#include "runtime/shim/shim.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MAX_ARGS 24

static void
child_reset(int in, int out, int err)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	/* Through high numbers first: a target may be one of the sources. */
	int fds[3] = { in, out, err }, high[3];
	for (int i = 0; i < 3; i++)
		high[i] = fcntl(fds[i], F_DUPFD, 100 + i);
	for (int i = 0; i < 3; i++)
		if (high[i] < 0 || dup2(high[i], i) < 0)
			_exit(127);
	close_range(3, ~0U, 0);
}

pid_t
runtime_spawn(const struct shim_opts *o, int in, int out, int err)
{
	/* The three paths packed one after the other: three separate
	 * PATH_MAX arrays would each dirty a page of their own. */
	static char paths[3 * PATH_MAX];
	char *log = paths, *pid, *console;
	const char *argv[MAX_ARGS];
	int n = 0;
	snprintf(log, PATH_MAX, "%s/%s", o->state_dir, SHIM_RUNTIME_LOG);
	pid = log + strlen(log) + 1;
	snprintf(pid, PATH_MAX, "%s/%s", o->state_dir, SHIM_PID_FILE);
	console = pid + strlen(pid) + 1;
	snprintf(console, PATH_MAX, "%s/%s", o->state_dir, SHIM_CONSOLE_SOCK);
	argv[n++] = o->runtime;
	argv[n++] = "--root";
	argv[n++] = o->runtime_root;
	argv[n++] = "--log";
	argv[n++] = log;
	argv[n++] = "--log-format";
	argv[n++] = "json";
	if (o->exec_process != NULL) {
		argv[n++] = "exec";
		argv[n++] = "--detach";
		argv[n++] = "--process";
		argv[n++] = o->exec_process;
	} else if (o->restore != NULL) {
		/* --detach: runc returns once the restored process runs, as
		 * create returns once it waits for start. */
		argv[n++] = "restore";
		argv[n++] = "--detach";
		argv[n++] = "--image-path";
		argv[n++] = o->restore;
		argv[n++] = "--bundle";
		argv[n++] = o->bundle;
	} else if (o->start) {
		/* One runtime process instead of `create` then `start`: each
		 * runc invocation costs ~30 ms of its own start-up. */
		argv[n++] = "run";
		argv[n++] = "--detach";
		argv[n++] = "--bundle";
		argv[n++] = o->bundle;
	} else {
		argv[n++] = "create";
		argv[n++] = "--bundle";
		argv[n++] = o->bundle;
	}
	argv[n++] = "--pid-file";
	argv[n++] = pid;
	if (o->tty) {
		argv[n++] = "--console-socket";
		argv[n++] = console;
	}
	argv[n++] = o->id;
	argv[n] = NULL;

	pid_t p = fork();
	if (p != 0)
		return p;
	child_reset(in, out, err);
	execv(o->runtime, (char *const *)argv);
	dprintf(2, "exec %s: %s\n", o->runtime, strerror(errno));
	_exit(127);
}
