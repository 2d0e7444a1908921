/* The task handlers' shared pieces (tasks_api.h). */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <event2/buffer.h>

#include "api/helpers.h"
#include "api/tasks_api.h"
#include "common/names.h"
#include "common/util.h"
#include "http/request.h"
#include "http/response.h"
#include "kegd/daemon.h"

static void
job_gone(void *arg)
{
	struct task_job *j = arg;
	j->req = NULL;
	/* A waiter whose client hung up is of no use: drop it. */
	if (j->waiter != NULL) {
		tasks_wait_cancel(j->waiter);
		task_job_free(j);
	}
}

struct task_job *
task_job_new(struct http_request *req, struct kegd *d, int status, const char *ns,
    const char *id, const char *eid)
{
	struct task_job *j = xcalloc(1, sizeof(*j));
	j->req = req;
	j->d = d;
	j->status = status;
	j->ns = xstrdup(ns);
	j->id = xstrdup(id);
	j->eid = eid ? xstrdup(eid) : NULL;
	http_set_close_cb(req, job_gone, j);
	return j;
}

struct task_job *
task_job_for(struct http_request *req, struct kegd *d, bool exec, int status)
{
	static const char *const ns_query[] = { "namespace", NULL };
	char *ns = NULL;
	const char *id, *eid = NULL;
	if (task_request(req, ns_query, &ns, &id, exec ? &eid : NULL) < 0)
		return NULL;
	struct task_job *j = task_job_new(req, d, status, ns, id, eid);
	free(ns);
	return j;
}

void
task_job_free(struct task_job *j)
{
	if (j->req)
		http_set_close_cb(j->req, NULL, NULL);
	free(j->ns);
	free(j->id);
	free(j->eid);
	json_decref(j->extra);
	free(j);
}

void
task_reply_error(struct http_request *req, const struct task_error *err)
{
	http_reply_error(req, err->code, "%s", err->message);
}

void
task_job_reply(json_t *result, const struct task_error *err, void *arg)
{
	struct task_job *j = arg;
	j->waiter = NULL;
	if (j->req != NULL && result == NULL)
		task_reply_error(j->req, err);
	else if (j->req != NULL && j->status == 204)
		http_reply_no_content(j->req);
	else if (j->req != NULL)
		http_reply_json(j->req, j->status, json_incref(result));
	json_decref(result);
	task_job_free(j);
}

int
task_request(struct http_request *req, const char *const *query, char **ns,
    const char **id, const char **eid)
{
	if (api_check_query(req, query) < 0 || api_namespace(req, ns) < 0)
		return -1;
	*id = http_param(req, "id");
	if (*id == NULL || !identifier_valid(*id)) {
		http_reply_error(req, ERR_INVALID_ARGUMENT, "invalid task id");
		goto bad;
	}
	if (eid != NULL) {
		*eid = http_param(req, "eid");
		if (*eid == NULL || !identifier_valid(*eid)) {
			http_reply_error(req, ERR_INVALID_ARGUMENT, "invalid exec id");
			goto bad;
		}
	}
	return 0;
bad:
	free(*ns);
	*ns = NULL;
	return -1;
}

int
task_body(struct http_request *req, const char *const *allowed, json_t **out)
{
	if (evbuffer_get_length(req->body) == 0) {
		*out = json_object();
		return 0;
	}
	return api_json_body(req, allowed, out);
}

int
task_signal_parse(const json_t *v)
{
	if (json_is_integer(v)) {
		json_int_t n = json_integer_value(v);
		return n >= 1 && n <= SIGRTMAX ? (int)n : -1;
	}
	const char *s = json_string_value(v);
	if (s == NULL)
		return -1;
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (int sig = 1; sig < SIGRTMIN; sig++) {
		const char *name = sigabbrev_np(sig);
		if (name != NULL && strcasecmp(name, s) == 0)
			return sig;
	}
	return -1;
}

void
api_task_delete(struct http_request *req, struct kegd *d, bool exec)
{
	static const char *const query[] = { "namespace", "force", NULL };
	char *ns = NULL, *force = NULL;
	const char *id, *eid = NULL;
	if (task_request(req, query, &ns, &id, exec ? &eid : NULL) < 0)
		return;
	force = http_query(req, "force");
	bool f = force && (strcmp(force, "1") == 0 || strcmp(force, "true") == 0);
	if (force && !f && strcmp(force, "0") != 0 && strcmp(force, "false") != 0) {
		http_reply_error(req, ERR_INVALID_ARGUMENT, "force must be 1, true, 0 or false");
	} else {
		struct task_job *j = task_job_new(req, d, 200, ns, id, eid);
		struct task_ref ref = { j->ns, j->id, j->eid };
		tasks_delete(d->tasks, &ref, f, task_job_reply, j);
	}
	free(force);
	free(ns);
}
