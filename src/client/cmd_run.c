/* keg run: ctr run. Creates a container from an image, creates and starts
 * its task, shows its output here (or gives it the terminal with -t) and
 * exits with its exit status; --rm deletes task and container afterwards,
 * -d returns once it started. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/command.h"
#include "client/task_io.h"
#include "common/util.h"

#define DEFAULT_RUNTIME "io.containerd.runc.v2"

struct run_opts {
	bool rm, detach, tty, readonly;
	const char *snapshotter, *runtime;
	json_t *options;	/* the container's OCI overrides */
	json_t *env, *mounts;
};

enum {
	OPT_RM = 1, OPT_ENV, OPT_USER, OPT_CWD, OPT_MOUNT, OPT_MEMORY, OPT_RUNTIME,
	OPT_SNAPSHOTTER, OPT_NET_HOST, OPT_READONLY,
};

/* type=bind,src=/a,dst=/b,options=rbind:ro (ctr's --mount). */
static json_t *
parse_mount(const char *spec)
{
	json_t *m = json_object(), *opts = json_array();
	char *copy = xstrdup(spec), *save = NULL;
	for (char *kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *v = strchr(kv, '=');
		if (v == NULL)
			goto bad;
		*v++ = '\0';
		if (strcmp(kv, "type") == 0)
			json_object_set_new(m, "type", json_string(v));
		else if (strcmp(kv, "src") == 0 || strcmp(kv, "source") == 0)
			json_object_set_new(m, "source", json_string(v));
		else if (strcmp(kv, "dst") == 0 || strcmp(kv, "destination") == 0 ||
		    strcmp(kv, "target") == 0)
			json_object_set_new(m, "destination", json_string(v));
		else if (strcmp(kv, "options") == 0)
			for (char *s2 = NULL, *o = strtok_r(v, ":", &s2); o; o = strtok_r(NULL, ":", &s2))
				json_array_append_new(opts, json_string(o));
		else
			goto bad;
	}
	if (json_object_get(m, "destination") == NULL)
		goto bad;
	if (json_object_get(m, "type") == NULL)
		json_object_set_new(m, "type", json_string("bind"));
	/* A bind mount without options would be non-recursive and rw: say so. */
	if (json_array_size(opts) == 0 &&
	    strcmp(json_string_value(json_object_get(m, "type")), "bind") == 0)
		json_array_append_new(opts, json_string("rbind"));
	json_object_set_new(m, "options", opts);
	free(copy);
	return m;
bad:
	free(copy);
	json_decref(opts);
	json_decref(m);
	return NULL;
}

/* 512m, 1g, 65536: bytes. */
static int
parse_size(const char *s, long long *out)
{
	char *end;
	long long n = strtoll(s, &end, 10);
	long long mul = *end == 'k' || *end == 'K' ? 1024LL :
	    *end == 'm' || *end == 'M' ? 1024LL * 1024 :
	    *end == 'g' || *end == 'G' ? 1024LL * 1024 * 1024 : 1;
	if (end == s || n <= 0 || (mul > 1 ? end[1] != '\0' : *end != '\0') ||
	    n > (1LL << 50) / mul)
		return -1;
	*out = n * mul;
	return 0;
}

static int
take_option(struct keg_context *ctx, int opt, struct run_opts *o)
{
	long long bytes;
	json_t *m;
	switch (opt) {
	case OPT_RM: o->rm = true; break;
	case 'd': o->detach = true; break;
	case 't': o->tty = true; break;
	case OPT_SNAPSHOTTER: o->snapshotter = optarg; break;
	case OPT_RUNTIME: o->runtime = optarg; break;
	case OPT_USER: json_object_set_new(o->options, "user", json_string(optarg)); break;
	case OPT_CWD: json_object_set_new(o->options, "cwd", json_string(optarg)); break;
	case OPT_NET_HOST: json_object_set_new(o->options, "host_network", json_true()); break;
	case OPT_READONLY: o->readonly = true; break;
	case OPT_ENV:
		if (strchr(optarg, '=') == NULL)
			return cmd_usage_error(ctx, "--env takes KEY=VALUE, not %s", optarg);
		json_array_append_new(o->env, json_string(optarg));
		break;
	case OPT_MOUNT:
		if ((m = parse_mount(optarg)) == NULL)
			return cmd_usage_error(ctx, "--mount takes type=T,src=S,dst=D,"
			    "options=O:O, not %s", optarg);
		json_array_append_new(o->mounts, m);
		break;
	case OPT_MEMORY:
		if (parse_size(optarg, &bytes) < 0)
			return cmd_usage_error(ctx, "--memory-limit takes bytes (or 64m, 1g), "
			    "not %s", optarg);
		json_object_set_new(o->options, "memory_limit", json_integer(bytes));
		break;
	default:
		return cmd_opt_exit(opt);
	}
	return -1;
}

