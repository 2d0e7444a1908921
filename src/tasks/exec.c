/* Exec processes: added as a row with their OCI process (the container's
 * own process with the request's args, env, cwd, user and terminal laid
 * over it, so an exec never gains capabilities the container lacks), then
 * started by a shim of their own running `runtime exec --detach`. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/json_file.h"
#include "common/log.h"
#include "common/names.h"
#include "common/timefmt.h"
#include "common/util.h"
#include "events/bus.h"
#include "runtime/shim_client.h"
#include "store/containers.h"
#include "store/db.h"
#include "tasks/internal.h"

#define ID_MAX 4294967294u	/* (uid_t)-1 is "no change": never a user */

static bool
strings_array(const json_t *a, bool need_one, bool need_eq)
{
	size_t i;
	json_t *v;
	if (!json_is_array(a) || (need_one && json_array_size(a) == 0))
		return false;
	json_array_foreach(a, i, v) {
		const char *s = json_string_value(v);
		if (s == NULL || strlen(s) != json_string_length(v) ||
		    (need_eq && (strchr(s, '=') == NULL || s[0] == '=')))
			return false;
	}
	return true;
}

static bool
id_valid(const json_t *v)
{
	return json_is_integer(v) && json_integer_value(v) >= 0 &&
	    (uint64_t)json_integer_value(v) <= ID_MAX;
}

static int
check_user(const json_t *user, struct task_error *err)
{
	const char *key;
	json_t *v;
	if (!json_is_object(user))
		goto bad;
	json_object_foreach((json_t *)user, key, v) {
		if (strcmp(key, "uid") == 0 || strcmp(key, "gid") == 0) {
			if (!id_valid(v))
				goto bad;
		} else if (strcmp(key, "additionalGids") == 0) {
			size_t i;
			json_t *g;
			if (!json_is_array(v))
				goto bad;
			json_array_foreach(v, i, g)
				if (!id_valid(g))
					goto bad;
		} else {
			goto bad;
		}
	}
	if (json_object_get(user, "uid") == NULL)
		goto bad;
	return 0;
bad:
	task_err(err, ERR_INVALID_ARGUMENT, "process.user must be {uid, gid?, "
	    "additionalGids?} with ids from 0 to %u", ID_MAX);
	return -1;
}

/* The request's process: known keys only, each well formed. */
static int
check_process(const json_t *p, struct task_error *err)
{
	const char *key;
	json_t *v;
	if (!json_is_object(p)) {
		task_err(err, ERR_INVALID_ARGUMENT, "process must be an object");
		return -1;
	}
	json_object_foreach((json_t *)p, key, v) {
		const char *bad = NULL;
		if (strcmp(key, "args") == 0 && !strings_array(v, true, false))
			bad = "args must be a non-empty array of strings";
		else if (strcmp(key, "env") == 0 && !strings_array(v, false, true))
			bad = "env must be an array of \"KEY=VALUE\" strings";
		else if (strcmp(key, "cwd") == 0 && (!json_is_string(v) ||
		    json_string_value(v)[0] != '/' ||
		    strlen(json_string_value(v)) != json_string_length(v)))
			bad = "cwd must be an absolute path";
		else if (strcmp(key, "terminal") == 0 && !json_is_boolean(v))
			bad = "terminal must be a boolean";
		else if (strcmp(key, "user") == 0 && check_user(v, err) < 0)
			return -1;
		else if (strcmp(key, "args") && strcmp(key, "env") && strcmp(key, "cwd") &&
		    strcmp(key, "terminal") && strcmp(key, "user"))
			bad = "unknown key (allowed: args, env, cwd, user, terminal)";
		if (bad != NULL) {
			task_err(err, ERR_INVALID_ARGUMENT, "process.%s: %s", key, bad);
			return -1;
		}
	}
	if (json_object_get(p, "args") == NULL) {
		task_err(err, ERR_INVALID_ARGUMENT, "process.args is required");
		return -1;
	}
	return 0;
}

