#include "store/containers.h"

#include <stdlib.h>
#include <string.h>

#include "common/timefmt.h"
#include "store/labels.h"

/* The spec, by far the largest column (~10 KB: the seccomp profile), comes
 * last so that a listing can take it as text (store_container_each). */
#define CONTAINER_META "id, image, snapshotter, snapshot_key, runtime, labels, extensions, " \
	"created_at, updated_at"
#define CONTAINER_COLUMNS CONTAINER_META ", spec"
#define SPEC_COLUMN 9

/* A stored JSON column. The daemon wrote it, but a damaged row must read as
 * an empty value, never crash a listing. */
static json_t *
column_json(sqlite3_stmt *stmt, int col)
{
	const char *text = (const char *)sqlite3_column_text(stmt, col);
	json_t *v = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
	return v ? v : json_object();
}

static const char *
column_text(sqlite3_stmt *stmt, int col)
{
	const char *text = (const char *)sqlite3_column_text(stmt, col);
	return text ? text : "";
}

/* Every member but the spec, which the callers add (parsed or as text). */
static json_t *
row_meta(sqlite3_stmt *stmt)
{
	char created[RFC3339NANO_LEN], updated[RFC3339NANO_LEN];
	time_format_rfc3339nano(sqlite3_column_int64(stmt, 7), created);
	time_format_rfc3339nano(sqlite3_column_int64(stmt, 8), updated);
	return json_pack("{s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:s,s:s}",
	    "id", column_text(stmt, 0), "image", column_text(stmt, 1),
	    "snapshotter", column_text(stmt, 2), "snapshot_key", column_text(stmt, 3),
	    "runtime", column_json(stmt, 4), "labels", labels_from_text(column_text(stmt, 5)),
	    "extensions", column_json(stmt, 6), "created_at", created, "updated_at", updated);
}

json_t *
store_container_get(struct store *st, const char *ns, const char *id, enum store_result *res)
{
	sqlite3_stmt *stmt = store_stmt(st,
	    "SELECT " CONTAINER_COLUMNS " FROM containers WHERE namespace = ? AND id = ?");
	*res = STORE_ERROR;
	if (stmt == NULL)
		return NULL;
	sqlite3_bind_text(stmt, 1, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(stmt);
	json_t *out = NULL;
	if (rc == SQLITE_ROW) {
		out = row_meta(stmt);
		json_object_set_new(out, "spec", column_json(stmt, SPEC_COLUMN));
	}
	*res = rc == SQLITE_ROW ? STORE_OK : rc == SQLITE_DONE ? STORE_NOT_FOUND : STORE_ERROR;
	sqlite3_reset(stmt);
	return out;
}

int
store_container_each(struct store *st, const char *ns, store_container_cb cb, void *arg)
{
	sqlite3_stmt *stmt = store_stmt(st,
	    "SELECT " CONTAINER_COLUMNS " FROM containers WHERE namespace = ? ORDER BY id");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, ns, -1, SQLITE_STATIC);
	int rc = SQLITE_DONE, stop = 0;
	while (stop == 0 && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		json_t *meta = row_meta(stmt);
		const char *spec = column_text(stmt, SPEC_COLUMN);
		size_t len = (size_t)sqlite3_column_bytes(stmt, SPEC_COLUMN);
		/* Not parsed (json_valid alone costs a third of the listing): the
		 * daemon wrote it with json_dumps, always an object. Still, an
		 * empty or cut value must not break the whole answer. */
		if (len < 2 || spec[0] != '{' || spec[len - 1] != '}') {
			spec = "{}";
			len = 2;
		}
		stop = cb(meta, spec, len, arg);
		json_decref(meta);
	}
	sqlite3_reset(stmt);
	return stop != 0 ? stop : rc == SQLITE_DONE ? 0 : -1;
}

bool
store_container_exists(struct store *st, const char *ns, const char *id)
{
	sqlite3_stmt *stmt = store_stmt(st,
	    "SELECT 1 FROM containers WHERE namespace = ? AND id = ?");
	if (stmt == NULL)
		return false;
	sqlite3_bind_text(stmt, 1, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, id, -1, SQLITE_STATIC);
	bool yes = sqlite3_step(stmt) == SQLITE_ROW;
	sqlite3_reset(stmt);
	return yes;
}

