/* getgrnam() loads the NSS modules nsswitch.conf names into the process
 * that calls it, and glibc never unloads them: on Debian "group: files
 * systemd" maps libnss_systemd (~320 KB resident, ~0.4 MB with what it
 * touches) into kegd for good, once, to learn one number at start. So the
 * lookup runs in a short-lived child that sends the answer back through a
 * pipe: the same sources in the same order answer as they would in the
 * daemon, for the cost of one fork before the loop starts. Reading
 * /etc/group directly would skip LDAP, sssd or systemd's dynamic groups. */
#include "kegd/socket_group.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

static gid_t
lookup(const char *name)
{
	struct group *gr = getgrnam(name);
	return gr ? gr->gr_gid : (gid_t)-1;
}

gid_t
socket_group_gid(const char *name)
{
	if (name == NULL)
		return (gid_t)-1;
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return lookup(name);	/* the answer matters more than the memory */
	pid_t pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return lookup(name);
	}
	if (pid == 0) {
		/* _exit: the daemon's atexit work is not the child's. */
		gid_t gid = lookup(name);
		_exit(write(fds[1], &gid, sizeof(gid)) == (ssize_t)sizeof(gid) ? 0 : 1);
	}
	close(fds[1]);
	gid_t gid;
	ssize_t n;
	do
		n = read(fds[0], &gid, sizeof(gid));
	while (n < 0 && errno == EINTR);
	close(fds[0]);
	/* Ours to reap: children.c leaves pids it was not given alone. */
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return n == (ssize_t)sizeof(gid) ? gid : (gid_t)-1;
}
