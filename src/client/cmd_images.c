/* keg images: pull (in cmd_images_pull.c), push, import and export (in
 * cmd_images_{push,import,export}.c), ls, inspect, rm, tag, label. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/cmd_images_pull.h"
#include "client/cmd_images_transfer.h"
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

/* The manifest formats by short names, as a column can hold them. */
static const char *
short_type(const char *media_type)
{
	static const struct { const char *media_type, *name; } types[] = {
		{ "application/vnd.oci.image.manifest.v1+json", "oci-manifest" },
		{ "application/vnd.oci.image.index.v1+json", "oci-index" },
		{ "application/vnd.docker.distribution.manifest.v2+json", "docker-manifest" },
		{ "application/vnd.docker.distribution.manifest.list.v2+json", "docker-list" },
	};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(media_type, types[i].media_type) == 0)
			return types[i].name;
	return media_type;
}

static void
add_image_row(struct table *t, const json_t *image)
{
	const json_t *target = json_object_get(image, "target");
	json_t *size = json_object_get(image, "size");
	char human[HUMAN_SIZE_LEN];
	format_bytes(json_is_integer(size) ? json_integer_value(size) : -1, human);
	/* Some blobs are missing (an interrupted pull, content rm): say so,
	 * since the size then counts only what is there. */
	char *size_cell = json_is_false(json_object_get(image, "complete")) ?
	    xasprintf("%s (incomplete)", human) : xstrdup(human);
	char *platforms = format_list(json_object_get(image, "platforms"));
	char *labels = format_labels(json_object_get(image, "labels"), ",");
	const char *row[] = {
		text(image, "name"), short_type(text(target, "mediaType")),
		text(target, "digest"), size_cell,
		strcmp(platforms, "(none)") == 0 ? "-" : platforms, labels,
	};
	table_add_row(t, row);
	free(size_cell);
	free(platforms);
	free(labels);
}

static int
run_list(struct keg_context *ctx, int argc, char **argv)
{
	static const char *const headers[] = {
		"REF", "TYPE", "DIGEST", "SIZE", "PLATFORMS", "LABELS",
	};
	static const struct list_spec spec = { "/images", "images", "name", headers, 6,
		add_image_row };
	return resource_list(ctx, argc, argv, &spec);
}

/* Always JSON: an image's manifests, layers and platforms are a tree that
 * no table shows well. */
static int
run_inspect(struct keg_context *ctx, int argc, char **argv)
{
	int rc = resource_operands(ctx, argc, argv, 1, "a reference is needed",
	    "one reference at a time");
	if (rc >= 0)
		return rc;
	char *path = resource_path("images", argv[optind]);
	rc = resource_show(ctx, path, NULL, NULL);
	free(path);
	return rc;
}

static int
run_remove(struct keg_context *ctx, int argc, char **argv)
{
	return resource_remove_command(ctx, argc, argv, "images", "a reference is needed");
}

static int
print_tagged(const struct keg_context *ctx, json_t *image)
{
	int rc = ctx->format == FORMAT_JSON ? output_json(image) :
	    printf("%s\n", text(image, "name"));
	json_decref(image);
	return rc < 0 ? cmd_output_error() : EXIT_OK;
}

static int
run_tag(struct keg_context *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool force = false;
	int opt;
	while ((opt = cmd_getopt(ctx, argc, argv, "fh", opts)) != -1) {
		if (opt != 'f')
			return cmd_opt_exit(opt);
		force = true;
	}
	if (argc - optind != 2)
		return cmd_usage_error(ctx, "a source and a target reference are needed");
	json_t *body = json_pack("{s:s,s:s,s:b}", "source", argv[optind],
	    "target", argv[optind + 1], "force", force);
	if (body == NULL)
		return cmd_usage_error(ctx, "references must be valid UTF-8");
	json_t *image = NULL;
	enum api_result res = api_call(ctx->api, "POST", "/images/tag", body, &image);
	json_decref(body);
	if (res != API_OK)
		return cmd_api_error(ctx);
	return print_tagged(ctx, image);
}

static int
run_label(struct keg_context *ctx, int argc, char **argv)
{
	int rc = resource_operands(ctx, argc, argv, 0, "a reference is needed", NULL);
	if (rc >= 0)
		return rc;
	char *path = resource_path("images", argv[optind]);
	rc = resource_labels(ctx, path, argv + optind + 1, argc - optind - 1);
	free(path);
	return rc;
}

static const struct keg_command images_list = {
	.name = "ls",
	.alias = "list",
	.summary = "List images",
	.synopsis = "[-q]",
	.options =
	    "Options:\n"
	    "  -q, --quiet   print only the references\n"
	    "\n"
	    "SIZE counts the distinct blobs the image holds in the content store.\n",
	.run = run_list,
};

static const struct keg_command images_inspect = {
	.name = "inspect",
	.summary = "Show an image as JSON: target, platforms, manifests and layers",
	.synopsis = "REF",
	.run = run_inspect,
};

static const struct keg_command images_remove = {
	.name = "rm",
	.alias = "remove",
	.summary = "Remove images (their content stays until nothing uses it)",
	.synopsis = "REF...",
	.run = run_remove,
};

static const struct keg_command images_tag = {
	.name = "tag",
	.summary = "Give an image another reference",
	.synopsis = "[--force] SOURCE TARGET",
	.options = "Options:\n  -f, --force   replace TARGET when it exists\n",
	.run = run_tag,
};

static const struct keg_command images_label = {
	.name = "label",
	.summary = "Show an image's labels, or set (KEY=VALUE) and remove (KEY=) them",
	.synopsis = "REF [KEY=VALUE | KEY=]...",
	.run = run_label,
};

static const struct keg_command *const images_commands[] = {
	&images_pull, &images_push, &images_import, &images_export, &images_list,
	&images_inspect, &images_remove, &images_tag, &images_label, &images_mount,
	&images_unmount, NULL,
};

const struct keg_command cmd_images = {
	.name = "images",
	.alias = "image",
	.summary = "Pull, push, import, export and manage images",
	.synopsis = "COMMAND [ARG...]",
	.subcommands = images_commands,
};
