#include "config.h"

#include "client/api_upgrade.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/util.h"

#define HEAD_MAX (64 * 1024)

static int
connect_unix(const char *address, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(address) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path too long: %s", address);
		return -1;
	}
	strcpy(sa.sun_path, address);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(err, errlen, "cannot connect to kegd at %s: %s", address,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int
fd_write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads until the blank line ending the head; *head_len is its length
 * (the rest of what was read stays in b). */
static int
read_head(int fd, struct buf *b, size_t *head_len)
{
	char chunk[4096];
	for (;;) {
		char *end = b->data ? strstr(b->data, "\r\n\r\n") : NULL;
		if (end != NULL) {
			*head_len = (size_t)(end - b->data) + 4;
			return 0;
		}
		if (b->len > HEAD_MAX)
			return -1;
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf_append(b, chunk, (size_t)n);
	}
}

/* The body of an error reply (read to its Content-Length or EOF), its
 * API message taken out when it is the API's envelope. */
static void
error_from_reply(int fd, struct buf *b, size_t head_len, int status,
    char *err, size_t errlen)
{
	const char *cl = strcasestr(b->data, "\r\ncontent-length:");
	size_t want = cl ? strtoul(cl + 17, NULL, 10) : HEAD_MAX;
	char chunk[4096];
	ssize_t n;
	while (b->len - head_len < want && b->len < 2 * HEAD_MAX &&
	    (n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_append(b, chunk, (size_t)n);
	json_t *j = json_loadb(b->data + head_len, b->len - head_len, 0, NULL);
	const char *msg = json_string_value(json_object_get(json_object_get(j, "error"),
	    "message"));
	if (msg != NULL)
		snprintf(err, errlen, "%s", msg);
	else
		snprintf(err, errlen, "kegd answered HTTP %d instead of switching protocols",
		    status);
	json_decref(j);
}

int
api_upgrade(const char *address, const char *ns, const char *path,
    const char *protocol, struct buf *early, char *err, size_t errlen)
{
	int fd = connect_unix(address, err, errlen);
	if (fd < 0)
		return -1;
	char *nsh = ns ? xasprintf("Keg-Namespace: %s\r\n", ns) : xstrdup("");
	char *req = xasprintf("POST /v1%s HTTP/1.1\r\nHost: localhost\r\n"
	    "User-Agent: keg/" PACKAGE_VERSION "\r\nConnection: Upgrade\r\n"
	    "Upgrade: %s\r\n%sContent-Length: 0\r\n\r\n", path, protocol, nsh);
	struct buf b = BUF_INIT;
	size_t head_len = 0;
	int status = 0;
	int rc = fd_write_all(fd, req, strlen(req));
	free(req);
	free(nsh);
	if (rc < 0 || read_head(fd, &b, &head_len) < 0 ||
	    sscanf(b.data, "HTTP/1.%*d %d", &status) != 1) {
		snprintf(err, errlen, "talking to kegd at %s: %s", address,
		    errno ? strerror(errno) : "a reply that is not HTTP");
		goto fail;
	}
	if (status != 101) {
		error_from_reply(fd, &b, head_len, status, err, errlen);
		goto fail;
	}
	buf_append(early, b.data + head_len, b.len - head_len);
	buf_free(&b);
	return fd;
fail:
	buf_free(&b);
	close(fd);
	return -1;
}
