/* Creating a container: checks that need no I/O, the image and its top
 * chainID, a snapshot on it (marked transient until the row commits), the
 * spec built over the mounted snapshot, then row, label change and event
 * in one transaction. Any failure after the snapshot was made removes it. */
#include "containers/containers.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/names.h"
#include "common/timefmt.h"
#include "common/util.h"
#include "events/bus.h"
#include "images/reference.h"
#include "images/unpack_layers.h"
#include "oci/spec.h"
#include "snapshots/meta.h"
#include "snapshots/service.h"
#include "store/containers.h"
#include "store/images.h"
#include "store/labels.h"

struct create_job {
	struct containers_env env;
	container_done_fn done;
	void *arg;
	char *ns, *id, *image, *snapshotter, *key, *top;
	bool readonly;
	json_t *runtime, *options, *base_spec, *labels, *extensions, *image_config;
};

static void
job_free(struct create_job *j)
{
	free(j->ns);
	free(j->id);
	free(j->image);
	free(j->snapshotter);
	free(j->key);
	free(j->top);
	json_decref(j->runtime);
	json_decref(j->options);
	json_decref(j->base_spec);
	json_decref(j->labels);
	json_decref(j->extensions);
	json_decref(j->image_config);
	free(j);
}

static void
finish(struct create_job *j, json_t *container, const struct container_error *err)
{
	j->done(container, err, j->arg);
	job_free(j);
}

static int
optional_object(const json_t *v, const char *name, struct container_error *err)
{
	if (v != NULL && !json_is_object(v)) {
		container_error_set(err, ERR_INVALID_ARGUMENT, "%s must be an object", name);
		return -1;
	}
	return 0;
}

/* What can be refused before anything is read or made. */
static int
check_request(const struct container_create *r, struct container_error *err)
{
	char why[160];
	struct snapshot_error serr;
	struct oci_error oerr;
	if (r->id == NULL || !identifier_valid(r->id)) {
		container_error_set(err, ERR_INVALID_ARGUMENT, "invalid container id: letters, "
		    "digits and single . _ - between them, at most %d characters", IDENTIFIER_MAX);
		return -1;
	}
	if (r->image == NULL) {
		container_error_set(err, ERR_INVALID_ARGUMENT, "image is required: a reference");
		return -1;
	}
	if (r->snapshot_key && snapshot_key_check("snapshot_key", r->snapshot_key, &serr) < 0) {
		container_error_set(err, serr.code, "%s", serr.message);
		return -1;
	}
	if (optional_object(r->options, "options", err) < 0 ||
	    optional_object(r->spec, "spec", err) < 0 ||
	    optional_object(r->extensions, "extensions", err) < 0)
		return -1;
	if (r->options && oci_options_check(r->options, &oerr) < 0) {
		container_error_set(err, oerr.code, "options: %s", oerr.message);
		return -1;
	}
	if (r->labels && labels_validate(r->labels, false, why, sizeof(why)) < 0) {
		container_error_set(err, ERR_INVALID_ARGUMENT, "%s", why);
		return -1;
	}
	return 0;
}

static bool
committed(struct snapshots *s, const char *ns, const char *snapshotter, const char *key)
{
	struct snapshot_error err;
	json_t *info = snapshots_stat(s, ns, snapshotter, key, &err);
	const char *kind = json_string_value(json_object_get(info, "kind"));
	bool yes = kind != NULL && strcmp(kind, "committed") == 0;
	json_decref(info);
	return yes;
}

static int
canonical_image(struct create_job *j, const char *typed, struct container_error *err)
{
	struct image_ref ref;
	char why[256];
	if (image_ref_parse(typed, &ref, why, sizeof(why)) < 0) {
		container_error_set(err, ERR_INVALID_ARGUMENT, "invalid image reference: %s", why);
		return -1;
	}
	j->image = image_ref_string(&ref);
	image_ref_free(&ref);
	return 0;
}

/* The image's top chainID, committed in the snapshotter, and its config. */
static int
resolve_image(struct create_job *j, const char *typed, struct container_error *err)
{
	enum store_result res;
	if (canonical_image(j, typed, err) < 0)
		return -1;
	json_t *image = store_image_get(j->env.st, j->ns, j->image, &res);
	if (res != STORE_OK) {
		container_error_set(err, res == STORE_NOT_FOUND ? ERR_NOT_FOUND : ERR_INTERNAL,
		    "image %s %s", j->image, res == STORE_NOT_FOUND ? "not found" : "unreadable");
		return -1;
	}
	size_t n;
	char **ids = image_chain_ids(j->env.st, j->env.bs, j->ns, image, &n);
	if (ids != NULL && committed(j->env.snaps, j->ns, j->snapshotter, ids[n - 1])) {
		j->top = xstrdup(ids[n - 1]);
		j->image_config = image_host_config(j->env.st, j->env.bs, j->ns, image);
	}
	chain_ids_free(ids);
	json_decref(image);
	if (j->top == NULL || j->image_config == NULL) {
		container_error_set(err, ERR_FAILED_PRECONDITION,
		    "image %s is not unpacked in snapshotter %s; pull with unpack", j->image,
		    j->snapshotter);
		return -1;
	}
	return 0;
}

static struct create_job *
job_new(const struct containers_env *env, const struct container_create *r)
{
	struct create_job *j = xcalloc(1, sizeof(*j));
	j->env = *env;
	j->ns = xstrdup(r->ns);
	j->id = xstrdup(r->id);
	j->snapshotter = xstrdup(r->snapshotter ? r->snapshotter : snapshots_default(env->snaps));
	j->key = xstrdup(r->snapshot_key ? r->snapshot_key : r->id);
	j->readonly = r->readonly;
	j->options = json_incref((json_t *)r->options);
	j->base_spec = json_incref((json_t *)r->spec);
	j->extensions = r->extensions ? json_deep_copy(r->extensions) : json_object();
	return j;
}

