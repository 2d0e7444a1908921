/* The runtime calls on a live task: start, kill, pause, resume, pids,
 * update and checkpoint. Each checks the row, runs the runtime in the loop
 * and records the new status with its event. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/timefmt.h"
#include "common/util.h"
#include "events/bus.h"
#include "runtime/shim_client.h"
#include "store/db.h"
#include "tasks/internal.h"

/* The row of a task whose status is one of allowed (a bit per status);
 * -1 after calling done with the error. */
static int
load_in_state(struct tasks *t, const char *ns, const char *id, const char *eid,
    unsigned allowed, const char *what, struct task_row *row, task_done_fn done, void *arg)
{
	struct task_error err;
	if (task_row_load(t, ns, id, eid, row, &err) < 0) {
		done(NULL, &err, arg);
		return -1;
	}
	if (allowed & (1u << row->status))
		return 0;
	if (row->status == TASK_STOPPED)
		task_err(&err, ERR_NOT_FOUND, "cannot %s task %s: process already finished",
		    what, id);
	else
		task_err(&err, ERR_FAILED_PRECONDITION, "cannot %s task %s: it is %s", what, id,
		    task_status_name(row->status));
	task_row_clear(row);
	done(NULL, &err, arg);
	return -1;
}

#define LIVE ((1u << TASK_CREATED) | (1u << TASK_RUNNING) | (1u << TASK_PAUSED))

/* An op for a runtime call on ns/id; NULL after calling done. */
static struct task_op *
runc_op(struct tasks *t, const char *ns, const char *id, struct runc_ctx *ctx,
    task_done_fn done, void *arg)
{
	char *bin, *root;
	struct task_error err;
	if (task_runc_ctx(t, ns, id, ctx, &bin, &root, &err) < 0) {
		done(NULL, &err, arg);
		return NULL;
	}
	struct task_op *op = op_new(t, ns, id, "", done, arg);
	/* ctx points at these until the call has copied them. */
	op->path = bin;
	op->runtime_log = root;
	return op;
}

static void
runc_not_started(struct task_op *op)
{
	op_fail(op, ERR_INTERNAL, "cannot run the runtime: %s", strerror(errno));
}

/* Moves the row from one status to another with an event; a row that
 * meanwhile left `from` (the process exited) is left alone. */
static void
transition(struct tasks *t, const char *ns, const char *id, enum task_status from,
    enum task_status to, const char *topic, json_t *payload)
{
	struct task_row row;
	if (store_task_get(t->st, ns, id, "", &row) != STORE_OK || row.status != from ||
	    store_begin(t->st) < 0) {
		task_row_clear(&row);
		json_decref(payload);
		return;
	}
	enum store_result res = store_task_set_status(t->st, ns, id, "", to, time_now_ns());
	if (res == STORE_OK)
		event_bus_publish(t->bus, ns, topic, payload);
	else
		json_decref(payload);
	store_finish(t->st, res);
	task_row_clear(&row);
}

static void
reply_row(struct task_op *op)
{
	struct task_row row;
	struct task_error err;
	if (task_row_load(op->t, op->ns, op->cid, op->eid, &row, &err) < 0) {
		op_finish(op, NULL, &err);
		return;
	}
	op_finish(op, task_row_json(&row), NULL);
	task_row_clear(&row);
}

/* ---- start ---------------------------------------------------------------- */

static void
start_done(int status, const char *out, const char *errtext, void *arg)
{
	struct task_op *op = arg;
	struct task *k = op->task;
	k->starting--;
	if (status != 0) {
		struct task_error err;
		task_runtime_err(&err, ERR_FAILED_PRECONDITION, "runtime start", errtext, NULL);
		op_finish(op, NULL, &err);
	} else {
		transition(op->t, op->ns, op->cid, TASK_CREATED, TASK_RUNNING, "/tasks/start",
		    json_pack("{s:s,s:I}", "container_id", op->cid, "pid", (json_int_t)op->row.pid));
		log_info("tasks: %s/%s started", op->ns, op->cid);
		reply_row(op);
	}
	/* An exit seen while starting follows /tasks/start. */
	if (k->starting == 0 && k->exit_pending) {
		k->exit_pending = false;
		task_handle_exit(k);
	}
}

