/* commit: an active snapshot becomes a committed one under a name. Only the
 * row changes (same id, same directory), in one transaction. commit_onto
 * also gives a parentless active snapshot its parent, for snapshotters
 * whose directories do not depend on their parents'. */
#include "snapshots/internal.h"

#include <string.h>

#include "common/timefmt.h"
#include "events/bus.h"
#include "store/labels.h"

struct commit_tx {
	struct snapshots *s;
	struct snapshotter *sn;
	const char *ns, *name, *key;
	const char *parent;	/* commit_onto: the new parent, "" for none */
	const json_t *labels;
	struct snapshot_error *err;
};

/* commit_onto: the parent's id (0: none), or -1 after setting err. */
static int64_t
new_parent(struct commit_tx *c, const struct snapshot_row *row)
{
	char ex[KEY_EXCERPT_LEN];
	if (*c->parent == '\0') {
		if (row->parent_id == 0)
			return 0;
		snapshot_error_set(c->err, ERR_FAILED_PRECONDITION, "snapshot %s has a parent "
		    "already", snapshot_key_excerpt(c->key, ex));
		return -1;
	}
	struct snapshot_row p;
	enum store_result res = snapmeta_get(c->s->st, c->ns, c->sn->ops->name, c->parent, &p);
	if (res == STORE_NOT_FOUND) {
		snapshot_error_set(c->err, ERR_NOT_FOUND, "parent snapshot %s not found",
		    snapshot_key_excerpt(c->parent, ex));
		return -1;
	}
	if (res != STORE_OK) {
		snapshot_error_store(c->err, res, c->parent);
		return -1;
	}
	int64_t id = p.id;
	if (p.kind != SNAPSHOT_COMMITTED) {
		snapshot_error_set(c->err, ERR_INVALID_ARGUMENT, "parent %s is not a committed "
		    "snapshot", snapshot_key_excerpt(c->parent, ex));
		id = -1;
	} else if (row->parent_id != 0 && row->parent_id != p.id) {
		snapshot_error_set(c->err, ERR_FAILED_PRECONDITION, "snapshot %s has another "
		    "parent already", snapshot_key_excerpt(c->key, ex));
		id = -1;
	}
	snapshot_row_clear(&p);
	return id;
}

static int
record(void *arg)
{
	struct commit_tx *c = arg;
	char ex[KEY_EXCERPT_LEN];
	struct snapshot_row row;
	if (service_row(c->s, c->ns, c->sn, c->key, &row, c->err) < 0)
		return -1;
	int rc = -1;
	enum store_result res;
	int64_t parent = 0;
	if (row.kind != SNAPSHOT_ACTIVE) {
		snapshot_error_set(c->err, ERR_FAILED_PRECONDITION, "snapshot %s is %s: only an "
		    "active snapshot can be committed", snapshot_key_excerpt(c->key, ex),
		    snapshot_kind_name(row.kind));
	} else if (c->parent != NULL && (parent = new_parent(c, &row)) < 0) {
		/* err set */
	} else if ((res = c->parent != NULL ?
	    snapmeta_commit_onto(c->s->st, row.id, c->name, parent, c->labels, time_now_ns()) :
	    snapmeta_commit(c->s->st, row.id, c->name, c->labels, time_now_ns())) != STORE_OK) {
		snapshot_error_store(c->err, res, c->name);
	} else if (event_bus_publish(c->s->bus, c->ns, "/snapshot/commit", json_pack(
	    "{s:s,s:s,s:s}", "key", c->key, "name", c->name, "snapshotter",
	    c->sn->ops->name)) < 0) {
		snapshot_error_store(c->err, STORE_ERROR, c->key);
	} else {
		rc = 0;
	}
	snapshot_row_clear(&row);
	return rc;
}

static json_t *
commit(struct snapshots *s, const char *ns, const char *snapshotter, const char *name,
    const char *key, const char *parent, const json_t *labels, struct snapshot_error *err)
{
	char msg[160];
	struct commit_tx c = { s, NULL, ns, name, key, parent, labels, err };
	err->message[0] = '\0';
	c.sn = service_snapshotter(s, snapshotter, err);
	if (c.sn == NULL || snapshot_key_check("name", name, err) < 0 ||
	    snapshot_key_check("key", key, err) < 0 ||
	    (parent != NULL && *parent != '\0' && snapshot_key_check("parent", parent, err) < 0))
		return NULL;
	if (parent != NULL && c.sn->ops->copies_parent) {
		snapshot_error_set(err, ERR_FAILED_PRECONDITION, "the %s snapshotter cannot give "
		    "a snapshot its parent at commit", c.sn->ops->name);
		return NULL;
	}
	if (labels != NULL && labels_validate(labels, false, msg, sizeof(msg)) < 0) {
		snapshot_error_set(err, ERR_INVALID_ARGUMENT, "%s", msg);
		return NULL;
	}
	json_t *empty = json_object();
	if (labels == NULL)
		c.labels = empty;
	int rc = service_transaction(s, record, &c);
	json_decref(empty);
	if (rc < 0) {
		if (err->message[0] == '\0')
			snapshot_error_store(err, STORE_ERROR, key);
		return NULL;
	}
	return snapshots_stat(s, ns, snapshotter, name, err);
}

json_t *
snapshots_commit(struct snapshots *s, const char *ns, const char *snapshotter,
    const char *name, const char *key, const json_t *labels, struct snapshot_error *err)
{
	return commit(s, ns, snapshotter, name, key, NULL, labels, err);
}

json_t *
snapshots_commit_onto(struct snapshots *s, const char *ns, const char *snapshotter,
    const char *name, const char *key, const char *parent, const json_t *labels,
    struct snapshot_error *err)
{
	return commit(s, ns, snapshotter, name, key, parent ? parent : "", labels, err);
}

bool
snapshots_layers_independent(struct snapshots *s, const char *snapshotter)
{
	struct snapshot_error err;
	struct snapshotter *sn = service_snapshotter(s, snapshotter, &err);
	return sn != NULL && !sn->ops->copies_parent;
}