/* The container's process with the request's keys over it. */
static json_t *
merged_process(struct tasks *t, const char *ns, const char *id, const json_t *p,
    struct task_error *err)
{
	enum store_result res;
	json_t *c = store_container_get(t->st, ns, id, &res);
	if (c == NULL) {
		task_err(err, res == STORE_NOT_FOUND ? ERR_NOT_FOUND : ERR_INTERNAL,
		    "container %s not found", id);
		return NULL;
	}
	json_t *base = json_object_get(json_object_get(c, "spec"), "process");
	json_t *out = json_is_object(base) ? json_deep_copy(base) : json_object();
	json_decref(c);
	json_object_update(out, (json_t *)p);
	if (json_object_get(p, "terminal") == NULL)
		json_object_set_new(out, "terminal", json_false());
	/* A console size belongs to the init process's terminal. */
	json_object_del(out, "consoleSize");
	return out;
}

static int
write_process(const char *dir, const json_t *process, struct task_error *err)
{
	char *path = xasprintf("%s/process.json", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	int rc = fd < 0 ? -1 : json_write_fd(process, fd, JSON_COMPACT);
	if (fd >= 0 && close(fd) < 0)
		rc = -1;
	if (rc < 0)
		task_err(err, ERR_INTERNAL, "writing %s: %s", path, strerror(errno));
	free(path);
	return rc;
}

static int
insert_exec(struct tasks *t, const struct task_row *row, struct task_error *err)
{
	enum store_result res = STORE_ERROR;
	if (store_begin(t->st) == 0) {
		res = store_task_insert(t->st, row, time_now_ns());
		if (res == STORE_OK)
			event_bus_publish(t->bus, row->ns, "/tasks/exec-added", json_pack(
			    "{s:s,s:s}", "container_id", row->container_id, "exec_id",
			    row->exec_id));
		res = store_finish(t->st, res);
	}
	if (res == STORE_OK)
		return 0;
	task_err(err, res == STORE_EXISTS ? ERR_ALREADY_EXISTS : ERR_INTERNAL,
	    res == STORE_EXISTS ? "exec %s exists" : "recording exec %s failed", row->exec_id);
	return -1;
}

json_t *
tasks_exec_add(struct tasks *t, const char *ns, const char *id, const char *eid,
    const json_t *process, struct task_error *err)
{
	struct task_row init;
	if (!identifier_valid(eid)) {
		task_err(err, ERR_INVALID_ARGUMENT, "invalid exec id");
		return NULL;
	}
	if (check_process(process, err) < 0 || task_row_load(t, ns, id, "", &init, err) < 0)
		return NULL;
	enum task_status st = init.status;
	task_row_clear(&init);
	if (st != TASK_RUNNING) {
		task_err(err, ERR_FAILED_PRECONDITION, "task %s is %s; exec needs it running",
		    id, task_status_name(st));
		return NULL;
	}
	json_t *proc = merged_process(t, ns, id, process, err);
	if (proc == NULL)
		return NULL;
	char *text = json_dumps(proc, JSON_COMPACT);
	struct task_row row = { .ns = (char *)ns, .container_id = (char *)id,
		.exec_id = (char *)eid, .status = TASK_CREATED,
		.terminal = json_is_true(json_object_get(proc, "terminal")), .process = text };
	json_decref(proc);
	json_t *out = NULL;
	if (insert_exec(t, &row, err) == 0) {
		struct task_row got;
		if (task_row_load(t, ns, id, eid, &got, err) == 0)
			out = task_row_json(&got);
		task_row_clear(&got);
	}
	free(text);
	return out;
}

/* ---- start -------------------------------------------------------------------- */

static void
exec_ready(const struct shim_info *info, const char *error, void *arg)
{
	struct task_op *op = arg;
	struct tasks *t = op->t;
	struct task *k = op->task;
	k->starting--;
	if (info == NULL) {
		task_release(k);
		op_fail(op, ERR_FAILED_PRECONDITION, "the runtime cannot start exec %s: %s",
		    op->eid, error);
		return;
	}
	enum store_result res = STORE_ERROR;
	if (store_begin(t->st) == 0) {
		res = store_task_set_started(t->st, op->ns, op->cid, op->eid, TASK_RUNNING,
		    info->pid, info->shim_pid, info->shim_start, time_now_ns());
		if (res == STORE_OK)
			event_bus_publish(t->bus, op->ns, "/tasks/exec-started", json_pack(
			    "{s:s,s:s,s:I}", "container_id", op->cid, "exec_id", op->eid,
			    "pid", (json_int_t)info->pid));
		res = store_finish(t->st, res);
	}
	task_watch(k, info->shim_pid, info->shim_start);
	struct task_row row;
	struct task_error err;
	if (res != STORE_OK)
		op_fail(op, ERR_INTERNAL, "recording exec %s failed", op->eid);
	else if (task_row_load(t, op->ns, op->cid, op->eid, &row, &err) < 0)
		op_finish(op, NULL, &err);
	else {
		op_finish(op, task_row_json(&row), NULL);
		task_row_clear(&row);
	}
}

static int
exec_launch(struct task_op *op, const char *runtime, struct task_error *err)
{
	struct tasks *t = op->t;
	char *bundle = task_bundle_dir(t, op->ns, op->cid);
	char *rroot = task_runtime_root(t, op->ns);
	char *log = task_log_file(t, op->ns, op->cid, op->eid);
	char *process = xasprintf("%s/process.json", op->path);
	struct shim_launch_config sc = {
		.base = t->base, .shim_binary = t->shim_binary, .id = op->cid,
		.bundle = bundle, .state_dir = op->path, .runtime = runtime,
		.runtime_root = rroot, .log_path = log, .exec_process = process,
		.tty = op->flag, .stdin_open = false,
	};
	task_logs_remove(t, op->ns, op->cid, op->eid);	/* a crash's leftover */
	int rc = shim_launch(&sc, exec_ready, op);
	if (rc < 0)
		task_err(err, ERR_INTERNAL, "starting the shim: %s", strerror(errno));
	free(bundle);
	free(rroot);
	free(log);
	free(process);
	return rc;
}

/* The exec's directory with its process.json, ready for the shim. */
static int
exec_prepare(struct task_op *op, const struct task_row *row, struct task_error *err)
{
	json_error_t jerr;
	json_t *proc = json_loads(row->process ? row->process : "", 0, &jerr);
	int rc = -1;
	char *execs = xasprintf("%s/tasks/%s/%s/execs", op->t->state, op->ns, op->cid);
	if (proc == NULL)
		task_err(err, ERR_INTERNAL, "exec %s has no process", op->eid);
	else if ((mkdir(execs, 0700) < 0 && errno != EEXIST) ||
	    (mkdir(op->path, 0700) < 0 && errno != EEXIST))
		task_err(err, ERR_INTERNAL, "mkdir %s: %s", op->path, strerror(errno));
	else
		rc = write_process(op->path, proc, err);
	op->flag = json_is_true(json_object_get(proc, "terminal"));
	json_decref(proc);
	free(execs);
	return rc;
}

void
tasks_exec_start(struct tasks *t, const struct task_ref *ref, task_done_fn done, void *arg)
{
	struct task_row row, init;
	struct task_error err;
	char *runtime = NULL;
	if (task_row_load(t, ref->ns, ref->id, ref->exec_id, &row, &err) < 0) {
		done(NULL, &err, arg);
		return;
	}
	struct task *k = task_find(t, ref->ns, ref->id, ref->exec_id, true);
	int ok = -1;
	if (row.status != TASK_CREATED || k->starting || k->busy)
		task_err(&err, ERR_FAILED_PRECONDITION, "exec %s is %s", ref->exec_id,
		    k->starting ? "being started" : task_status_name(row.status));
	else if (task_row_load(t, ref->ns, ref->id, "", &init, &err) == 0) {
		if (init.status != TASK_RUNNING)
			task_err(&err, ERR_FAILED_PRECONDITION, "task %s is %s", ref->id,
			    task_status_name(init.status));
		else
			ok = 0;
		task_row_clear(&init);
	}
	if (ok == 0) {
		enum store_result res;
		json_t *c = store_container_get(t->st, ref->ns, ref->id, &res);
		runtime = c ? task_runtime_binary(t, c, &err) : NULL;
		if (c == NULL)
			task_err(&err, ERR_NOT_FOUND, "container %s not found", ref->id);
		json_decref(c);
		ok = runtime ? 0 : -1;
	}
	struct task_op *op = NULL;
	if (ok == 0) {
		op = op_new(t, ref->ns, ref->id, ref->exec_id, done, arg);
		op->path = task_dir(t, ref->ns, ref->id, ref->exec_id);
		op->task = k;
		k->starting++;
		if (exec_prepare(op, &row, &err) < 0 || exec_launch(op, runtime, &err) < 0) {
			k->starting--;
			op_finish(op, NULL, &err);
			op = NULL;
			ok = -1;
		}
	} else {
		done(NULL, &err, arg);
	}
	if (ok < 0 && op == NULL)
		task_release(k);
	task_row_clear(&row);
	free(runtime);
}
