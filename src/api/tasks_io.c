/* A task's input and output: logs (read by src/tasks/logs.c, followed
 * until the task stops), metrics (src/tasks/metrics.c), terminal resize
 * and attach — an HTTP Upgrade after which bytes flow both ways between
 * the client and the shim's attach socket. */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <unistd.h>

#include "api/api.h"
#include "api/helpers.h"
#include "api/tasks_api.h"
#include "common/log.h"
#include "common/names.h"
#include "common/util.h"
#include "http/hijack.h"
#include "http/request.h"
#include "http/response.h"
#include "kegd/daemon.h"
#include "runtime/shim_client.h"
#include "tasks/logs.h"
#include "tasks/metrics.h"
#include "tasks/service.h"

/* ---- logs ----------------------------------------------------------------------- */

/* A following reader and the wait that tells it the task stopped. */
struct log_follow {
	struct log_reader *r;
	struct task_waiter *w;
};

static void
follow_stopped(json_t *result, const struct task_error *err, void *arg)
{
	struct log_follow *f = arg;
	json_decref(result);
	f->w = NULL;
	if (f->r != NULL)
		log_reader_task_stopped(f->r);
}

static void
follow_gone(struct log_reader *r, void *arg)
{
	struct log_follow *f = arg;
	if (f->w != NULL)
		tasks_wait_cancel(f->w);
	free(f);
}

static void
serve_logs(struct http_request *req, struct kegd *d, bool exec)
{
	char *ns = NULL;
	const char *id, *eid = NULL;
	const char *query[16] = { "namespace" };
	size_t n = 1;
	for (const char *const *q = log_query_params; *q && n < 15; q++)
		query[n++] = *q;
	if (task_request(req, query, &ns, &id, exec ? &eid : NULL) < 0)
		return;
	struct log_read_opts o;
	char why[256];
	struct task_error err;
	struct task_ref ref = { ns, id, eid };
	char *path = NULL;
	if (log_read_opts_from_query(req, &o, why, sizeof(why)) < 0) {
		http_reply_error(req, ERR_INVALID_ARGUMENT, "%s", why);
	} else if ((path = tasks_log_path(d->tasks, &ref, &err)) == NULL) {
		task_reply_error(req, &err);
	} else {
		struct log_follow *f = o.follow ? xcalloc(1, sizeof(*f)) : NULL;
		struct log_reader *r = log_reader_serve(d->base, req, path, &o,
		    f ? follow_gone : NULL, f);
		if (r == NULL) {
			free(f);
		} else if (f != NULL) {
			f->r = r;
			f->w = tasks_wait(d->tasks, &ref, follow_stopped, f);
		}
	}
	free(path);
	free(ns);
}

void
api_task_logs(struct http_request *req, void *ctx)
{
	serve_logs(req, ctx, false);
}

void
api_exec_logs(struct http_request *req, void *ctx)
{
	serve_logs(req, ctx, true);
}

/* ---- metrics -------------------------------------------------------------------- */

void
api_task_metrics(struct http_request *req, void *ctx)
{
	static const char *const query[] = { "namespace", NULL };
	struct kegd *d = ctx;
	char *ns = NULL;
	const char *id;
	if (task_request(req, query, &ns, &id, NULL) < 0)
		return;
	struct task_error err;
	char *cg = tasks_cgroups_path(d->tasks, ns, id, &err);
	json_t *m = cg ? task_metrics_read(cg) : NULL;
	if (cg == NULL)
		task_reply_error(req, &err);
	else if (m == NULL)
		http_reply_error(req, ERR_FAILED_PRECONDITION, "task %s has no cgroup %s "
		    "(stopped?)", id, cg);
	else
		http_reply_json(req, 200, m);
	free(cg);
	free(ns);
}

/* ---- resize --------------------------------------------------------------------- */

void
api_task_resize(struct http_request *req, void *ctx)
{
	static const char *const query[] = { "namespace", NULL };
	static const char *const fields[] = { "width", "height", "exec_id", NULL };
	struct kegd *d = ctx;
	char *ns = NULL, *dir = NULL;
	const char *id;
	json_t *body = NULL;
	if (task_request(req, query, &ns, &id, NULL) < 0 ||
	    api_json_body(req, fields, &body) < 0)
		goto out;
	json_t *w = json_object_get(body, "width"), *h = json_object_get(body, "height");
	json_t *e = json_object_get(body, "exec_id");
	if (!json_is_integer(w) || !json_is_integer(h) || json_integer_value(w) < 1 ||
	    json_integer_value(h) < 1 || json_integer_value(w) > 65535 ||
	    json_integer_value(h) > 65535 || (e && (!json_is_string(e) ||
	    !identifier_valid(json_string_value(e))))) {
		http_reply_error(req, ERR_INVALID_ARGUMENT, "width and height (1..65535) are "
		    "required; exec_id must be a valid id");
		goto out;
	}
	struct task_error err;
	struct task_ref ref = { ns, id, json_string_value(e) };
	if ((dir = tasks_shim_dir(d->tasks, &ref, &err)) == NULL)
		task_reply_error(req, &err);
	else if (shim_resize(dir, (unsigned)json_integer_value(w),
	    (unsigned)json_integer_value(h)) < 0)
		http_reply_error(req, ERR_FAILED_PRECONDITION, "the shim of %s does not take "
		    "a resize: %s", id, strerror(errno));
	else
		http_reply_no_content(req);
out:
	free(dir);
	free(ns);
	json_decref(body);
}

