/* control.sock: one line per message, "resize W H" or "close-stdin". A
 * client may send several lines and close; unknown lines are ignored. */
#include "runtime/shim/shim.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

void
control_accept(struct shim *s)
{
	int fd = unix_accept(s->control_lfd);
	if (fd < 0)
		return;
	if (s->n_control == MAX_CONTROL) {
		close(fd);
		return;
	}
	s->control[s->n_control++] = (struct control_client){ .fd = fd };
}

static void
control_drop(struct shim *s, size_t i)
{
	close(s->control[i].fd);
	s->control[i] = s->control[--s->n_control];
}

static void
handle(struct shim *s, const char *line)
{
	unsigned w, h;
	char extra;
	if (sscanf(line, "resize %u %u %c", &w, &h, &extra) == 2) {
		struct winsize ws = { .ws_row = (unsigned short)h, .ws_col = (unsigned short)w };
		if (s->master >= 0 && w <= 0xffff && h <= 0xffff)
			(void)ioctl(s->master, TIOCSWINSZ, &ws);
	} else if (strcmp(line, "close-stdin") == 0) {
		stdin_close(s);
	}
}

void
control_read(struct shim *s, size_t i)
{
	struct control_client *c = &s->control[i];
	ssize_t n = read(c->fd, c->line + c->len, sizeof(c->line) - 1 - c->len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* A last line without its newline still counts. */
		c->line[c->len] = '\0';
		if (c->len > 0)
			handle(s, c->line);
		control_drop(s, i);
		return;
	}
	c->len += (size_t)n;
	char *nl;
	while ((nl = memchr(c->line, '\n', c->len)) != NULL) {
		*nl = '\0';
		handle(s, c->line);
		c->len -= (size_t)(nl + 1 - c->line);
		memmove(c->line, nl + 1, c->len);
	}
	/* A line longer than any valid message is garbage. */
	if (c->len == sizeof(c->line) - 1)
		control_drop(s, i);
}
