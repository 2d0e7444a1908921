/* Task delete: `runtime delete --force` (which kills a process still
 * running, when forced, and removes the runtime's state and the cgroup),
 * the exit awaited when there was a process, the rootfs unmounted, the
 * bundle removed, and the rows (init and execs) dropped with
 * /tasks/delete in one transaction. A task already stopped is answered
 * before the runtime's delete, which follows (reclaim.c). */
#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/timefmt.h"
#include "common/util.h"
#include "events/bus.h"
#include "runtime/shim_client.h"
#include "store/db.h"
#include "tasks/internal.h"

static json_t *
delete_result(const struct task_row *r)
{
	char ts[RFC3339NANO_LEN];
	time_format_rfc3339nano(r->exited ? r->exited_at : 0, ts);
	return json_pack("{s:i,s:s,s:I}", "exit_status", r->exited ? r->exit_status : 0,
	    "exited_at", ts, "pid", (json_int_t)r->pid);
}

/* The task objects of the container's execs: their rows are gone. */
static void
free_exec_objects(struct tasks *t, const char *ns, const char *cid)
{
	struct task *k, *next;
	for (k = TAILQ_FIRST(&t->tasks); k != NULL; k = next) {
		next = TAILQ_NEXT(k, link);
		if (k->eid[0] != '\0' && strcmp(k->ns, ns) == 0 && strcmp(k->cid, cid) == 0)
			task_free(k);
	}
}

/* Drops the rows (init and execs) with /tasks/delete, and answers. */
static void
drop_rows(struct task_op *op, const struct task_row *row)
{
	struct tasks *t = op->t;
	task_logs_remove(t, op->ns, op->cid, "");
	json_t *result = delete_result(row);
	enum store_result res = STORE_ERROR;
	if (store_begin(t->st) == 0) {
		res = store_task_delete_all(t->st, op->ns, op->cid);
		if (res == STORE_OK) {
			json_t *ev = json_deep_copy(result);
			json_object_set_new(ev, "container_id", json_string(op->cid));
			json_object_set_new(ev, "id", json_string(op->cid));
			event_bus_publish(t->bus, op->ns, "/tasks/delete", ev);
		}
		res = store_finish(t->st, res);
	}
	free_exec_objects(t, op->ns, op->cid);
	if (res != STORE_OK) {
		json_decref(result);
		op_fail(op, ERR_INTERNAL, "removing the task from the store failed");
		return;
	}
	log_info("tasks: %s/%s deleted", op->ns, op->cid);
	op_finish(op, result, NULL);
}

static void
finish_init(struct task_op *op)
{
	struct task_row row;
	struct task_error err;
	if (task_row_load(op->t, op->ns, op->cid, "", &row, &err) < 0) {
		op->task->busy = false;
		task_release(op->task);
		op_finish(op, NULL, &err);
		return;
	}
	char *bundle = task_bundle_dir(op->t, op->ns, op->cid);
	task_bundle_remove(bundle);
	free(bundle);
	task_free(op->task);
	op->task = NULL;
	drop_rows(op, &row);
	task_row_clear(&row);
}

/* The process has ended: the answer does not wait for the runtime's
 * delete, which follows (reclaim.c). The rootfs goes first, so the
 * container's snapshot is free to remove once this answers. */
static void
delete_stopped(struct task_op *op, const struct runc_ctx *ctx)
{
	char *bundle = task_bundle_dir(op->t, op->ns, op->cid);
	task_rootfs_unmount(bundle);
	free(bundle);
	struct task *k = op->task;
	op->task = NULL;
	task_reclaim(k, ctx);
	drop_rows(op, &op->row);
}

static void
finish_exec(struct task_op *op)
{
	struct tasks *t = op->t;
	struct task_row row;
	struct task_error err;
	if (task_row_load(t, op->ns, op->cid, op->eid, &row, &err) < 0) {
		if (op->task) {
			op->task->busy = false;
			task_release(op->task);
		}
		op_finish(op, NULL, &err);
		return;
	}
	char *dir = task_dir(t, op->ns, op->cid, op->eid);
	if (task_remove_tree(dir) < 0)
		log_warn("tasks: removing %s: %s", dir, strerror(errno));
	free(dir);
	task_logs_remove(t, op->ns, op->cid, op->eid);
	json_t *result = delete_result(&row);
	task_row_clear(&row);
	enum store_result res = STORE_ERROR;
	if (store_begin(t->st) == 0)
		res = store_finish(t->st, store_task_delete(t->st, op->ns, op->cid, op->eid));
	if (op->task)
		task_free(op->task);
	op->task = NULL;
	if (res != STORE_OK) {
		json_decref(result);
		op_fail(op, ERR_INTERNAL, "removing the exec from the store failed");
		return;
	}
	op_finish(op, result, NULL);
}

static void
finish(struct task_op *op)
{
	if (task_is_init(op->eid))
		finish_init(op);
	else
		finish_exec(op);
}

/* From the loop: the exit handler that woke us still uses the task. */
static void
finish_later(evutil_socket_t fd, short what, void *arg)
{
	finish(arg);
}

