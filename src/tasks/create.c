/* Task create: the container's spec is checked again (it may have been
 * patched since), the bundle STATE/tasks/NS/ID is made with the
 * container's snapshot mounted on rootfs/ and config.json beside it, and a
 * shim runs `runtime create`. The row is written first (status created,
 * no shim yet) so a concurrent create is refused and a crash part-way is
 * found at the next start; /tasks/create goes out once the shim is up.
 * With a checkpoint the shim runs `runtime restore --detach` instead: the
 * process runs at once, so the row says running and /tasks/start follows
 * /tasks/create, the pair containerd publishes for a restored task. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/names.h"
#include "common/json_file.h"
#include "common/timefmt.h"
#include "common/util.h"
#include "events/bus.h"
#include "oci/spec.h"
#include "runtime/shim_client.h"
#include "snapshots/service.h"
#include "snapshotters/mount.h"
#include "store/containers.h"
#include "store/db.h"
#include "tasks/internal.h"

/* Undoes a create that failed after its row was written. */
static void
create_undo(struct task_op *op)
{
	struct tasks *t = op->t;
	task_bundle_remove(op->path);
	if (store_begin(t->st) == 0)
		store_finish(t->st, store_task_delete(t->st, op->ns, op->cid, ""));
	if (op->task) {
		op->task->busy = false;
		task_release(op->task);
		op->task = NULL;
	}
}

/* A container made with "readonly" has a view snapshot as its rootfs, in
 * which the runtime cannot make the mount points the spec needs (/run,
 * /dev/…): its bare EROFS says nothing of that. */
static const char *
readonly_hint(const char *error)
{
	if (strstr(error, "read-only file system") == NULL)
		return "";
	return " (the container's rootfs is read-only, as a container created with "
	    "\"readonly\" (a view snapshot) is: the runtime cannot create mount points "
	    "such as /run in it; for a read-only root use options.readonly_rootfs, which "
	    "`keg run --readonly` sets)";
}

/* /tasks/create, and for a restore or a create that starts /tasks/start
 * too (in the caller's transaction). */
static void
publish_created(struct task_op *op, pid_t pid)
{
	struct tasks *t = op->t;
	event_bus_publish(t->bus, op->ns, "/tasks/create", json_pack(
	    "{s:s,s:s,s:[],s:{s:s,s:s,s:s,s:b},s:s,s:I}", "container_id", op->cid,
	    "bundle", op->path, "rootfs", "io", "stdin", "", "stdout", "",
	    "stderr", "", "terminal", op->flag, "checkpoint",
	    op->checkpoint ? op->checkpoint : "", "pid", (json_int_t)pid));
	if (op->checkpoint || op->start)
		event_bus_publish(t->bus, op->ns, "/tasks/start", json_pack("{s:s,s:I}",
		    "container_id", op->cid, "pid", (json_int_t)pid));
}

static void
shim_ready(const struct shim_info *info, const char *error, void *arg)
{
	struct task_op *op = arg;
	struct tasks *t = op->t;
	if (info == NULL) {
		create_undo(op);
		op_fail(op, ERR_FAILED_PRECONDITION, "the runtime cannot %s the task: %s%s",
		    op->checkpoint ? "restore" : "create", error, readonly_hint(error));
		return;
	}
	enum store_result res = STORE_ERROR;
	if (store_begin(t->st) == 0) {
		res = store_task_set_started(t->st, op->ns, op->cid, "",
		    op->checkpoint || op->start ? TASK_RUNNING : TASK_CREATED, info->pid,
		    info->shim_pid,
		    info->shim_start, time_now_ns());
		if (res == STORE_OK)
			publish_created(op, info->pid);
		res = store_finish(t->st, res);
	}
	struct task *k = op->task;
	k->busy = false;
	task_watch(k, info->shim_pid, info->shim_start);
	/* Registered before start, so a process killed at once is seen. */
	task_oom_start(k, info->pid);
	if (res != STORE_OK) {
		op_fail(op, ERR_INTERNAL, "recording the task failed");
		return;
	}
	log_info("tasks: %s/%s %s (pid %d, shim %d)", op->ns, op->cid,
	    op->checkpoint ? "restored" : op->start ? "created and started" : "created",
	    (int)info->pid, (int)info->shim_pid);
	struct task_row row;
	struct task_error err;
	if (task_row_load(t, op->ns, op->cid, "", &row, &err) < 0) {
		op_finish(op, NULL, &err);
		return;
	}
	op_finish(op, task_row_json(&row), NULL);
	task_row_clear(&row);
}

