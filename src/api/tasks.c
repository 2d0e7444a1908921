/* /v1/tasks: the task life cycle (create, start, kill, wait, delete, get,
 * list, pids, pause, resume, resources, checkpoint) over the task service
 * (src/tasks/service.h). Execs are in tasks_exec.c; logs, metrics,
 * attach and resize in tasks_io.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api/api.h"
#include "api/helpers.h"
#include "api/tasks_api.h"
#include "common/names.h"
#include "common/util.h"
#include "http/request.h"
#include "http/response.h"
#include "kegd/daemon.h"
#include "tasks/service.h"

static const char *const ns_query[] = { "namespace", NULL };

static void
list_tasks(struct http_request *req, void *ctx)
{
	struct kegd *d = ctx;
	char *ns = NULL;
	if (api_check_query(req, ns_query) < 0 || api_namespace(req, &ns) < 0)
		return;
	struct task_error err;
	json_t *list = tasks_list(d->tasks, ns, &err);
	if (list == NULL)
		task_reply_error(req, &err);
	else
		http_reply_json(req, 200, json_pack("{s:o}", "tasks", list));
	free(ns);
}

static int
create_options(struct http_request *req, json_t *body, struct task_create_opts *o)
{
	json_t *opts = json_object_get(body, "options"), *term = json_object_get(body, "terminal");
	json_t *in = json_object_get(opts, "stdin"), *np = json_object_get(opts, "no_pivot");
	json_t *start = json_object_get(body, "start");
	const char *key;
	json_t *v;
	if ((opts && !json_is_object(opts)) || (term && !json_is_boolean(term)) ||
	    (start && !json_is_boolean(start)) || (in && !json_is_boolean(in)) ||
	    (np && !json_is_boolean(np)))
		goto bad;
	json_object_foreach(opts, key, v)
		if (strcmp(key, "stdin") != 0 && strcmp(key, "no_pivot") != 0)
			goto bad;
	o->terminal = json_is_true(term);
	o->stdin_open = json_is_true(in);
	o->start = json_is_true(start);
	return 0;
bad:
	http_reply_error(req, ERR_INVALID_ARGUMENT, "terminal and start must be booleans, "
	    "options an object with booleans stdin and no_pivot");
	return -1;
}

/* "checkpoint": an image directory to restore from (as written by
 * POST .../checkpoint). Checked here so a typo is a 400 naming the path,
 * not the runtime's less direct complaint. */
static int
create_checkpoint(struct http_request *req, json_t *body, struct task_create_opts *o)
{
	json_t *v = json_object_get(body, "checkpoint");
	const char *p = json_string_value(v);
	struct stat st;
	if (v == NULL)
		return 0;
	if (p == NULL || p[0] != '/' || strlen(p) != json_string_length(v)) {
		http_reply_error(req, ERR_INVALID_ARGUMENT, "checkpoint must be an absolute path "
		    "(a checkpoint image directory)");
		return -1;
	}
	int rc = stat(p, &st);
	if (rc < 0 || !S_ISDIR(st.st_mode)) {
		http_reply_error(req, ERR_INVALID_ARGUMENT, "checkpoint %s: %s", p,
		    rc < 0 ? strerror(errno) : "not a directory");
		return -1;
	}
	o->checkpoint = p;
	return 0;
}

static void
create_task(struct http_request *req, void *ctx)
{
	static const char *const fields[] = { "container_id", "options", "terminal",
		"checkpoint", "start", NULL };
	struct kegd *d = ctx;
	char *ns = NULL;
	json_t *body = NULL;
	struct task_create_opts o = { 0 };
	if (api_check_query(req, ns_query) < 0 || api_namespace(req, &ns) < 0 ||
	    api_json_body(req, fields, &body) < 0 || create_options(req, body, &o) < 0 ||
	    create_checkpoint(req, body, &o) < 0)
		goto out;
	const char *id = json_string_value(json_object_get(body, "container_id"));
	if (id == NULL || !identifier_valid(id)) {
		http_reply_error(req, ERR_INVALID_ARGUMENT, "container_id: a valid container id "
		    "is required");
		goto out;
	}
	struct task_job *j = task_job_new(req, d, 201, ns, id, NULL);
	tasks_create(d->tasks, ns, id, &o, task_job_reply, j);
out:
	free(ns);
	json_decref(body);
}

