/* The snapshot service: containerd's snapshot model (active, view and
 * committed snapshots; key, parent, labels) over the snapshotters, with
 * the metadata in SQLite, events, and a crash-safe life cycle on disk:
 *
 *   prepare/view  directory made as tmp-ID (a native copy in a worker),
 *                 row committed, then renamed to ID;
 *   remove        row deleted first, directory renamed to trash-ID, then
 *                 removed by a worker;
 *   start         tmp-/trash- leftovers and orphan directories removed,
 *                 rows whose directory is missing reported and dropped
 *                 (repair.c).
 *
 * This is the interface inside the daemon (the HTTP API is one user; unpack
 * and image mount are others). Keys are containerd snapshot keys: any
 * UTF-8 text of 1..4096 bytes. They never become paths. */
#ifndef KEG_SNAPSHOTS_SERVICE_H
#define KEG_SNAPSHOTS_SERVICE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/errcode.h"

struct event_bus;
struct store;
struct snapshots;

#define SNAPSHOT_KEY_MAX 4096
/* An active or view snapshot with this label is dropped at the next start:
 * for work that a crash makes worthless (an unpack's extraction). */
#define SNAPSHOT_LABEL_TRANSIENT "keg.io/snapshot.transient"

struct snapshots_config {
	const char *root;		/* kegd's root; snapshots live in ROOT/snapshots */
	const char *default_snapshotter;	/* NULL: overlayfs */
	struct store *st;
	struct event_bus *bus;
};

/* Opens every built-in snapshotter (one that fails its probe is kept but
 * unavailable) and repairs what a crash left. NULL with *err (caller frees)
 * when the default snapshotter is unknown or the store cannot be read. */
struct snapshots *snapshots_open(const struct snapshots_config *cfg, char **err);
/* Pending work ends: its callbacks run with ERR_UNAVAILABLE. */
void snapshots_close(struct snapshots *s);

struct snapshot_error {
	enum errcode code;
	char message[512];
};

/* Checks a snapshotter name (NULL: the default): 0, or -1 with err
 * (unknown: invalid_argument; known but not working here: unavailable). */
int snapshots_check(struct snapshots *s, const char *name, struct snapshot_error *err);

/* The name of the default snapshotter. */
const char *snapshots_default(const struct snapshots *s);

/* Result callbacks take the reference to result (NULL on error, err then
 * set). They may run before the call that started the work returns. */
typedef void (*snapshot_done_fn)(json_t *result, const struct snapshot_error *err,
    void *arg);

struct snapshot_request {
	const char *ns;
	const char *snapshotter;	/* NULL: the default */
	const char *key;
	const char *parent;		/* NULL or "": none */
	const json_t *labels;		/* NULL: none */
};

/* A new active (prepare) or read-only (view) snapshot on top of a committed
 * parent. Result: the snapshot's info (as snapshots_stat) with "mounts".
 * Publishes /snapshot/prepare (prepare only, as containerd). */
void snapshots_prepare(struct snapshots *s, const struct snapshot_request *r,
    snapshot_done_fn done, void *arg);
void snapshots_view(struct snapshots *s, const struct snapshot_request *r,
    snapshot_done_fn done, void *arg);

/* Active snapshot key becomes the committed snapshot name, with labels (as
 * containerd, the active one's labels are not carried over). Returns its
 * info. Publishes /snapshot/commit. */
json_t *snapshots_commit(struct snapshots *s, const char *ns, const char *snapshotter,
    const char *name, const char *key, const json_t *labels, struct snapshot_error *err);

/* As snapshots_commit, for a snapshotter whose layers are independent
 * (snapshots_layers_independent): the active snapshot key, prepared
 * without a parent, becomes the committed snapshot name on top of the
 * committed parent (NULL or "": none). The tree written into key's own
 * directory is then a layer over parent's: how the unpacker extracts a
 * layer before the one below it is committed. ERR_FAILED_PRECONDITION when
 * key has a parent already (another than parent) or the snapshotter copies
 * parents; ERR_NOT_FOUND/ERR_INVALID_ARGUMENT for a missing or uncommitted
 * parent. Publishes /snapshot/commit. */
json_t *snapshots_commit_onto(struct snapshots *s, const char *ns, const char *snapshotter,
    const char *name, const char *key, const char *parent, const json_t *labels,
    struct snapshot_error *err);

/* Whether a snapshot's directory is independent of its parent's (overlayfs:
 * it is an upper layer; native: no, it starts as a copy of the parent), so
 * that a layer can be written before its parent exists. false for an
 * unknown or unavailable snapshotter. */
bool snapshots_layers_independent(struct snapshots *s, const char *snapshotter);

/* Refused (ERR_FAILED_PRECONDITION) while children exist. The directory
 * goes in the background. Publishes /snapshot/remove. 0 or -1. */
int snapshots_remove(struct snapshots *s, const char *ns, const char *snapshotter,
    const char *key, struct snapshot_error *err);

/* The mounts of an active or view snapshot: [{type, source, options}],
 * ready for mount(2) (snapshotters/mount.h mounts them). */
json_t *snapshots_mounts(struct snapshots *s, const char *ns, const char *snapshotter,
    const char *key, struct snapshot_error *err);

/* {key, parent?, kind, snapshotter, labels, created_at, updated_at} */
json_t *snapshots_stat(struct snapshots *s, const char *ns, const char *snapshotter,
    const char *key, struct snapshot_error *err);
/* Merges patch into the labels (a null value removes one); returns the info. */
json_t *snapshots_update_labels(struct snapshots *s, const char *ns, const char *snapshotter,
    const char *key, const json_t *patch, struct snapshot_error *err);
/* Every snapshot of ns in the snapshotter, ordered by key. */
json_t *snapshots_list(struct snapshots *s, const char *ns, const char *snapshotter,
    struct snapshot_error *err);

/* {size, inodes} of the snapshot's own tree (containerd's usage: allocated
 * bytes, each inode once), measured in a worker; kept for committed ones. */
void snapshots_usage(struct snapshots *s, const char *ns, const char *snapshotter,
    const char *key, snapshot_done_fn done, void *arg);

/* For /v1/plugins: one {name, status, available, default, root, repair}
 * object per snapshotter. */
json_t *snapshots_plugins(const struct snapshots *s);

/* Checks a snapshot key (or name) from outside: 0, or -1 with err. */
int snapshot_key_check(const char *what, const char *key, struct snapshot_error *err);

#endif