static int
parse_options(struct keg_context *ctx, int argc, char **argv, struct run_opts *o)
{
	static const struct option opts[] = {
		{ "rm", no_argument, NULL, OPT_RM },
		{ "detach", no_argument, NULL, 'd' },
		{ "tty", no_argument, NULL, 't' },
		{ "env", required_argument, NULL, OPT_ENV },
		{ "user", required_argument, NULL, OPT_USER },
		{ "cwd", required_argument, NULL, OPT_CWD },
		{ "mount", required_argument, NULL, OPT_MOUNT },
		{ "memory-limit", required_argument, NULL, OPT_MEMORY },
		{ "runtime", required_argument, NULL, OPT_RUNTIME },
		{ "snapshotter", required_argument, NULL, OPT_SNAPSHOTTER },
		{ "net-host", no_argument, NULL, OPT_NET_HOST },
		{ "readonly", no_argument, NULL, OPT_READONLY },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, rc;
	/* '+': options after the image belong to the command. */
	while ((opt = cmd_getopt(ctx, argc, argv, "+dth", opts)) != -1)
		if ((rc = take_option(ctx, opt, o)) >= 0)
			return rc;
	if (argc - optind < 2)
		return cmd_usage_error(ctx, "an image and a container id are needed");
	if (o->rm && o->detach)
		return cmd_usage_error(ctx, "--rm and -d do not go together: nobody would "
		    "be there to remove it");
	return -1;
}

static json_t *
container_body(struct run_opts *o, const char *ref, const char *id, char **args, int n)
{
	json_t *body = json_pack("{s:s,s:s}", "id", id, "image", ref);
	if (n > 0) {
		json_t *a = json_array();
		for (int i = 0; i < n; i++)
			json_array_append_new(a, json_string(args[i]));
		json_object_set_new(o->options, "args", a);
	}
	if (json_array_size(o->env) > 0)
		json_object_set(o->options, "env", o->env);
	if (json_array_size(o->mounts) > 0)
		json_object_set(o->options, "mounts", o->mounts);
	if (o->tty)
		json_object_set_new(o->options, "tty", json_true());
	/* The rootfs read-only in the spec (runc remounts it after making the
	 * mount points), not a view: a view cannot get /run or /dev made in
	 * an image that lacks them. */
	if (o->readonly)
		json_object_set_new(o->options, "readonly_rootfs", json_true());
	json_object_set(body, "options", o->options);
	if (o->snapshotter != NULL)
		json_object_set_new(body, "snapshotter", json_string(o->snapshotter));
	if (o->runtime != NULL)
		json_object_set_new(body, "runtime", json_pack("{s:s,s:{s:s}}", "name",
		    DEFAULT_RUNTIME, "options", "binary_name", o->runtime));
	return body;
}

/* Task and container both go, whatever state the task is in. */
static void
remove_all(struct keg_context *ctx, const char *id, bool task)
{
	char *esc = api_escape(id);
	char *tpath = xasprintf("/tasks/%s?force=1", esc);
	char *cpath = xasprintf("/containers/%s", esc);
	/* A task that was never made is no error to report here. */
	if (task && api_call(ctx->api, "DELETE", tpath, NULL, NULL) != API_OK &&
	    strcmp(api_error_code(ctx->api), "not_found") != 0)
		cmd_api_error(ctx);
	if (api_call(ctx->api, "DELETE", cpath, NULL, NULL) != API_OK)
		cmd_api_error(ctx);
	free(esc);
	free(tpath);
	free(cpath);
}

static int
run_task(struct keg_context *ctx, const struct run_opts *o, const char *id, int *status)
{
	/* Without a terminal the output is all in the task's log, so the
	 * task is created and started in one runtime call; with one, it is
	 * attached before the start: not a byte of output is lost. */
	bool start_now = !o->tty;
	json_t *body = json_pack("{s:s,s:b,s:b}", "container_id", id, "terminal", o->tty,
	    "start", start_now);
	if (o->tty)
		json_object_set_new(body, "options", json_pack("{s:b}", "stdin", 1));
	enum api_result res = api_call(ctx->api, "POST", "/tasks", body, NULL);
	json_decref(body);
	if (res != API_OK)
		return cmd_api_error(ctx);
	if (o->detach)
		return start_now ? EXIT_OK : task_start(ctx, id, NULL);
	return o->tty ? task_attach_wait(ctx, id, NULL, true, status) :
	    task_follow(ctx, id, NULL, status);
}

static int
run_run(struct keg_context *ctx, int argc, char **argv)
{
	struct run_opts o = { .options = json_object(), .env = json_array(),
	    .mounts = json_array() };
	int rc = parse_options(ctx, argc, argv, &o), status = 0;
	if (rc >= 0)
		goto out;
	const char *ref = argv[optind], *id = argv[optind + 1];
	json_t *body = container_body(&o, ref, id, argv + optind + 2, argc - optind - 2);
	enum api_result res = api_call(ctx->api, "POST", "/containers", body, NULL);
	json_decref(body);
	if (res != API_OK) {
		rc = cmd_api_error(ctx);
		goto out;
	}
	rc = run_task(ctx, &o, id, &status);
	if (o.rm)
		remove_all(ctx, id, true);
	if (rc == EXIT_OK && !o.detach)
		rc = status;
out:
	json_decref(o.options);
	json_decref(o.env);
	json_decref(o.mounts);
	return rc;
}

const struct keg_command cmd_run = {
	.name = "run",
	.summary = "Run a command in a new container, as ctr run",
	.synopsis = "[--rm] [-d] [-t] [OPTION]... IMAGE ID [COMMAND [ARG...]]",
	.options = "Options:\n"
	    "      --rm                delete the task and container when it exits\n"
	    "  -d, --detach            return once it started, printing nothing\n"
	    "  -t, --tty               give it a terminal: an interactive session\n"
	    "      --env KEY=VALUE     an environment variable (repeatable)\n"
	    "      --user USER         name, uid, uid:gid or name:group (in the image)\n"
	    "      --cwd DIR           its working directory\n"
	    "      --mount SPEC        type=bind,src=/host,dst=/in,options=rbind:ro\n"
	    "                          (repeatable)\n"
	    "      --memory-limit N    bytes, or with k, m, g\n"
	    "      --runtime BIN       runc-compatible binary (runc, crun, a path)\n"
	    "      --snapshotter NAME  where the image is unpacked (default: kegd's)\n"
	    "      --net-host          the host's network instead of a new one\n"
	    "      --readonly          a read-only root file system\n"
	    "\nIts exit status is keg's; Ctrl-C and kill are passed on to it.\n",
	.run = run_run,
};
