/* Small allocation and string helpers shared by every component. */
#ifndef KEG_UTIL_H
#define KEG_UTIL_H

#include <stdbool.h>
#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

bool str_has_prefix(const char *s, const char *prefix);
bool str_has_suffix(const char *s, const char *suffix);

/* Create DIR and its parents with MODE; existing directories are fine. */
int mkdir_p(const char *dir, unsigned mode);

/* Writes all len bytes of p to fd, retrying short writes and EINTR.
 * 0, or -1 with errno. */
int fd_write_all(int fd, const char *p, size_t len);

/* Set FD_CLOEXEC on fd; children never inherit the daemon's descriptors. */
int fd_set_cloexec(int fd);
/* Sets FD_CLOEXEC on every open descriptor above 2: libraries (libcurl's
 * sockets and wake-up pair) open some without it, and the daemon must not
 * pass them to runc, a shim or a container. Run before forking those. */
void fd_cloexec_all(void);

#endif
