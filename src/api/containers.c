/* /v1/containers: containerd's container service over HTTP. A container is
 * metadata (image, snapshot, runtime, OCI spec, labels, extensions); the
 * work is in src/containers, this file reads requests and writes replies. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/helpers.h"
#include "api/labels_patch.h"
#include "common/errcode.h"
#include "common/log.h"
#include "common/names.h"
#include "common/util.h"
#include "containers/containers.h"
#include "http/request.h"
#include "http/response.h"
#include "kegd/daemon.h"
#include "store/containers.h"

static const char *const ns_query[] = { "namespace", NULL };

static void
containers_env_of(const struct kegd *d, struct containers_env *env)
{
	*env = (struct containers_env){
		.st = d->store, .bs = d->blobs, .snaps = d->snapshots, .bus = d->bus,
		.state_dir = d->cfg->state, .runtime_binary = d->cfg->runtime_binary,
	};
}

static void
reply_error(struct http_request *req, const struct container_error *err)
{
	if (err->code == ERR_INTERNAL)
		log_error("api: %s %s: %s", req->method, req->path, err->message);
	http_reply_error(req, err->code, "%s", err->message);
}

/* The namespace and the {id} of the path, checked before any lookup: an id
 * that is not an identifier cannot name a container. -1 after replying. */
static int
path_container(struct http_request *req, char **ns, const char **id)
{
	if (api_check_query(req, ns_query) < 0 || api_namespace(req, ns) < 0)
		return -1;
	*id = http_param(req, "id");
	if (*id == NULL || !identifier_valid(*id)) {
		http_reply_error(req, ERR_INVALID_ARGUMENT, "invalid container id");
		free(*ns);
		return -1;
	}
	return 0;
}

/* ---- list, get ----------------------------------------------------------- */

struct listing {
	char *const *filters;
	char *buf;		/* the answer in one block (see list_containers) */
	size_t len, cap, n;
};

