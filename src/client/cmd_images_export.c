/* keg images export: POST /v1/images/export streams one archive (an OCI
 * image layout with Docker's manifest.json, as a tar) of the images named;
 * keg writes it to stdout, or to FILE.tmp renamed to FILE once it is all
 * there, so that FILE is never a partial archive. */
#include "client/cmd_images_transfer.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/humanize.h"
#include "common/util.h"

enum { OPT_ALL_PLATFORMS = 1 };

static volatile sig_atomic_t interrupted;	/* the signal that came, or 0 */

static void
on_interrupt(int sig)
{
	interrupted = sig;
}

/* No SA_RESTART: the signal wakes the API client's poll, which then sees
 * the flag. */
static void
catch_interrupts(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_interrupt;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

struct sink {
	const char *file;	/* NULL: stdout */
	char *tmp;		/* FILE.tmp, while it exists */
	int fd;
	int64_t written;
	int write_errno;	/* why writing failed, or 0 */
};

static int
write_chunk(const char *data, size_t len, void *arg)
{
	struct sink *out = arg;
	while (len > 0) {
		ssize_t n = write(out->fd, data, len);
		if (n < 0 && errno == EINTR && !interrupted)
			continue;
		if (n < 0) {
			out->write_errno = errno == EINTR ? 0 : errno;
			return -1;
		}
		data += n;
		len -= (size_t)n;
		out->written += n;
	}
	return 0;
}

static void
discard_tmp(struct sink *out)
{
	if (out->fd > STDOUT_FILENO)
		close(out->fd);
	out->fd = -1;
	if (out->tmp != NULL)
		unlink(out->tmp);
}

/* The archive is all there: on disk before it takes FILE's name. */
static int
commit(struct sink *out)
{
	if (out->file == NULL)
		return EXIT_OK;
	const char *step = "writing";
	int rc = fsync(out->fd);
	if (rc == 0) {
		step = "closing";
		rc = close(out->fd);
		out->fd = -1;
	}
	if (rc == 0) {
		step = "renaming";
		rc = rename(out->tmp, out->file);
	}
	if (rc < 0) {
		fprintf(stderr, "keg: %s %s: %s\n", step, strcmp(step, "renaming") == 0 ?
		    out->tmp : out->file, strerror(errno));
		discard_tmp(out);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

static int
report_failure(struct keg_context *ctx, struct sink *out, const struct api_stream *s,
    enum api_result res)
{
	char size[HUMAN_SIZE_LEN];
	discard_tmp(out);
	if (out->write_errno != 0) {
		fprintf(stderr, "keg: writing %s: %s\n", out->file ? out->tmp : "the archive",
		    strerror(out->write_errno));
		return EXIT_FAIL;
	}
	if (interrupted) {
		fprintf(stderr, "keg: interrupted; %s\n", out->file ?
		    "the archive was not written" : "the archive is incomplete");
		return 128 + interrupted;
	}
	if (res == API_ERR_TRANSPORT && s->established) {
		fprintf(stderr, "keg: the archive was cut short after %s (%s); %s\n",
		    format_bytes(out->written, size), api_error_message(ctx->api),
		    out->file ? "nothing written" : "what went to stdout is incomplete");
		return EXIT_FAIL;
	}
	return cmd_api_error(ctx);
}

static int
print_exported(const struct keg_context *ctx, const struct sink *out)
{
	if (out->file == NULL)
		return EXIT_OK;
	char size[HUMAN_SIZE_LEN];
	int rc;
	if (ctx->format == FORMAT_JSON) {
		json_t *j = json_pack("{s:s?,s:I}", "file", out->file, "size",
		    (json_int_t)out->written);
		rc = j ? output_json(j) : 0;
		json_decref(j);
	} else {
		rc = printf("exported %s (%s)\n", out->file, format_bytes(out->written, size));
	}
	return rc < 0 || fflush(stdout) == EOF ? cmd_output_error() : EXIT_OK;
}

static json_t *
export_body(char **refs, int n, const char *platform, bool all_platforms)
{
	json_t *list = json_array();
	for (int i = 0; i < n; i++) {
		if (json_array_append_new(list, json_string(refs[i])) < 0) {
			json_decref(list);
			return NULL;
		}
	}
	json_t *body = json_pack("{s:o}", "refs", list);
	if (platform != NULL &&
	    json_object_set_new(body, "platform", json_string(platform)) < 0) {
		json_decref(body);
		return NULL;
	}
	if (all_platforms)
		json_object_set_new(body, "all_platforms", json_true());
	return body;
}

/* Opens where the archive goes; returns 0, or an exit status. */
static int
open_sink(struct keg_context *ctx, const char *arg, struct sink *out)
{
	if (strcmp(arg, "-") == 0) {
		if (isatty(STDOUT_FILENO))
			return cmd_usage_error(ctx, "stdout is a terminal, not a place for an "
			    "archive (give a FILE, or redirect stdout)");
		out->fd = STDOUT_FILENO;
		return EXIT_OK;
	}
	struct stat st;
	if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode)) {
		fprintf(stderr, "keg: %s: %s\n", arg, strerror(EISDIR));
		return EXIT_FAIL;
	}
	out->file = arg;
	out->tmp = xasprintf("%s.tmp", arg);
	out->fd = open(out->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (out->fd < 0) {
		fprintf(stderr, "keg: creating %s: %s\n", out->tmp, strerror(errno));
		free(out->tmp);
		out->tmp = NULL;
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

static int
run_export(struct keg_context *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "platform", required_argument, NULL, 'p' },
		{ "all-platforms", no_argument, NULL, OPT_ALL_PLATFORMS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *platform = NULL;
	bool all_platforms = false;
	int opt;
	while ((opt = cmd_getopt(ctx, argc, argv, "p:h", opts)) != -1) {
		switch (opt) {
		case 'p': platform = optarg; break;
		case OPT_ALL_PLATFORMS: all_platforms = true; break;
		default: return cmd_opt_exit(opt);
		}
	}
	if (argc - optind < 2)
		return cmd_usage_error(ctx, argc == optind ?
		    "a FILE (or - for stdout) and a reference are needed" :
		    "a reference is needed");
	if (platform != NULL && all_platforms)
		return cmd_usage_error(ctx, "--platform and --all-platforms exclude each other");
	if (*argv[optind] == '\0')
		return cmd_usage_error(ctx, "the FILE name is empty");
	json_t *body = export_body(argv + optind + 1, argc - optind - 1, platform,
	    all_platforms);
	if (body == NULL)
		return cmd_usage_error(ctx, "arguments must be valid UTF-8");

	struct sink out = { .fd = -1 };
	int rc = open_sink(ctx, argv[optind], &out);
	if (rc == EXIT_OK) {
		struct api_stream s = {
			.method = "POST", .path = "/images/export", .body = body,
			.accept = "application/x-tar", .on_chunk = write_chunk, .arg = &out,
			.stop = &interrupted,
		};
		interrupted = 0;
		catch_interrupts();
		enum api_result res = api_stream_get(ctx->api, &s);
		if (res == API_OK && !interrupted)
			rc = commit(&out);
		else
			rc = report_failure(ctx, &out, &s, res);
		if (rc == EXIT_OK)
			rc = print_exported(ctx, &out);
	}
	free(out.tmp);
	json_decref(body);
	return rc;
}

const struct keg_command images_export = {
	.name = "export",
	.summary = "Export images to an archive (OCI layout, docker load compatible)",
	.synopsis = "[--platform OS/ARCH[/VARIANT] | --all-platforms] FILE|- REF...",
	.options =
	    "Writes one tar archive of the images REF... (an OCI image layout with\n"
	    "Docker's manifest.json, so docker load and keg images import read it)\n"
	    "to FILE, or to stdout for -. FILE appears only once the archive is\n"
	    "complete: it is written as FILE.tmp, which a failure removes.\n"
	    "\n"
	    "Options:\n"
	    "  -p, --platform P     export platform P of a multi-platform image\n"
	    "                       (default: kegd's own)\n"
	    "      --all-platforms  export every platform the images hold\n"
	    "\n"
	    "The last line is\n"
	    "  exported FILE (SIZE)\n"
	    "or, with --format json, {\"file\": FILE, \"size\": BYTES}.\n",
	.run = run_export,
};
