/* keg content: the content store's blobs. ls, get, rm, label, active. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/command.h"
#include "client/humanize.h"
#include "client/output.h"
#include "client/resource.h"
#include "common/util.h"

static const char *
text(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s ? s : "";
}

static int64_t
number(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : -1;
}

static void
add_content_row(struct table *t, const json_t *blob)
{
	char size[HUMAN_SIZE_LEN], age[HUMAN_SIZE_LEN];
	char *labels = format_labels(json_object_get(blob, "labels"), ",");
	const char *row[] = {
		text(blob, "digest"), format_bytes(number(blob, "size"), size),
		format_age(text(blob, "created_at"), age), labels,
	};
	table_add_row(t, row);
	free(labels);
}

static int
run_list(struct keg_context *ctx, int argc, char **argv)
{
	static const char *const headers[] = { "DIGEST", "SIZE", "AGE", "LABELS" };
	static const struct list_spec spec = { "/content", "content", "digest", headers, 4,
		add_content_row };
	return resource_list(ctx, argc, argv, &spec);
}

struct blob_out {
	bool failed;
};

static int
write_chunk(const char *data, size_t len, void *arg)
{
	struct blob_out *out = arg;
	if (fwrite(data, 1, len, stdout) != len) {
		out->failed = true;
		return -1;
	}
	return 0;
}

/* The bytes as stored, streamed: a layer can be far larger than memory. */
static int
run_get(struct keg_context *ctx, int argc, char **argv)
{
	int rc = resource_operands(ctx, argc, argv, 1, "a digest is needed",
	    "one digest at a time");
	if (rc >= 0)
		return rc;
	char *blob_path = resource_path("content", argv[optind]);
	char *path = xasprintf("%s/blob", blob_path);
	struct blob_out out = { false };
	struct api_stream s = {
		.path = path, .accept = "application/octet-stream",
		.on_chunk = write_chunk, .arg = &out,
	};
	enum api_result res = api_stream_get(ctx->api, &s);
	free(path);
	free(blob_path);
	if (out.failed || fflush(stdout) == EOF)
		return cmd_output_error();
	return res == API_OK ? EXIT_OK : cmd_api_error(ctx);
}

static int
run_remove(struct keg_context *ctx, int argc, char **argv)
{
	return resource_remove_command(ctx, argc, argv, "content", "a digest is needed");
}

static int
run_label(struct keg_context *ctx, int argc, char **argv)
{
	int rc = resource_operands(ctx, argc, argv, 0, "a digest is needed", NULL);
	if (rc >= 0)
		return rc;
	char *path = resource_path("content", argv[optind]);
	rc = resource_labels(ctx, path, argv + optind + 1, argc - optind - 1);
	free(path);
	return rc;
}

static void
add_ingest_row(struct table *t, const json_t *ingest)
{
	char offset[HUMAN_SIZE_LEN], total[HUMAN_SIZE_LEN], age[HUMAN_SIZE_LEN];
	char *updated = xasprintf("%s ago", format_age(text(ingest, "updated_at"), age));
	const char *row[] = {
		text(ingest, "ref"), format_bytes(number(ingest, "offset"), offset),
		format_bytes(number(ingest, "total"), total), updated,
	};
	table_add_row(t, row);
	free(updated);
}

/* Downloads under way (or left over by a pull that broke off, which the
 * next pull of the same blob resumes). */
static int
run_active(struct keg_context *ctx, int argc, char **argv)
{
	static const char *const headers[] = { "REF", "OFFSET", "TOTAL", "UPDATED" };
	int rc = resource_no_options(ctx, argc, argv);
	if (rc >= 0)
		return rc;
	if (optind < argc)
		return cmd_usage_error(ctx, "unexpected argument %s", argv[optind]);
	json_t *reply;
	if (api_call(ctx->api, "GET", "/content/ingests", NULL, &reply) != API_OK)
		return cmd_api_error(ctx);
	if (ctx->format == FORMAT_JSON) {
		rc = output_json(reply);
	} else {
		rc = 0;
		struct table *t = table_new(4, headers);
		size_t i;
		json_t *ingest;
		json_array_foreach(json_object_get(reply, "ingests"), i, ingest)
			add_ingest_row(t, ingest);
		table_print(t, stdout);
		table_free(t);
	}
	json_decref(reply);
	return rc < 0 ? cmd_output_error() : EXIT_OK;
}

static const struct keg_command content_list = {
	.name = "ls",
	.alias = "list",
	.summary = "List the blobs in the content store",
	.synopsis = "[-q]",
	.options = "Options:\n  -q, --quiet   print only the digests\n",
	.run = run_list,
};

static const struct keg_command content_get = {
	.name = "get",
	.summary = "Write a blob's bytes to stdout",
	.synopsis = "DIGEST",
	.run = run_get,
};

static const struct keg_command content_remove = {
	.name = "rm",
	.alias = "remove",
	.summary = "Remove blobs from the content store",
	.synopsis = "DIGEST...",
	.run = run_remove,
};

static const struct keg_command content_label = {
	.name = "label",
	.summary = "Show a blob's labels, or set (KEY=VALUE) and remove (KEY=) them",
	.synopsis = "DIGEST [KEY=VALUE | KEY=]...",
	.run = run_label,
};

static const struct keg_command content_active = {
	.name = "active",
	.summary = "List the downloads in progress",
	.synopsis = "",
	.run = run_active,
};

static const struct keg_command *const content_commands[] = {
	&content_list, &content_get, &content_remove, &content_label, &content_active,
	NULL,
};

const struct keg_command cmd_content = {
	.name = "content",
	.summary = "Manage the content store",
	.synopsis = "COMMAND [ARG...]",
	.subcommands = content_commands,
};