static void
put(struct listing *l, const char *s, size_t n)
{
	if (l->len + n > l->cap) {
		l->cap = 2 * (l->len + n);
		l->buf = xrealloc(l->buf, l->cap);
	}
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

/* One container of the listing: its other members dumped, then the stored
 * spec text spliced in unparsed as the last one. The spec is ~10 KB (the
 * seccomp profile): parsing and dumping 1000 of them again took ~1 s. */
static int
list_one(json_t *meta, const char *spec, size_t spec_len, void *arg)
{
	struct listing *l = arg;
	if (!api_labels_match(json_object_get(meta, "labels"), l->filters))
		return 0;
	char *text = json_dumps(meta, JSON_COMPACT);
	if (text == NULL)
		return -1;
	if (l->n++ > 0)
		put(l, ",", 1);
	put(l, text, strlen(text) - 1);	/* {...} without its closing brace */
	put(l, ",\"spec\":", 8);
	put(l, spec, spec_len);
	put(l, "}", 1);
	free(text);
	return 0;
}

static void
list_containers(struct http_request *req, void *ctx)
{
	static const char *const query[] = { "namespace", "label", NULL };
	struct kegd *d = ctx;
	char *ns = NULL, **filters;
	/* api_label_filters frees what it read when it refuses. */
	if (api_check_query(req, query) < 0 || api_namespace(req, &ns) < 0 ||
	    api_label_filters(req, &filters) < 0) {
		free(ns);
		return;
	}
	/* One growing block rather than an evbuffer's 16 KB chains: a big
	 * block lets malloc keep it for the next listing (its mmap threshold
	 * adapts), where chains went back to the kernel after each answer and
	 * were faulted in again, page by page — 60% of a listing's time. */
	struct listing l = { .filters = filters };
	put(&l, "{\"containers\":[", 15);
	if (store_container_each(d->store, ns, list_one, &l) != 0) {
		api_reply_store_error(req, "listing containers");
		free(l.buf);
	} else {
		put(&l, "]}\n", 3);
		http_reply_take(req, 200, "application/json", l.buf, l.len);
	}
	free(ns);
	http_strv_free(filters);
}

static void
get_container(struct http_request *req, void *ctx)
{
	struct kegd *d = ctx;
	char *ns;
	const char *id;
	if (path_container(req, &ns, &id) < 0)
		return;
	enum store_result res;
	json_t *c = store_container_get(d->store, ns, id, &res);
	if (res == STORE_NOT_FOUND)
		http_reply_error(req, ERR_NOT_FOUND, "container %s not found", id);
	else if (res != STORE_OK)
		api_reply_store_error(req, "reading the container");
	else
		http_reply_json(req, 200, c);
	free(ns);
}

/* ---- create: answered when the snapshot is made and the row stored ------- */

struct pending {
	struct http_request *req;	/* NULL once the client has gone */
};

static void
pending_gone(void *arg)
{
	struct pending *p = arg;
	p->req = NULL;
}

static void
created(json_t *container, const struct container_error *err, void *arg)
{
	struct pending *p = arg;
	if (p->req != NULL) {
		http_set_close_cb(p->req, NULL, NULL);
		if (container != NULL)
			http_reply_json(p->req, 201, container);
		else
			reply_error(p->req, err);
	} else {
		json_decref(container);
	}
	free(p);
}

/* Scalar fields of the body; -1 after replying. */
static int
create_scalars(struct http_request *req, const json_t *body, struct container_create *r)
{
	static const char *const strings[] = { "id", "image", "snapshotter", "snapshot_key",
		NULL };
	for (const char *const *f = strings; *f; f++) {
		json_t *v = json_object_get(body, *f);
		if (v != NULL && !json_is_string(v)) {
			http_reply_error(req, ERR_INVALID_ARGUMENT, "%s must be a string", *f);
			return -1;
		}
	}
	json_t *ro = json_object_get(body, "readonly");
	if (ro != NULL && !json_is_boolean(ro)) {
		http_reply_error(req, ERR_INVALID_ARGUMENT, "readonly must be a boolean");
		return -1;
	}
	r->id = json_string_value(json_object_get(body, "id"));
	r->image = json_string_value(json_object_get(body, "image"));
	r->snapshotter = json_string_value(json_object_get(body, "snapshotter"));
	r->snapshot_key = json_string_value(json_object_get(body, "snapshot_key"));
	r->readonly = json_is_true(ro);
	return 0;
}

static void
create_container(struct http_request *req, void *ctx)
{
	static const char *const fields[] = { "id", "image", "snapshotter", "snapshot_key",
		"readonly", "runtime", "options", "spec", "labels", "extensions", NULL };
	struct kegd *d = ctx;
	char *ns = NULL;
	json_t *body = NULL;
	struct container_create r = { 0 };
	if (api_check_query(req, ns_query) < 0 || api_namespace(req, &ns) < 0 ||
	    api_json_body(req, fields, &body) < 0 || create_scalars(req, body, &r) < 0)
		goto out;
	r.ns = ns;
	r.runtime = json_object_get(body, "runtime");
	r.options = json_object_get(body, "options");
	r.spec = json_object_get(body, "spec");
	r.labels = json_object_get(body, "labels");
	r.extensions = json_object_get(body, "extensions");
	struct containers_env env;
	containers_env_of(d, &env);
	struct pending *p = xcalloc(1, sizeof(*p));
	p->req = req;
	http_set_close_cb(req, pending_gone, p);
	container_create(&env, &r, created, p);
out:
	free(ns);
	json_decref(body);
}

/* ---- update, labels, delete ---------------------------------------------- */

static void
update_container(struct http_request *req, void *ctx)
{
	static const char *const fields[] = { "image", "spec", "runtime", "extensions", "labels",
		NULL };
	struct kegd *d = ctx;
	char *ns;
	const char *id;
	json_t *body = NULL;
	if (path_container(req, &ns, &id) < 0)
		return;
	if (api_json_body(req, fields, &body) == 0) {
		struct containers_env env;
		struct container_error err;
		containers_env_of(d, &env);
		json_t *c = container_update(&env, ns, id, body, &err);
		if (c == NULL)
			reply_error(req, &err);
		else
			http_reply_json(req, 200, c);
	}
	json_decref(body);
	free(ns);
}

/* containerd's /containers/update carries image and snapshot_key too. */
static void
label_event_extra(const json_t *row, json_t *payload)
{
	json_object_set(payload, "image", json_object_get(row, "image"));
	json_object_set(payload, "snapshot_key", json_object_get(row, "snapshot_key"));
}

static const struct labeled_kind container_kind = {
	"container", "id", "/containers/update", store_container_get,
	store_container_set_labels, NULL, label_event_extra,
};

static void
label_container(struct http_request *req, void *ctx)
{
	char *ns;
	const char *id;
	if (path_container(req, &ns, &id) < 0)
		return;
	api_patch_labels(req, ctx, &container_kind, ns, id);
	free(ns);
}

static void
delete_container(struct http_request *req, void *ctx)
{
	struct kegd *d = ctx;
	char *ns;
	const char *id;
	if (path_container(req, &ns, &id) < 0)
		return;
	struct containers_env env;
	struct container_error err;
	containers_env_of(d, &env);
	if (container_delete(&env, ns, id, &err) < 0)
		reply_error(req, &err);
	else
		http_reply_no_content(req);
	free(ns);
}

const struct http_route api_container_routes[] = {
	{ "GET", "/v1/containers", list_containers },
	{ "POST", "/v1/containers", create_container },
	{ "GET", "/v1/containers/{id}", get_container },
	{ "PATCH", "/v1/containers/{id}", update_container },
	{ "DELETE", "/v1/containers/{id}", delete_container },
	{ "PATCH", "/v1/containers/{id}/labels", label_container },
	{ NULL, NULL, NULL },
};
