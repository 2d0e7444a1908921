/* /proc/PID/stat (proc_stat.h). */
#include "runtime/proc_stat.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The text of /proc/PID/stat after the command name: from field 2's last
 * ')' (the name may hold spaces and parentheses), or NULL. */
static const char *
stat_after_name(pid_t pid, char *text, size_t size)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	ssize_t n = read(fd, text, size - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	text[n] = '\0';
	return strrchr(text, ')');
}

int
proc_start_time(pid_t pid, unsigned long long *start)
{
	char text[1024];
	const char *p = stat_after_name(pid, text, sizeof(text));
	/* Field 3 follows the ')' and a space; start time is field 22. */
	for (int field = 2; field < 22 && p != NULL; field++)
		p = strchr(p + 1, ' ');
	if (p == NULL)
		return -1;
	char *end;
	errno = 0;
	*start = strtoull(p + 1, &end, 10);
	return (errno != 0 || end == p + 1) ? -1 : 0;
}

char
proc_state(pid_t pid)
{
	char text[1024];
	const char *p = stat_after_name(pid, text, sizeof(text));
	return p == NULL || p[1] == '\0' ? '\0' : p[2];
}