/* Everything that reads but makes nothing. */
static int
prepare_job(struct create_job *j, const struct container_create *r,
    struct container_error *err)
{
	struct snapshot_error serr;
	if (store_container_exists(j->env.st, j->ns, j->id)) {
		container_error_set(err, ERR_ALREADY_EXISTS, "container %s already exists", j->id);
		return -1;
	}
	if ((j->runtime = container_runtime(r->runtime, j->env.runtime_binary, err)) == NULL)
		return -1;
	if (snapshots_check(j->env.snaps, r->snapshotter, &serr) < 0) {
		container_error_set(err, serr.code, "%s", serr.message);
		return -1;
	}
	if (resolve_image(j, r->image, err) < 0)
		return -1;
	json_t *config = json_object_get(j->image_config, "config");
	j->labels = container_initial_labels(json_object_get(config, "Labels"), r->labels);
	if (json_object_size(j->labels) > LABELS_MAX_COUNT) {
		container_error_set(err, ERR_INVALID_ARGUMENT, "at most %d labels", LABELS_MAX_COUNT);
		return -1;
	}
	json_t *existing = snapshots_stat(j->env.snaps, j->ns, j->snapshotter, j->key, &serr);
	if (existing != NULL) {
		json_decref(existing);
		container_error_set(err, ERR_ALREADY_EXISTS,
		    "snapshot %.256s already exists in snapshotter %s", j->key, j->snapshotter);
		return -1;
	}
	return 0;
}

static void
remove_snapshot(struct create_job *j)
{
	struct snapshot_error serr;
	if (snapshots_remove(j->env.snaps, j->ns, j->snapshotter, j->key, &serr) < 0)
		log_warn("containers: removing snapshot %s of %s: %s", j->key, j->id, serr.message);
}

/* The snapshot is the container's from now on: no longer transient. */
static enum store_result
keep_snapshot(struct create_job *j, int64_t now)
{
	struct snapshot_row row;
	enum store_result res = snapmeta_get(j->env.st, j->ns, j->snapshotter, j->key, &row);
	if (res != STORE_OK)
		return STORE_ERROR;
	json_object_del(row.labels, SNAPSHOT_LABEL_TRANSIENT);
	res = snapmeta_set_labels(j->env.st, row.id, row.labels, now);
	snapshot_row_clear(&row);
	return res;
}

static enum store_result
record(struct create_job *j, const json_t *spec)
{
	int64_t now = time_now_ns();
	struct container_row row = { j->id, j->image, j->snapshotter, j->key, j->runtime, spec,
		j->labels, j->extensions };
	enum store_result res = store_container_insert(j->env.st, j->ns, &row, now);
	if (res == STORE_OK)
		res = keep_snapshot(j, now);
	if (res == STORE_OK && event_bus_publish(j->env.bus, j->ns, "/containers/create",
	    json_pack("{s:s,s:s,s:O}", "id", j->id, "image", j->image, "runtime",
	    j->runtime)) < 0)
		res = STORE_ERROR;
	return res;
}

static int
commit(struct create_job *j, const json_t *spec, struct container_error *err)
{
	enum store_result res = store_begin(j->env.st) < 0 ? STORE_ERROR :
	    store_finish(j->env.st, record(j, spec));
	if (res == STORE_OK)
		return 0;
	if (res == STORE_EXISTS)
		container_error_set(err, ERR_ALREADY_EXISTS, "container %s already exists", j->id);
	else
		container_error_set(err, ERR_INTERNAL, "recording container %s failed", j->id);
	return -1;
}

static void
snapshot_made(json_t *result, const struct snapshot_error *serr, void *arg)
{
	struct create_job *j = arg;
	struct container_error err;
	if (result == NULL) {
		container_error_set(&err, serr->code, "%s", serr->message);
		finish(j, NULL, &err);
		return;
	}
	struct oci_spec_input in = {
		.ns = j->ns, .id = j->id, .rootfs_fd = -1, .options = j->options,
		.image_config = json_object_get(j->image_config, "config"),
		.base_spec = j->base_spec,
	};
	json_t *spec = container_build_spec(j->env.state_dir,
	    json_object_get(result, "mounts"), &in, &err);
	json_decref(result);
	if (spec == NULL || commit(j, spec, &err) < 0) {
		json_decref(spec);
		remove_snapshot(j);
		finish(j, NULL, &err);
		return;
	}
	json_decref(spec);
	enum store_result res;
	json_t *container = store_container_get(j->env.st, j->ns, j->id, &res);
	if (container == NULL) {
		container_error_set(&err, ERR_INTERNAL, "reading container %s back", j->id);
		finish(j, NULL, &err);
		return;
	}
	log_info("containers: %s/%s created from %s", j->ns, j->id, j->image);
	finish(j, container, NULL);
}

void
container_create(const struct containers_env *env, const struct container_create *r,
    container_done_fn done, void *arg)
{
	struct container_error err;
	if (check_request(r, &err) < 0) {
		done(NULL, &err, arg);
		return;
	}
	struct create_job *j = job_new(env, r);
	j->done = done;
	j->arg = arg;
	if (prepare_job(j, r, &err) < 0) {
		finish(j, NULL, &err);
		return;
	}
	json_t *labels = json_pack("{s:s}", SNAPSHOT_LABEL_TRANSIENT, "container create");
	struct snapshot_request sr = { j->ns, j->snapshotter, j->key, j->top, labels };
	if (j->readonly)
		snapshots_view(env->snaps, &sr, snapshot_made, j);
	else
		snapshots_prepare(env->snaps, &sr, snapshot_made, j);
	json_decref(labels);
}
