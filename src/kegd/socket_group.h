/* The API socket's group: its id looked up without loading NSS modules into
 * the daemon (socket_group.c says why). */
#ifndef KEG_KEGD_SOCKET_GROUP_H
#define KEG_KEGD_SOCKET_GROUP_H

#include <sys/types.h>

/* The id of group name as getgrnam() answers it, or (gid_t)-1 when name is
 * NULL or no such group exists. */
gid_t socket_group_gid(const char *name);

#endif
