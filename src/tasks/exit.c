/* A process's end: its shim goes away, the exit status it left is stored
 * with /tasks/exit in one transaction (exit_published, so the event goes
 * out exactly once even across restarts), and waiters are woken. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/timefmt.h"
#include "common/util.h"
#include "events/bus.h"
#include "runtime/shim_client.h"
#include "store/db.h"
#include "tasks/internal.h"

/* containerd's status for a process whose exit is unknown. */
#define EXIT_UNKNOWN 255

struct task_waiter *
task_add_waiter(struct task *k, task_done_fn done, void *arg)
{
	struct task_waiter *w = xcalloc(1, sizeof(*w));
	w->task = k;
	w->done = done;
	w->arg = arg;
	TAILQ_INSERT_TAIL(&k->waiters, w, link);
	return w;
}

void
task_wake_waiters(struct task *k, const json_t *result, const struct task_error *err)
{
	struct task_waiter *w;
	while ((w = TAILQ_FIRST(&k->waiters)) != NULL) {
		TAILQ_REMOVE(&k->waiters, w, link);
		w->done(result ? json_deep_copy(result) : NULL, err, w->arg);
		free(w);
	}
}

static json_t *
exit_result(int status, int64_t exited_at)
{
	char ts[RFC3339NANO_LEN];
	time_format_rfc3339nano(exited_at, ts);
	return json_pack("{s:i,s:s}", "exit_status", status, "exited_at", ts);
}

/* Stores the exit and publishes /tasks/exit, once: a row already stopped
 * (published before a restart) is left alone. */
static void
record_exit(struct task *k, int status, int64_t exited_at)
{
	struct tasks *t = k->t;
	struct task_row row;
	if (store_task_get(t->st, k->ns, k->cid, k->eid, &row) != STORE_OK)
		return;		/* deleted meanwhile (a forced delete) */
	bool fresh = !row.exit_published;
	pid_t pid = row.pid;
	task_row_clear(&row);
	if (!fresh || store_begin(t->st) < 0)
		return;
	char ts[RFC3339NANO_LEN];
	time_format_rfc3339nano(exited_at, ts);
	enum store_result res = store_task_set_exit(t->st, k->ns, k->cid, k->eid, status,
	    exited_at, time_now_ns());
	if (res == STORE_OK)
		event_bus_publish(t->bus, k->ns, "/tasks/exit", json_pack(
		    "{s:s,s:s,s:I,s:i,s:s}", "container_id", k->cid,
		    "id", task_is_init(k->eid) ? k->cid : k->eid, "pid", (json_int_t)pid,
		    "exit_status", status, "exited_at", ts));
	if (store_finish(t->st, res) != STORE_OK)
		log_error("tasks: recording the exit of %s/%s failed", k->ns, k->cid);
}

void
task_handle_exit(struct task *k)
{
	int status;
	int64_t exited_at;
	if (shim_read_exit(k->dir, &status, &exited_at) < 0) {
		log_error("tasks: the shim of %s/%s%s%s is gone without an exit status; "
		    "reporting %d", k->ns, k->cid, k->eid[0] ? " exec " : "", k->eid,
		    EXIT_UNKNOWN);
		status = EXIT_UNKNOWN;
		exited_at = time_now_ns();
	}
	/* The OOM that killed the process is reported before its exit. */
	if (k->oom) {
		oom_watch_stop(k->oom);
		k->oom = NULL;
	}
	record_exit(k, status, exited_at);
	log_info("tasks: %s/%s%s%s exited with %d", k->ns, k->cid, k->eid[0] ? " exec " : "",
	    k->eid, status);
	json_t *result = exit_result(status, exited_at);
	task_wake_waiters(k, result, NULL);
	json_decref(result);
	task_release(k);
}

static void
shim_gone(void *arg)
{
	struct task *k = arg;
	k->watch = NULL;
	/* A start in flight publishes /tasks/start first; the exit follows. */
	if (k->starting > 0) {
		k->exit_pending = true;
		return;
	}
	task_handle_exit(k);
}

void
task_watch(struct task *k, pid_t shim_pid, unsigned long long shim_start)
{
	if (k->watch)
		shim_watch_cancel(k->watch);
	k->watch = shim_watch(k->t->base, shim_pid, shim_start, shim_gone, k);
	if (k->watch == NULL)
		log_error("tasks: cannot watch the shim %d of %s/%s: %s", (int)shim_pid,
		    k->ns, k->cid, strerror(errno));
}

/* ---- waiting -------------------------------------------------------------------- */

struct task_waiter *
tasks_wait(struct tasks *t, const struct task_ref *ref, task_done_fn done, void *arg)
{
	struct task_row row;
	struct task_error err;
	if (task_row_load(t, ref->ns, ref->id, ref->exec_id, &row, &err) < 0) {
		done(NULL, &err, arg);
		return NULL;
	}
	if (row.status == TASK_STOPPED) {
		done(exit_result(row.exit_status, row.exited_at), NULL, arg);
		task_row_clear(&row);
		return NULL;
	}
	task_row_clear(&row);
	struct task *k = task_find(t, ref->ns, ref->id, ref->exec_id, true);
	return task_add_waiter(k, done, arg);
}

void
tasks_wait_cancel(struct task_waiter *w)
{
	struct task *k = w->task;
	TAILQ_REMOVE(&k->waiters, w, link);
	free(w);
	task_release(k);
}
