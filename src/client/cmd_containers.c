/* keg containers: create, ls, info, rm, label — containerd's containers as
 * `ctr containers` shows them. A container is metadata; `keg tasks` runs
 * it. */
#include "client/cmd_containers.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/label_args.h"
#include "client/output.h"
#include "client/resource.h"
#include "common/util.h"

const struct option container_create_longopts[] = {
	{ "snapshotter", required_argument, NULL, 's' },
	{ "readonly", no_argument, NULL, 'r' },
	{ "runtime", required_argument, NULL, 'R' },
	{ "label", required_argument, NULL, 'l' },
	{ "env", required_argument, NULL, 'e' },
	{ "user", required_argument, NULL, 'u' },
	{ "cwd", required_argument, NULL, 'w' },
	{ "tty", no_argument, NULL, 't' },
	{ "mount", required_argument, NULL, 'm' },
	{ "memory-limit", required_argument, NULL, 'M' },
	{ "privileged", no_argument, NULL, 'P' },
	{ "net-host", no_argument, NULL, 'N' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* body.options, made on first use. */
static json_t *
oci_options(json_t *body)
{
	json_t *o = json_object_get(body, "options");
	if (o == NULL) {
		o = json_object();
		json_object_set_new(body, "options", o);
	}
	return o;
}

static json_t *
options_array(json_t *body, const char *key)
{
	json_t *o = oci_options(body), *a = json_object_get(o, key);
	if (a == NULL) {
		a = json_array();
		json_object_set_new(o, key, a);
	}
	return a;
}

/* "N", "512k", "64m", "1g" (powers of 1024) as bytes. */
static int
parse_memory(struct keg_context *ctx, const char *arg, json_int_t *out)
{
	char *end;
	errno = 0;
	long long n = strtoll(arg, &end, 10);
	int shift = 0;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	}
	if (errno != 0 || end == arg || *end != '\0' || n <= 0 || n > (LLONG_MAX >> shift))
		return cmd_usage_error(ctx, "--memory-limit %s: a positive number of bytes, "
		    "k, m or g after it for KiB, MiB, GiB", arg);
	*out = (json_int_t)(n << shift);
	return 0;
}

/* One key=value of --mount. */
static int
mount_field(struct keg_context *ctx, json_t *m, const char *field)
{
	const char *eq = strchr(field, '=');
	size_t klen = eq ? (size_t)(eq - field) : 0;
	static const char *const names[][2] = {
		{ "type", "type" }, { "src", "source" }, { "source", "source" },
		{ "dst", "destination" }, { "destination", "destination" },
		{ "target", "destination" }, { "options", "options" },
	};
	for (size_t i = 0; eq && i < sizeof(names) / sizeof(names[0]); i++) {
		if (strlen(names[i][0]) != klen || strncmp(field, names[i][0], klen) != 0)
			continue;
		if (strcmp(names[i][1], "options") != 0) {
			json_object_set_new(m, names[i][1], json_string(eq + 1));
			return 0;
		}
		json_t *opts = json_array();
		char *copy = xstrdup(eq + 1), *save = NULL;
		for (char *o = strtok_r(copy, ":", &save); o; o = strtok_r(NULL, ":", &save))
			json_array_append_new(opts, json_string(o));
		free(copy);
		json_object_set_new(m, "options", opts);
		return 0;
	}
	return cmd_usage_error(ctx, "--mount: unknown field \"%s\" (type, src, dst, options)",
	    field);
}

static int
parse_mount(struct keg_context *ctx, json_t *body, const char *arg)
{
	json_t *m = json_object();
	char *copy = xstrdup(arg), *save = NULL;
	int rc = 0;
	for (char *f = strtok_r(copy, ",", &save); f && rc == 0; f = strtok_r(NULL, ",", &save))
		rc = mount_field(ctx, m, f);
	free(copy);
	if (rc == 0 && json_object_get(m, "destination") == NULL)
		rc = cmd_usage_error(ctx, "--mount %s: dst= is needed", arg);
	if (rc == 0 && json_object_get(m, "type") == NULL)
		json_object_set_new(m, "type", json_string("bind"));
	if (rc == 0)
		json_array_append(options_array(body, "mounts"), m);
	json_decref(m);
	return rc;
}

static int
set_labels(struct keg_context *ctx, json_t *body, const char *arg)
{
	json_t *labels = json_object_get(body, "labels");
	if (labels == NULL) {
		labels = json_object();
		json_object_set_new(body, "labels", labels);
	}
	return label_arg_add(ctx, labels, arg, false);
}

int
container_create_option(struct keg_context *ctx, json_t *body, int opt, const char *arg)
{
	json_int_t bytes = 0;
	switch (opt) {
	case 's': json_object_set_new(body, "snapshotter", json_string(arg)); return 0;
	case 'r': json_object_set_new(body, "readonly", json_true()); return 0;
	case 'R':
		json_object_set_new(body, "runtime", json_pack("{s:{s:s}}", "options",
		    "binary_name", arg));
		return 0;
	case 'l': return set_labels(ctx, body, arg);
	case 'e': json_array_append_new(options_array(body, "env"), json_string(arg)); return 0;
	case 'u': json_object_set_new(oci_options(body), "user", json_string(arg)); return 0;
	case 'w': json_object_set_new(oci_options(body), "cwd", json_string(arg)); return 0;
	case 't': json_object_set_new(oci_options(body), "tty", json_true()); return 0;
	case 'm': return parse_mount(ctx, body, arg);
	case 'M':
		if (parse_memory(ctx, arg, &bytes) != 0)
			return EXIT_USAGE;
		json_object_set_new(oci_options(body), "memory_limit", json_integer(bytes));
		return 0;
	case 'P': json_object_set_new(oci_options(body), "privileged", json_true()); return 0;
	case 'N': json_object_set_new(oci_options(body), "host_network", json_true()); return 0;
	}
	return 1;
}

int
container_create_operands(struct keg_context *ctx, json_t *body, int argc, char **argv)
{
	if (argc - optind < 2)
		return cmd_usage_error(ctx, "an image reference and a container id are needed");
	json_object_set_new(body, "image", json_string(argv[optind]));
	json_object_set_new(body, "id", json_string(argv[optind + 1]));
	if (argc - optind > 2) {
		json_t *args = options_array(body, "args");
		for (int i = optind + 2; i < argc; i++)
			json_array_append_new(args, json_string(argv[i]));
	}
	return -1;
}

static int
run_create(struct keg_context *ctx, int argc, char **argv)
{
	json_t *body = json_object();
	int opt, rc = -1;
	while (rc < 0 && (opt = cmd_getopt(ctx, argc, argv, CONTAINER_CREATE_SHORTOPTS,
	    container_create_longopts)) != -1) {
		int r = opt < 0 ? 1 : container_create_option(ctx, body, opt, optarg);
		if (r == 1)
			rc = cmd_opt_exit(opt);
		else if (r != 0)
			rc = r;
	}
	if (rc < 0)
		rc = container_create_operands(ctx, body, argc, argv);
	if (rc >= 0) {
		json_decref(body);
		return rc;
	}
	json_t *reply = NULL;
	enum api_result res = api_call(ctx->api, "POST", "/containers", body, &reply);
	json_decref(body);
	if (res != API_OK)
		return cmd_api_error(ctx);
	return resource_print_changed(ctx, reply);
}

static void
add_container_row(struct table *t, const json_t *c)
{
	const json_t *rt = json_object_get(c, "runtime");
	const char *row[] = {
		json_string_value(json_object_get(c, "id")),
		json_string_value(json_object_get(c, "image")),
		json_string_value(json_object_get(rt, "name")),
	};
	table_add_row(t, row);
}

static int
run_list(struct keg_context *ctx, int argc, char **argv)
{
	static const char *const headers[] = { "CONTAINER", "IMAGE", "RUNTIME" };
	static const struct list_spec spec = { "/containers", "containers", "id", headers, 3,
		add_container_row };
	return resource_list(ctx, argc, argv, &spec);
}

/* Always JSON, as `ctr containers info`: the spec is a document. */
static int
run_info(struct keg_context *ctx, int argc, char **argv)
{
	int rc = resource_operands(ctx, argc, argv, 1, "one container id is needed",
	    "one container id is needed");
	if (rc >= 0)
		return rc;
	char *path = resource_path("containers", argv[optind]);
	rc = resource_show(ctx, path, NULL, NULL);
	free(path);
	return rc;
}

static int
run_remove(struct keg_context *ctx, int argc, char **argv)
{
	return resource_remove_command(ctx, argc, argv, "containers", "a container id is needed");
}

static int
run_label(struct keg_context *ctx, int argc, char **argv)
{
	int rc = resource_operands(ctx, argc, argv, 0, "a container id is needed", NULL);
	if (rc >= 0)
		return rc;
	char *path = resource_path("containers", argv[optind]);
	char *labels_path = xasprintf("%s/labels", path);
	/* Showing reads the container; setting goes to its labels resource. */
	rc = argc - optind == 1 ? resource_labels(ctx, path, NULL, 0) :
	    resource_labels(ctx, labels_path, argv + optind + 1, argc - optind - 1);
	free(labels_path);
	free(path);
	return rc;
}

static const struct keg_command c_create = {
	.name = "create",
	.summary = "Create a container from an unpacked image",
	.synopsis = "[OPTIONS] REF ID [CMD [ARG...]]",
	.options = "Options:\n"
	    "  -s, --snapshotter S      snapshotter (default: kegd's)\n"
	    "  -r, --readonly           a read-only view of the image, no writable layer\n"
	    "                           (runc cannot create mount points such as /run in\n"
	    "                           it; for a read-only root, `keg run --readonly`)\n"
	    "  -R, --runtime BIN        runc-compatible binary (name in PATH or absolute path)\n"
	    "  -l, --label K=V          set a label (repeatable)\n"
	    "  -e, --env K=V            add an environment variable (repeatable)\n"
	    "  -u, --user U             user: name, uid, uid:gid or name:group\n"
	    "  -w, --cwd D              working directory\n"
	    "  -t, --tty                allocate a terminal\n"
	    "  -m, --mount type=bind,src=P,dst=P,options=rbind:ro   add a mount (repeatable)\n"
	    "  -M, --memory-limit N     memory limit in bytes (k, m, g suffixes)\n"
	    "  -P, --privileged         all capabilities, no seccomp, devices visible\n"
	    "      --net-host           share the host's network namespace\n",
	.run = run_create,
};

static const struct keg_command c_list = {
	.name = "ls",
	.alias = "list",
	.summary = "List containers",
	.synopsis = "[-q]",
	.options = "Options:\n  -q, --quiet   print only the ids\n",
	.run = run_list,
};

static const struct keg_command c_info = {
	.name = "info",
	.summary = "Show a container as JSON, its OCI spec included",
	.synopsis = "ID",
	.run = run_info,
};

static const struct keg_command c_remove = {
	.name = "rm",
	.alias = "delete",
	.summary = "Delete containers (and their snapshots)",
	.synopsis = "ID...",
	.run = run_remove,
};

static const struct keg_command c_label = {
	.name = "label",
	.summary = "Show a container's labels, or set (KEY=VALUE) and remove (KEY=) them",
	.synopsis = "ID [KEY=VALUE | KEY=]...",
	.run = run_label,
};

static const struct keg_command *const c_commands[] = {
	&c_create, &c_list, &c_info, &c_remove, &c_label, NULL,
};

const struct keg_command cmd_containers = {
	.name = "containers",
	.alias = "c",
	.summary = "Manage containers",
	.synopsis = "COMMAND [ARG...]",
	.subcommands = c_commands,
};