/* JSON for a column: compact with sorted keys, so equal values store equal. */
static void
bind_json(sqlite3_stmt *stmt, int col, const json_t *v)
{
	char *text = v ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
	sqlite3_bind_text(stmt, col, text ? text : strdup("{}"), -1, free);
}

static enum store_result
changed(struct store *st, sqlite3_stmt *stmt)
{
	if (store_step_done(st, stmt) != SQLITE_DONE)
		return STORE_ERROR;
	return sqlite3_changes(store_db(st)) ? STORE_OK : STORE_NOT_FOUND;
}

enum store_result
store_container_insert(struct store *st, const char *ns, const struct container_row *row,
    int64_t now_ns)
{
	/* An existing id is told apart from other failures before the insert:
	 * a constraint error could also be the namespace's foreign key. */
	if (store_container_exists(st, ns, row->id))
		return STORE_EXISTS;
	sqlite3_stmt *stmt = store_stmt(st,
	    "INSERT INTO containers (namespace, id, image, snapshotter, snapshot_key, runtime, "
	    "spec, labels, extensions, created_at, updated_at) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
	if (stmt == NULL)
		return STORE_ERROR;
	sqlite3_bind_text(stmt, 1, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, row->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, row->image ? row->image : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, row->snapshotter ? row->snapshotter : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 5, row->snapshot_key ? row->snapshot_key : "", -1, SQLITE_STATIC);
	bind_json(stmt, 6, row->runtime);
	bind_json(stmt, 7, row->spec);
	bind_json(stmt, 8, row->labels);
	bind_json(stmt, 9, row->extensions);
	sqlite3_bind_int64(stmt, 10, now_ns);
	sqlite3_bind_int64(stmt, 11, now_ns);
	return changed(st, stmt);
}

enum store_result
store_container_update(struct store *st, const char *ns, const struct container_row *row,
    int64_t now_ns)
{
	sqlite3_stmt *stmt = store_stmt(st,
	    "UPDATE containers SET image = ?, runtime = ?, spec = ?, labels = ?, extensions = ?, "
	    "updated_at = ? WHERE namespace = ? AND id = ?");
	if (stmt == NULL)
		return STORE_ERROR;
	sqlite3_bind_text(stmt, 1, row->image ? row->image : "", -1, SQLITE_STATIC);
	bind_json(stmt, 2, row->runtime);
	bind_json(stmt, 3, row->spec);
	bind_json(stmt, 4, row->labels);
	bind_json(stmt, 5, row->extensions);
	sqlite3_bind_int64(stmt, 6, now_ns);
	sqlite3_bind_text(stmt, 7, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 8, row->id, -1, SQLITE_STATIC);
	return changed(st, stmt);
}

enum store_result
store_container_set_labels(struct store *st, const char *ns, const char *id,
    const json_t *labels, int64_t now_ns)
{
	sqlite3_stmt *stmt = store_stmt(st,
	    "UPDATE containers SET labels = ?, updated_at = ? WHERE namespace = ? AND id = ?");
	if (stmt == NULL)
		return STORE_ERROR;
	bind_json(stmt, 1, labels);
	sqlite3_bind_int64(stmt, 2, now_ns);
	sqlite3_bind_text(stmt, 3, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, id, -1, SQLITE_STATIC);
	return changed(st, stmt);
}

enum store_result
store_container_delete(struct store *st, const char *ns, const char *id)
{
	sqlite3_stmt *stmt = store_stmt(st,
	    "DELETE FROM containers WHERE namespace = ? AND id = ?");
	if (stmt == NULL)
		return STORE_ERROR;
	sqlite3_bind_text(stmt, 1, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, id, -1, SQLITE_STATIC);
	return changed(st, stmt);
}

int
store_container_has_task(struct store *st, const char *ns, const char *id)
{
	sqlite3_stmt *stmt = store_stmt(st,
	    "SELECT 1 FROM tasks WHERE namespace = ? AND container_id = ? LIMIT 1");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(stmt);
	sqlite3_reset(stmt);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}
