/* Small pieces every task operation uses: errors, the in-memory task
 * objects, pending operations, paths and the runtime to call. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/timefmt.h"
#include "common/util.h"
#include "runtime/shim_client.h"
#include "snapshotters/mount.h"
#include "store/containers.h"
#include "tasks/internal.h"

void
task_err(struct task_error *err, enum errcode code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err->code = code;
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

bool
task_is_init(const char *eid)
{
	return eid == NULL || eid[0] == '\0';
}

struct task *
task_find(struct tasks *t, const char *ns, const char *cid, const char *eid, bool make)
{
	struct task *k;
	eid = eid ? eid : "";
	TAILQ_FOREACH(k, &t->tasks, link)
		if (strcmp(k->ns, ns) == 0 && strcmp(k->cid, cid) == 0 && strcmp(k->eid, eid) == 0)
			return k;
	if (!make)
		return NULL;
	k = xcalloc(1, sizeof(*k));
	k->t = t;
	k->ns = xstrdup(ns);
	k->cid = xstrdup(cid);
	k->eid = xstrdup(eid);
	k->dir = task_dir(t, ns, cid, eid);
	TAILQ_INIT(&k->waiters);
	TAILQ_INSERT_TAIL(&t->tasks, k, link);
	return k;
}

void
task_free(struct task *k)
{
	struct task_error err;
	task_err(&err, ERR_NOT_FOUND, "task %s was deleted", k->cid);
	task_wake_waiters(k, NULL, &err);
	if (k->watch)
		shim_watch_cancel(k->watch);
	if (k->oom)
		oom_watch_stop(k->oom);
	TAILQ_REMOVE(&k->t->tasks, k, link);
	free(k->ns);
	free(k->cid);
	free(k->eid);
	free(k->dir);
	free(k);
}

void
task_release(struct task *k)
{
	if (k->watch == NULL && k->oom == NULL && TAILQ_EMPTY(&k->waiters) && !k->busy &&
	    k->starting == 0)
		task_free(k);
}

struct task_op *
op_new(struct tasks *t, const char *ns, const char *cid, const char *eid, task_done_fn done,
    void *arg)
{
	struct task_op *op = xcalloc(1, sizeof(*op));
	op->t = t;
	op->ns = xstrdup(ns);
	op->cid = xstrdup(cid);
	op->eid = xstrdup(eid ? eid : "");
	op->done = done;
	op->arg = arg;
	TAILQ_INSERT_TAIL(&t->ops, op, link);
	return op;
}

void
op_finish(struct task_op *op, json_t *result, const struct task_error *err)
{
	TAILQ_REMOVE(&op->t->ops, op, link);
	if (op->done)
		op->done(result, err, op->arg);
	else
		json_decref(result);
	free(op->ns);
	free(op->cid);
	free(op->eid);
	free(op->path);
	free(op->runtime_log);
	free(op->checkpoint);
	json_decref(op->json);
	task_row_clear(&op->row);
	free(op);
}

void
op_fail(struct task_op *op, enum errcode code, const char *fmt, ...)
{
	struct task_error err;
	va_list ap;
	va_start(ap, fmt);
	err.code = code;
	vsnprintf(err.message, sizeof(err.message), fmt, ap);
	va_end(ap);
	op_finish(op, NULL, &err);
}

/* ---- paths ------------------------------------------------------------------ */

char *
task_bundle_dir(const struct tasks *t, const char *ns, const char *cid)
{
	return xasprintf("%s/tasks/%s/%s", t->state, ns, cid);
}

char *
task_dir(const struct tasks *t, const char *ns, const char *cid, const char *eid)
{
	if (task_is_init(eid))
		return task_bundle_dir(t, ns, cid);
	return xasprintf("%s/tasks/%s/%s/execs/%s", t->state, ns, cid, eid);
}

char *
task_log_file(const struct tasks *t, const char *ns, const char *cid, const char *eid)
{
	if (task_is_init(eid))
		return xasprintf("%s/%s/%s.log", t->log_root, ns, cid);
	return xasprintf("%s/%s/%s.%s.log", t->log_root, ns, cid, eid);
}

char *
task_runtime_root(const struct tasks *t, const char *ns)
{
	return xasprintf("%s/runc/%s", t->state, ns);
}

/* ---- rows ------------------------------------------------------------------- */

int
task_row_load(struct tasks *t, const char *ns, const char *cid, const char *eid,
    struct task_row *row, struct task_error *err)
{
	enum store_result res = store_task_get(t->st, ns, cid, eid, row);
	if (res == STORE_OK)
		return 0;
	if (res == STORE_NOT_FOUND && task_is_init(eid))
		task_err(err, ERR_NOT_FOUND, "task %s not found", cid);
	else if (res == STORE_NOT_FOUND)
		task_err(err, ERR_NOT_FOUND, "exec %s of task %s not found", eid, cid);
	else
		task_err(err, ERR_INTERNAL, "reading the task from the store failed");
	return -1;
}

