/* keg's socket to kegd: connecting to it, and reading and writing that a
 * stop flag (set by a signal handler installed without SA_RESTART) cuts
 * short. The socket stays blocking; sends and receives do not block in the
 * kernel (MSG_DONTWAIT) but wait in poll, which wakes when a signal comes
 * and, with a stop flag, at least once a second to look at it. */
#ifndef KEG_CLIENT_UNIX_CONN_H
#define KEG_CLIENT_UNIX_CONN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

enum io_result {
	IO_OK,
	IO_EOF,		/* receiving: the other side closed the connection */
	IO_FAILED,	/* errno says why */
	IO_STOPPED,	/* *stop was set */
	IO_READABLE,	/* sending: the other side has something to say first */
};

/* A close-on-exec stream socket connected to the Unix socket at path, or
 * -1 with errno set (ENAMETOOLONG when the path does not fit). */
int unix_connect(const char *path);

/* Whether a connection kept from an earlier reply is still open with
 * nothing unread (the other side may have closed it while it was idle). */
bool unix_conn_idle(int fd);

/* Receives what has come, at most len bytes, waiting for it: IO_OK with
 * *got > 0, IO_EOF, IO_FAILED or IO_STOPPED. stop may be NULL. */
enum io_result io_recv(int fd, char *p, size_t len, volatile sig_atomic_t *stop,
    size_t *got);

/* Sends len bytes; *sent counts those that went. Stops early with
 * IO_READABLE when it has to wait and the other side has answered (or
 * closed) meanwhile. stop may be NULL. */
enum io_result io_send(int fd, const char *p, size_t len, volatile sig_atomic_t *stop,
    size_t *sent);

#endif
