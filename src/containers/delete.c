/* Deleting a container: refused while any of its processes has a task row.
 * The row goes with the /containers/delete event, and in the same
 * transaction its snapshot is marked transient, so if kegd dies before the
 * snapshot is removed the next start removes it. */
#include "containers/containers.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/timefmt.h"
#include "common/util.h"
#include "events/bus.h"
#include "snapshots/meta.h"
#include "snapshots/service.h"
#include "store/containers.h"

struct victim {
	char *snapshotter, *key;
};

static enum store_result
mark_snapshot_transient(const struct containers_env *env, const char *ns,
    const struct victim *v)
{
	struct snapshot_row row;
	enum store_result res = snapmeta_get(env->st, ns, v->snapshotter, v->key, &row);
	if (res == STORE_NOT_FOUND)
		return STORE_OK;	/* removed already: nothing to keep track of */
	if (res != STORE_OK)
		return res;
	json_object_set_new(row.labels, SNAPSHOT_LABEL_TRANSIENT, json_string("container delete"));
	res = snapmeta_set_labels(env->st, row.id, row.labels, time_now_ns());
	snapshot_row_clear(&row);
	return res;
}

static enum store_result
remove_row(const struct containers_env *env, const char *ns, const char *id,
    struct victim *v, struct container_error *err)
{
	enum store_result res;
	json_t *cur = store_container_get(env->st, ns, id, &res);
	if (res != STORE_OK)
		return res;
	v->snapshotter = xstrdup(json_string_value(json_object_get(cur, "snapshotter")));
	v->key = xstrdup(json_string_value(json_object_get(cur, "snapshot_key")));
	json_decref(cur);
	int task = store_container_has_task(env->st, ns, id);
	if (task != 0) {
		if (task > 0)
			container_error_set(err, ERR_FAILED_PRECONDITION,
			    "container %s has a task; delete the task first", id);
		return task > 0 ? STORE_EXISTS : STORE_ERROR;
	}
	if (*v->key != '\0' && (res = mark_snapshot_transient(env, ns, v)) != STORE_OK)
		return res;
	if ((res = store_container_delete(env->st, ns, id)) == STORE_OK &&
	    event_bus_publish(env->bus, ns, "/containers/delete", json_pack("{s:s}", "id", id)) < 0)
		res = STORE_ERROR;
	return res;
}

/* A snapshot that is gone already is what delete wanted anyway. */
static void
remove_snapshot(const struct containers_env *env, const char *ns, const struct victim *v)
{
	struct snapshot_error serr;
	if (*v->key == '\0' || snapshots_remove(env->snaps, ns, v->snapshotter, v->key, &serr) == 0)
		return;
	if (serr.code != ERR_NOT_FOUND)
		log_warn("containers: removing snapshot %s: %s (the next start removes it)",
		    v->key, serr.message);
}

int
container_delete(const struct containers_env *env, const char *ns, const char *id,
    struct container_error *err)
{
	struct victim v = { NULL, NULL };
	enum store_result res = STORE_ERROR;
	if (store_begin(env->st) == 0)
		res = store_finish(env->st, remove_row(env, ns, id, &v, err));
	if (res == STORE_OK)
		remove_snapshot(env, ns, &v);
	else if (res == STORE_NOT_FOUND)
		container_error_set(err, ERR_NOT_FOUND, "container %s not found", id);
	else if (res == STORE_ERROR)
		container_error_set(err, ERR_INTERNAL, "deleting container %s failed", id);
	free(v.snapshotter);
	free(v.key);
	return res == STORE_OK ? 0 : -1;
}
