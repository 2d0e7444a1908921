/* The shim is a child subreaper: the container process (and anything else
 * orphaned below the shim) becomes its child. SIGCHLD arrives through a
 * signalfd so the poll loop sees it; every exit is reaped, and the
 * runtime's and the container process's are remembered. */
#include "runtime/shim/shim.h"

#include <errno.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

int
reap_init(struct shim *s)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	s->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return s->sig_fd < 0 ? -1 : 0;
}

static int
exit_code(int status)
{
	/* containerd's convention for a process killed by a signal. */
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

static void
remember_early(struct shim *s, pid_t pid, int status)
{
	/* Only needed between the runtime's exit and reading its pid file;
	 * the oldest entries give way. */
	if (s->n_early == sizeof(s->early) / sizeof(s->early[0])) {
		for (size_t i = 1; i < s->n_early; i++)
			s->early[i - 1] = s->early[i];
		s->n_early--;
	}
	s->early[s->n_early++] = (struct early_exit){ pid, exit_code(status), now_ns() };
}

void
reap_children(struct shim *s)
{
	struct signalfd_siginfo si;
	while (read(s->sig_fd, &si, sizeof(si)) == sizeof(si))
		;
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid <= 0)
			return;
		if (pid == s->runtime_pid) {
			s->runtime_exited = true;
			s->runtime_status = exit_code(status);
		} else if (s->cpid != 0 && pid == s->cpid) {
			s->cpid_exited = true;
			s->cpid_status = exit_code(status);
			s->exited_at = now_ns();
		} else if (s->cpid == 0) {
			remember_early(s, pid, status);
		}
	}
}

void
reap_match_early(struct shim *s)
{
	for (size_t i = 0; i < s->n_early; i++)
		if (s->early[i].pid == s->cpid) {
			s->cpid_exited = true;
			s->cpid_status = s->early[i].status;
			s->exited_at = s->early[i].at;
		}
	s->n_early = 0;
}
