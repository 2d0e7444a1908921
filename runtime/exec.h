/* Fork+exec for the runtime and the shim: the child gets default signal
 * handling, an empty signal mask and exactly the descriptors it is given;
 * an exec failure is reported to the parent rather than as an exit code. */
#ifndef KEG_RUNTIME_EXEC_H
#define KEG_RUNTIME_EXEC_H

#include <sys/types.h>

/* Runs argv[0] (absolute) with fds[i] as descriptor i for i < n (-1:
 * /dev/null; n is 3 or more). Returns the pid, or -1 with errno set when
 * the fork or the exec failed (the child is then already reaped). */
pid_t exec_child(const char *const *argv, const int *fds, int n);

#endif
