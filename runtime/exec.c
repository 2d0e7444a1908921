#include "runtime/exec.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#define MAX_FDS 16

/* posix_spawn, not fork: glibc spawns with CLONE_VM|CLONE_VFORK, so the
 * daemon's page tables are not copied for a child that execs at once, and
 * the daemon takes no copy-on-write fault on every page it writes after
 * each fork (a fault is several microseconds on a paravirtualised host,
 * and kegd spawns a shim or a runtime for nearly every task call). An
 * exec failure comes back as posix_spawn's error, the child reaped. */

/* Every signal back to its default (the daemon's handlers write to its
 * loop's descriptors, gone in the child), none blocked. */
static int
reset_signals(posix_spawnattr_t *attr)
{
	sigset_t all, none;
	sigfillset(&all);
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGSTOP);
	sigemptyset(&none);
	return posix_spawnattr_setsigdefault(attr, &all) ||
	    posix_spawnattr_setsigmask(attr, &none) ||
	    posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
}

/* Sources are first copied to numbers >= n, so that no dup2 onto 0..n-1
 * overwrites a source still to be moved; closefrom(n) then drops the
 * copies and everything else the daemon has open. */
static int
plan_fds(posix_spawn_file_actions_t *fa, const int *fds, int n, int *parked)
{
	int null = -1, rc = 0;
	for (int i = 0; i < n && rc == 0; i++) {
		int src = fds[i];
		if (src < 0 && null < 0)
			null = open("/dev/null", O_RDWR | O_CLOEXEC);
		src = src >= 0 ? src : null;
		parked[i] = src < 0 ? -1 : fcntl(src, F_DUPFD_CLOEXEC, n);
		rc = parked[i] < 0 ? -1 : posix_spawn_file_actions_adddup2(fa, parked[i], i);
	}
	if (rc == 0)
		rc = posix_spawn_file_actions_addclosefrom_np(fa, n);
	if (null >= 0)
		close(null);
	return rc == 0 ? 0 : -1;
}

pid_t
exec_child(const char *const *argv, const int *fds, int n)
{
	if (n > MAX_FDS) {
		errno = EINVAL;
		return -1;
	}
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int parked[MAX_FDS] = { -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1 };
	pid_t pid = -1;
	int err = posix_spawn_file_actions_init(&fa);
	if (err == 0 && (err = posix_spawnattr_init(&attr)) != 0)
		posix_spawn_file_actions_destroy(&fa);
	if (err != 0) {
		errno = err;
		return -1;
	}
	if (reset_signals(&attr) != 0 || plan_fds(&fa, fds, n, parked) < 0)
		err = errno ? errno : ENOMEM;
	else
		err = posix_spawn(&pid, argv[0], &fa, &attr, (char *const *)argv, environ);
	for (int i = 0; i < n; i++)
		if (parked[i] >= 0)
			close(parked[i]);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (err != 0) {
		errno = err;
		return -1;
	}
	return pid;
}
