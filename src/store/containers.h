/* Container rows: metadata only (what a task will run), as containerd's
 * container store. Values are returned as the API shows them:
 * {"id", "image", "snapshotter", "snapshot_key", "runtime": {name, options},
 *  "spec", "labels", "extensions", "created_at", "updated_at"}. */
#ifndef KEG_STORE_CONTAINERS_H
#define KEG_STORE_CONTAINERS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/db.h"

struct store;

struct container_row {
	const char *id;
	const char *image;
	const char *snapshotter;
	const char *snapshot_key;
	const json_t *runtime;		/* {name, options} */
	const json_t *spec;		/* the OCI runtime spec */
	const json_t *labels;		/* NULL: {} */
	const json_t *extensions;	/* NULL: {} */
};

json_t *store_container_get(struct store *st, const char *ns, const char *id,
    enum store_result *res);
/* Every container of ns, ordered by id, without parsing the specs (each
 * ~10 KB; parsing and dumping them again made a listing of 1000 take about a
 * second): cb gets the container as store_container_get shows it minus
 * "spec" (borrowed), and the stored spec text — compact JSON as it was
 * written, not parsed again ("{}" if empty or cut) — to splice in as is.
 * cb returns nonzero to stop, which is then returned; -1 on a store error,
 * else 0. */
typedef int (*store_container_cb)(json_t *meta, const char *spec, size_t spec_len, void *arg);
int store_container_each(struct store *st, const char *ns, store_container_cb cb, void *arg);
bool store_container_exists(struct store *st, const char *ns, const char *id);

/* Inside a transaction. STORE_EXISTS when the id is taken. */
enum store_result store_container_insert(struct store *st, const char *ns,
    const struct container_row *row, int64_t now_ns);
/* Rewrites what may change (image, runtime, spec, labels, extensions; the
 * snapshot is fixed for life). Inside a transaction. */
enum store_result store_container_update(struct store *st, const char *ns,
    const struct container_row *row, int64_t now_ns);
enum store_result store_container_set_labels(struct store *st, const char *ns,
    const char *id, const json_t *labels, int64_t now_ns);
enum store_result store_container_delete(struct store *st, const char *ns, const char *id);

/* 1 when a task row (any process) exists for the container, 0 when none,
 * -1 on a store error. */
int store_container_has_task(struct store *st, const char *ns, const char *id);

#endif
