/* keg snapshots: containerd's snapshots, as `ctr snapshots` shows them. ls,
 * tree, prepare, view, commit, rm, mounts, usage, label; each takes
 * --snapshotter (default: kegd's). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/command.h"
#include "client/humanize.h"
#include "client/label_args.h"
#include "client/output.h"
#include "client/resource.h"
#include "common/util.h"

struct snap_opts {
	const char *snapshotter;	/* NULL: kegd's default */
	json_t *labels;			/* --label K=V, for prepare/view/commit */
	bool quiet;
};

enum { TAKES_LABELS = 1, TAKES_QUIET = 2 };

/* -1 to go on with argv[optind]; else the exit status. */
static int
parse_options(struct keg_context *ctx, int argc, char **argv, struct snap_opts *o,
    unsigned takes)
{
	static const struct option opts[] = {
		{ "snapshotter", required_argument, NULL, 's' },
		{ "label", required_argument, NULL, 'l' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	*o = (struct snap_opts){ NULL, json_object(), false };
	int opt;
	while ((opt = cmd_getopt(ctx, argc, argv, "s:l:qh", opts)) != -1) {
		int rc = -1;
		if (opt == 's')
			o->snapshotter = optarg;
		else if (opt == 'l' && (takes & TAKES_LABELS))
			rc = label_arg_add(ctx, o->labels, optarg, false);
		else if (opt == 'q' && (takes & TAKES_QUIET))
			o->quiet = true;
		else
			rc = opt < 0 ? cmd_opt_exit(opt) :
			    cmd_usage_error(ctx, "option -%c does not apply here", opt);
		if (rc > 0 || opt < 0) {
			json_decref(o->labels);
			return rc;
		}
	}
	return -1;
}

/* A key is one path segment: '/' and everything else but letters, digits
 * and "-_~" are escaped — '.' too, or "." and ".." would be read as path
 * steps on the way. */
static char *
key_segment(const char *key)
{
	char *esc = api_escape(key);
	char *out = xmalloc(strlen(esc) * 3 + 1), *o = out;
	for (const char *p = esc; *p; p++) {
		if (*p == '.') {
			memcpy(o, "%2E", 3);
			o += 3;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	free(esc);
	return out;
}

/* "/snapshots[/KEY][/tail][?snapshotter=S]" */
static char *
snap_path(const struct snap_opts *o, const char *key, const char *tail)
{
	char *seg = key ? key_segment(key) : NULL;
	char *sn = o->snapshotter ? api_escape(o->snapshotter) : NULL;
	char *path = xasprintf("/snapshots%s%s%s%s%s%s", seg ? "/" : "", seg ? seg : "",
	    tail ? "/" : "", tail ? tail : "", sn ? "?snapshotter=" : "", sn ? sn : "");
	free(seg);
	free(sn);
	return path;
}

static const char *
text(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s ? s : "";
}

/* ---- ls, tree ------------------------------------------------------------ */

static int
fetch_list(struct keg_context *ctx, const struct snap_opts *o, json_t **reply)
{
	char *path = snap_path(o, NULL, NULL);
	enum api_result res = api_call(ctx->api, "GET", path, NULL, reply);
	free(path);
	return res == API_OK ? 0 : -1;
}

static int
print_list(const struct keg_context *ctx, const json_t *reply, bool quiet)
{
	static const char *const headers[] = { "KEY", "PARENT", "KIND", "AGE", "LABELS" };
	const json_t *list = json_object_get(reply, "snapshots");
	size_t i;
	json_t *s;
	if (quiet) {
		json_array_foreach(list, i, s)
			printf("%s\n", text(s, "key"));
		return 0;
	}
	if (ctx->format == FORMAT_JSON)
		return output_json(reply);
	struct table *t = table_new(5, headers);
	json_array_foreach(list, i, s) {
		char age[HUMAN_SIZE_LEN];
		char *labels = format_labels(json_object_get(s, "labels"), ",");
		const char *row[] = { text(s, "key"), text(s, "parent"), text(s, "kind"),
		    format_age(text(s, "created_at"), age), labels };
		table_add_row(t, row);
		free(labels);
	}
	table_print(t, stdout);
	table_free(t);
	return 0;
}

static int
run_list(struct keg_context *ctx, int argc, char **argv)
{
	struct snap_opts o;
	int rc = parse_options(ctx, argc, argv, &o, TAKES_QUIET);
	if (rc >= 0)
		return rc;
	json_decref(o.labels);
	if (optind < argc)
		return cmd_usage_error(ctx, "unexpected argument %s", argv[optind]);
	json_t *reply;
	if (fetch_list(ctx, &o, &reply) < 0)
		return cmd_api_error(ctx);
	rc = print_list(ctx, reply, o.quiet);
	json_decref(reply);
	return rc < 0 ? cmd_output_error() : EXIT_OK;
}

static bool
has_parent_in(const json_t *list, const char *parent)
{
	size_t i;
	json_t *s;
	json_array_foreach(list, i, s)
		if (strcmp(text(s, "key"), parent) == 0)
			return true;
	return false;
}

/* ctr's tree: each snapshot under its parent, one level deeper. */
static void
print_children(const json_t *list, const char *parent, int depth)
{
	size_t i;
	json_t *s;
	json_array_foreach(list, i, s) {
		const char *p = text(s, "parent");
		bool root = *p == '\0' || !has_parent_in(list, p);
		if (parent == NULL ? !root : strcmp(p, parent) != 0)
			continue;
		if (depth == 0)
			printf("%s\n", text(s, "key"));
		else
			printf("%*s\\_ %s\n", 3 * depth - 2, "", text(s, "key"));
		print_children(list, text(s, "key"), depth + 1);
	}
}

static int
run_tree(struct keg_context *ctx, int argc, char **argv)
{
	struct snap_opts o;
	int rc = parse_options(ctx, argc, argv, &o, 0);
	if (rc >= 0)
		return rc;
	json_decref(o.labels);
	if (optind < argc)
		return cmd_usage_error(ctx, "unexpected argument %s", argv[optind]);
	json_t *reply;
	if (fetch_list(ctx, &o, &reply) < 0)
		return cmd_api_error(ctx);
	rc = 0;
	if (ctx->format == FORMAT_JSON)
		rc = output_json(reply);
	else
		print_children(json_object_get(reply, "snapshots"), NULL, 0);
	json_decref(reply);
	return rc < 0 ? cmd_output_error() : EXIT_OK;
}

/* ---- prepare, view, commit ---------------------------------------------- */

static int
post(struct keg_context *ctx, struct snap_opts *o, const char *what, json_t *body)
{
	if (json_object_size(o->labels) > 0)
		json_object_set(body, "labels", o->labels);
	json_decref(o->labels);
	char *path = snap_path(o, NULL, what);
	json_t *reply = NULL;
	enum api_result res = api_call(ctx->api, "POST", path, body, &reply);
	free(path);
	json_decref(body);
	if (res != API_OK)
		return cmd_api_error(ctx);
	return resource_print_changed(ctx, reply);
}

static int
run_prepare(struct keg_context *ctx, int argc, char **argv)
{
	struct snap_opts o;
	int rc = parse_options(ctx, argc, argv, &o, TAKES_LABELS);
	if (rc >= 0)
		return rc;
	int n = argc - optind;
	if (n < 1 || n > 2) {
		json_decref(o.labels);
		return cmd_usage_error(ctx, n < 1 ? "a key is needed" : "too many arguments");
	}
	json_t *body = json_pack("{s:s}", "key", argv[optind]);
	if (n == 2)
		json_object_set_new(body, "parent", json_string(argv[optind + 1]));
	return post(ctx, &o, "prepare", body);
}

static int
run_view(struct keg_context *ctx, int argc, char **argv)
{
	struct snap_opts o;
	int rc = parse_options(ctx, argc, argv, &o, TAKES_LABELS);
	if (rc >= 0)
		return rc;
	if (argc - optind != 2) {
		json_decref(o.labels);
		return cmd_usage_error(ctx, "a key and a parent are needed");
	}
	return post(ctx, &o, "view", json_pack("{s:s,s:s}", "key", argv[optind],
	    "parent", argv[optind + 1]));
}

static int
run_commit(struct keg_context *ctx, int argc, char **argv)
{
	struct snap_opts o;
	int rc = parse_options(ctx, argc, argv, &o, TAKES_LABELS);
	if (rc >= 0)
		return rc;
	if (argc - optind != 2) {
		json_decref(o.labels);
		return cmd_usage_error(ctx, "a name and the key of an active snapshot are needed");
	}
	return post(ctx, &o, "commit", json_pack("{s:s,s:s}", "name", argv[optind],
	    "key", argv[optind + 1]));
}

/* ---- rm, label ----------------------------------------------------------- */

static int
run_remove(struct keg_context *ctx, int argc, char **argv)
{
	struct snap_opts o;
	int rc = parse_options(ctx, argc, argv, &o, 0);
	if (rc >= 0)
		return rc;
	json_decref(o.labels);
	if (optind >= argc)
		return cmd_usage_error(ctx, "a key is needed");
	/* Goes on past a failure, as rm does; children before parents works
	 * when they are given in that order. */
	rc = EXIT_OK;
	for (int i = optind; i < argc; i++) {
		char *path = snap_path(&o, argv[i], NULL);
		if (api_call(ctx->api, "DELETE", path, NULL, NULL) == API_OK)
			printf("%s\n", argv[i]);
		else
			rc = cmd_api_error(ctx);
		free(path);
		fflush(stdout);
	}
	return rc;
}

static int
run_label(struct keg_context *ctx, int argc, char **argv)
{
	struct snap_opts o;
	int rc = parse_options(ctx, argc, argv, &o, 0);
	if (rc >= 0)
		return rc;
	json_decref(o.labels);
	if (optind >= argc)
		return cmd_usage_error(ctx, "a key is needed");
	char *path = snap_path(&o, argv[optind], NULL);
	rc = resource_labels(ctx, path, argv + optind + 1, argc - optind - 1);
	free(path);
	return rc;
}

/* ---- mounts -------------------------------------------------------------- */

static char *
joined_options(const json_t *m)
{
	char *out = xstrdup("");
	size_t i;
	json_t *opt;
	json_array_foreach(json_object_get(m, "options"), i, opt) {
		char *next = xasprintf("%s%s%s", out, i ? "," : "", json_string_value(opt));
		free(out);
		out = next;
	}
	return out;
}

/* The reply's mounts: with a target, the mount(8) commands that mount it
 * there, as ctr prints them; else a table. */
static void
print_mounts(const json_t *reply, const void *arg)
{
	const json_t *mounts = json_object_get(reply, "mounts");
	const char *target = arg;
	static const char *const headers[] = { "TYPE", "SOURCE", "OPTIONS" };
	struct table *t = target ? NULL : table_new(3, headers);
	size_t i;
	json_t *m;
	json_array_foreach(mounts, i, m) {
		char *options = joined_options(m);
		if (t == NULL) {
			printf("mount -t %s %s %s%s%s\n", text(m, "type"), text(m, "source"), target,
			    *options ? " -o " : "", options);
		} else {
			const char *row[] = { text(m, "type"), text(m, "source"), options };
			table_add_row(t, row);
		}
		free(options);
	}
	if (t != NULL) {
		table_print(t, stdout);
		table_free(t);
	}
}

static int
run_mounts(struct keg_context *ctx, int argc, char **argv)
{
	struct snap_opts o;
	int rc = parse_options(ctx, argc, argv, &o, 0);
	if (rc >= 0)
		return rc;
	json_decref(o.labels);
	int n = argc - optind;
	if (n < 1 || n > 2)
		return cmd_usage_error(ctx, n < 1 ? "a key is needed" : "too many arguments");
	char *path = snap_path(&o, argv[optind], "mounts");
	rc = resource_show(ctx, path, print_mounts, n == 2 ? argv[optind + 1] : NULL);
	free(path);
	return rc;
}

/* ---- usage --------------------------------------------------------------- */

static json_t *
usage_of(struct keg_context *ctx, const struct snap_opts *o, const char *key)
{
	char *path = snap_path(o, key, "usage");
	json_t *reply = NULL;
	enum api_result res = api_call(ctx->api, "GET", path, NULL, &reply);
	free(path);
	if (res != API_OK)
		return NULL;
	json_object_set_new(reply, "key", json_string(key));
	return reply;
}

static int
print_usage(const struct keg_context *ctx, json_t *usages)
{
	static const char *const headers[] = { "KEY", "SIZE", "INODES" };
	if (ctx->format == FORMAT_JSON)
		return output_json(usages);
	struct table *t = table_new(3, headers);
	size_t i;
	json_t *u;
	json_array_foreach(usages, i, u) {
		char size[HUMAN_SIZE_LEN], inodes[32];
		snprintf(inodes, sizeof(inodes), "%lld",
		    (long long)json_integer_value(json_object_get(u, "inodes")));
		const char *row[] = { text(u, "key"),
		    format_bytes(json_integer_value(json_object_get(u, "size")), size), inodes };
		table_add_row(t, row);
	}
	table_print(t, stdout);
	table_free(t);
	return 0;
}

/* One snapshot, or each one of the snapshotter. */
static int
run_usage(struct keg_context *ctx, int argc, char **argv)
{
	struct snap_opts o;
	int rc = parse_options(ctx, argc, argv, &o, 0);
	if (rc >= 0)
		return rc;
	json_decref(o.labels);
	if (argc - optind > 1)
		return cmd_usage_error(ctx, "too many arguments");
	json_t *usages = json_array(), *list = NULL;
	rc = EXIT_OK;
	if (optind < argc) {
		json_t *u = usage_of(ctx, &o, argv[optind]);
		if (u == NULL)
			rc = cmd_api_error(ctx);
		else
			json_array_append_new(usages, u);
	} else if (fetch_list(ctx, &o, &list) < 0) {
		rc = cmd_api_error(ctx);
	} else {
		size_t i;
		json_t *s;
		json_array_foreach(json_object_get(list, "snapshots"), i, s) {
			json_t *u = usage_of(ctx, &o, text(s, "key"));
			if (u == NULL)
				rc = cmd_api_error(ctx);	/* removed meanwhile: go on */
			else
				json_array_append_new(usages, u);
		}
	}
	if (json_array_size(usages) > 0 && print_usage(ctx, usages) < 0)
		rc = cmd_output_error();
	json_decref(list);
	json_decref(usages);
	return rc;
}

/* ---- the table ----------------------------------------------------------- */

#define SNAPSHOTTER_OPTION "  -s, --snapshotter NAME   overlayfs or native (default: kegd's)\n"
#define LABEL_OPTION "  -l, --label KEY=VALUE    a label on the snapshot (repeatable)\n"

static const struct keg_command snapshots_list = {
	.name = "ls", .alias = "list",
	.summary = "List the snapshots",
	.synopsis = "[-q] [-s NAME]",
	.options = "Options:\n  -q, --quiet              print only the keys\n" SNAPSHOTTER_OPTION,
	.run = run_list,
};

static const struct keg_command snapshots_tree = {
	.name = "tree",
	.summary = "Show the snapshots under their parents",
	.synopsis = "[-s NAME]",
	.options = "Options:\n" SNAPSHOTTER_OPTION,
	.run = run_tree,
};

static const struct keg_command snapshots_prepare = {
	.name = "prepare",
	.summary = "Create an active (writable) snapshot, on top of PARENT when given",
	.synopsis = "[-s NAME] [-l KEY=VALUE]... KEY [PARENT]",
	.options = "Options:\n" SNAPSHOTTER_OPTION LABEL_OPTION,
	.run = run_prepare,
};

static const struct keg_command snapshots_view = {
	.name = "view",
	.summary = "Create a read-only view of a committed snapshot",
	.synopsis = "[-s NAME] [-l KEY=VALUE]... KEY PARENT",
	.options = "Options:\n" SNAPSHOTTER_OPTION LABEL_OPTION,
	.run = run_view,
};

static const struct keg_command snapshots_commit = {
	.name = "commit",
	.summary = "Commit an active snapshot under NAME",
	.synopsis = "[-s NAME] [-l KEY=VALUE]... NAME KEY",
	.options = "Options:\n" SNAPSHOTTER_OPTION LABEL_OPTION,
	.run = run_commit,
};

static const struct keg_command snapshots_remove = {
	.name = "rm", .alias = "remove",
	.summary = "Remove snapshots (a snapshot with children stays)",
	.synopsis = "[-s NAME] KEY...",
	.options = "Options:\n" SNAPSHOTTER_OPTION,
	.run = run_remove,
};

static const struct keg_command snapshots_mounts = {
	.name = "mounts",
	.summary = "Show a snapshot's mounts, or the mount commands for TARGET",
	.synopsis = "[-s NAME] KEY [TARGET]",
	.options = "Options:\n" SNAPSHOTTER_OPTION,
	.run = run_mounts,
};

static const struct keg_command snapshots_usage = {
	.name = "usage",
	.summary = "Show the disk usage of a snapshot, or of every one",
	.synopsis = "[-s NAME] [KEY]",
	.options = "Options:\n" SNAPSHOTTER_OPTION,
	.run = run_usage,
};

static const struct keg_command snapshots_label = {
	.name = "label",
	.summary = "Show a snapshot's labels, or set (KEY=VALUE) and remove (KEY=) them",
	.synopsis = "[-s NAME] KEY [KEY=VALUE | KEY=]...",
	.options = "Options:\n" SNAPSHOTTER_OPTION,
	.run = run_label,
};

static const struct keg_command *const snapshot_commands[] = {
	&snapshots_list, &snapshots_tree, &snapshots_prepare, &snapshots_view,
	&snapshots_commit, &snapshots_remove, &snapshots_mounts, &snapshots_usage,
	&snapshots_label, NULL,
};

const struct keg_command cmd_snapshots = {
	.name = "snapshots", .alias = "snapshot",
	.summary = "Manage snapshots (the file systems of images and containers)",
	.synopsis = "COMMAND [ARG...]",
	.subcommands = snapshot_commands,
};
