/* PATCH of a container: what may change after create (image, spec, runtime,
 * extensions, labels); the snapshot stays the one the container was made
 * with. The new values are checked as at create, then written with the
 * /containers/update event in one transaction. */
#include "containers/containers.h"

#include <stdlib.h>
#include <string.h>

#include "common/timefmt.h"
#include "common/util.h"
#include "events/bus.h"
#include "images/reference.h"
#include "oci/spec.h"
#include "store/containers.h"
#include "store/labels.h"

/* The patch's fields, checked; each NULL when not given. */
struct patch {
	char *image;
	json_t *spec, *runtime, *extensions, *labels;
};

static void
patch_clear(struct patch *p)
{
	free(p->image);
	json_decref(p->spec);
	json_decref(p->runtime);
	json_decref(p->extensions);
	json_decref(p->labels);
}

static int
patch_image(const json_t *v, struct patch *p, struct container_error *err)
{
	struct image_ref ref;
	char why[256];
	if (!json_is_string(v) || image_ref_parse(json_string_value(v), &ref, why, sizeof(why)) < 0) {
		container_error_set(err, ERR_INVALID_ARGUMENT, "image: %s",
		    json_is_string(v) ? why : "must be a reference");
		return -1;
	}
	p->image = image_ref_string(&ref);
	image_ref_free(&ref);
	return 0;
}

static int
patch_spec(const json_t *v, struct patch *p, struct container_error *err)
{
	struct oci_error oerr;
	if (!json_is_object(v)) {
		container_error_set(err, ERR_INVALID_ARGUMENT, "spec must be an object");
		return -1;
	}
	if (oci_spec_check(v, &oerr) < 0) {
		container_error_set(err, oerr.code, "spec: %s", oerr.message);
		return -1;
	}
	p->spec = json_deep_copy(v);
	return 0;
}

static int
patch_read(const struct containers_env *env, const json_t *body, struct patch *p,
    struct container_error *err)
{
	json_t *v;
	char why[160];
	if ((v = json_object_get(body, "image")) && patch_image(v, p, err) < 0)
		return -1;
	if ((v = json_object_get(body, "spec")) && patch_spec(v, p, err) < 0)
		return -1;
	if ((v = json_object_get(body, "runtime")) &&
	    (p->runtime = container_runtime(v, env->runtime_binary, err)) == NULL)
		return -1;
	if ((v = json_object_get(body, "extensions")) && !json_is_object(v)) {
		container_error_set(err, ERR_INVALID_ARGUMENT, "extensions must be an object");
		return -1;
	}
	p->extensions = v ? json_deep_copy(v) : NULL;
	if ((v = json_object_get(body, "labels")) &&
	    labels_validate(v, true, why, sizeof(why)) < 0) {
		container_error_set(err, ERR_INVALID_ARGUMENT, "%s", why);
		return -1;
	}
	p->labels = json_incref(v);
	return 0;
}

/* The stored container with the patch applied, as a row to write. */
static enum store_result
apply(const struct containers_env *env, const char *ns, const char *id,
    const struct patch *p, struct container_error *err)
{
	enum store_result res;
	json_t *cur = store_container_get(env->st, ns, id, &res);
	if (res != STORE_OK)
		return res;
	json_t *labels = p->labels ? labels_merge(json_object_get(cur, "labels"), p->labels) :
	    json_incref(json_object_get(cur, "labels"));
	struct container_row row = {
		id, p->image ? p->image : json_string_value(json_object_get(cur, "image")),
		NULL, json_string_value(json_object_get(cur, "snapshot_key")),
		p->runtime ? p->runtime : json_object_get(cur, "runtime"),
		p->spec ? p->spec : json_object_get(cur, "spec"), labels,
		p->extensions ? p->extensions : json_object_get(cur, "extensions"),
	};
	if (json_object_size(labels) > LABELS_MAX_COUNT) {
		container_error_set(err, ERR_INVALID_ARGUMENT, "at most %d labels", LABELS_MAX_COUNT);
		res = STORE_EXISTS;	/* refused; err says why */
	} else {
		res = store_container_update(env->st, ns, &row, time_now_ns());
	}
	if (res == STORE_OK && event_bus_publish(env->bus, ns, "/containers/update",
	    json_pack("{s:s,s:s,s:O,s:s}", "id", id, "image", row.image, "labels", labels,
	    "snapshot_key", row.snapshot_key)) < 0)
		res = STORE_ERROR;
	json_decref(labels);
	json_decref(cur);
	return res;
}

json_t *
container_update(const struct containers_env *env, const char *ns, const char *id,
    const json_t *body, struct container_error *err)
{
	struct patch p = { 0 };
	enum store_result res = STORE_ERROR;
	if (patch_read(env, body, &p, err) < 0) {
		patch_clear(&p);
		return NULL;
	}
	if (store_begin(env->st) == 0)
		res = store_finish(env->st, apply(env, ns, id, &p, err));
	patch_clear(&p);
	if (res == STORE_NOT_FOUND)
		container_error_set(err, ERR_NOT_FOUND, "container %s not found", id);
	else if (res == STORE_ERROR)
		container_error_set(err, ERR_INTERNAL, "updating container %s failed", id);
	return res == STORE_OK ? store_container_get(env->st, ns, id, &res) : NULL;
}
