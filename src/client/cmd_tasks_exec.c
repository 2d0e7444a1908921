/* keg tasks exec: one more process in a running task, as `ctr tasks exec`:
 * its output here (or the terminal with -t), signals forwarded, keg's exit
 * status its. The exec is deleted once it has stopped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client/command.h"
#include "client/task_io.h"
#include "common/util.h"

struct exec_opts {
	bool tty, detach;
	const char *eid, *user, *cwd;
	json_t *env;
};

enum { OPT_EXEC_ID = 1, OPT_USER, OPT_CWD, OPT_ENV };

static int
parse_options(struct keg_context *ctx, int argc, char **argv, struct exec_opts *o)
{
	static const struct option opts[] = {
		{ "tty", no_argument, NULL, 't' },
		{ "detach", no_argument, NULL, 'd' },
		{ "exec-id", required_argument, NULL, OPT_EXEC_ID },
		{ "user", required_argument, NULL, OPT_USER },
		{ "cwd", required_argument, NULL, OPT_CWD },
		{ "env", required_argument, NULL, OPT_ENV },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;
	/* '+': the command's own options are not keg's. */
	while ((opt = cmd_getopt(ctx, argc, argv, "+tdh", opts)) != -1) {
		switch (opt) {
		case 't': o->tty = true; break;
		case 'd': o->detach = true; break;
		case OPT_EXEC_ID: o->eid = optarg; break;
		case OPT_USER: o->user = optarg; break;
		case OPT_CWD: o->cwd = optarg; break;
		case OPT_ENV:
			if (strchr(optarg, '=') == NULL)
				return cmd_usage_error(ctx, "--env takes KEY=VALUE, not %s", optarg);
			json_array_append_new(o->env, json_string(optarg));
			break;
		default: return cmd_opt_exit(opt);
		}
	}
	if (argc - optind < 2)
		return cmd_usage_error(ctx, "a task id and a command are needed");
	return -1;
}

/* --user uid[:gid]: an exec runs with ids (names are the image's, which
 * only container creation resolves). */
static int
user_object(struct keg_context *ctx, const char *user, json_t *process)
{
	unsigned long uid, gid;
	char tail;
	int n = sscanf(user, "%lu:%lu%c", &uid, &gid, &tail);
	if (n == 1 && strchr(user, ':') == NULL)
		gid = uid;
	else if (n != 2)
		return cmd_usage_error(ctx, "--user takes UID[:GID], not %s", user);
	json_object_set_new(process, "user", json_pack("{s:I,s:I}", "uid", (json_int_t)uid,
	    "gid", (json_int_t)gid));
	return -1;
}

static json_t *
process_object(const struct exec_opts *o, char **args, int n)
{
	json_t *argv = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(argv, json_string(args[i]));
	json_t *p = json_pack("{s:o,s:b}", "args", argv, "terminal", o->tty);
	if (json_array_size(o->env) > 0)
		json_object_set(p, "env", o->env);
	if (o->cwd != NULL)
		json_object_set_new(p, "cwd", json_string(o->cwd));
	return p;
}

static int
run_exec(struct keg_context *ctx, int argc, char **argv)
{
	struct exec_opts o = { .env = json_array() };
	char eid_buf[64];
	int rc = parse_options(ctx, argc, argv, &o), status = 0;
	json_t *process = NULL;
	if (rc >= 0)
		goto out;
	process = process_object(&o, argv + optind + 1, argc - optind - 1);
	if (o.user != NULL && (rc = user_object(ctx, o.user, process)) >= 0)
		goto out;
	const char *id = argv[optind];
	if (o.eid == NULL) {
		snprintf(eid_buf, sizeof(eid_buf), "exec-%ld-%ld", (long)getpid(), (long)time(NULL));
		o.eid = eid_buf;
	}
	char *path = task_path(id, NULL, "execs");
	json_t *body = json_pack("{s:s,s:O}", "exec_id", o.eid, "process", process);
	enum api_result res = api_call(ctx->api, "POST", path, body, NULL);
	json_decref(body);
	free(path);
	if (res != API_OK) {
		rc = cmd_api_error(ctx);
		goto out;
	}
	if (o.detach) {
		rc = task_start(ctx, id, o.eid);
		goto out;
	}
	rc = o.tty ? task_attach_wait(ctx, id, o.eid, true, &status) :
	    task_start_follow(ctx, id, o.eid, &status);
	/* A stopped exec has nothing more to say: remove it, as ctr does. */
	char *del = task_path(id, o.eid, NULL);
	api_call(ctx->api, "DELETE", del, NULL, NULL);
	free(del);
	if (rc == EXIT_OK)
		rc = status;
out:
	json_decref(process);
	json_decref(o.env);
	return rc;
}

const struct keg_command cmd_tasks_exec = {
	.name = "exec",
	.summary = "Run one more process in a running task",
	.synopsis = "[-t] [-d] [--exec-id EID] [--user UID[:GID]] [--cwd DIR] "
	    "[--env KEY=VALUE]... ID COMMAND [ARG...]",
	.options = "Options:\n"
	    "  -t, --tty            a terminal for the process (interactive)\n"
	    "  -d, --detach         return once it started\n"
	    "      --exec-id EID    its id (default: exec-PID-TIME)\n"
	    "      --user UID[:GID] run as these ids\n"
	    "      --cwd DIR        its working directory\n"
	    "      --env KEY=VALUE  an environment variable (repeatable)\n",
	.run = run_exec,
};