void
tasks_start(struct tasks *t, const struct task_ref *ref, task_done_fn done, void *arg)
{
	if (!task_is_init(ref->exec_id)) {
		tasks_exec_start(t, ref, done, arg);
		return;
	}
	struct task_row row;
	struct runc_ctx ctx;
	if (load_in_state(t, ref->ns, ref->id, "", 1u << TASK_CREATED, "start", &row,
	    done, arg) < 0)
		return;
	struct task *k = task_find(t, ref->ns, ref->id, "", true);
	struct task_op *op = k->starting ? NULL : runc_op(t, ref->ns, ref->id, &ctx, done, arg);
	if (op == NULL) {
		if (k->starting) {
			struct task_error err;
			task_err(&err, ERR_FAILED_PRECONDITION, "task %s is being started", ref->id);
			done(NULL, &err, arg);
		}
		task_row_clear(&row);
		task_release(k);
		return;
	}
	op->row = row;
	op->task = k;
	k->starting++;
	if (runc_start(&ctx, ref->id, start_done, op) < 0) {
		k->starting--;
		runc_not_started(op);
		task_release(k);
	}
}

/* ---- kill ----------------------------------------------------------------- */

static void
simple_done(int status, const char *out, const char *errtext, void *arg)
{
	struct task_op *op = arg;
	if (status != 0) {
		struct task_error err;
		task_runtime_err(&err, ERR_FAILED_PRECONDITION, op->json ?
		    json_string_value(op->json) : "runtime", errtext, NULL);
		op_finish(op, NULL, &err);
		return;
	}
	op_finish(op, json_object(), NULL);
}

/* An exec's process is signalled directly: the runtime only knows the
 * init process. Its shim still living means the pid was not reaped, so
 * it cannot have been reused. */
static void
kill_exec(struct tasks *t, const struct task_ref *ref, int sig, task_done_fn done, void *arg)
{
	struct task_row row;
	struct task_error err;
	if (load_in_state(t, ref->ns, ref->id, ref->exec_id, 1u << TASK_RUNNING, "kill", &row,
	    done, arg) < 0)
		return;
	if (!shim_alive(row.shim_pid, row.shim_start) || kill(row.pid, sig) < 0) {
		task_err(&err, ERR_NOT_FOUND, "exec %s: process already finished", ref->exec_id);
		done(NULL, &err, arg);
	} else {
		done(json_object(), NULL, arg);
	}
	task_row_clear(&row);
}

void
tasks_kill(struct tasks *t, const struct task_ref *ref, int sig, bool all,
    task_done_fn done, void *arg)
{
	if (!task_is_init(ref->exec_id)) {
		kill_exec(t, ref, sig, done, arg);
		return;
	}
	struct task_row row;
	struct runc_ctx ctx;
	if (load_in_state(t, ref->ns, ref->id, "", LIVE, "kill", &row, done, arg) < 0)
		return;
	task_row_clear(&row);
	struct task_op *op = runc_op(t, ref->ns, ref->id, &ctx, done, arg);
	if (op == NULL)
		return;
	op->json = json_string("runtime kill");
	if (runc_kill(&ctx, ref->id, sig, all, simple_done, op) < 0)
		runc_not_started(op);
}

/* ---- pause, resume -------------------------------------------------------- */

static void
pause_done(int status, const char *out, const char *errtext, void *arg)
{
	struct task_op *op = arg;
	bool pause = op->flag;
	if (status != 0) {
		struct task_error err;
		task_runtime_err(&err, ERR_FAILED_PRECONDITION, pause ? "runtime pause" :
		    "runtime resume", errtext, NULL);
		op_finish(op, NULL, &err);
		return;
	}
	transition(op->t, op->ns, op->cid, pause ? TASK_RUNNING : TASK_PAUSED,
	    pause ? TASK_PAUSED : TASK_RUNNING, pause ? "/tasks/paused" : "/tasks/resumed",
	    json_pack("{s:s}", "container_id", op->cid));
	reply_row(op);
}

static void
pause_or_resume(struct tasks *t, const char *ns, const char *id, bool pause,
    task_done_fn done, void *arg)
{
	struct task_row row;
	struct runc_ctx ctx;
	enum task_status from = pause ? TASK_RUNNING : TASK_PAUSED;
	if (load_in_state(t, ns, id, "", 1u << from, pause ? "pause" : "resume", &row,
	    done, arg) < 0)
		return;
	task_row_clear(&row);
	struct task_op *op = runc_op(t, ns, id, &ctx, done, arg);
	if (op == NULL)
		return;
	op->flag = pause;
	int rc = pause ? runc_pause(&ctx, id, pause_done, op) :
	    runc_resume(&ctx, id, pause_done, op);
	if (rc < 0)
		runc_not_started(op);
}

