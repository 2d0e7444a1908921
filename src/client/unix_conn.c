#include "client/unix_conn.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* How often a wait looks at the stop flag when no signal wakes it. */
#define STOP_CHECK_MS 1000

int
unix_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(path);
	if (len >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, path, len + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* A Unix socket's connect waits only while the backlog is full, and
	 * leaves nothing half done when a signal cuts the wait short. */
	int rc;
	while ((rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa))) < 0 && errno == EINTR)
		;
	if (rc < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

bool
unix_conn_idle(int fd)
{
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

static bool
stopped(volatile sig_atomic_t *stop)
{
	return stop != NULL && *stop;
}

static enum io_result
io_wait(int fd, short events, volatile sig_atomic_t *stop, short *revents)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	for (;;) {
		if (stopped(stop))
			return IO_STOPPED;
		int n = poll(&pfd, 1, stop != NULL ? STOP_CHECK_MS : -1);
		if (n < 0 && errno != EINTR)
			return IO_FAILED;
		if (n > 0 && (pfd.revents & POLLNVAL)) {
			errno = EBADF;
			return IO_FAILED;
		}
		if (n > 0) {
			*revents = pfd.revents;
			return IO_OK;
		}
	}
}

enum io_result
io_recv(int fd, char *p, size_t len, volatile sig_atomic_t *stop, size_t *got)
{
	for (;;) {
		if (stopped(stop))
			return IO_STOPPED;
		ssize_t n = recv(fd, p, len, MSG_DONTWAIT);
		if (n > 0) {
			*got = (size_t)n;
			return IO_OK;
		}
		if (n == 0)
			return IO_EOF;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return IO_FAILED;
		short revents;
		enum io_result r = io_wait(fd, POLLIN, stop, &revents);
		if (r != IO_OK)
			return r;
	}
}

enum io_result
io_send(int fd, const char *p, size_t len, volatile sig_atomic_t *stop, size_t *sent)
{
	*sent = 0;
	while (*sent < len) {
		if (stopped(stop))
			return IO_STOPPED;
		ssize_t n = send(fd, p + *sent, len - *sent, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			*sent += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return IO_FAILED;
		short revents;
		enum io_result r = io_wait(fd, POLLIN | POLLOUT, stop, &revents);
		if (r != IO_OK)
			return r;
		/* kegd says nothing before it has the whole request, unless it
		 * refuses it: then its reply matters, not the rest of the body. */
		if (revents & (POLLIN | POLLHUP | POLLERR))
			return IO_READABLE;
	}
	return IO_OK;
}

