/* What a shim leaves in its state directory, read by kegd, and the two
 * sockets it listens on. Socket paths are reached through an O_PATH
 * descriptor of the directory (/proc/self/fd/N/NAME), so a state
 * directory deeper than sun_path's 108 bytes still works. */
#include "runtime/shim_client.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/util.h"

/* A small JSON object file of the state directory, or NULL. */
static json_t *
load(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name);
	json_t *j = json_load_file(path, 0, NULL);
	free(path);
	if (j != NULL && !json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

int
shim_read_exit(const char *state_dir, int *status, int64_t *exited_at_ns)
{
	json_t *j = load(state_dir, "exit");
	json_t *s = json_object_get(j, "status"), *at = json_object_get(j, "exited_at");
	int rc = -1;
	if (json_is_integer(s) && json_is_integer(at) && json_integer_value(s) >= 0 &&
	    json_integer_value(s) <= 255 + 128) {
		*status = (int)json_integer_value(s);
		*exited_at_ns = (int64_t)json_integer_value(at);
		rc = 0;
	}
	json_decref(j);
	return rc;
}

int
shim_read_info(const char *state_dir, struct shim_info *info)
{
	json_t *j = load(state_dir, "shim.json");
	json_int_t pid = json_integer_value(json_object_get(j, "pid"));
	json_int_t spid = json_integer_value(json_object_get(j, "shim_pid"));
	json_t *start = json_object_get(j, "shim_start");
	int rc = -1;
	if (pid > 0 && spid > 0 && json_is_integer(start) && json_integer_value(start) >= 0) {
		*info = (struct shim_info){ (pid_t)pid, (pid_t)spid,
			(unsigned long long)json_integer_value(start) };
		rc = 0;
	}
	json_decref(j);
	return rc;
}

static int
connect_in(const char *dir, const char *name, bool nonblock)
{
	int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", dfd, name);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int rc = fd < 0 ? -1 : connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	int saved = errno;
	close(dfd);
	if (rc < 0) {
		if (fd >= 0)
			close(fd);
		errno = saved;
		return -1;
	}
	/* Connected while blocking: a local connect completes at once. */
	if (nonblock)
		fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

int
shim_attach_connect(const char *state_dir)
{
	return connect_in(state_dir, "attach.sock", true);
}

int
shim_control(const char *state_dir, const char *line)
{
	int fd = connect_in(state_dir, "control.sock", false);
	if (fd < 0)
		return -1;
	char *msg = xasprintf("%s\n", line);
	size_t len = strlen(msg), off = 0;
	int rc = 0;
	while (off < len) {
		ssize_t n = send(fd, msg + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = -1;
			break;
		}
		off += (size_t)n;
	}
	int saved = errno;
	free(msg);
	close(fd);
	errno = saved;
	return rc;
}

int
shim_resize(const char *state_dir, unsigned width, unsigned height)
{
	char line[64];
	snprintf(line, sizeof(line), "resize %u %u", width, height);
	return shim_control(state_dir, line);
}

int
shim_close_stdin(const char *state_dir)
{
	return shim_control(state_dir, "close-stdin");
}