/* ---- attach --------------------------------------------------------------------- */

#define ATTACH_BUFFER_MAX (256 * 1024)	/* queued one way before reading pauses */

struct attach {
	TAILQ_ENTRY(attach) link;
	struct bufferevent *client, *shim;
	bool closing;		/* the shim side ended: flush to the client */
};

/* Every live session, for api_attach_close_all. One kegd per process, so
 * a file-level list is the daemon's. */
static TAILQ_HEAD(, attach) attaches = TAILQ_HEAD_INITIALIZER(attaches);

static void
attach_free(struct attach *a)
{
	TAILQ_REMOVE(&attaches, a, link);
	bufferevent_free(a->client);
	bufferevent_free(a->shim);
	free(a);
}

void
api_attach_close_all(void)
{
	struct attach *a;
	while ((a = TAILQ_FIRST(&attaches)) != NULL)
		attach_free(a);
}

static struct bufferevent *
other(struct attach *a, struct bufferevent *bev)
{
	return bev == a->client ? a->shim : a->client;
}

static void
attach_read(struct bufferevent *bev, void *arg)
{
	struct attach *a = arg;
	struct bufferevent *to = other(a, bev);
	bufferevent_write_buffer(to, bufferevent_get_input(bev));
	if (evbuffer_get_length(bufferevent_get_output(to)) > ATTACH_BUFFER_MAX)
		bufferevent_disable(bev, EV_READ);
}

static void
attach_written(struct bufferevent *bev, void *arg)
{
	struct attach *a = arg;
	if (a->closing && bev == a->client) {
		attach_free(a);
		return;
	}
	bufferevent_enable(other(a, bev), EV_READ);
}

static void
attach_event(struct bufferevent *bev, short what, void *arg)
{
	struct attach *a = arg;
	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
		return;
	/* The process's output ended: what is queued still reaches the client. */
	if (bev == a->shim && evbuffer_get_length(bufferevent_get_output(a->client)) > 0) {
		a->closing = true;
		bufferevent_disable(a->shim, EV_READ);
		bufferevent_disable(a->client, EV_READ);
		return;
	}
	attach_free(a);
}

static int
attach_start(int cfd, int sfd, struct evbuffer *extra, struct event_base *base)
{
	struct attach *a = xcalloc(1, sizeof(*a));
	a->client = bufferevent_socket_new(base, cfd, BEV_OPT_CLOSE_ON_FREE);
	a->shim = bufferevent_socket_new(base, sfd, BEV_OPT_CLOSE_ON_FREE);
	if (a->client == NULL || a->shim == NULL) {
		if (a->client)
			bufferevent_free(a->client);
		else
			close(cfd);
		if (a->shim)
			bufferevent_free(a->shim);
		else
			close(sfd);
		free(a);
		return -1;
	}
	TAILQ_INSERT_TAIL(&attaches, a, link);
	bufferevent_setcb(a->client, attach_read, attach_written, attach_event, a);
	bufferevent_setcb(a->shim, attach_read, attach_written, attach_event, a);
	bufferevent_write_buffer(a->shim, extra);
	bufferevent_enable(a->client, EV_READ | EV_WRITE);
	bufferevent_enable(a->shim, EV_READ | EV_WRITE);
	return 0;
}

static bool
wants_attach(const struct http_request *req)
{
	const char *up = http_header(req, "Upgrade");
	const char *conn = http_header(req, "Connection");
	return up != NULL && strcasecmp(up, "keg-attach") == 0 && conn != NULL &&
	    strcasestr(conn, "upgrade") != NULL;
}

void
api_task_attach(struct http_request *req, void *ctx)
{
	static const char *const query[] = { "namespace", "exec_id", NULL };
	struct kegd *d = ctx;
	char *ns = NULL, *eid = NULL, *dir = NULL;
	const char *id;
	if (task_request(req, query, &ns, &id, NULL) < 0)
		return;
	eid = http_query(req, "exec_id");
	struct task_error err;
	struct task_ref ref = { ns, id, eid };
	int sfd = -1;
	if (!wants_attach(req)) {
		http_reply_error(req, ERR_INVALID_ARGUMENT, "attach needs \"Connection: "
		    "Upgrade\" and \"Upgrade: keg-attach\"");
	} else if (eid != NULL && !identifier_valid(eid)) {
		http_reply_error(req, ERR_INVALID_ARGUMENT, "invalid exec id");
	} else if ((dir = tasks_shim_dir(d->tasks, &ref, &err)) == NULL) {
		task_reply_error(req, &err);
	} else if ((sfd = shim_attach_connect(dir)) < 0) {
		http_reply_error(req, ERR_FAILED_PRECONDITION, "the shim of %s does not "
		    "accept an attach: %s", id, strerror(errno));
	} else {
		struct evbuffer *extra = evbuffer_new();
		int cfd = http_hijack(req, "HTTP/1.1 101 Switching Protocols\r\n"
		    "Connection: Upgrade\r\nUpgrade: keg-attach\r\n\r\n", extra);
		if (cfd < 0) {
			close(sfd);
			http_reply_error(req, ERR_INTERNAL, "cannot take the connection over: %s",
			    strerror(errno));
		} else if (attach_start(cfd, sfd, extra, d->base) < 0) {
			log_warn("attach %s: out of resources", id);
		}
		evbuffer_free(extra);
	}
	free(dir);
	free(eid);
	free(ns);
}
