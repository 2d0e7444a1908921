/* keg tasks checkpoint and restore: a task's state saved to a directory
 * by the runtime (CRIU) and a container's task made again from it, as
 * `ctr tasks checkpoint` and `ctr tasks start --checkpoint`. kegd runs on
 * this host, so a relative DIR is made absolute here. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "client/command.h"
#include "client/resource.h"
#include "client/task_io.h"
#include "common/util.h"

/* DIR as an absolute path (malloc'd); it need not exist yet. */
static char *
absolute(const char *dir)
{
	char cwd[PATH_MAX];
	if (dir[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		return xstrdup(dir);
	return xasprintf("%s/%s", cwd, dir);
}

static int
run_checkpoint(struct keg_context *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "leave-running", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool leave = false;
	int opt;
	while ((opt = cmd_getopt(ctx, argc, argv, "h", opts)) != -1) {
		if (opt != 'l')
			return cmd_opt_exit(opt);
		leave = true;
	}
	if (argc - optind != 2)
		return cmd_usage_error(ctx, "a task id and an image directory are needed");
	char *dir = absolute(argv[optind + 1]);
	char *path = task_path(argv[optind], NULL, "checkpoint");
	json_t *body = json_pack("{s:s,s:b}", "image_path", dir, "leave_running", leave);
	json_t *reply = NULL;
	enum api_result res = api_call(ctx->api, "POST", path, body, &reply);
	json_decref(body);
	free(path);
	free(dir);
	if (res != API_OK)
		return cmd_api_error(ctx);
	return resource_print_changed(ctx, reply);
}

static int
run_restore(struct keg_context *ctx, int argc, char **argv)
{
	int rc = resource_operands(ctx, argc, argv, 2,
	    "a container id and an image directory are needed", "too many arguments");
	if (rc >= 0)
		return rc;
	if (argc - optind != 2)
		return cmd_usage_error(ctx, "a container id and an image directory are needed");
	char *dir = absolute(argv[optind + 1]);
	json_t *body = json_pack("{s:s,s:s}", "container_id", argv[optind], "checkpoint", dir);
	json_t *reply = NULL;
	enum api_result res = api_call(ctx->api, "POST", "/tasks", body, &reply);
	json_decref(body);
	free(dir);
	if (res != API_OK)
		return cmd_api_error(ctx);
	return resource_print_changed(ctx, reply);
}

const struct keg_command cmd_tasks_checkpoint = {
	.name = "checkpoint",
	.summary = "Save a task's state to a directory (CRIU); it stops unless --leave-running",
	.synopsis = "[--leave-running] ID DIR",
	.options = "Options:\n"
	    "      --leave-running  keep the task running after the checkpoint\n",
	.run = run_checkpoint,
};

const struct keg_command cmd_tasks_restore = {
	.name = "restore",
	.summary = "Make a container's task again, running, from a checkpoint directory",
	.synopsis = "CONTAINER DIR",
	.run = run_restore,
};
