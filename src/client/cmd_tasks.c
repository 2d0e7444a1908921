/* keg tasks: containerd's tasks as `ctr tasks` handles them. A task is a
 * container's running process, named by the container's id: ls, start,
 * kill, rm, ps, pause, resume, metrics, logs, wait, attach here; exec in
 * cmd_tasks_exec.c, checkpoint and restore in cmd_tasks_checkpoint.c; the terminal and stream work in task_io.c. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/command.h"
#include "client/output.h"
#include "client/resource.h"
#include "client/task_io.h"
#include "common/util.h"

static const char *
text(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s ? s : "";
}

/* ---- ls ------------------------------------------------------------------ */

static void
add_task_row(struct table *t, const json_t *task)
{
	char pid[32], status[32];
	snprintf(pid, sizeof(pid), "%lld", (long long)json_integer_value(json_object_get(task, "pid")));
	/* ctr shows the status in capitals: RUNNING, STOPPED. */
	snprintf(status, sizeof(status), "%s", text(task, "status"));
	for (char *p = status; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	const char *row[] = { text(task, "id"), pid, status };
	table_add_row(t, row);
}

static int
run_list(struct keg_context *ctx, int argc, char **argv)
{
	static const char *const headers[] = { "TASK", "PID", "STATUS" };
	static const struct list_spec spec = {
		"/tasks", "tasks", "id", headers, 3, add_task_row,
	};
	return resource_list(ctx, argc, argv, &spec);
}

/* ---- the one-ID commands ------------------------------------------------- */

/* Options -h only and exactly one ID: -1 to go on, else the status. */
static int
one_id(struct keg_context *ctx, int argc, char **argv)
{
	return resource_operands(ctx, argc, argv, 1, "a task id is needed", "too many arguments");
}

/* POST /tasks/ID/WHAT without a body; silent on success, as ctr. */
static int
post_simple(struct keg_context *ctx, int argc, char **argv, const char *what)
{
	int rc = one_id(ctx, argc, argv);
	if (rc >= 0)
		return rc;
	char *path = task_path(argv[optind], NULL, what);
	json_t *reply = NULL;
	enum api_result res = api_call(ctx->api, "POST", path, NULL, &reply);
	free(path);
	if (res != API_OK)
		return cmd_api_error(ctx);
	return resource_print_changed(ctx, reply);
}

static int
run_pause(struct keg_context *ctx, int argc, char **argv)
{
	return post_simple(ctx, argc, argv, "pause");
}

static int
run_resume(struct keg_context *ctx, int argc, char **argv)
{
	return post_simple(ctx, argc, argv, "resume");
}

/* GET /tasks/ID/WHAT, printed by print (as JSON with --format json). */
static int
get_and_print(struct keg_context *ctx, int argc, char **argv, const char *what,
    void (*print)(const json_t *reply, const void *arg))
{
	int rc = one_id(ctx, argc, argv);
	if (rc >= 0)
		return rc;
	char *path = task_path(argv[optind], NULL, what);
	rc = resource_show(ctx, path, print, NULL);
	free(path);
	return rc;
}

static void
print_pids(const json_t *reply, const void *arg)
{
	static const char *const headers[] = { "PID" };
	struct table *t = table_new(1, headers);
	size_t i;
	json_t *p;
	(void)arg;
	json_array_foreach(json_object_get(reply, "processes"), i, p) {
		char pid[32];
		snprintf(pid, sizeof(pid), "%lld",
		    (long long)json_integer_value(json_object_get(p, "pid")));
		const char *row[] = { pid };
		table_add_row(t, row);
	}
	table_print(t, stdout);
	table_free(t);
}

static int
run_ps(struct keg_context *ctx, int argc, char **argv)
{
	return get_and_print(ctx, argc, argv, "pids", print_pids);
}

/* ---- metrics ------------------------------------------------------------- */

static void
metric_row(struct table *t, const json_t *m, const char *group, const char *field)
{
	json_t *v = json_object_get(json_object_get(m, group), field);
	if (!json_is_integer(v))
		return;
	char name[64], value[32];
	snprintf(name, sizeof(name), "%s.%s", group, field);
	snprintf(value, sizeof(value), "%lld", (long long)json_integer_value(v));
	const char *row[] = { name, value };
	table_add_row(t, row);
}

static void
print_metrics(const json_t *m, const void *arg)
{
	static const char *const headers[] = { "METRIC", "VALUE" };
	static const char *const fields[][2] = {
		{ "cpu", "usage_usec" }, { "cpu", "user_usec" }, { "cpu", "system_usec" },
		{ "cpu", "throttled_usec" }, { "memory", "usage" }, { "memory", "limit" },
		{ "memory", "max_usage" }, { "memory", "rss" }, { "memory", "cache" },
		{ "pids", "current" }, { "pids", "limit" }, { "io", "read_bytes" },
		{ "io", "write_bytes" },
	};
	struct table *t = table_new(2, headers);
	(void)arg;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		metric_row(t, m, fields[i][0], fields[i][1]);
	table_print(t, stdout);
	table_free(t);
}

static int
run_metrics(struct keg_context *ctx, int argc, char **argv)
{
	return get_and_print(ctx, argc, argv, "metrics", print_metrics);
}

/* ---- kill, rm, wait ------------------------------------------------------ */

enum { OPT_EXEC_ID = 1, OPT_TAIL, OPT_SINCE };

static int
run_kill(struct keg_context *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "signal", required_argument, NULL, 's' },
		{ "all", no_argument, NULL, 'a' },
		{ "exec-id", required_argument, NULL, OPT_EXEC_ID },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int sig = SIGTERM, opt;
	bool all = false;
	const char *eid = NULL;
	while ((opt = cmd_getopt(ctx, argc, argv, "s:ah", opts)) != -1) {
		if (opt == 's' && (sig = task_signal_parse(optarg)) < 0)
			return cmd_usage_error(ctx, "unknown signal %s", optarg);
		else if (opt == 'a')
			all = true;
		else if (opt == OPT_EXEC_ID)
			eid = optarg;
		else if (opt != 's')
			return cmd_opt_exit(opt);
	}
	if (argc - optind != 1)
		return cmd_usage_error(ctx, "one task id is needed");
	char *path = task_path(argv[optind], eid, "kill");
	json_t *body = json_pack("{s:i,s:b}", "signal", sig, "all", all);
	enum api_result res = api_call(ctx->api, "POST", path, body, NULL);
	json_decref(body);
	free(path);
	return res == API_OK ? EXIT_OK : cmd_api_error(ctx);
}

