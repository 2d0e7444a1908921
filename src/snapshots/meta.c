#include "snapshots/meta.h"

#include <stdlib.h>
#include <string.h>

#include "common/timefmt.h"
#include "common/util.h"
#include "store/db.h"
#include "store/labels.h"

#define ROW_COLUMNS \
	"s.id, s.key, p.key, s.parent_id, s.kind, s.labels, s.created_at, s.updated_at, " \
	"s.usage_size, s.usage_inodes FROM snapshots s LEFT JOIN snapshots p ON p.id = s.parent_id "

void
snapshot_row_clear(struct snapshot_row *r)
{
	free(r->key);
	free(r->parent);
	json_decref(r->labels);
	memset(r, 0, sizeof(*r));
}

static char *
column_text(sqlite3_stmt *stmt, int col)
{
	const unsigned char *t = sqlite3_column_text(stmt, col);
	return t ? xstrdup((const char *)t) : NULL;
}

static int64_t
column_or(sqlite3_stmt *stmt, int col, int64_t fallback)
{
	return sqlite3_column_type(stmt, col) == SQLITE_NULL ? fallback :
	    sqlite3_column_int64(stmt, col);
}

static void
read_row(sqlite3_stmt *stmt, struct snapshot_row *r)
{
	r->id = sqlite3_column_int64(stmt, 0);
	r->key = column_text(stmt, 1);
	r->parent = column_text(stmt, 2);
	r->parent_id = column_or(stmt, 3, 0);
	int kind = snapshot_kind_parse((const char *)sqlite3_column_text(stmt, 4));
	r->kind = kind < 0 ? SNAPSHOT_ACTIVE : (enum snapshot_kind)kind;
	r->labels = labels_from_text((const char *)sqlite3_column_text(stmt, 5));
	r->created_ns = sqlite3_column_int64(stmt, 6);
	r->updated_ns = sqlite3_column_int64(stmt, 7);
	r->usage_size = column_or(stmt, 8, -1);
	r->usage_inodes = column_or(stmt, 9, -1);
}

json_t *
snapshot_row_json(const struct snapshot_row *r, const char *snapshotter)
{
	char created[RFC3339NANO_LEN], updated[RFC3339NANO_LEN];
	time_format_rfc3339nano(r->created_ns, created);
	time_format_rfc3339nano(r->updated_ns, updated);
	json_t *j = json_pack("{s:s,s:s,s:s,s:O,s:s,s:s}", "key", r->key,
	    "kind", snapshot_kind_name(r->kind), "snapshotter", snapshotter,
	    "labels", r->labels, "created_at", created, "updated_at", updated);
	if (j != NULL && r->parent != NULL)
		json_object_set_new(j, "parent", json_string(r->parent));
	return j;
}

static enum store_result
get_one(sqlite3_stmt *stmt, struct snapshot_row *out)
{
	memset(out, 0, sizeof(*out));
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		read_row(stmt, out);
	sqlite3_reset(stmt);
	return rc == SQLITE_ROW ? STORE_OK : rc == SQLITE_DONE ? STORE_NOT_FOUND : STORE_ERROR;
}

enum store_result
snapmeta_get(struct store *st, const char *ns, const char *snapshotter, const char *key,
    struct snapshot_row *out)
{
	sqlite3_stmt *stmt = store_stmt(st, "SELECT " ROW_COLUMNS
	    "WHERE s.namespace = ? AND s.snapshotter = ? AND s.key = ?");
	if (stmt == NULL)
		return STORE_ERROR;
	sqlite3_bind_text(stmt, 1, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, snapshotter, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, key, -1, SQLITE_STATIC);
	return get_one(stmt, out);
}

