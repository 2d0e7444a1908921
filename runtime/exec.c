#include "runtime/exec.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#define PARK 1000	/* above every target descriptor: moves never collide */

static void
child(const char *const *argv, const int *fds, int n, int report)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* The daemon's handlers write to its loop's descriptors, which are
	 * gone here; exec keeps ignored signals ignored. */
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	int parked[16];
	for (int i = 0; i < n && i < 16; i++)
		parked[i] = fcntl(fds[i] >= 0 ? fds[i] : null, F_DUPFD_CLOEXEC, PARK + i);
	int rep = fcntl(report, F_DUPFD_CLOEXEC, PARK + 16);
	for (int i = 0; i < n && i < 16; i++)
		if (parked[i] < 0 || dup2(parked[i], i) < 0)
			goto fail;
	/* Everything but the report pipe, which closes itself on exec. */
	if (rep < 0 || close_range((unsigned)n, (unsigned)rep - 1, 0) < 0 ||
	    close_range((unsigned)rep + 1, ~0U, 0) < 0)
		goto fail;
	execv(argv[0], (char *const *)argv);
fail:;
	int err = errno;
	(void)write(rep, &err, sizeof(err));
	_exit(127);
}

pid_t
exec_child(const char *const *argv, const int *fds, int n)
{
	int p[2];
	if (n > 16 || pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0)
		child(argv, fds, n, p[1]);
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return -1;
	}
	/* The pipe closes on a successful exec: EOF means it ran. */
	int err = 0;
	ssize_t r;
	do
		r = read(p[0], &err, sizeof(err));
	while (r < 0 && errno == EINTR);
	close(p[0]);
	if (r == (ssize_t)sizeof(err)) {
		waitpid(pid, NULL, 0);
		errno = err;
		return -1;
	}
	return pid;
}