static void
exited(json_t *result, const struct task_error *err, void *arg)
{
	struct task_op *op = arg;
	json_decref(result);
	(void)err;
	if (op->t->closing)
		return;		/* tasks_close fails and frees the op */
	event_base_once(op->t->base, -1, EV_TIMEOUT, finish_later, op, NULL);
}

/* Finishes once the process has stopped (its shim gone). */
static void
after_exit(struct task_op *op)
{
	struct task_row row;
	struct task *k = op->task;
	bool stopped = store_task_get(op->t->st, op->ns, op->cid, op->eid, &row) != STORE_OK ||
	    row.status == TASK_STOPPED;
	task_row_clear(&row);
	if (stopped) {
		finish(op);
	} else if (k->watch != NULL || k->exit_pending) {
		task_add_waiter(k, exited, op);
	} else {
		/* Nothing watches the shim (it could not be): judge now. */
		task_add_waiter(k, exited, op);
		task_handle_exit(k);
	}
}

static void
runtime_deleted(int status, const char *out, const char *errtext, void *arg)
{
	struct task_op *op = arg;
	struct task *k = op->task;
	if (status != 0) {
		char *msg = runc_error_message(errtext, NULL);
		/* Gone from the runtime already (a reboot emptied STATE): fine. */
		log_warn("tasks: runtime delete %s/%s: %s", op->ns, op->cid, msg);
		free(msg);
		if (k->watch != NULL && shim_alive(op->row.shim_pid, op->row.shim_start) &&
		    op->flag) {
			k->busy = false;
			struct task_error err;
			task_runtime_err(&err, ERR_FAILED_PRECONDITION, "runtime delete", errtext,
			    NULL);
			op_finish(op, NULL, &err);
			return;
		}
	}
	after_exit(op);
}

static int
check_deletable(const struct task_row *row, bool force, const char *id,
    struct task_error *err)
{
	if (force || row->status == TASK_STOPPED || row->status == TASK_CREATED)
		return 0;
	task_err(err, ERR_FAILED_PRECONDITION, "task %s is %s; kill it first or force",
	    id, task_status_name(row->status));
	return -1;
}

void
tasks_delete(struct tasks *t, const struct task_ref *ref, bool force, task_done_fn done,
    void *arg)
{
	if (!task_is_init(ref->exec_id)) {
		tasks_exec_delete(t, ref, force, done, arg);
		return;
	}
	struct task_row row;
	struct task_error err;
	if (task_row_load(t, ref->ns, ref->id, "", &row, &err) < 0 ||
	    check_deletable(&row, force, ref->id, &err) < 0) {
		task_row_clear(&row);
		done(NULL, &err, arg);
		return;
	}
	struct task *k = task_find(t, ref->ns, ref->id, "", true);
	if (k->busy) {
		task_row_clear(&row);
		task_err(&err, ERR_FAILED_PRECONDITION, "task %s is busy (being created or "
		    "deleted)", ref->id);
		done(NULL, &err, arg);
		return;
	}
	char *bin, *root;
	struct runc_ctx ctx;
	if (task_runc_ctx(t, ref->ns, ref->id, &ctx, &bin, &root, &err) < 0) {
		task_row_clear(&row);
		task_release(k);
		done(NULL, &err, arg);
		return;
	}
	struct task_op *op = op_new(t, ref->ns, ref->id, "", done, arg);
	op->row = row;
	op->task = k;
	op->flag = row.status != TASK_STOPPED;
	k->busy = true;
	/* Stopped, and no process left for `delete --force` to kill (a shim
	 * that died without an exit file leaves its process running). */
	if (!op->flag && (row.pid <= 0 || (kill(row.pid, 0) < 0 && errno == ESRCH)))
		delete_stopped(op, &ctx);
	else if (runc_delete(&ctx, ref->id, true, runtime_deleted, op) < 0)
		runtime_deleted(-1, "", strerror(errno), op);
	free(bin);
	free(root);
}

/* ---- execs -------------------------------------------------------------------- */

void
tasks_exec_delete(struct tasks *t, const struct task_ref *ref, bool force,
    task_done_fn done, void *arg)
{
	struct task_row row;
	struct task_error err;
	if (task_row_load(t, ref->ns, ref->id, ref->exec_id, &row, &err) < 0 ||
	    check_deletable(&row, force, ref->exec_id, &err) < 0) {
		task_row_clear(&row);
		done(NULL, &err, arg);
		return;
	}
	struct task *k = task_find(t, ref->ns, ref->id, ref->exec_id, true);
	if (k->busy || k->starting) {
		task_row_clear(&row);
		task_err(&err, ERR_FAILED_PRECONDITION, "exec %s is busy", ref->exec_id);
		done(NULL, &err, arg);
		return;
	}
	struct task_op *op = op_new(t, ref->ns, ref->id, ref->exec_id, done, arg);
	op->task = k;
	k->busy = true;
	bool live = row.status == TASK_RUNNING || row.status == TASK_PAUSED;
	if (live && shim_alive(row.shim_pid, row.shim_start))
		kill(row.pid, SIGKILL);
	task_row_clear(&row);
	if (live)
		after_exit(op);
	else
		finish_exec(op);
}
