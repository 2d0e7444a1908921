#include "common/json_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"

int
json_write_fd(const json_t *json, int fd, size_t flags)
{
	char *text = json_dumps(json, flags);
	if (text == NULL) {
		errno = ENOMEM;
		return -1;
	}
	int rc = fd_write_all(fd, text, strlen(text));
	int saved = errno;
	free(text);
	errno = saved;
	return rc;
}

int
json_write_file_atomic(const char *dir, const char *name, const json_t *json, size_t flags)
{
	char *tmp = xasprintf("%s/.%s.tmp", dir, name), *path = xasprintf("%s/%s", dir, name);
	int rc = -1, saved = 0;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0) {
		rc = json_write_fd(json, fd, flags);
		if (close(fd) < 0)
			rc = -1;
		if (rc == 0)
			rc = rename(tmp, path);
		saved = errno;
		if (rc < 0)
			unlink(tmp);
	} else {
		saved = errno;
	}
	free(tmp);
	free(path);
	errno = saved;
	return rc;
}
