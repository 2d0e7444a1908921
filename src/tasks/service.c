/* The task service's life: open (settings, the shim binary, watching every
 * task again), reads (get, list, paths) and close. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "runtime/runc.h"
#include "runtime/shim_client.h"
#include "store/containers.h"
#include "tasks/internal.h"

/* kegd-shim beside the kegd executable: the two are installed together. */
static char *
default_shim(void)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return xstrdup("kegd-shim");
	exe[n] = '\0';
	return xasprintf("%s/kegd-shim", dirname(exe));
}

struct tasks *
tasks_open(const struct tasks_config *cfg, char **err)
{
	struct tasks *t = xcalloc(1, sizeof(*t));
	t->base = cfg->base;
	t->st = cfg->st;
	t->bus = cfg->bus;
	t->snaps = cfg->snaps;
	t->root = xstrdup(cfg->root);
	t->state = xstrdup(cfg->state);
	t->log_root = xstrdup(cfg->log_root);
	t->runtime_binary = xstrdup(cfg->runtime_binary ? cfg->runtime_binary : "runc");
	t->shim_binary = cfg->shim_binary ? xstrdup(cfg->shim_binary) : default_shim();
	TAILQ_INIT(&t->tasks);
	TAILQ_INIT(&t->ops);
	if (access(t->shim_binary, X_OK) < 0)
		log_warn("tasks: shim %s: %s; tasks cannot be created", t->shim_binary,
		    strerror(errno));
	char *why = NULL, *rt = runc_lookup(t->runtime_binary, &why);
	if (rt == NULL)
		log_warn("tasks: runtime %s: %s", t->runtime_binary, why ? why : "not found");
	free(rt);
	free(why);
	(void)err;
	tasks_remove_orphans(t);
	tasks_recover(t);
	return t;
}

void
tasks_close_waiters(struct tasks *t)
{
	struct task_error err;
	task_err(&err, ERR_UNAVAILABLE, "kegd is shutting down");
	struct task *k, *next;
	for (k = TAILQ_FIRST(&t->tasks); k != NULL; k = next) {
		next = TAILQ_NEXT(k, link);
		task_wake_waiters(k, NULL, &err);
	}
}

void
tasks_close(struct tasks *t)
{
	if (t == NULL)
		return;
	t->closing = true;
	/* Runtime calls and shim launches in flight end without calling back;
	 * their ops are failed here instead. Running shims live on. */
	runc_abort_all();
	shim_launch_abort_all();
	/* Waiters first: an op may be one of them (a forced delete waiting for
	 * the exit); seeing t->closing it leaves itself to the ops loop below,
	 * which frees it. The other way round a waiter would hold a freed op. */
	tasks_close_waiters(t);
	struct task_op *op;
	while ((op = TAILQ_FIRST(&t->ops)) != NULL) {
		op->task = NULL;
		op_fail(op, ERR_UNAVAILABLE, "kegd is shutting down");
	}
	struct task *k;
	while ((k = TAILQ_FIRST(&t->tasks)) != NULL)
		task_free(k);
	free(t->root);
	free(t->state);
	free(t->log_root);
	free(t->runtime_binary);
	free(t->shim_binary);
	free(t);
}

json_t *
tasks_get(struct tasks *t, const struct task_ref *ref, struct task_error *err)
{
	struct task_row row;
	if (task_row_load(t, ref->ns, ref->id, ref->exec_id, &row, err) < 0)
		return NULL;
	json_t *out = task_row_json(&row);
	task_row_clear(&row);
	return out;
}

static json_t *
list_rows(struct tasks *t, const char *ns, const char *id, bool execs,
    struct task_error *err)
{
	struct task_row *rows;
	size_t n;
	if (store_task_list(t->st, ns, id, &rows, &n) < 0) {
		task_err(err, ERR_INTERNAL, "listing tasks failed");
		return NULL;
	}
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++)
		if (task_is_init(rows[i].exec_id) != execs)
			json_array_append_new(list, task_row_json(&rows[i]));
	task_rows_free(rows, n);
	return list;
}

json_t *
tasks_list(struct tasks *t, const char *ns, struct task_error *err)
{
	return list_rows(t, ns, NULL, false, err);
}

json_t *
tasks_list_execs(struct tasks *t, const char *ns, const char *id, struct task_error *err)
{
	struct task_row row;
	if (task_row_load(t, ns, id, "", &row, err) < 0)
		return NULL;
	task_row_clear(&row);
	return list_rows(t, ns, id, true, err);
}

char *
tasks_log_path(struct tasks *t, const struct task_ref *ref, struct task_error *err)
{
	struct task_row row;
	if (task_row_load(t, ref->ns, ref->id, ref->exec_id, &row, err) < 0)
		return NULL;
	task_row_clear(&row);
	return task_log_file(t, ref->ns, ref->id, ref->exec_id);
}

char *
tasks_shim_dir(struct tasks *t, const struct task_ref *ref, struct task_error *err)
{
	struct task_row row;
	if (task_row_load(t, ref->ns, ref->id, ref->exec_id, &row, err) < 0)
		return NULL;
	bool live = row.status != TASK_STOPPED;
	task_row_clear(&row);
	if (!live) {
		task_err(err, ERR_FAILED_PRECONDITION, "task %s is stopped", ref->id);
		return NULL;
	}
	return task_dir(t, ref->ns, ref->id, ref->exec_id);
}

char *
tasks_cgroups_path(struct tasks *t, const char *ns, const char *id, struct task_error *err)
{
	struct task_row row;
	if (task_row_load(t, ns, id, "", &row, err) < 0)
		return NULL;
	task_row_clear(&row);
	enum store_result res;
	json_t *c = store_container_get(t->st, ns, id, &res);
	const char *p = json_string_value(json_object_get(json_object_get(json_object_get(c,
	    "spec"), "linux"), "cgroupsPath"));
	char *out = p ? xstrdup(p) : NULL;
	if (out == NULL)
		task_err(err, ERR_FAILED_PRECONDITION, "container %s has no cgroups path", id);
	json_decref(c);
	return out;
}
