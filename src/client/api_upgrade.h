/* An HTTP Upgrade on kegd's socket (POST .../attach with "Upgrade:
 * keg-attach"): after "101 Switching Protocols" the connection carries raw
 * bytes both ways. libcurl has no such mode, so this speaks the little
 * HTTP it needs on a plain socket. */
#ifndef KEG_CLIENT_API_UPGRADE_H
#define KEG_CLIENT_API_UPGRADE_H

#include <stddef.h>

#include "client/buf.h"

/* Connects to the socket at address, sends POST /v1PATH asking for
 * protocol, and returns the connected fd (close-on-exec) once kegd has
 * switched. Bytes that came after the reply's head are in *early (the
 * first output). On failure returns -1 with a sentence in err (kegd's own
 * error message when it answered). ns may be NULL. */
int api_upgrade(const char *address, const char *ns, const char *path,
    const char *protocol, struct buf *early, char *err, size_t errlen);

/* Writes all len bytes of p to fd (again after EINTR): 0, or -1. */
int fd_write_all(int fd, const char *p, size_t len);

#endif
