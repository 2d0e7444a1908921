/* What the shim tells kegd: the ready line (also kept as shim.json for a
 * kegd that restarts), the error line when the runtime failed, and the
 * exit file. */
#include "runtime/shim/shim.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MSG_MAX 1024

static void
ready_write(const struct shim_opts *o, const char *line)
{
	/* kegd may be gone; a restarted kegd reads shim.json instead. */
	if (o->ready_fd >= 0) {
		(void)write_all(o->ready_fd, line, strlen(line));
		close(o->ready_fd);
	}
}

void
report_ready(const struct shim_opts *o, pid_t cpid)
{
	unsigned long long start = 0;
	char line[160];
	proc_start_time(getpid(), &start);
	snprintf(line, sizeof(line), "{\"shim_pid\":%d,\"shim_start\":%llu,\"pid\":%d}\n",
	    (int)getpid(), start, (int)cpid);
	if (write_atomic(SHIM_INFO_FILE, line, strlen(line)) < 0)
		dprintf(2, "kegd-shim: cannot write %s\n", SHIM_INFO_FILE);
	ready_write(o, line);
}

/* The msg of the last "level":"error" entry written after offset
 * (negative: the log is not to be trusted). */
static bool
log_error(off_t offset, char *msg, size_t cap)
{
	static char text[256 * 1024];
	if (offset < 0)
		return false;
	int fd = open(SHIM_RUNTIME_LOG, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = pread(fd, text, sizeof(text) - 1, offset);
	close(fd);
	if (n <= 0)
		return false;
	text[n] = '\0';
	bool found = false;
	char level[32];
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
		if (json_get_string(line, "level", level, sizeof(level)) == 0 &&
		    strcmp(level, "error") == 0 &&
		    json_get_string(line, "msg", msg, cap) == 0)
			found = true;
	return found;
}

/* The last non-empty line of the runtime's stderr. */
static bool
stderr_error(const char *err, char *msg, size_t cap)
{
	size_t n = strlen(err);
	while (n > 0 && (err[n - 1] == '\n' || err[n - 1] == '\r' || err[n - 1] == ' '))
		n--;
	if (n == 0)
		return false;
	size_t start = n;
	while (start > 0 && err[start - 1] != '\n')
		start--;
	snprintf(msg, cap, "%.*s", (int)(n - start), err + start);
	return true;
}

void
report_failure(const struct shim_opts *o, off_t log_offset, const char *err_text)
{
	char msg[MSG_MAX], quoted[2 * MSG_MAX], line[2 * MSG_MAX + 16];
	if (!log_error(log_offset, msg, sizeof(msg)) &&
	    !stderr_error(err_text, msg, sizeof(msg)))
		snprintf(msg, sizeof(msg), "%s failed", o->runtime);
	json_quote(quoted, sizeof(quoted), msg);
	snprintf(line, sizeof(line), "{\"error\":%s}\n", quoted);
	ready_write(o, line);
}

int
report_exit(int status, int64_t exited_at)
{
	char line[96];
	snprintf(line, sizeof(line), "{\"status\":%d,\"exited_at\":%lld}\n",
	    status, (long long)exited_at);
	return write_atomic(SHIM_EXIT_FILE, line, strlen(line));
}
