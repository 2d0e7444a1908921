/* /v1/tasks/{id}/execs: exec processes (add, start, kill, wait, delete,
 * get, list), and add with "wait": true, which runs the process to its end
 * and answers with its exit status and output (bounded, from its log). */
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/helpers.h"
#include "api/tasks_api.h"
#include "common/util.h"
#include "http/request.h"
#include "http/response.h"
#include "kegd/daemon.h"
#include "tasks/logs.h"
#include "tasks/service.h"

#define EXEC_OUTPUT_MAX (1u << 20)	/* per stream, for "wait": true */

static const char *const ns_query[] = { "namespace", NULL };

void
api_exec_list(struct http_request *req, void *ctx)
{
	struct kegd *d = ctx;
	char *ns = NULL;
	const char *id;
	if (task_request(req, ns_query, &ns, &id, NULL) < 0)
		return;
	struct task_error err;
	json_t *list = tasks_list_execs(d->tasks, ns, id, &err);
	if (list == NULL)
		task_reply_error(req, &err);
	else
		http_reply_json(req, 200, json_pack("{s:o}", "execs", list));
	free(ns);
}

void
api_exec_get(struct http_request *req, void *ctx)
{
	api_task_get(req, ctx, true);
}

/* ---- add with wait: add → start → wait → output → delete ---------------------- */

static void
ignore(json_t *result, const struct task_error *err, void *arg)
{
	json_decref(result);
}

static void
run_deleted(json_t *result, const struct task_error *err, void *arg)
{
	struct task_job *j = arg;
	json_decref(result);
	task_job_reply(json_incref(j->extra), NULL, j);
}

static void
run_delete_later(evutil_socket_t fd, short what, void *arg)
{
	struct task_job *j = arg;
	struct task_ref ref = { j->ns, j->id, j->eid };
	(void)fd;
	(void)what;
	tasks_delete(j->d->tasks, &ref, false, run_deleted, j);
}

static void
run_exited(json_t *result, const struct task_error *err, void *arg)
{
	struct task_job *j = arg;
	j->waiter = NULL;
	if (result == NULL) {
		task_job_reply(NULL, err, j);
		return;
	}
	struct task_ref ref = { j->ns, j->id, j->eid };
	struct task_error lerr;
	char *path = tasks_log_path(j->d->tasks, &ref, &lerr);
	char *out = NULL, *errs = NULL;
	size_t out_len = 0, err_len = 0;
	bool truncated = false;
	if (path == NULL || log_collect(path, EXEC_OUTPUT_MAX, &out, &out_len, &errs,
	    &err_len, &truncated) < 0) {
		out = xstrdup("");
		errs = xstrdup("");
		out_len = err_len = 0;
	}
	json_object_set_new(result, "stdout", json_stringn_nocheck(out, out_len));
	json_object_set_new(result, "stderr", json_stringn_nocheck(errs, err_len));
	json_object_set_new(result, "truncated", json_boolean(truncated));
	free(path);
	free(out);
	free(errs);
	j->extra = result;
	/* Not from inside the exit's wake-up of its waiters (this is one):
	 * the delete frees the task whose waiter list is being walked. */
	if (event_base_once(j->d->base, -1, EV_TIMEOUT, run_delete_later, j, NULL) < 0)
		tasks_delete(j->d->tasks, &ref, false, run_deleted, j);
}

static void
run_started(json_t *result, const struct task_error *err, void *arg)
{
	struct task_job *j = arg;
	struct task_ref ref = { j->ns, j->id, j->eid };
	json_decref(result);
	if (result == NULL) {
		tasks_delete(j->d->tasks, &ref, true, ignore, NULL);
		task_job_reply(NULL, err, j);
		return;
	}
	if (j->req == NULL) {	/* the client has gone; the exec runs on */
		task_job_free(j);
		return;
	}
	struct task_waiter *w = tasks_wait(j->d->tasks, &ref, run_exited, j);
	if (w != NULL)
		j->waiter = w;
}

void
api_exec_add(struct http_request *req, void *ctx)
{
	static const char *const fields[] = { "exec_id", "process", "wait", NULL };
	struct kegd *d = ctx;
	char *ns = NULL;
	const char *id;
	json_t *body = NULL;
	if (task_request(req, ns_query, &ns, &id, NULL) < 0 ||
	    api_json_body(req, fields, &body) < 0)
		goto out;
	const char *eid = json_string_value(json_object_get(body, "exec_id"));
	json_t *wait = json_object_get(body, "wait");
	if (eid == NULL || (wait && !json_is_boolean(wait))) {
		http_reply_error(req, ERR_INVALID_ARGUMENT, "exec_id (a string) is required; "
		    "wait must be a boolean");
		goto out;
	}
	struct task_error err;
	json_t *t = tasks_exec_add(d->tasks, ns, id, eid, json_object_get(body, "process"),
	    &err);
	if (t == NULL) {
		task_reply_error(req, &err);
	} else if (!json_is_true(wait)) {
		http_reply_json(req, 201, t);
	} else {
		json_decref(t);
		struct task_job *j = task_job_new(req, d, 200, ns, id, eid);
		struct task_ref ref = { j->ns, j->id, j->eid };
		tasks_start(d->tasks, &ref, run_started, j);
	}
out:
	free(ns);
	json_decref(body);
}

/* ---- start, kill, wait, delete ---------------------------------------------------- */

void
api_exec_start(struct http_request *req, void *ctx)
{
	struct kegd *d = ctx;
	struct task_job *j = task_job_for(req, d, true, 200);
	if (j == NULL)
		return;
	struct task_ref ref = { j->ns, j->id, j->eid };
	tasks_start(d->tasks, &ref, task_job_reply, j);
}

void
api_exec_kill(struct http_request *req, void *ctx)
{
	api_task_kill(req, ctx, true);
}

void
api_exec_wait(struct http_request *req, void *ctx)
{
	api_task_wait(req, ctx, true);
}

void
api_exec_delete(struct http_request *req, void *ctx)
{
	api_task_delete(req, ctx, true);
}
