/* kegd-shim: one per container process (runtime/README: the contract with kegd).
 *
 *   kegd-shim --id ID --bundle BUNDLE --state-dir DIR --runtime BIN
 *             --runtime-root ROOT --log LOGFILE --ready-fd N
 *             [--exec-process FILE | --restore IMAGE_DIR | --start] [--tty] [--stdin]
 *
 * --restore runs the runtime's `restore --detach` from a checkpoint image
 * instead of `create`; --start runs `run --detach`, creating and starting
 * the process in one runtime call (the ready line then means started).
 * The rest (ready line, logs, exit file) is the same.
 *
 * The process kegd starts forks the real shim and exits at once; the
 * shim leaves kegd's session and becomes a child subreaper, so the
 * container process is its child and outlives kegd with it. */
#include "runtime/shim/shim.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static void
usage_fail(struct shim_opts *o, const char *why)
{
	dprintf(2, "kegd-shim: %s\n", why);
	o->ready_fd = o->ready_fd >= 0 && fcntl(o->ready_fd, F_GETFD) >= 0 ? o->ready_fd : -1;
	report_failure(o, (off_t)-1, why);
	exit(1);
}

static void
parse(int argc, char **argv, struct shim_opts *o)
{
	static const struct option longopts[] = {
		{ "id", required_argument, NULL, 'i' },
		{ "bundle", required_argument, NULL, 'b' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "runtime", required_argument, NULL, 'r' },
		{ "runtime-root", required_argument, NULL, 'R' },
		{ "log", required_argument, NULL, 'l' },
		{ "ready-fd", required_argument, NULL, 'f' },
		{ "exec-process", required_argument, NULL, 'e' },
		{ "restore", required_argument, NULL, 'x' },
		{ "start", no_argument, NULL, 'S' },
		{ "tty", no_argument, NULL, 't' },
		{ "stdin", no_argument, NULL, 's' },
		{ 0 },
	};
	int c;
	*o = (struct shim_opts){ .ready_fd = -1 };
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'i': o->id = optarg; break;
		case 'b': o->bundle = optarg; break;
		case 'd': o->state_dir = optarg; break;
		case 'r': o->runtime = optarg; break;
		case 'R': o->runtime_root = optarg; break;
		case 'l': o->log = optarg; break;
		case 'f': o->ready_fd = atoi(optarg); break;
		case 'e': o->exec_process = optarg; break;
		case 'x': o->restore = optarg; break;
		case 'S': o->start = true; break;
		case 't': o->tty = true; break;
		case 's': o->stdin_open = true; break;
		default: usage_fail(o, "bad option");
		}
	}
	if (o->ready_fd < 3 || optind != argc)
		usage_fail(o, "usage: kegd-shim --id ID --bundle DIR --state-dir DIR "
		    "--runtime BIN --runtime-root DIR --log FILE --ready-fd N "
		    "[--exec-process FILE | --restore DIR | --start] [--tty] [--stdin]");
	if ((o->exec_process != NULL) + (o->restore != NULL) + o->start > 1)
		usage_fail(o, "--exec-process, --restore and --start exclude each other");
	const char *paths[] = { o->bundle, o->state_dir, o->runtime, o->runtime_root,
		o->log, o->exec_process ? o->exec_process : "/", o->restore ? o->restore : "/" };
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (paths[i] == NULL || paths[i][0] != '/')
			usage_fail(o, "paths must be given and absolute");
	if (o->id == NULL || o->id[0] == '\0' || o->id[0] == '-')
		usage_fail(o, "bad --id");
}

/* Leaves kegd: the started process exits, the real shim goes on in its own
 * session as subreaper. SIGTERM and friends are ignored: only the
 * container process's exit ends the shim. */
static void
detach(struct shim_opts *o)
{
	pid_t p = fork();
	if (p < 0)
		usage_fail(o, "fork failed");
	if (p > 0)
		_exit(0);
	setsid();
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		usage_fail(o, "cannot become a subreaper");
	int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE, SIGUSR1, SIGUSR2 };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_IGN);
	if (fcntl(o->ready_fd, F_SETFD, FD_CLOEXEC) < 0)
		usage_fail(o, "bad --ready-fd");
	if (chdir(o->state_dir) < 0)
		usage_fail(o, "cannot enter the state directory");
	/* stdin and stdout are kegd's; a dead kegd must not matter. */
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		close(null);
	}
}

/* The runtime's stdio, which the container process inherits (without a
 * tty); the shim's ends are non-blocking and close-on-exec. */
static int
setup_stdio(struct shim *s, int child[3])
{
	int p[2];
	child[0] = child[1] = child[2] = -1;
	if (s->o->stdin_open && !s->o->tty) {
		if (pipe2(p, O_CLOEXEC) < 0)
			return -1;
		child[0] = p[0];
		s->in_fd = p[1];
		set_nonblock(p[1]);
	} else if ((child[0] = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
		return -1;
	}
	if (s->o->tty) {
		/* The container gets the pty; the pipe is the runtime's own. */
		if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
			return -1;
		s->runtime_err = p[0];
		child[1] = p[1];
		child[2] = dup(p[1]);
		s->console_lfd = unix_listen(SHIM_CONSOLE_SOCK, SOCK_STREAM);
		return s->console_lfd < 0 || child[2] < 0 ? -1 : 0;
	}
	for (int st = 0; st < 2; st++) {
		if (pipe2(p, O_CLOEXEC) < 0)
			return -1;
		s->out_fd[st] = p[0];
		set_nonblock(p[0]);
		child[1 + st] = p[1];
	}
	return 0;
}

static off_t
file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_size : 0;
}

static void
shim_init(struct shim *s, const struct shim_opts *o)
{
	/* Field by field: s is static (zero), and assigning a whole struct
	 * literal would write, and so make resident, all of its 36 KB (the
	 * CRI line buffers), which a quiet container never touches. */
	s->o = o;
	s->out_fd[0] = s->out_fd[1] = -1;
	s->in_fd = s->master = -1;
	s->console_lfd = s->console_conn = s->runtime_err = -1;
	s->sig_fd = s->attach_lfd = s->control_lfd = -1;
}

int
main(int argc, char **argv)
{
	static struct shim_opts o;
	static struct shim s;
	int child[3];
	parse(argc, argv, &o);
	detach(&o);
	shim_init(&s, &o);
	if (reap_init(&s) < 0 || crilog_open(&s.log, o.log) < 0)
		usage_fail(&o, "cannot open the log");
	s.attach_lfd = unix_listen(SHIM_ATTACH_SOCK, SOCK_STREAM);
	s.control_lfd = unix_listen(SHIM_CONTROL_SOCK, SOCK_STREAM);
	if (s.attach_lfd < 0 || s.control_lfd < 0 || setup_stdio(&s, child) < 0)
		usage_fail(&o, "cannot set up sockets and pipes");
	off_t log_offset = file_size(SHIM_RUNTIME_LOG);
	s.runtime_pid = runtime_spawn(&o, child[0], child[1], child[2]);
	for (int i = 0; i < 3; i++)
		close(child[i]);
	if (s.runtime_pid < 0)
		usage_fail(&o, "cannot fork the runtime");
	if (loop_create(&s, log_offset) < 0)
		return 1;
	loop_run(&s);
	crilog_close(&s.log);
	unlink(SHIM_ATTACH_SOCK);
	unlink(SHIM_CONTROL_SOCK);
	if (report_exit(s.cpid_status, s.exited_at) < 0) {
		dprintf(2, "kegd-shim: cannot write the exit file: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}