void
api_task_get(struct http_request *req, struct kegd *d, bool exec)
{
	char *ns = NULL;
	const char *id, *eid = NULL;
	if (task_request(req, ns_query, &ns, &id, exec ? &eid : NULL) < 0)
		return;
	struct task_error err;
	struct task_ref ref = { ns, id, eid };
	json_t *t = tasks_get(d->tasks, &ref, &err);
	if (t == NULL)
		task_reply_error(req, &err);
	else
		http_reply_json(req, 200, t);
	free(ns);
}

static void
get_task(struct http_request *req, void *ctx)
{
	api_task_get(req, ctx, false);
}

static void
delete_task(struct http_request *req, void *ctx)
{
	api_task_delete(req, ctx, false);
}

/* POST /start, /pause, /resume and GET /pids: no body, one service call. */
enum simple_kind { SIMPLE_START, SIMPLE_PAUSE, SIMPLE_RESUME, SIMPLE_PIDS };

static void
simple(struct http_request *req, struct kegd *d, enum simple_kind kind)
{
	struct task_job *j = task_job_for(req, d, false, 200);
	if (j == NULL)
		return;
	struct task_ref ref = { j->ns, j->id, NULL };
	switch (kind) {
	case SIMPLE_START: tasks_start(d->tasks, &ref, task_job_reply, j); break;
	case SIMPLE_PAUSE: tasks_pause(d->tasks, j->ns, j->id, task_job_reply, j); break;
	case SIMPLE_RESUME: tasks_resume(d->tasks, j->ns, j->id, task_job_reply, j); break;
	case SIMPLE_PIDS: tasks_pids(d->tasks, j->ns, j->id, task_job_reply, j); break;
	}
}

static void
start_task(struct http_request *req, void *ctx)
{
	simple(req, ctx, SIMPLE_START);
}

static void
pause_task(struct http_request *req, void *ctx)
{
	simple(req, ctx, SIMPLE_PAUSE);
}

static void
resume_task(struct http_request *req, void *ctx)
{
	simple(req, ctx, SIMPLE_RESUME);
}

static void
task_pids(struct http_request *req, void *ctx)
{
	simple(req, ctx, SIMPLE_PIDS);
}

void
api_task_kill(struct http_request *req, struct kegd *d, bool exec)
{
	static const char *const fields[] = { "signal", "all", NULL };
	char *ns = NULL;
	const char *id, *eid = NULL;
	json_t *body = NULL;
	if (task_request(req, ns_query, &ns, &id, exec ? &eid : NULL) < 0 ||
	    task_body(req, fields, &body) < 0)
		goto out;
	json_t *sigv = json_object_get(body, "signal"), *all = json_object_get(body, "all");
	int sig = sigv ? task_signal_parse(sigv) : 15;
	if (sig < 0 || (all && !json_is_boolean(all)) || (exec && json_is_true(all))) {
		http_reply_error(req, ERR_INVALID_ARGUMENT, "signal must be a signal number or "
		    "name (\"SIGTERM\"); all a boolean (init process only)");
		goto out;
	}
	struct task_job *j = task_job_new(req, d, 204, ns, id, eid);
	struct task_ref ref = { j->ns, j->id, j->eid };
	tasks_kill(d->tasks, &ref, sig, json_is_true(all), task_job_reply, j);
out:
	free(ns);
	json_decref(body);
}

static void
kill_task(struct http_request *req, void *ctx)
{
	api_task_kill(req, ctx, false);
}

void
api_task_wait(struct http_request *req, struct kegd *d, bool exec)
{
	struct task_job *j = task_job_for(req, d, exec, 200);
	if (j == NULL)
		return;
	struct task_ref ref = { j->ns, j->id, j->eid };
	struct task_waiter *w = tasks_wait(d->tasks, &ref, task_job_reply, j);
	if (w != NULL)
		j->waiter = w;	/* j lives on only when done has not run */
}

