/* keg's end of an attach: the terminal in raw mode so every key (Ctrl-C
 * too) reaches the process's tty, bytes copied both ways with poll, and
 * SIGWINCH turned into POST .../resize. An exec's attach and resize are
 * its task's routes with the exec id (?exec_id= and "exec_id" in the
 * body), as kegd has them. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "client/api_client.h"
#include "client/task_io.h"
#include "client/unix_conn.h"
#include "common/util.h"

static struct termios saved_tty;
static bool tty_raw;
static int winch_pipe[2] = { -1, -1 };

/* Also from atexit: whatever way keg ends, the terminal is usable. */
static void
restore_tty(void)
{
	if (tty_raw)
		tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_tty);
	tty_raw = false;
}

static void
raw_tty(void)
{
	static bool registered;
	struct termios t;
	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_tty) < 0)
		return;
	t = saved_tty;
	cfmakeraw(&t);
	if (tcsetattr(STDIN_FILENO, TCSADRAIN, &t) == 0)
		tty_raw = true;
	if (!registered)
		atexit(restore_tty);
	registered = true;
}

static void
on_winch(int sig)
{
	int saved = errno;
	(void)sig;
	if (write(winch_pipe[1], "w", 1) < 0) {
		/* full: a resize is already pending */
	}
	errno = saved;
}

static void
watch_winch(void)
{
	if (winch_pipe[0] < 0 && pipe2(winch_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return;
	struct sigaction sa = { .sa_handler = on_winch, .sa_flags = SA_RESTART };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGWINCH, &sa, NULL);
}

static void
send_resize(struct keg_context *ctx, const char *id, const char *eid)
{
	struct winsize ws;
	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0 || ws.ws_col == 0)
		return;
	char *path = task_path(id, NULL, "resize");
	json_t *body = json_pack("{s:i,s:i}", "width", ws.ws_col, "height", ws.ws_row);
	if (eid != NULL)
		json_object_set_new(body, "exec_id", json_string(eid));
	/* A failed resize leaves the old size: not worth ending the session. */
	api_call(ctx->api, "POST", path, body, NULL);
	json_decref(body);
	free(path);
}

/* One pass of copying: -1 ends the session (the process's side closed),
 * 0 goes on. */
static int
pump(struct pollfd *fds, int sock, size_t *got)
{
	char buf[16384];
	ssize_t n;
	if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
		n = read(sock, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			return 0;
		if (n <= 0 || fd_write_all(STDOUT_FILENO, buf, (size_t)n) < 0)
			return -1;
		*got += (size_t)n;
	}
	if (fds[0].fd >= 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
		n = read(STDIN_FILENO, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			return 0;
		if (n <= 0) {
			/* Our stdin ended: so does the process's. */
			shutdown(sock, SHUT_WR);
			fds[0].fd = -1;
		} else if (fd_write_all(sock, buf, (size_t)n) < 0) {
			fds[0].fd = -1;
		}
	}
	return 0;
}

/* Copies until the process's side closes; *got counts its bytes. */
static void
session_loop(struct keg_context *ctx, int sock, const char *id, const char *eid,
    size_t *got)
{
	struct pollfd fds[3] = {
		{ STDIN_FILENO, POLLIN, 0 }, { sock, POLLIN, 0 }, { winch_pipe[0], POLLIN, 0 },
	};
	for (;;) {
		if (poll(fds, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (fds[2].revents & POLLIN) {
			char drain[64];
			while (read(winch_pipe[0], drain, sizeof(drain)) > 0)
				;
			send_resize(ctx, id, eid);
		}
		if (pump(fds, sock, got) < 0)
			return;
	}
}

/* Connects to .../attach; -1 with why in api_error_message. */
static int
attach_connect(struct keg_context *ctx, const char *id, const char *eid, struct buf *early)
{
	char *base = task_path(id, NULL, "attach"), *esc = eid ? api_escape(eid) : NULL;
	char *path = xasprintf("%s%s%s", base, esc ? "?exec_id=" : "", esc ? esc : "");
	int fd = api_upgrade(ctx->api, path, "keg-attach", early);
	free(path);
	free(esc);
	free(base);
	return fd;
}

/* An exec that ended before keg could attach: what it printed is in its
 * log, and its status is kept. */
static int
exec_gone_early(struct keg_context *ctx, const char *id, const char *eid, int *status)
{
	struct task_logs_opts lo = { .follow = true, .tail = -1 };
	int rc = task_logs_print(ctx, id, eid, &lo);
	return rc != EXIT_OK ? rc : task_wait_status(ctx, id, eid, status);
}

/* The interactive session on an upgraded attach connection fd (early:
 * output that came with the switch), the process started once attached
 * when start is set. 0 when the process closed the stream, -1 on an error
 * (printed); *got counts the output bytes shown. */
static int
attach_session(struct keg_context *ctx, int fd, const struct buf *early, const char *id,
    const char *eid, bool start, size_t *got)
{
	*got = early->len;
	if (early->len > 0 && fd_write_all(STDOUT_FILENO, early->data, early->len) < 0)
		return -1;
	if (start && task_start(ctx, id, eid) != EXIT_OK)
		return -1;
	watch_winch();
	raw_tty();
	send_resize(ctx, id, eid);
	session_loop(ctx, fd, id, eid, got);
	restore_tty();
	signal(SIGWINCH, SIG_DFL);
	return 0;
}

int
task_attach_wait(struct keg_context *ctx, const char *id, const char *eid, bool start,
    int *status)
{
	struct buf early = BUF_INIT;
	/* An exec's shim, and so its attach socket, exists only once it is
	 * started; an init's exists from create, so there attach comes first
	 * and not a byte of output is missed. */
	bool start_first = start && eid != NULL;
	if (start_first && task_start(ctx, id, eid) != EXIT_OK)
		return EXIT_FAIL;
	int fd = attach_connect(ctx, id, eid, &early);
	if (fd < 0 && start_first)
		return exec_gone_early(ctx, id, eid, status);
	if (fd < 0) {
		fprintf(stderr, "keg: attaching: %s\n", api_error_message(ctx->api));
		return EXIT_FAIL;
	}
	size_t got = 0;
	int rc = attach_session(ctx, fd, &early, id, eid, start && !start_first, &got);
	close(fd);
	buf_free(&early);
	if (rc < 0)
		return EXIT_FAIL;
	/* Attached just as the exec ended (its shim was draining): nothing
	 * was shown, and all of it is in the log. */
	if (start_first && got == 0)
		return exec_gone_early(ctx, id, eid, status);
	return task_wait_status(ctx, id, eid, status);
}