/* spec with process.terminal as asked, written as BUNDLE/config.json. */
static int
write_config(struct task_op *op, const json_t *spec, bool terminal, struct task_error *err)
{
	json_t *copy = json_deep_copy(spec);
	json_t *proc = json_object_get(copy, "process");
	if (terminal && json_is_object(proc))
		json_object_set_new(proc, "terminal", json_true());
	op->flag = json_is_true(json_object_get(proc, "terminal"));
	int rc = json_write_file_atomic(op->path, "config.json", copy, JSON_COMPACT);
	json_decref(copy);
	if (rc < 0)
		task_err(err, ERR_INTERNAL, "writing %s/config.json: %s", op->path,
		    strerror(errno));
	return rc;
}

/* Mounts the container's snapshot on BUNDLE/rootfs. */
static int
mount_rootfs(struct task_op *op, const json_t *c, struct task_error *err)
{
	const char *sn = json_string_value(json_object_get(c, "snapshotter"));
	const char *key = json_string_value(json_object_get(c, "snapshot_key"));
	if (key == NULL || key[0] == '\0') {
		task_err(err, ERR_FAILED_PRECONDITION, "container %s has no snapshot", op->cid);
		return -1;
	}
	struct snapshot_error serr;
	json_t *mounts = snapshots_mounts(op->t->snaps, op->ns, sn && sn[0] ? sn : NULL, key,
	    &serr);
	if (mounts == NULL) {
		task_err(err, serr.code == ERR_NOT_FOUND ? ERR_FAILED_PRECONDITION : serr.code,
		    "the snapshot of container %s: %s", op->cid, serr.message);
		return -1;
	}
	char *rootfs = xasprintf("%s/rootfs", op->path), why[512];
	int rc = mkdir(rootfs, 0755);
	if (rc < 0)
		task_err(err, ERR_INTERNAL, "mkdir %s: %s", rootfs, strerror(errno));
	else if ((rc = mounts_mount(mounts, rootfs, why, sizeof(why))) < 0)
		task_err(err, ERR_INTERNAL, "mounting the rootfs: %s", why);
	free(rootfs);
	json_decref(mounts);
	return rc;
}

/* The directories the shim and the runtime need. */
static int
make_dirs(struct task_op *op, struct task_error *err)
{
	struct tasks *t = op->t;
	char *nsdir = xasprintf("%s/tasks/%s", t->state, op->ns);
	char *logdir = xasprintf("%s/%s", t->log_root, op->ns);
	char *rroot = task_runtime_root(t, op->ns);
	int rc = -1;
	const char *bad = nsdir;
	/* A bundle left by a crash before its row was written goes first. */
	if (access(op->path, F_OK) == 0)
		task_bundle_remove(op->path);
	if (mkdir_p(nsdir, 0700) == 0 && (bad = op->path, mkdir(op->path, 0700) == 0) &&
	    (bad = logdir, mkdir_p(logdir, 0700) == 0) && (bad = rroot, mkdir_p(rroot, 0700) == 0))
		rc = 0;
	if (rc < 0)
		task_err(err, ERR_INTERNAL, "mkdir %s: %s", bad, strerror(errno));
	free(nsdir);
	free(logdir);
	free(rroot);
	return rc;
}

