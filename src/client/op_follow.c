#include "client/op_follow.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/humanize.h"
#include "client/ndjson.h"
#include "client/progress.h"
#include "common/util.h"

static volatile sig_atomic_t interrupted;	/* the signal that came, or 0 */

struct follow_run {
	struct keg_context *ctx;
	struct ndjson_reader reader;
	struct progress *progress;	/* NULL: --format json, lines go out as they came */
	json_t *last;			/* the latest snapshot */
	bool output_failed;
};

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

static int
pass_line_through(const char *line, size_t len)
{
	if (fwrite(line, 1, len, stdout) != len || fputc('\n', stdout) == EOF)
		return -1;
	return fflush(stdout);
}

static int
on_snapshot(const char *line, size_t len, json_t *value, void *arg)
{
	struct follow_run *run = arg;
	int rc = run->progress == NULL ? pass_line_through(line, len) : 0;
	if (json_is_object(value)) {
		json_decref(run->last);
		run->last = json_incref(value);
		if (rc == 0 && run->progress != NULL)
			rc = progress_show(run->progress, value);
	}
	if (rc < 0)
		run->output_failed = true;
	return rc;
}

static int
feed_reader(const char *data, size_t len, void *arg)
{
	struct follow_run *run = arg;
	return ndjson_reader_feed(&run->reader, data, len);
}

static const char *
text(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s ? s : "";
}

/* The snapshot's operation id, or NULL before kegd sent one. */
static const char *
operation_id(const struct follow_run *run)
{
	const char *id = text(run->last, "id");
	return *id ? id : NULL;
}

static int
cancel_operation(struct follow_run *run, const char *id)
{
	char *path = xasprintf("/operations/%s", id);
	enum api_result res = api_call(run->ctx->api, "DELETE", path, NULL, NULL);
	free(path);
	if (res != API_OK) {
		fprintf(stderr, "keg: interrupted; cancelling operation %s failed: %s\n", id,
		    api_error_message(run->ctx->api));
		return EXIT_FAIL;
	}
	fprintf(stderr, "keg: interrupted; operation %s cancelled\n", id);
	return 128 + interrupted;
}

static int
on_interrupted(struct follow_run *run, const struct op_follow *f)
{
	const char *id = operation_id(run);
	if (id == NULL && f->upload != NULL) {
		/* kegd drops an import whose archive did not all arrive. */
		fputs("keg: interrupted; the upload stopped\n", stderr);
		return 128 + interrupted;
	}
	if (id == NULL) {
		fputs("keg: interrupted; whatever kegd started goes on (keg operations ls)\n",
		    stderr);
		return 128 + interrupted;
	}
	if (f->cancel_on_interrupt)
		return cancel_operation(run, id);
	fprintf(stderr, "keg: interrupted; operation %s goes on in kegd "
	    "(keg operations watch %s, or cancel %s)\n", id, id, id);
	return 128 + interrupted;
}

/* What a finished pull made: the image, its digest and what it holds. */
static void
print_pulled(const json_t *op)
{
	const json_t *image = json_object_get(json_object_get(op, "result"), "image");
	const char *name = text(image, "name");
	json_t *total = json_object_get(json_object_get(op, "progress"), "total_bytes");
	char size[HUMAN_SIZE_LEN];
	printf("pulled %s %s (%s)\n", *name ? name : text(op, "target"),
	    text(json_object_get(image, "target"), "digest"),
	    format_bytes(json_is_integer(total) ? json_integer_value(total) : -1, size));
}

/* Where a push went: the remote reference and its manifest's digest. */
static void
print_pushed(const json_t *op)
{
	const json_t *result = json_object_get(op, "result");
	const char *ref = text(result, "ref");
	printf("pushed %s %s\n", *ref ? ref : text(op, "target"), text(result, "digest"));
}

/* Each image an archive held, as recorded. */
static void
print_imported(const json_t *op)
{
	size_t i;
	json_t *image;
	json_array_foreach(json_object_get(json_object_get(op, "result"), "images"), i, image)
		printf("imported %s %s\n", text(image, "name"), text(image, "digest"));
}

static int
report_end(struct follow_run *run)
{
	const json_t *op = run->last;
	const char *state = text(op, "state"), *id = text(op, "id");
	if (strcmp(state, "done") == 0) {
		if (run->progress == NULL)
			return EXIT_OK;	/* scripts have the JSON already */
		const char *kind = text(op, "kind");
		if (strcmp(kind, "pull") == 0)
			print_pulled(op);
		else if (strcmp(kind, "push") == 0)
			print_pushed(op);
		else if (strcmp(kind, "import") == 0)
			print_imported(op);
		else
			printf("%s %s done\n", text(op, "kind"), text(op, "target"));
		return EXIT_OK;
	}
	const char *message = text(json_object_get(op, "error"), "message");
	if (strcmp(state, "running") == 0)
		fprintf(stderr, "keg: kegd ended the stream before operation %s finished "
		    "(keg operations watch %s)\n", id, id);
	else
		fprintf(stderr, "keg: %s\n", *message ? message : state);
	return EXIT_FAIL;
}

static int
finish(struct follow_run *run, const struct op_follow *f, enum api_result res)
{
	if (run->output_failed)
		return cmd_output_error();
	if (interrupted)
		return on_interrupted(run, f);
	if (run->reader.too_long) {
		fputs("keg: kegd sent a progress line longer than keg accepts\n", stderr);
		return EXIT_FAIL;
	}
	if (res != API_OK)
		return cmd_api_error(run->ctx);
	if (run->last == NULL) {
		fputs("keg: kegd ended the stream without saying how the operation went\n",
		    stderr);
		return EXIT_FAIL;
	}
	return report_end(run);
}

static enum progress_style
style_for(FILE *out)
{
	return isatty(fileno(out)) ? PROGRESS_BARS : PROGRESS_LINES;
}

int
op_follow(struct keg_context *ctx, const struct op_follow *f)
{
	struct follow_run run = { .ctx = ctx };
	if (ctx->format != FORMAT_JSON)
		run.progress = progress_new(style_for(stdout), stdout);
	ndjson_reader_init(&run.reader, on_snapshot, &run);
	struct api_stream s = {
		.method = f->method, .path = f->path, .body = f->body, .upload = f->upload,
		.accept = "application/x-ndjson",
		.on_chunk = feed_reader, .arg = &run, .stop = &interrupted,
	};
	interrupted = 0;
	catch_interrupts();
	enum api_result res = api_stream_get(ctx->api, &s);
	/* A last line without its newline still counts. */
	if (res == API_OK)
		ndjson_reader_feed(&run.reader, "\n", 1);
	int rc = finish(&run, f, res);
	ndjson_reader_free(&run.reader);
	progress_free(run.progress);
	json_decref(run.last);
	return rc;
}