void
tasks_pause(struct tasks *t, const char *ns, const char *id, task_done_fn done, void *arg)
{
	pause_or_resume(t, ns, id, true, done, arg);
}

void
tasks_resume(struct tasks *t, const char *ns, const char *id, task_done_fn done, void *arg)
{
	pause_or_resume(t, ns, id, false, done, arg);
}

/* ---- pids ----------------------------------------------------------------- */

static void
pids_done(int status, const char *out, const char *errtext, void *arg)
{
	struct task_op *op = arg;
	pid_t *pids = NULL;
	size_t n = 0;
	if (status != 0 || runc_parse_pids(out, &pids, &n) < 0) {
		struct task_error err;
		task_runtime_err(&err, ERR_FAILED_PRECONDITION, "runtime ps", errtext, NULL);
		op_finish(op, NULL, &err);
		return;
	}
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, json_pack("{s:I}", "pid", (json_int_t)pids[i]));
	free(pids);
	op_finish(op, json_pack("{s:o}", "processes", list), NULL);
}

void
tasks_pids(struct tasks *t, const char *ns, const char *id, task_done_fn done, void *arg)
{
	struct task_row row;
	struct runc_ctx ctx;
	if (load_in_state(t, ns, id, "", LIVE, "list the processes of", &row, done, arg) < 0)
		return;
	task_row_clear(&row);
	struct task_op *op = runc_op(t, ns, id, &ctx, done, arg);
	if (op != NULL && runc_ps(&ctx, id, pids_done, op) < 0)
		runc_not_started(op);
}

/* ---- update --------------------------------------------------------------- */

void
tasks_update(struct tasks *t, const char *ns, const char *id, const json_t *resources,
    task_done_fn done, void *arg)
{
	struct task_row row;
	struct runc_ctx ctx;
	if (load_in_state(t, ns, id, "", LIVE, "update", &row, done, arg) < 0)
		return;
	task_row_clear(&row);
	struct task_op *op = runc_op(t, ns, id, &ctx, done, arg);
	if (op == NULL)
		return;
	op->json = json_string("runtime update");
	char *text = json_dumps(resources, JSON_COMPACT);
	if (runc_update(&ctx, id, text, simple_done, op) < 0)
		runc_not_started(op);
	free(text);
}

/* ---- checkpoint ----------------------------------------------------------- */

static void
checkpoint_done(int status, const char *out, const char *errtext, void *arg)
{
	struct task_op *op = arg;
	const char *image = json_string_value(op->json);
	if (status != 0) {
		struct task_error err;
		task_runtime_err(&err, ERR_FAILED_PRECONDITION, "runtime checkpoint (CRIU)",
		    errtext, NULL);
		op_finish(op, NULL, &err);
		return;
	}
	event_bus_publish(op->t->bus, op->ns, "/tasks/checkpointed",
	    json_pack("{s:s,s:s}", "container_id", op->cid, "checkpoint", image));
	op_finish(op, json_pack("{s:s}", "checkpoint", image), NULL);
}

void
tasks_checkpoint(struct tasks *t, const char *ns, const char *id,
    const struct task_checkpoint_opts *o, task_done_fn done, void *arg)
{
	struct task_row row;
	struct runc_ctx ctx;
	if (load_in_state(t, ns, id, "", (1u << TASK_RUNNING) | (1u << TASK_PAUSED),
	    "checkpoint", &row, done, arg) < 0)
		return;
	task_row_clear(&row);
	char *image = o->image_path ? xstrdup(o->image_path) :
	    xasprintf("%s/checkpoints/%s/%s", t->root, ns, id);
	struct task_error err;
	if (mkdir_p(image, 0700) < 0) {
		task_err(&err, ERR_INTERNAL, "mkdir %s: %s", image, strerror(errno));
		done(NULL, &err, arg);
		free(image);
		return;
	}
	struct task_op *op = runc_op(t, ns, id, &ctx, done, arg);
	if (op == NULL) {
		free(image);
		return;
	}
	op->json = json_string(image);
	if (runc_checkpoint(&ctx, id, image, NULL, o->leave_running, checkpoint_done, op) < 0)
		runc_not_started(op);
	free(image);
}
