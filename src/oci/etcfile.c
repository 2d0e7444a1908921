/* Reading an image's /etc/passwd or /etc/group without trusting it: the
 * rootfs comes from an image anyone may have built, so a symlink must
 * resolve inside the rootfs (never to the host's file), a FIFO or device
 * must be refused without being opened for reading, and the size capped. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/util.h"
#include "oci/internal.h"

/* Kernels before 5.6 have no openat2: there, /etc and the file itself
 * must be real entries (a symlink anywhere fails), which is stricter than
 * RESOLVE_IN_ROOT but never reaches outside either. */
static int
open_fallback(int rootfs_fd, const char *name, int flags)
{
	int etc = openat(rootfs_fd, "etc", O_PATH | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (etc < 0)
		return -1;
	int fd = openat(etc, name, flags | O_NOFOLLOW);
	int saved = errno;
	close(etc);
	errno = saved;
	return fd;
}

/* "/etc/NAME" resolved as if rootfs_fd were "/": ".." stops at it and
 * absolute symlinks start from it. No /proc magic links either. */
static int
open_in_root(int rootfs_fd, const char *name, int flags)
{
	static bool no_openat2;
	if (!no_openat2) {
		char path[64];
		snprintf(path, sizeof(path), "/etc/%s", name);
		struct open_how how = { .flags = (unsigned long long)flags,
			.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS |
			    RESOLVE_NO_XDEV };
		int fd = (int)syscall(SYS_openat2, rootfs_fd, path, &how,
		    sizeof(how));
		if (fd >= 0 || errno != ENOSYS)
			return fd;
		no_openat2 = true;
	}
	return open_fallback(rootfs_fd, name, flags);
}

/* O_PATH first: fstat tells a FIFO or device apart before anything opens
 * it for reading (which could block or act on a device). The second open
 * must then find the very same inode. 0 with *fdp, 1 when absent, -1. */
static int
open_regular(int rootfs_fd, const char *name, int *fdp,
    struct oci_error *err)
{
	struct stat st, st2;
	int pfd = open_in_root(rootfs_fd, name, O_PATH | O_CLOEXEC);
	if (pfd < 0)
		return errno == ENOENT ? 1 : oci_fail(err, ERR_INVALID_ARGUMENT,
		    "image /etc/%s: %s", name, strerror(errno));
	int r = fstat(pfd, &st);
	close(pfd);
	if (r != 0 || !S_ISREG(st.st_mode))
		return oci_fail(err, ERR_INVALID_ARGUMENT,
		    "image /etc/%s is not a regular file", name);
	int fd = open_in_root(rootfs_fd, name, O_RDONLY | O_NONBLOCK |
	    O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return oci_fail(err, ERR_INVALID_ARGUMENT, "image /etc/%s: %s",
		    name, strerror(errno));
	if (fstat(fd, &st2) != 0 || st2.st_dev != st.st_dev ||
	    st2.st_ino != st.st_ino || !S_ISREG(st2.st_mode)) {
		close(fd);
		return oci_fail(err, ERR_INVALID_ARGUMENT,
		    "image /etc/%s changed while being read", name);
	}
	*fdp = fd;
	return 0;
}

/* Reads at most OCI_ETC_FILE_MAX + 1 bytes so a file that grows past the
 * cap after fstat is still caught. */
static int
read_capped(int fd, const char *name, char **data, size_t *len,
    struct oci_error *err)
{
	char *buf = xmalloc(OCI_ETC_FILE_MAX + 2);
	size_t n = 0;
	for (;;) {
		ssize_t r = read(fd, buf + n, OCI_ETC_FILE_MAX + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			return oci_fail(err, ERR_INVALID_ARGUMENT,
			    "image /etc/%s: %s", name, strerror(errno));
		}
		if (r == 0 || (n += (size_t)r) > OCI_ETC_FILE_MAX)
			break;
	}
	if (n > OCI_ETC_FILE_MAX) {
		free(buf);
		return oci_fail(err, ERR_INVALID_ARGUMENT,
		    "image /etc/%s is larger than %d bytes", name,
		    OCI_ETC_FILE_MAX);
	}
	buf[n] = '\0';
	*data = buf;
	*len = n;
	return 0;
}

int
oci_read_etc(int rootfs_fd, const char *name, char **data, size_t *len,
    struct oci_error *err)
{
	*data = NULL;
	*len = 0;
	if (rootfs_fd < 0)
		return 1;
	int fd = -1;
	int r = open_regular(rootfs_fd, name, &fd, err);
	if (r != 0)
		return r;
	struct stat st;
	if (fstat(fd, &st) == 0 && st.st_size > OCI_ETC_FILE_MAX) {
		close(fd);
		return oci_fail(err, ERR_INVALID_ARGUMENT,
		    "image /etc/%s is larger than %d bytes", name,
		    OCI_ETC_FILE_MAX);
	}
	r = read_capped(fd, name, data, len, err);
	close(fd);
	return r;
}