enum store_result
snapmeta_get_id(struct store *st, int64_t id, struct snapshot_row *out)
{
	sqlite3_stmt *stmt = store_stmt(st, "SELECT " ROW_COLUMNS "WHERE s.id = ?");
	if (stmt == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(stmt, 1, id);
	return get_one(stmt, out);
}

json_t *
snapmeta_list(struct store *st, const char *ns, const char *snapshotter)
{
	sqlite3_stmt *stmt = store_stmt(st, "SELECT " ROW_COLUMNS
	    "WHERE s.namespace = ? AND s.snapshotter = ? ORDER BY s.key");
	if (stmt == NULL)
		return NULL;
	sqlite3_bind_text(stmt, 1, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, snapshotter, -1, SQLITE_STATIC);
	json_t *list = json_array();
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct snapshot_row r;
		read_row(stmt, &r);
		json_array_append_new(list, snapshot_row_json(&r, snapshotter));
		snapshot_row_clear(&r);
	}
	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE) {
		json_decref(list);
		return NULL;
	}
	return list;
}

static enum store_result
done_result(struct store *st, sqlite3_stmt *stmt)
{
	int rc = store_step_done(st, stmt);
	if (rc == SQLITE_CONSTRAINT)
		return STORE_EXISTS;
	if (rc != SQLITE_DONE)
		return STORE_ERROR;
	return sqlite3_changes(store_db(st)) ? STORE_OK : STORE_NOT_FOUND;
}

static char *
labels_text(const json_t *labels)
{
	return labels ? json_dumps(labels, JSON_COMPACT | JSON_SORT_KEYS) : xstrdup("{}");
}

