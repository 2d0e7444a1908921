/* Reading /proc/PID/stat, libc only: compiled into both kegd-shim and
 * libkegruntime.a. */
#ifndef KEG_RUNTIME_PROC_STAT_H
#define KEG_RUNTIME_PROC_STAT_H

#include <sys/types.h>

/* Field 22 (start time in clock ticks) of /proc/PID/stat: 0, or -1 when
 * the process does not exist. */
int proc_start_time(pid_t pid, unsigned long long *start);

/* Field 3, the state letter ('R', 'S', 'Z', ...); '\0' when the process
 * does not exist. */
char proc_state(pid_t pid);

#endif
