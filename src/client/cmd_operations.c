/* keg operations: kegd's long-running work (pulls). ls, watch, cancel. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/command.h"
#include "client/humanize.h"
#include "client/op_follow.h"
#include "client/output.h"
#include "client/resource.h"
#include "common/util.h"

static const char *
text(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s ? s : "";
}

/* "12.3 MiB/40.0 MiB", or "-" for work that does not count bytes. */
static char *
progress_cell(const json_t *op)
{
	const json_t *progress = json_object_get(op, "progress");
	json_t *done = json_object_get(progress, "done_bytes");
	json_t *total = json_object_get(progress, "total_bytes");
	if (!json_is_integer(done) || !json_is_integer(total))
		return xstrdup("-");
	char d[HUMAN_SIZE_LEN], t[HUMAN_SIZE_LEN];
	return xasprintf("%s/%s", format_bytes(json_integer_value(done), d),
	    format_bytes(json_integer_value(total), t));
}

static void
add_operation_row(struct table *t, const json_t *op)
{
	char age[HUMAN_SIZE_LEN];
	char *progress = progress_cell(op);
	const char *row[] = {
		text(op, "id"), text(op, "kind"), text(op, "target"), text(op, "state"),
		progress, format_age(text(op, "created_at"), age),
	};
	table_add_row(t, row);
	free(progress);
}

static int
run_list(struct keg_context *ctx, int argc, char **argv)
{
	static const char *const headers[] = {
		"ID", "KIND", "TARGET", "STATE", "PROGRESS", "AGE",
	};
	static const struct list_spec spec = { "/operations", "operations", "id", headers, 6,
		add_operation_row };
	return resource_list(ctx, argc, argv, &spec);
}

static int
run_watch(struct keg_context *ctx, int argc, char **argv)
{
	int rc = resource_operands(ctx, argc, argv, 1, "an operation id is needed",
	    "one operation at a time");
	if (rc >= 0)
		return rc;
	char *path = resource_path("operations", argv[optind]);
	struct op_follow f = { .path = path };
	rc = op_follow(ctx, &f);
	free(path);
	return rc;
}

/* Goes on past a failure, as rm does. */
static int
run_cancel(struct keg_context *ctx, int argc, char **argv)
{
	int rc = resource_operands(ctx, argc, argv, 0, "an operation id is needed", NULL);
	if (rc >= 0)
		return rc;
	rc = EXIT_OK;
	for (int i = optind; i < argc; i++) {
		char *path = resource_path("operations", argv[i]);
		json_t *op = NULL;
		if (api_call(ctx->api, "DELETE", path, NULL, &op) != API_OK)
			rc = cmd_api_error(ctx);
		else if ((ctx->format == FORMAT_JSON ? output_json(op) :
		    printf("%s\n", argv[i])) < 0)
			rc = cmd_output_error();
		json_decref(op);
		free(path);
		fflush(stdout);
	}
	return rc;
}

static const struct keg_command operations_list = {
	.name = "ls",
	.alias = "list",
	.summary = "List operations, running and recently ended",
	.synopsis = "[-q]",
	.options = "Options:\n  -q, --quiet   print only the ids\n",
	.run = run_list,
};

static const struct keg_command operations_watch = {
	.name = "watch",
	.summary = "Follow an operation's progress until it ends",
	.synopsis = "ID",
	.options =
	    "Shows the progress as `keg images pull` does, and exits as the\n"
	    "operation ends: 0 when done, 1 when it failed or was cancelled.\n"
	    "Ctrl-C stops watching (exit 130); the operation goes on.\n",
	.run = run_watch,
};

static const struct keg_command operations_cancel = {
	.name = "cancel",
	.summary = "Cancel running operations",
	.synopsis = "ID...",
	.run = run_cancel,
};

static const struct keg_command *const operations_commands[] = {
	&operations_list, &operations_watch, &operations_cancel, NULL,
};

const struct keg_command cmd_operations = {
	.name = "operations",
	.alias = "ops",
	.summary = "Follow and cancel kegd's long-running operations (pulls)",
	.synopsis = "COMMAND [ARG...]",
	.subcommands = operations_commands,
};