static void
wait_task(struct http_request *req, void *ctx)
{
	api_task_wait(req, ctx, false);
}

static void
update_resources(struct http_request *req, void *ctx)
{
	static const char *const fields[] = { "memory", "cpu", "pids", "blockIO",
		"hugepageLimits", "network", "devices", "rdma", "unified", NULL };
	struct kegd *d = ctx;
	char *ns = NULL;
	const char *id;
	json_t *body = NULL;
	if (task_request(req, ns_query, &ns, &id, NULL) < 0 ||
	    api_json_body(req, fields, &body) < 0)
		goto out;
	struct task_job *j = task_job_new(req, d, 204, ns, id, NULL);
	tasks_update(d->tasks, j->ns, j->id, body, task_job_reply, j);
out:
	free(ns);
	json_decref(body);
}

static void
checkpoint_task(struct http_request *req, void *ctx)
{
	static const char *const fields[] = { "image_path", "leave_running", NULL };
	struct kegd *d = ctx;
	char *ns = NULL;
	const char *id;
	json_t *body = NULL;
	if (task_request(req, ns_query, &ns, &id, NULL) < 0 ||
	    task_body(req, fields, &body) < 0)
		goto out;
	json_t *path = json_object_get(body, "image_path"), *lr = json_object_get(body,
	    "leave_running");
	const char *p = json_string_value(path);
	if ((path && (p == NULL || p[0] != '/' || strstr(p, "/../") != NULL ||
	    str_has_suffix(p, "/..") || strlen(p) != json_string_length(path))) ||
	    (lr && !json_is_boolean(lr))) {
		http_reply_error(req, ERR_INVALID_ARGUMENT, "image_path must be an absolute path "
		    "without \"..\", leave_running a boolean");
		goto out;
	}
	struct task_job *j = task_job_new(req, d, 200, ns, id, NULL);
	struct task_checkpoint_opts o = { p, json_is_true(lr) };
	tasks_checkpoint(d->tasks, j->ns, j->id, &o, task_job_reply, j);
out:
	free(ns);
	json_decref(body);
}

const struct http_route api_task_routes[] = {
	{ "GET", "/v1/tasks", list_tasks },
	{ "POST", "/v1/tasks", create_task },
	{ "GET", "/v1/tasks/{id}", get_task },
	{ "DELETE", "/v1/tasks/{id}", delete_task },
	{ "POST", "/v1/tasks/{id}/start", start_task },
	{ "POST", "/v1/tasks/{id}/kill", kill_task },
	{ "GET", "/v1/tasks/{id}/wait", wait_task },
	{ "GET", "/v1/tasks/{id}/pids", task_pids },
	{ "POST", "/v1/tasks/{id}/pause", pause_task },
	{ "POST", "/v1/tasks/{id}/resume", resume_task },
	{ "PATCH", "/v1/tasks/{id}/resources", update_resources },
	{ "POST", "/v1/tasks/{id}/checkpoint", checkpoint_task },
	{ "GET", "/v1/tasks/{id}/metrics", api_task_metrics },
	{ "GET", "/v1/tasks/{id}/logs", api_task_logs },
	{ "POST", "/v1/tasks/{id}/resize", api_task_resize },
	{ "POST", "/v1/tasks/{id}/attach", api_task_attach },
	{ "GET", "/v1/tasks/{id}/execs", api_exec_list },
	{ "POST", "/v1/tasks/{id}/execs", api_exec_add },
	{ "GET", "/v1/tasks/{id}/execs/{eid}", api_exec_get },
	{ "DELETE", "/v1/tasks/{id}/execs/{eid}", api_exec_delete },
	{ "POST", "/v1/tasks/{id}/execs/{eid}/start", api_exec_start },
	{ "POST", "/v1/tasks/{id}/execs/{eid}/kill", api_exec_kill },
	{ "GET", "/v1/tasks/{id}/execs/{eid}/wait", api_exec_wait },
	{ "GET", "/v1/tasks/{id}/execs/{eid}/logs", api_exec_logs },
	{ NULL, NULL, NULL },
};