enum store_result
snapmeta_insert(struct store *st, const char *ns, const char *snapshotter,
    const struct snapshot_row *r, int64_t now_ns)
{
	sqlite3_stmt *stmt = store_stmt(st,
	    "INSERT INTO snapshots (id, namespace, snapshotter, key, parent_id, kind, labels, "
	    "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
	if (stmt == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(stmt, 1, r->id);
	sqlite3_bind_text(stmt, 2, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, snapshotter, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, r->key, -1, SQLITE_STATIC);
	if (r->parent_id > 0)
		sqlite3_bind_int64(stmt, 5, r->parent_id);
	else
		sqlite3_bind_null(stmt, 5);
	sqlite3_bind_text(stmt, 6, snapshot_kind_name(r->kind), -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 7, labels_text(r->labels), -1, free);
	sqlite3_bind_int64(stmt, 8, now_ns);
	sqlite3_bind_int64(stmt, 9, now_ns);
	return done_result(st, stmt);
}

enum store_result
snapmeta_commit(struct store *st, int64_t id, const char *name, const json_t *labels,
    int64_t now_ns)
{
	sqlite3_stmt *stmt = store_stmt(st,
	    "UPDATE snapshots SET key = ?, kind = 'committed', labels = ?, created_at = ?, "
	    "updated_at = ? WHERE id = ? AND kind = 'active'");
	if (stmt == NULL)
		return STORE_ERROR;
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, labels_text(labels), -1, free);
	sqlite3_bind_int64(stmt, 3, now_ns);
	sqlite3_bind_int64(stmt, 4, now_ns);
	sqlite3_bind_int64(stmt, 5, id);
	return done_result(st, stmt);
}

enum store_result
snapmeta_commit_onto(struct store *st, int64_t id, const char *name, int64_t parent_id,
    const json_t *labels, int64_t now_ns)
{
	sqlite3_stmt *stmt = store_stmt(st,
	    "UPDATE snapshots SET key = ?, kind = 'committed', parent_id = ?, labels = ?, "
	    "created_at = ?, updated_at = ? WHERE id = ? AND kind = 'active'");
	if (stmt == NULL)
		return STORE_ERROR;
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
	if (parent_id > 0)
		sqlite3_bind_int64(stmt, 2, parent_id);
	else
		sqlite3_bind_null(stmt, 2);
	sqlite3_bind_text(stmt, 3, labels_text(labels), -1, free);
	sqlite3_bind_int64(stmt, 4, now_ns);
	sqlite3_bind_int64(stmt, 5, now_ns);
	sqlite3_bind_int64(stmt, 6, id);
	return done_result(st, stmt);
}

enum store_result
snapmeta_set_labels(struct store *st, int64_t id, const json_t *labels, int64_t now_ns)
{
	sqlite3_stmt *stmt = store_stmt(st,
	    "UPDATE snapshots SET labels = ?, updated_at = ? WHERE id = ?");
	if (stmt == NULL)
		return STORE_ERROR;
	sqlite3_bind_text(stmt, 1, labels_text(labels), -1, free);
	sqlite3_bind_int64(stmt, 2, now_ns);
	sqlite3_bind_int64(stmt, 3, id);
	return done_result(st, stmt);
}

enum store_result
snapmeta_set_usage(struct store *st, int64_t id, int64_t size, int64_t inodes)
{
	sqlite3_stmt *stmt = store_stmt(st,
	    "UPDATE snapshots SET usage_size = ?, usage_inodes = ? "
	    "WHERE id = ? AND kind = 'committed'");
	if (stmt == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(stmt, 1, size);
	sqlite3_bind_int64(stmt, 2, inodes);
	sqlite3_bind_int64(stmt, 3, id);
	return done_result(st, stmt);
}

enum store_result
snapmeta_delete(struct store *st, int64_t id)
{
	sqlite3_stmt *stmt = store_stmt(st, "DELETE FROM snapshots WHERE id = ?");
	if (stmt == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(stmt, 1, id);
	return done_result(st, stmt);
}

int
snapmeta_has_children(struct store *st, int64_t id)
{
	sqlite3_stmt *stmt = store_stmt(st, "SELECT 1 FROM snapshots WHERE parent_id = ? LIMIT 1");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	int rc = sqlite3_step(stmt);
	sqlite3_reset(stmt);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int
snapmeta_ancestors(struct store *st, int64_t id, int64_t **ids, size_t *n)
{
	sqlite3_stmt *stmt = store_stmt(st,
	    "WITH RECURSIVE chain(id, parent_id, depth) AS ("
	    "  SELECT id, parent_id, 0 FROM snapshots WHERE id = ?"
	    "  UNION ALL SELECT s.id, s.parent_id, c.depth + 1 FROM snapshots s"
	    "  JOIN chain c ON s.id = c.parent_id"
	    ") SELECT id FROM chain WHERE depth > 0 ORDER BY depth");
	*ids = NULL;
	*n = 0;
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		*ids = xrealloc(*ids, (*n + 1) * sizeof(**ids));
		(*ids)[(*n)++] = sqlite3_column_int64(stmt, 0);
	}
	sqlite3_reset(stmt);
	return rc == SQLITE_DONE ? 0 : -1;
}

int64_t
snapmeta_max_id(struct store *st)
{
	sqlite3_stmt *stmt = store_stmt(st, "SELECT coalesce(max(id), 0) FROM snapshots");
	if (stmt == NULL)
		return -1;
	int64_t max = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : -1;
	sqlite3_reset(stmt);
	return max;
}

/* Rows in id order (see meta.h: not always parents first). */
int
snapmeta_scan(struct store *st, const char *snapshotter,
    void (*fn)(const struct snapmeta_brief *b, void *arg), void *arg)
{
	sqlite3_stmt *stmt = store_stmt(st,
	    "SELECT id, parent_id, namespace, key, kind, labels FROM snapshots "
	    "WHERE snapshotter = ? ORDER BY id");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, snapshotter, -1, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		int kind = snapshot_kind_parse((const char *)sqlite3_column_text(stmt, 4));
		struct snapmeta_brief b = {
			sqlite3_column_int64(stmt, 0), column_or(stmt, 1, 0),
			(const char *)sqlite3_column_text(stmt, 2),
			(const char *)sqlite3_column_text(stmt, 3),
			kind < 0 ? SNAPSHOT_ACTIVE : (enum snapshot_kind)kind,
			(const char *)sqlite3_column_text(stmt, 5),
		};
		fn(&b, arg);
	}
	sqlite3_reset(stmt);
	return rc == SQLITE_DONE ? 0 : -1;
}