json_t *
task_row_json(const struct task_row *r)
{
	char ts[RFC3339NANO_LEN];
	time_format_rfc3339nano(r->created_at, ts);
	json_t *o = json_pack("{s:s,s:I,s:s,s:b,s:s}", "id", r->container_id,
	    "pid", (json_int_t)r->pid, "status", task_status_name(r->status),
	    "terminal", r->terminal, "created_at", ts);
	if (!task_is_init(r->exec_id))
		json_object_set_new(o, "exec_id", json_string(r->exec_id));
	if (r->exited) {
		time_format_rfc3339nano(r->exited_at, ts);
		json_object_set_new(o, "exit_status", json_integer(r->exit_status));
		json_object_set_new(o, "exited_at", json_string(ts));
	}
	return o;
}

/* ---- the runtime ------------------------------------------------------------- */

#define RUNTIME_NAME "io.containerd.runc.v2"

char *
task_runtime_binary(struct tasks *t, const json_t *container, struct task_error *err)
{
	const json_t *rt = json_object_get(container, "runtime");
	const char *name = json_string_value(json_object_get(rt, "name"));
	if (name != NULL && name[0] != '\0' && strcmp(name, RUNTIME_NAME) != 0) {
		task_err(err, ERR_INVALID_ARGUMENT, "runtime %s is not supported (only "
		    RUNTIME_NAME ")", name);
		return NULL;
	}
	const json_t *opts = json_object_get(rt, "options");
	const char *bin = json_string_value(json_object_get(opts, "binary_name"));
	if (bin == NULL || bin[0] == '\0')
		bin = t->runtime_binary;
	char *why = NULL;
	char *path = runc_lookup(bin, &why);
	if (path == NULL) {
		task_err(err, ERR_FAILED_PRECONDITION, "runtime %s: %s", bin,
		    why ? why : "not found");
		free(why);
	}
	return path;
}

int
task_runc_ctx(struct tasks *t, const char *ns, const char *cid, struct runc_ctx *ctx,
    char **binary, char **root, struct task_error *err)
{
	enum store_result res;
	json_t *c = store_container_get(t->st, ns, cid, &res);
	*binary = *root = NULL;
	if (c == NULL) {
		task_err(err, res == STORE_NOT_FOUND ? ERR_NOT_FOUND : ERR_INTERNAL,
		    "container %s: %s", cid, res == STORE_NOT_FOUND ? "not found" :
		    "store error");
		return -1;
	}
	*binary = task_runtime_binary(t, c, err);
	json_decref(c);
	if (*binary == NULL)
		return -1;
	*root = task_runtime_root(t, ns);
	memset(ctx, 0, sizeof(*ctx));
	ctx->base = t->base;
	ctx->binary = *binary;
	ctx->root = *root;
	/* A runtime call that hangs (a frozen cgroup, CRIU) must not hold
	 * a task forever. */
	ctx->timeout_ms = 60000;
	return 0;
}

void
task_runtime_err(struct task_error *err, enum errcode code, const char *what,
    const char *stderr_text, const char *log_path)
{
	char *msg = runc_error_message(stderr_text, log_path);
	task_err(err, code, "%s: %s", what, msg);
	free(msg);
}

/* ---- removing a bundle ------------------------------------------------------- */

static int
remove_at(int at, const char *name, dev_t dev, int depth)
{
	struct stat st;
	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(at, name, 0) < 0 && errno != ENOENT ? -1 : 0;
	/* Never descend into another file system: a rootfs still mounted
	 * would have its files removed. */
	if (st.st_dev != dev || depth > 16) {
		errno = EBUSY;
		return -1;
	}
	int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	int rc = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (remove_at(dirfd(d), e->d_name, dev, depth + 1) < 0)
			rc = -1;
	}
	closedir(d);
	if (rc == 0 && unlinkat(at, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		rc = -1;
	return rc;
}

int
task_remove_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	return remove_at(AT_FDCWD, path, st.st_dev, 0);
}

/* The logs of a container's task: its init log and, for the init
 * process, every exec's log too (<cid>.<eid>.log). Ids never hold '.', so
 * the prefix names only this container's files. */
void
task_logs_remove(const struct tasks *t, const char *ns, const char *cid, const char *eid)
{
	char *path = task_log_file(t, ns, cid, eid);
	if (unlink(path) < 0 && errno != ENOENT)
		log_warn("tasks: removing %s: %s", path, strerror(errno));
	free(path);
	if (!task_is_init(eid))
		return;
	char *dir = xasprintf("%s/%s", t->log_root, ns);
	char *prefix = xasprintf("%s.", cid);
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d != NULL && (e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0 && n > 4 &&
		    strcmp(e->d_name + n - 4, ".log") == 0 && unlinkat(dirfd(d), e->d_name, 0) < 0)
			log_warn("tasks: removing %s/%s: %s", dir, e->d_name, strerror(errno));
	}
	if (d != NULL)
		closedir(d);
	free(prefix);
	free(dir);
}

void
task_rootfs_unmount(const char *bundle)
{
	char why[256];
	char *rootfs = xasprintf("%s/rootfs", bundle);
	/* Detached: a process still holding it (a late runtime call) must not
	 * keep the bundle; the mount goes when it lets go. */
	if (access(rootfs, F_OK) == 0 && mounts_unmount(rootfs, true, why, sizeof(why)) < 0)
		log_warn("tasks: unmounting %s: %s", rootfs, why);
	free(rootfs);
}

void
task_bundle_remove(const char *bundle)
{
	task_rootfs_unmount(bundle);
	if (task_remove_tree(bundle) < 0)
		log_warn("tasks: removing %s: %s", bundle, strerror(errno));
}
