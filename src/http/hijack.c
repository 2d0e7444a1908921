#include "http/hijack.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "http/conn.h"
#include "http/request.h"

int
http_hijack(struct http_request *req, const char *head, struct evbuffer *extra)
{
	struct bufferevent *bev = http_conn_bev(req->conn);
	struct evbuffer *out = bufferevent_get_output(bev);
	/* Nothing of this request may still be queued for the client. */
	if (req->responded || evbuffer_get_length(out) > 0) {
		errno = EBUSY;
		return -1;
	}
	int fd = fcntl(bufferevent_getfd(bev), F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return -1;
	/* The head goes out with a plain write on the duplicated socket: the
	 * bufferevent's queue is dropped with the connection. A short head
	 * fits any socket buffer; a client that cannot take it is refused. */
	if (fd_write_all(fd, head, strlen(head)) < 0) {
		close(fd);
		errno = EPIPE;
		return -1;
	}
	evbuffer_add_buffer(extra, bufferevent_get_input(bev));
	req->responded = true;
	req->on_close = NULL;
	http_conn_close(req->conn, false);
	return fd;
}