/* Prints each id deleted (or its exit status with --format json); goes on
 * past a failure, as rm does. */
static int
run_remove(struct keg_context *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool force = false;
	int opt, rc = EXIT_OK;
	while ((opt = cmd_getopt(ctx, argc, argv, "fh", opts)) != -1) {
		if (opt != 'f')
			return cmd_opt_exit(opt);
		force = true;
	}
	if (optind >= argc)
		return cmd_usage_error(ctx, "a task id is needed");
	for (int i = optind; i < argc; i++) {
		char *base = task_path(argv[i], NULL, NULL);
		char *path = xasprintf("%s%s", base, force ? "?force=1" : "");
		json_t *reply = NULL;
		if (api_call(ctx->api, "DELETE", path, NULL, &reply) != API_OK)
			rc = cmd_api_error(ctx);
		else if (ctx->format == FORMAT_JSON)
			output_json(reply);
		else
			printf("%s\n", argv[i]);
		json_decref(reply);
		free(path);
		free(base);
		fflush(stdout);
	}
	return rc;
}

/* Prints the exit status once the process has stopped; keg's own status
 * is 0 (the printed number is the answer), as `docker wait`. */
static int
run_wait(struct keg_context *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "exec-id", required_argument, NULL, OPT_EXEC_ID },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *eid = NULL;
	int opt, status;
	while ((opt = cmd_getopt(ctx, argc, argv, "h", opts)) != -1) {
		if (opt != OPT_EXEC_ID)
			return cmd_opt_exit(opt);
		eid = optarg;
	}
	if (argc - optind != 1)
		return cmd_usage_error(ctx, "one task id is needed");
	int rc = task_wait_status(ctx, argv[optind], eid, &status);
	if (rc != EXIT_OK)
		return rc;
	return printf("%d\n", status) < 0 ? cmd_output_error() : EXIT_OK;
}

/* ---- logs, attach, start ------------------------------------------------- */

static int
run_logs(struct keg_context *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "tail", required_argument, NULL, OPT_TAIL },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "exec-id", required_argument, NULL, OPT_EXEC_ID },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct task_logs_opts o = { .tail = -1, .json = ctx->format == FORMAT_JSON };
	const char *eid = NULL;
	char *end;
	int opt;
	while ((opt = cmd_getopt(ctx, argc, argv, "fh", opts)) != -1) {
		if (opt == 'f')
			o.follow = true;
		else if (opt == OPT_TAIL && ((o.tail = strtoll(optarg, &end, 10)) < 0 ||
		    *end != '\0' || end == optarg))
			return cmd_usage_error(ctx, "--tail needs a count, not %s", optarg);
		else if (opt == OPT_SINCE)
			o.since = optarg;
		else if (opt == OPT_EXEC_ID)
			eid = optarg;
		else if (opt != OPT_TAIL)
			return cmd_opt_exit(opt);
	}
	if (argc - optind != 1)
		return cmd_usage_error(ctx, "one task id is needed");
	return task_logs_print(ctx, argv[optind], eid, &o);
}

/* The process's terminal here until it ends; keg's status is then the
 * process's, as with keg run -t. */
