/* Snapshot rows in SQLite. One table for every snapshotter and namespace:
 * a row is a snapshot, its id names its directory, its parent is a row id
 * (so a parent with children cannot go, even by mistake: a foreign key).
 * A committed snapshot's key is its name. Mutations run inside the
 * caller's transaction. */
#ifndef KEG_SNAPSHOTS_META_H
#define KEG_SNAPSHOTS_META_H

#include <jansson.h>
#include <stdint.h>

#include "snapshotters/snapshotter.h"
#include "store/namespaces.h"

struct store;

struct snapshot_row {
	int64_t id;
	char *key;
	char *parent;		/* the parent's name, or NULL */
	int64_t parent_id;	/* 0 when none */
	enum snapshot_kind kind;
	json_t *labels;
	int64_t created_ns, updated_ns;
	int64_t usage_size, usage_inodes;	/* -1 until measured (committed only) */
};

void snapshot_row_clear(struct snapshot_row *r);

/* The API's view of a row: {key, parent?, kind, snapshotter, labels,
 * created_at, updated_at}. */
json_t *snapshot_row_json(const struct snapshot_row *r, const char *snapshotter);

enum store_result snapmeta_get(struct store *st, const char *ns, const char *snapshotter,
    const char *key, struct snapshot_row *out);
enum store_result snapmeta_get_id(struct store *st, int64_t id, struct snapshot_row *out);
/* Every snapshot of ns in snapshotter, as snapshot_row_json; NULL on error. */
json_t *snapmeta_list(struct store *st, const char *ns, const char *snapshotter);

/* Inserts r (its id, key, parent_id, kind and labels) created now.
 * STORE_EXISTS when the key is taken. */
enum store_result snapmeta_insert(struct store *st, const char *ns, const char *snapshotter,
    const struct snapshot_row *r, int64_t now_ns);
/* An active snapshot becomes committed under name, with labels. */
enum store_result snapmeta_commit(struct store *st, int64_t id, const char *name,
    const json_t *labels, int64_t now_ns);
/* The same, and its parent becomes parent_id (0: none). */
enum store_result snapmeta_commit_onto(struct store *st, int64_t id, const char *name,
    int64_t parent_id, const json_t *labels, int64_t now_ns);
enum store_result snapmeta_set_labels(struct store *st, int64_t id, const json_t *labels,
    int64_t now_ns);
enum store_result snapmeta_set_usage(struct store *st, int64_t id, int64_t size,
    int64_t inodes);
enum store_result snapmeta_delete(struct store *st, int64_t id);

/* 1 when some snapshot has id as its parent, 0 when none, -1 on error. */
int snapmeta_has_children(struct store *st, int64_t id);

/* The ids of id's ancestors, nearest first (malloc'd; *n of them). -1 on
 * error. */
int snapmeta_ancestors(struct store *st, int64_t id, int64_t **ids, size_t *n);

/* The largest id in use (0 when none), -1 on error. */
int64_t snapmeta_max_id(struct store *st);

/* Calls fn for each row of snapshotter (any namespace), by increasing id.
 * A child's id is usually above its parent's, but not always: a layer
 * extracted before its parent was committed (snapshots_commit_onto) has
 * a lower one. fn's strings are valid only during the call. */
struct snapmeta_brief {
	int64_t id;
	int64_t parent_id;
	const char *ns;
	const char *key;
	enum snapshot_kind kind;
	const char *labels;	/* JSON text */
};
int snapmeta_scan(struct store *st, const char *snapshotter,
    void (*fn)(const struct snapmeta_brief *b, void *arg), void *arg);

#endif
