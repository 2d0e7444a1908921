/* keg images import: an image archive (docker save, OCI archive; tar, gzip
 * or zstd) streamed from a file or stdin as the body of
 * POST /v1/images/import, a buffer at a time, never held whole. kegd
 * answers once it has the whole archive; keg then follows the operation
 * until the images are recorded. */
#include "client/cmd_images_transfer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "client/humanize.h"
#include "client/op_follow.h"
#include "common/util.h"

#define SENT_REDRAW_NS 100000000LL	/* the upload line, ten times a second */

/* The archive on its way: where it is read from, and the terminal line
 * that shows how much went. */
struct source {
	const char *name;	/* as the user gave it; "stdin" for - */
	int fd;
	int64_t size;		/* -1: not known (a pipe) */
	int64_t read;		/* bytes handed to the API client */
	bool show;		/* draw the upload line (a terminal, not --format json) */
	bool drawn;		/* the line is on the screen, the cursor below it */
	bool finished;		/* the whole archive was read */
	int64_t last_draw_ns;
};

static int64_t
monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* "sending NAME [=====>    ] 12.3 MiB/45.6 MiB", redrawn over itself; the
 * cursor stays on the next line, so whatever is printed next (an error,
 * the operation's bars) starts on a line of its own. */
static void
draw_sent(struct source *src, int64_t sent, bool whole)
{
	enum { BAR = 30 };
	char bar[BAR + 1], have[HUMAN_SIZE_LEN], total[HUMAN_SIZE_LEN], sizes[80];
	int filled = src->size > 0 ? (int)((double)sent / (double)src->size * BAR) : 0;
	if (whole || filled > BAR)
		filled = BAR;
	for (int i = 0; i < BAR; i++)
		bar[i] = i < filled ? '=' : ' ';
	if (filled > 0 && filled < BAR)
		bar[filled - 1] = '>';
	bar[BAR] = '\0';
	format_bytes(sent, have);
	if (src->size >= 0)
		snprintf(sizes, sizeof(sizes), "%s/%s", have, format_bytes(src->size, total));
	else
		snprintf(sizes, sizeof(sizes), "%s", have);
	if (src->drawn)
		fputs("\033[A", stdout);
	const char *base = strrchr(src->name, '/');
	base = base && base[1] ? base + 1 : src->name;
	printf("\rsending  %-24.24s [%s]  %21s  %s\033[K\n", base, bar, sizes,
	    whole ? "sent" : "sending");
	fflush(stdout);
	src->drawn = true;
	src->last_draw_ns = monotonic_ns();
}

static void
on_sent(int64_t sent, int64_t total, void *arg)
{
	struct source *src = arg;
	(void)total;
	if (!src->show || src->finished || monotonic_ns() - src->last_draw_ns < SENT_REDRAW_NS)
		return;
	draw_sent(src, sent, false);
}

static ssize_t
read_source(char *buf, size_t len, void *arg)
{
	struct source *src = arg;
	ssize_t n = read(src->fd, buf, len);
	if (n > 0)
		src->read += n;
	/* With the length sent, the API client asks for no more once it has
	 * it all. */
	if ((n == 0 || (src->size >= 0 && src->read >= src->size)) && !src->finished) {
		src->finished = true;
		if (src->show)
			draw_sent(src, src->read, true);
	}
	return n;
}

/* Opens FILE (or takes stdin for -); returns 0, or an exit status after
 * saying what is wrong. */
static int
open_source(struct keg_context *ctx, const char *arg, struct source *src)
{
	struct stat st;
	if (strcmp(arg, "-") == 0) {
		if (isatty(STDIN_FILENO))
			return cmd_usage_error(ctx, "stdin is a terminal, not an archive "
			    "(give a FILE, or redirect stdin)");
		src->name = "stdin";
		src->fd = STDIN_FILENO;
	} else {
		src->name = arg;
		src->fd = open(arg, O_RDONLY | O_CLOEXEC);
		if (src->fd < 0) {
			fprintf(stderr, "keg: %s: %s\n", arg, strerror(errno));
			return EXIT_FAIL;
		}
	}
	src->size = -1;
	if (fstat(src->fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		fprintf(stderr, "keg: %s: %s\n", src->name, strerror(EISDIR));
		return EXIT_FAIL;
	}
	/* A regular file (even as stdin) is sent with its length; anything
	 * else goes in chunks until it ends. */
	if (fstat(src->fd, &st) == 0 && S_ISREG(st.st_mode)) {
		off_t at = lseek(src->fd, 0, SEEK_CUR);
		src->size = (int64_t)st.st_size - (at > 0 ? (int64_t)at : 0);
	}
	return EXIT_OK;
}

static int
run_import(struct keg_context *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "base-name", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *base_name = NULL;
	int opt;
	while ((opt = cmd_getopt(ctx, argc, argv, "b:h", opts)) != -1) {
		if (opt != 'b')
			return cmd_opt_exit(opt);
		base_name = optarg;
	}
	if (argc == optind)
		return cmd_usage_error(ctx, "an archive is needed (a FILE, or - for stdin)");
	if (argc - optind > 1)
		return cmd_usage_error(ctx, "one archive at a time");
	if (base_name != NULL && *base_name == '\0')
		return cmd_usage_error(ctx, "--base-name needs a name");

	struct source src = { .fd = -1 };
	int rc = open_source(ctx, argv[optind], &src);
	if (rc == EXIT_OK) {
		src.show = ctx->format != FORMAT_JSON && isatty(STDOUT_FILENO);
		char *escaped = base_name ? api_escape(base_name) : NULL;
		char *path = escaped ? xasprintf("/images/import?base_name=%s", escaped) :
		    xstrdup("/images/import");
		struct api_upload up = {
			.name = src.name, .content_type = "application/x-tar",
			.size = src.size, .read = read_source, .on_sent = on_sent, .arg = &src,
		};
		struct op_follow f = { .method = "POST", .path = path, .upload = &up };
		rc = op_follow(ctx, &f);
		free(path);
		free(escaped);
	}
	if (src.fd > STDIN_FILENO)
		close(src.fd);
	return rc;
}

const struct keg_command images_import = {
	.name = "import",
	.summary = "Import images from an archive (docker save, OCI archive)",
	.synopsis = "[--base-name NAME] FILE|-",
	.options =
	    "Sends the archive (tar, tar.gz or tar.zst; a docker-archive or an OCI\n"
	    "image layout) to kegd, from FILE or, for -, from stdin, and records the\n"
	    "images it names.\n"
	    "\n"
	    "Options:\n"
	    "  -b, --base-name NAME   name the images the archive leaves unnamed: NAME,\n"
	    "                         or NAME:TAG for an OCI layout's bare tag TAG\n"
	    "                         (without it, such an image is an error)\n"
	    "\n"
	    "On a terminal the upload gets a progress bar. Then one line per image:\n"
	    "  imported NAME DIGEST\n"
	    "With --format json, the operation's progress snapshots are printed as\n"
	    "kegd sends them, one JSON object a line.\n",
	.run = run_import,
};
