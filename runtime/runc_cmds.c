/* The runtime's subcommands kegd uses, as runc_run calls. */
#include "runtime/runc.h"

#include <stdio.h>
#include <string.h>

int
runc_start(const struct runc_ctx *ctx, const char *id, runc_done_fn done, void *arg)
{
	const char *args[] = { "start", id, NULL };
	return runc_run(ctx, args, NULL, 0, done, arg);
}

int
runc_kill(const struct runc_ctx *ctx, const char *id, int sig, bool all,
    runc_done_fn done, void *arg)
{
	char num[16];
	snprintf(num, sizeof(num), "%d", sig);
	const char *with_all[] = { "kill", "--all", id, num, NULL };
	const char *one[] = { "kill", id, num, NULL };
	return runc_run(ctx, all ? with_all : one, NULL, 0, done, arg);
}

int
runc_pause(const struct runc_ctx *ctx, const char *id, runc_done_fn done, void *arg)
{
	const char *args[] = { "pause", id, NULL };
	return runc_run(ctx, args, NULL, 0, done, arg);
}

int
runc_resume(const struct runc_ctx *ctx, const char *id, runc_done_fn done, void *arg)
{
	const char *args[] = { "resume", id, NULL };
	return runc_run(ctx, args, NULL, 0, done, arg);
}

int
runc_ps(const struct runc_ctx *ctx, const char *id, runc_done_fn done, void *arg)
{
	const char *args[] = { "ps", "--format", "json", id, NULL };
	return runc_run(ctx, args, NULL, 0, done, arg);
}

int
runc_delete(const struct runc_ctx *ctx, const char *id, bool force,
    runc_done_fn done, void *arg)
{
	const char *forced[] = { "delete", "--force", id, NULL };
	const char *plain[] = { "delete", id, NULL };
	return runc_run(ctx, force ? forced : plain, NULL, 0, done, arg);
}

int
runc_update(const struct runc_ctx *ctx, const char *id, const char *resources_json,
    runc_done_fn done, void *arg)
{
	const char *args[] = { "update", "--resources", "-", id, NULL };
	return runc_run(ctx, args, resources_json, strlen(resources_json), done, arg);
}

int
runc_checkpoint(const struct runc_ctx *ctx, const char *id, const char *image_dir,
    const char *work_dir, bool leave_running, runc_done_fn done, void *arg)
{
	const char *args[10];
	int n = 0;
	args[n++] = "checkpoint";
	args[n++] = "--image-path";
	args[n++] = image_dir;
	if (work_dir != NULL) {
		args[n++] = "--work-path";
		args[n++] = work_dir;
	}
	if (leave_running)
		args[n++] = "--leave-running";
	args[n++] = id;
	args[n] = NULL;
	return runc_run(ctx, args, NULL, 0, done, arg);
}

int
runc_restore(const struct runc_ctx *ctx, const char *id, const char *bundle,
    const char *image_dir, const char *pid_file, runc_done_fn done, void *arg)
{
	const char *args[] = { "restore", "--detach", "--bundle", bundle, "--image-path",
		image_dir, "--pid-file", pid_file, id, NULL };
	return runc_run(ctx, args, NULL, 0, done, arg);
}
