#include "api/labels_patch.h"

#include "api/helpers.h"
#include "common/errcode.h"
#include "common/timefmt.h"
#include "events/bus.h"
#include "http/request.h"
#include "http/response.h"
#include "kegd/daemon.h"
#include "store/db.h"
#include "store/labels.h"

static enum store_result
relabel(struct kegd *d, const struct labeled_kind *k, const char *ns, const char *id,
    json_t *patch)
{
	enum store_result res;
	json_t *row = k->get(d->store, ns, id, &res);
	if (res != STORE_OK)
		return res;
	json_t *merged = labels_merge(json_object_get(row, "labels"), patch);
	res = json_object_size(merged) > LABELS_MAX_COUNT ? STORE_EXISTS :
	    k->set_labels(d->store, ns, id, merged, time_now_ns());
	json_t *payload = json_pack("{s:s,s:O}", k->id_field, id, "labels", merged);
	if (k->event_extra)
		k->event_extra(row, payload);
	if (res == STORE_OK && event_bus_publish(d->bus, ns, k->topic, payload) < 0)
		res = STORE_ERROR;
	else if (res != STORE_OK)
		json_decref(payload);
	json_decref(row);
	json_decref(merged);
	return res;
}

static enum store_result
relabel_in_tx(struct kegd *d, const struct labeled_kind *k, const char *ns, const char *id,
    json_t *patch)
{
	if (store_begin(d->store) < 0)
		return STORE_ERROR;
	return store_finish(d->store, relabel(d, k, ns, id, patch));
}

static void
reply_updated(struct http_request *req, struct kegd *d, const struct labeled_kind *k,
    const char *ns, const char *id)
{
	enum store_result res;
	json_t *row = k->get(d->store, ns, id, &res);
	if (row == NULL) {
		api_reply_store_error(req, "reading the updated labels");
		return;
	}
	if (k->decorate)
		k->decorate(d, ns, row);
	http_reply_json(req, 200, row);
}

void
api_patch_labels(struct http_request *req, struct kegd *d, const struct labeled_kind *k,
    const char *ns, const char *id)
{
	static const char *const fields[] = { "labels", NULL };
	json_t *body;
	char err[160];
	if (api_json_body(req, fields, &body) < 0)
		return;
	json_t *patch = json_object_get(body, "labels");
	if (patch == NULL || labels_validate(patch, true, err, sizeof(err)) < 0) {
		http_reply_error(req, ERR_INVALID_ARGUMENT, "%s",
		    patch ? err : "labels is required: an object of label values, null to remove one");
		json_decref(body);
		return;
	}
	enum store_result res = relabel_in_tx(d, k, ns, id, patch);
	json_decref(body);
	if (res == STORE_NOT_FOUND)
		http_reply_error(req, ERR_NOT_FOUND, "%s %s not found", k->noun, id);
	else if (res == STORE_EXISTS)
		http_reply_error(req, ERR_INVALID_ARGUMENT, "at most %d labels", LABELS_MAX_COUNT);
	else if (res != STORE_OK)
		api_reply_store_error(req, "updating labels");
	else
		reply_updated(req, d, k, ns, id);
}
