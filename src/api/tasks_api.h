/* What the task handlers (tasks.c, tasks_exec.c, tasks_io.c) share: a job
 * that answers the request when the task service calls back (or drops the
 * answer when the client has gone), and request parsing. */
#ifndef KEG_API_TASKS_API_H
#define KEG_API_TASKS_API_H

#include <jansson.h>
#include <stdbool.h>

#include "tasks/service.h"

struct http_request;
struct kegd;

struct task_job {
	struct http_request *req;	/* NULL once the client has gone */
	int status;			/* on success; 204 sends no body */
	char *ns, *id, *eid;
	struct task_waiter *waiter;	/* a wait in progress */
	json_t *extra;			/* for chained work (exec with wait) */
	struct kegd *d;
};

/* A job for req (its close callback set). */
struct task_job *task_job_new(struct http_request *req, struct kegd *d, int status,
    const char *ns, const char *id, const char *eid);
void task_job_free(struct task_job *j);
/* task_done_fn: replies with result (status) or err, frees the job. */
void task_job_reply(json_t *result, const struct task_error *err, void *arg);

/* The start of the routes that take no body: the query (namespace only)
 * checked, the route's {id} (and {eid} when exec) valid, and then a job
 * answering with status. NULL after replying. */
struct task_job *task_job_for(struct http_request *req, struct kegd *d, bool exec,
    int status);

/* Query (namespace plus extra, NULL-terminated) and namespace; the route's
 * {id} (and {eid}) checked as identifiers. -1 after replying. */
int task_request(struct http_request *req, const char *const *query, char **ns,
    const char **id, const char **eid);
/* The body as an object with keys in allowed; an empty body is {}. */
int task_body(struct http_request *req, const char *const *allowed, json_t **out);
/* "SIGTERM", "TERM" or a number; -1 when unknown. */
int task_signal_parse(const json_t *v);
void task_reply_error(struct http_request *req, const struct task_error *err);

/* Shared by the init and exec routes (exec: the route has {eid}). */
void api_task_get(struct http_request *req, struct kegd *d, bool exec);
void api_task_kill(struct http_request *req, struct kegd *d, bool exec);
/* The request stays open until the process stops. */
void api_task_wait(struct http_request *req, struct kegd *d, bool exec);
/* DELETE with ?force (1/true/0/false; anything else is refused). */
void api_task_delete(struct http_request *req, struct kegd *d, bool exec);

/* Handlers of tasks_exec.c and tasks_io.c, in tasks.c's route table. */
void api_exec_list(struct http_request *req, void *ctx);
void api_exec_add(struct http_request *req, void *ctx);
void api_exec_get(struct http_request *req, void *ctx);
void api_exec_delete(struct http_request *req, void *ctx);
void api_exec_start(struct http_request *req, void *ctx);
void api_exec_kill(struct http_request *req, void *ctx);
void api_exec_wait(struct http_request *req, void *ctx);
void api_exec_logs(struct http_request *req, void *ctx);
void api_task_logs(struct http_request *req, void *ctx);
void api_task_metrics(struct http_request *req, void *ctx);
void api_task_resize(struct http_request *req, void *ctx);
void api_task_attach(struct http_request *req, void *ctx);

#endif
