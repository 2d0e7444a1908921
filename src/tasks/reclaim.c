/* The runtime's side of a stopped task, released after its delete has
 * answered. Deleting a task whose process has ended needs the runtime's
 * own `delete` (its state and cgroups), and that is a whole runtime
 * process: ~30 ms of runc start-up, a sixth of `keg run --rm`. Nothing the
 * client waits for depends on it, so the rows go, /tasks/delete is
 * published and the rootfs is unmounted first; the runtime's delete and
 * the bundle's removal follow (task_reclaim).
 *
 * Until they are done the task object stays, marked reclaiming, and a
 * create of the same id waits for them (task_create_deferred), so the
 * runtime never sees an id it still holds. A crash in between leaves the
 * bundle, with BUNDLE/runtime naming the runtime binary; the sweep at
 * start (orphans.c) runs its delete then. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "tasks/internal.h"

static void
resume_creates(struct tasks *t, const char *ns, const char *cid)
{
	struct task_op *op, *next;
	for (op = TAILQ_FIRST(&t->ops); op != NULL; op = next) {
		next = TAILQ_NEXT(op, link);
		if (!op->waits_reclaim || strcmp(op->ns, ns) != 0 || strcmp(op->cid, cid) != 0)
			continue;
		struct task_create_opts o = op->create;
		o.checkpoint = op->checkpoint;
		/* The op only held the request; the create takes it over. */
		task_done_fn done = op->done;
		op->done = NULL;
		tasks_create(t, ns, cid, &o, done, op->arg);
		op_finish(op, NULL, NULL);
	}
}

static void
reclaimed(int status, const char *out, const char *errtext, void *arg)
{
	struct task *k = arg;
	struct tasks *t = k->t;
	if (status != 0) {
		/* Gone from the runtime already (a reboot emptied STATE): fine. */
		char *msg = runc_error_message(errtext, NULL);
		log_warn("tasks: runtime delete %s/%s: %s", k->ns, k->cid, msg);
		free(msg);
	}
	char *bundle = task_bundle_dir(t, k->ns, k->cid), *ns = xstrdup(k->ns);
	char *cid = xstrdup(k->cid);
	if (task_remove_tree(bundle) < 0)
		log_warn("tasks: removing %s: %s", bundle, strerror(errno));
	task_free(k);
	resume_creates(t, ns, cid);
	free(bundle);
	free(ns);
	free(cid);
}

void
task_reclaim(struct task *k, const struct runc_ctx *ctx)
{
	k->reclaiming = true;
	k->busy = true;
	if (runc_delete(ctx, k->cid, true, reclaimed, k) < 0)
		reclaimed(-1, "", strerror(errno), k);
}

bool
task_create_deferred(struct tasks *t, const char *ns, const char *cid,
    const struct task_create_opts *o, task_done_fn done, void *arg)
{
	struct task *k = task_find(t, ns, cid, "", false);
	if (k == NULL || !k->reclaiming)
		return false;
	struct task_op *op = op_new(t, ns, cid, "", done, arg);
	op->waits_reclaim = true;
	op->create = *o;
	op->create.checkpoint = NULL;
	op->checkpoint = o->checkpoint ? xstrdup(o->checkpoint) : NULL;
	return true;
}

int
task_runtime_note(const char *bundle, const char *binary)
{
	char *path = xasprintf("%s/runtime", bundle);
	FILE *f = fopen(path, "wxe");
	int rc = f != NULL && fputs(binary, f) >= 0 ? 0 : -1;
	if (f != NULL && fclose(f) != 0)
		rc = -1;
	free(path);
	return rc;
}