static int
launch(struct task_op *op, const char *runtime, bool terminal, bool stdin_open,
    struct task_error *err)
{
	struct tasks *t = op->t;
	char *rroot = task_runtime_root(t, op->ns);
	char *log = task_log_file(t, op->ns, op->cid, "");
	/* What an earlier task of this id (or a crash) left is not this one's. */
	task_logs_remove(t, op->ns, op->cid, "");
	if (task_runtime_note(op->path, runtime) < 0) {
		task_err(err, ERR_INTERNAL, "writing %s/runtime: %s", op->path, strerror(errno));
		free(rroot);
		free(log);
		return -1;
	}
	struct shim_launch_config sc = {
		.base = t->base, .shim_binary = t->shim_binary, .id = op->cid,
		.bundle = op->path, .state_dir = op->path, .runtime = runtime,
		.runtime_root = rroot, .log_path = log, .exec_process = NULL,
		.restore = op->checkpoint, .start = op->start, .tty = terminal,
		.stdin_open = stdin_open,
	};
	int rc = shim_launch(&sc, shim_ready, op);
	if (rc < 0)
		task_err(err, ERR_INTERNAL, "starting the shim %s: %s", t->shim_binary,
		    strerror(errno));
	free(rroot);
	free(log);
	return rc;
}

/* The container, its spec checked, and the runtime to use. */
static json_t *
load_container(struct tasks *t, const char *ns, const char *id, char **runtime,
    struct task_error *err)
{
	enum store_result res;
	json_t *c = store_container_get(t->st, ns, id, &res);
	if (c == NULL) {
		task_err(err, res == STORE_NOT_FOUND ? ERR_NOT_FOUND : ERR_INTERNAL,
		    "container %s %s", id, res == STORE_NOT_FOUND ? "not found" :
		    "cannot be read");
		return NULL;
	}
	struct oci_error oerr;
	if (oci_spec_check(json_object_get(c, "spec"), &oerr) < 0) {
		task_err(err, ERR_INVALID_ARGUMENT, "the spec of container %s: %s", id,
		    oerr.message);
	} else if ((*runtime = task_runtime_binary(t, c, err)) != NULL) {
		return c;
	}
	json_decref(c);
	return NULL;
}

static int
insert_row(struct tasks *t, const char *ns, const char *id, bool terminal,
    struct task_error *err)
{
	struct task_row row = { .ns = (char *)ns, .container_id = (char *)id,
		.exec_id = (char *)"", .status = TASK_CREATED, .terminal = terminal };
	if (store_begin(t->st) < 0) {
		task_err(err, ERR_INTERNAL, "store busy");
		return -1;
	}
	enum store_result res = store_finish(t->st, store_task_insert(t->st, &row,
	    time_now_ns()));
	if (res == STORE_OK)
		return 0;
	task_err(err, res == STORE_EXISTS ? ERR_ALREADY_EXISTS : ERR_INTERNAL,
	    res == STORE_EXISTS ? "task %s exists" : "recording task %s failed", id);
	return -1;
}

void
tasks_create(struct tasks *t, const char *ns, const char *id,
    const struct task_create_opts *o, task_done_fn done, void *arg)
{
	struct task_error err;
	char *runtime = NULL;
	if (!identifier_valid(id)) {
		task_err(&err, ERR_INVALID_ARGUMENT, "invalid container id");
		done(NULL, &err, arg);
		return;
	}
	if (task_create_deferred(t, ns, id, o, done, arg))
		return;
	json_t *c = load_container(t, ns, id, &runtime, &err);
	const json_t *proc = json_object_get(json_object_get(c, "spec"), "process");
	bool terminal = o->terminal || json_is_true(json_object_get(proc, "terminal"));
	if (c == NULL || insert_row(t, ns, id, terminal, &err) < 0) {
		json_decref(c);
		free(runtime);
		done(NULL, &err, arg);
		return;
	}
	struct task_op *op = op_new(t, ns, id, "", done, arg);
	op->path = task_bundle_dir(t, ns, id);
	op->checkpoint = o->checkpoint ? xstrdup(o->checkpoint) : NULL;
	op->start = o->start && op->checkpoint == NULL;
	op->task = task_find(t, ns, id, "", true);
	op->task->busy = true;
	if (make_dirs(op, &err) < 0 || mount_rootfs(op, c, &err) < 0 ||
	    write_config(op, json_object_get(c, "spec"), terminal, &err) < 0 ||
	    launch(op, runtime, op->flag, o->stdin_open, &err) < 0) {
		create_undo(op);
		op_finish(op, NULL, &err);
	}
	json_decref(c);
	free(runtime);
}
