#include "unpack/beneath.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/util.h"

/* No O_NOFOLLOW: with O_DIRECTORY it turns a symlink into ENOTDIR, while
 * RESOLVE_NO_SYMLINKS alone reports it as what it is, ELOOP. */
#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_CLOEXEC)
#define RESOLVE_STRICT (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | \
	RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV)

/* Kernels before 5.6 (and valgrind) have no openat2. NAME is always one
 * component (never "." or ".."), so O_NOFOLLOW covers what RESOLVE_NO_SYMLINKS
 * would; with O_DIRECTORY a symlink shows as ENOTDIR, told apart by lstat. */
static int
open_component(int dirfd, const char *name, int flags)
{
	int fd = openat(dirfd, name, flags | O_NOFOLLOW);
	if (fd < 0 && errno == ENOTDIR) {
		struct stat st;
		bool link = fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(st.st_mode);
		errno = link ? ELOOP : ENOTDIR;
	}
	return fd;
}

static bool no_openat2;

/* PATH (one component or several) below dirfd by openat2's rules; glibc
 * has no wrapper. -1 with ENOSYS, remembered, on kernels without it. */
static int
openat2_strict(int dirfd, const char *path, int flags)
{
	if (no_openat2) {
		errno = ENOSYS;
		return -1;
	}
	struct open_how how = { .flags = (unsigned long long)flags, .resolve = RESOLVE_STRICT };
	int fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	if (fd < 0 && errno == ENOSYS)
		no_openat2 = true;
	return fd;
}

/* One component below dirfd. */
static int
open_below(int dirfd, const char *name, int flags)
{
	int fd = openat2_strict(dirfd, name, flags);
	if (fd >= 0 || errno != ENOSYS)
		return fd;
	return open_component(dirfd, name, flags);
}

/* The root, opened once and kept: the worker's root never changes once
 * it is confined (and nothing here runs before). Not to be closed. */
static int
root_dir(void)
{
	static int root = -1;
	if (root < 0)
		root = open("/", DIR_FLAGS);
	return root;
}

/* A descriptor of the root for a walk that closes as it goes. */
static int
open_root(void)
{
	int root = root_dir();
	return root < 0 ? -1 : fcntl(root, F_DUPFD_CLOEXEC, 0);
}

/* One step down: NAME in dirfd, made first when missing and create. */
static int
step_into(int dirfd, const char *name, bool create)
{
	int fd = open_below(dirfd, name, DIR_FLAGS);
	if (fd >= 0 || errno != ENOENT || !create)
		return fd;
	if (mkdirat(dirfd, name, 0755) < 0 && errno != EEXIST)
		return -1;
	return open_below(dirfd, name, DIR_FLAGS);
}

int
beneath_open_dir(const char *path, bool create)
{
	/* The whole way in one openat2 (the same rules hold for every
	 * component); step by step only to make what is missing, or on a
	 * kernel without openat2. Per entry of a layer this is one system
	 * call instead of two per path component. */
	if (path[0] != '\0' && !no_openat2 && root_dir() >= 0) {
		int whole = openat2_strict(root_dir(), path, DIR_FLAGS), err = errno;
		if (whole >= 0 || (err != ENOENT && err != EAGAIN && err != ENOSYS) ||
		    (err == ENOENT && !create)) {
			errno = err;
			return whole;
		}
	}
	int fd = open_root();
	char *copy = xstrdup(path);
	char *save = NULL;
	for (char *comp = strtok_r(copy, "/", &save); comp != NULL && fd >= 0;
	    comp = strtok_r(NULL, "/", &save)) {
		int next = step_into(fd, comp, create);
		int err = errno;
		close(fd);
		fd = next;
		errno = err;
	}
	free(copy);
	return fd;
}

int
beneath_open_child(int dirfd, const char *name)
{
	return open_below(dirfd, name, DIR_FLAGS);
}

int
beneath_open_parent(const char *path, bool create, const char **leaf)
{
	const char *slash = strrchr(path, '/');
	*leaf = slash ? slash + 1 : path;
	char *dir = xstrndup(path, slash ? (size_t)(slash - path) : 0);
	int fd = beneath_open_dir(dir, create);
	int err = errno;
	free(dir);
	errno = err;
	return fd;
}

int
beneath_lstat(const char *path, struct stat *st)
{
	if (path[0] == '\0')
		return lstat("/", st);
	const char *leaf;
	int dfd = beneath_open_parent(path, false, &leaf);
	if (dfd < 0)
		return -1;
	int rc = fstatat(dfd, leaf, st, AT_SYMLINK_NOFOLLOW);
	int err = errno;
	close(dfd);
	errno = err;
	return rc;
}

char **
beneath_list(int dirfd, size_t *n)
{
	int fd = dup(dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	rewinddir(d);
	char **names = NULL;
	struct dirent *de;
	*n = 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		names = xrealloc(names, (*n + 1) * sizeof(*names));
		names[(*n)++] = xstrdup(de->d_name);
	}
	closedir(d);
	return names ? names : xcalloc(1, sizeof(*names));
}

void
beneath_list_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Names are read in full before any is removed: deleting while readdir()
 * walks the same directory may skip entries. */
static int
empty_dir(int fd)
{
	size_t n;
	char **names = beneath_list(fd, &n);
	if (names == NULL)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = beneath_remove(fd, names[i]);
	beneath_list_free(names, n);
	return rc;
}

int
beneath_remove(int dirfd, const char *name)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? -1 : 0;
	int fd = beneath_open_child(dirfd, name);
	if (fd < 0)
		return -1;
	int rc = empty_dir(fd);
	int err = errno;
	close(fd);
	errno = err;
	if (rc == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) < 0)
		return -1;
	return rc;
}