static int
run_attach(struct keg_context *ctx, int argc, char **argv)
{
	int rc = one_id(ctx, argc, argv), status = 0;
	if (rc >= 0)
		return rc;
	rc = task_attach_wait(ctx, argv[optind], NULL, false, &status);
	return rc != EXIT_OK ? rc : status;
}

/* Creates the container's task when it has none (as ctr's task start
 * does), then starts it; without -d follows its output and passes its
 * exit status on, as keg run. */
static int
run_start(struct keg_context *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "detach", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool detach = false;
	int opt, status = 0;
	while ((opt = cmd_getopt(ctx, argc, argv, "dh", opts)) != -1) {
		if (opt != 'd')
			return cmd_opt_exit(opt);
		detach = true;
	}
	if (argc - optind != 1)
		return cmd_usage_error(ctx, "one container id is needed");
	const char *id = argv[optind];
	json_t *body = json_pack("{s:s}", "container_id", id);
	enum api_result res = api_call(ctx->api, "POST", "/tasks", body, NULL);
	json_decref(body);
	if (res != API_OK && strcmp(api_error_code(ctx->api), "already_exists") != 0)
		return cmd_api_error(ctx);
	if (detach)
		return task_start(ctx, id, NULL);
	int rc = task_start_follow(ctx, id, NULL, &status);
	return rc != EXIT_OK ? rc : status;
}

/* ---- the table ----------------------------------------------------------- */

static const struct keg_command tasks_list = {
	.name = "ls", .alias = "list",
	.summary = "List the tasks",
	.synopsis = "[-q]",
	.options = "Options:\n  -q, --quiet   print only the ids\n",
	.run = run_list,
};

static const struct keg_command tasks_start = {
	.name = "start",
	.summary = "Start a container's task, printing its output until it exits",
	.synopsis = "[-d] CONTAINER",
	.options = "Options:\n  -d, --detach   return once started\n",
	.run = run_start,
};

static const struct keg_command tasks_kill = {
	.name = "kill",
	.summary = "Send a signal to a task (SIGTERM by default)",
	.synopsis = "[-s SIGNAL] [-a] [--exec-id EID] ID",
	.options = "Options:\n"
	    "  -s, --signal SIG   a name (TERM, SIGKILL) or a number\n"
	    "  -a, --all          to every process of the task\n"
	    "      --exec-id EID  to an exec process instead\n",
	.run = run_kill,
};

static const struct keg_command tasks_remove = {
	.name = "rm", .alias = "delete",
	.summary = "Delete stopped tasks (running ones too with -f: killed first)",
	.synopsis = "[-f] ID...",
	.options = "Options:\n  -f, --force   kill and delete a task that runs\n",
	.run = run_remove,
};

static const struct keg_command tasks_ps = {
	.name = "ps",
	.summary = "List the processes of a task",
	.synopsis = "ID",
	.run = run_ps,
};

static const struct keg_command tasks_pause = {
	.name = "pause",
	.summary = "Freeze every process of a task",
	.synopsis = "ID",
	.run = run_pause,
};

static const struct keg_command tasks_resume = {
	.name = "resume",
	.summary = "Thaw a paused task",
	.synopsis = "ID",
	.run = run_resume,
};

static const struct keg_command tasks_metrics = {
	.name = "metrics", .alias = "metric",
	.summary = "Show a task's cgroup metrics: cpu, memory, pids, io",
	.synopsis = "ID",
	.run = run_metrics,
};

static const struct keg_command tasks_logs = {
	.name = "logs",
	.summary = "Print a task's output (stdout to stdout, stderr to stderr)",
	.synopsis = "[-f] [--tail N] [--since TIME] [--exec-id EID] ID",
	.options = "Options:\n"
	    "  -f, --follow        go on printing until the task stops\n"
	    "      --tail N        only the last N lines\n"
	    "      --since TIME    lines from TIME on: RFC 3339, unix seconds, or\n"
	    "                      a duration ago (10s, 5m, 2h)\n"
	    "      --exec-id EID   an exec process's output\n",
	.run = run_logs,
};

static const struct keg_command tasks_wait = {
	.name = "wait",
	.summary = "Wait for a task to stop and print its exit status",
	.synopsis = "[--exec-id EID] ID",
	.run = run_wait,
};

static const struct keg_command tasks_attach = {
	.name = "attach",
	.summary = "Attach the terminal to a running task",
	.synopsis = "ID",
	.run = run_attach,
};

static const struct keg_command *const task_commands[] = {
	&tasks_list, &tasks_start, &tasks_kill, &tasks_remove, &tasks_ps, &tasks_pause,
	&tasks_resume, &cmd_tasks_exec, &tasks_metrics, &tasks_logs, &tasks_wait,
	&tasks_attach, &cmd_tasks_checkpoint, &cmd_tasks_restore, NULL,
};

const struct keg_command cmd_tasks = {
	.name = "tasks", .alias = "task",
	.summary = "Manage tasks (the running processes of containers)",
	.synopsis = "COMMAND [ARG...]",
	.subcommands = task_commands,
};
