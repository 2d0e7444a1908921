#include "client/resource.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "client/label_args.h"
#include "client/output.h"
#include "common/util.h"

char *
resource_path(const char *collection, const char *name)
{
	char *escaped = api_escape(name);
	char *path = xasprintf("/%s/%s", collection, escaped);
	free(escaped);
	return path;
}

int
resource_remove_each(struct keg_context *ctx, const char *collection, char **names, int n)
{
	int rc = EXIT_OK;
	for (int i = 0; i < n; i++) {
		char *path = resource_path(collection, names[i]);
		if (api_call(ctx->api, "DELETE", path, NULL, NULL) == API_OK)
			printf("%s\n", names[i]);
		else
			rc = cmd_api_error(ctx);
		free(path);
		fflush(stdout);
	}
	return rc;
}

int
resource_remove_command(struct keg_context *ctx, int argc, char **argv,
    const char *collection, const char *missing)
{
	int rc = resource_operands(ctx, argc, argv, 0, missing, NULL);
	if (rc >= 0)
		return rc;
	return resource_remove_each(ctx, collection, argv + optind, argc - optind);
}

int
resource_print_changed(const struct keg_context *ctx, json_t *reply)
{
	int rc = ctx->format == FORMAT_JSON && reply != NULL ? output_json(reply) : 0;
	json_decref(reply);
	return rc < 0 ? cmd_output_error() : EXIT_OK;
}

static int
print_labels(const struct keg_context *ctx, const json_t *labels)
{
	if (ctx->format == FORMAT_JSON)
		return labels ? output_json(labels) : puts("{}");
	/* One pair a line, as ctr prints them: easy to grep. */
	char *text = format_labels(labels, "\n");
	int rc = *text ? puts(text) : 0;
	free(text);
	return rc;
}

static int
show_labels(struct keg_context *ctx, const char *path)
{
	json_t *resource;
	if (api_call(ctx->api, "GET", path, NULL, &resource) != API_OK)
		return cmd_api_error(ctx);
	int rc = print_labels(ctx, json_object_get(resource, "labels"));
	json_decref(resource);
	return rc < 0 ? cmd_output_error() : EXIT_OK;
}

static int
update_labels(struct keg_context *ctx, const char *path, char **args, int n)
{
	json_t *labels = json_object();
	for (int i = 0; i < n; i++) {
		int rc = label_arg_add(ctx, labels, args[i], true);
		if (rc != 0) {
			json_decref(labels);
			return rc;
		}
	}
	json_t *body = json_pack("{s:o}", "labels", labels);
	json_t *reply = NULL;
	enum api_result res = api_call(ctx->api, "PATCH", path, body, &reply);
	json_decref(body);
	if (res != API_OK)
		return cmd_api_error(ctx);
	return resource_print_changed(ctx, reply);
}

int
resource_labels(struct keg_context *ctx, const char *path, char **args, int n)
{
	return n == 0 ? show_labels(ctx, path) : update_labels(ctx, path, args, n);
}

int
resource_no_options(struct keg_context *ctx, int argc, char **argv)
{
	static const struct option help_only[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt = cmd_getopt(ctx, argc, argv, "h", help_only);
	return opt == -1 ? -1 : cmd_opt_exit(opt);
}

int
resource_operands(struct keg_context *ctx, int argc, char **argv, int max,
    const char *missing, const char *too_many)
{
	int rc = resource_no_options(ctx, argc, argv);
	if (rc >= 0)
		return rc;
	if (optind >= argc)
		return cmd_usage_error(ctx, "%s", missing);
	if (max > 0 && argc - optind > max)
		return cmd_usage_error(ctx, "%s", too_many);
	return -1;
}

int
resource_show(struct keg_context *ctx, const char *path,
    void (*print)(const json_t *reply, const void *arg), const void *arg)
{
	json_t *reply;
	if (api_call(ctx->api, "GET", path, NULL, &reply) != API_OK)
		return cmd_api_error(ctx);
	int rc = 0;
	if (print == NULL || ctx->format == FORMAT_JSON)
		rc = output_json(reply);
	else
		print(reply, arg);
	json_decref(reply);
	return rc < 0 ? cmd_output_error() : EXIT_OK;
}

static int
print_list(const struct keg_context *ctx, const json_t *reply, bool quiet,
    const struct list_spec *spec)
{
	const json_t *list = json_object_get(reply, spec->key);
	size_t i;
	json_t *item;
	if (quiet) {
		json_array_foreach(list, i, item)
			printf("%s\n", json_string_value(json_object_get(item, spec->id_field)));
		return 0;
	}
	if (ctx->format == FORMAT_JSON)
		return output_json(reply);
	struct table *t = table_new((size_t)spec->n_headers, spec->headers);
	json_array_foreach(list, i, item)
		spec->add_row(t, item);
	table_print(t, stdout);
	table_free(t);
	return 0;
}

int
resource_list(struct keg_context *ctx, int argc, char **argv, const struct list_spec *spec)
{
	static const struct option opts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool quiet = false;
	int opt;
	while ((opt = cmd_getopt(ctx, argc, argv, "qh", opts)) != -1) {
		if (opt != 'q')
			return cmd_opt_exit(opt);
		quiet = true;
	}
	if (optind < argc)
		return cmd_usage_error(ctx, "unexpected argument %s", argv[optind]);
	json_t *reply;
	if (api_call(ctx->api, "GET", spec->path, NULL, &reply) != API_OK)
		return cmd_api_error(ctx);
	int rc = print_list(ctx, reply, quiet, spec);
	json_decref(reply);
	return rc < 0 ? cmd_output_error() : EXIT_OK;
}
