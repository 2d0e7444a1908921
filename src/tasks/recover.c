/* Restart survival: every task row not stopped is watched again. A shim
 * still running (same pid and start time) is simply watched; one that
 * ended while kegd was down has left its exit file, which the watch reads
 * at once; one gone without it is reported stopped with status 255. The
 * rootfs mounts live in STATE and are left as they are. */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "runtime/shim_client.h"
#include "tasks/internal.h"

static void
recover_row(struct tasks *t, const struct task_row *r)
{
	struct task *k = task_find(t, r->ns, r->container_id, r->exec_id, true);
	struct shim_info info = { r->pid, r->shim_pid, r->shim_start };
	/* No shim recorded: kegd died while launching one. The shim may
	 * have written its info before kegd could store it. */
	if (info.shim_pid <= 0 && shim_read_info(k->dir, &info) < 0) {
		if (!task_is_init(r->exec_id) && r->status == TASK_CREATED) {
			task_release(k);	/* an exec never started: nothing ran */
			return;
		}
		task_handle_exit(k);
		return;
	}
	log_info("tasks: watching %s/%s%s%s again (shim %d)", r->ns, r->container_id,
	    r->exec_id[0] ? " exec " : "", r->exec_id, (int)info.shim_pid);
	task_watch(k, info.shim_pid, info.shim_start);
	if (task_is_init(r->exec_id) && shim_alive(info.shim_pid, info.shim_start))
		task_oom_start(k, info.pid);
}

void
tasks_recover(struct tasks *t)
{
	struct task_row *rows;
	size_t n;
	if (store_task_list_live(t->st, &rows, &n) < 0) {
		log_error("tasks: cannot read the task rows");
		return;
	}
	for (size_t i = 0; i < n; i++)
		recover_row(t, &rows[i]);
	if (n > 0)
		log_info("tasks: %zu processes recovered", n);
	task_rows_free(rows, n);
}
