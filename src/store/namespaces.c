#include "store/namespaces.h"

#include <stdlib.h>

#include "common/timefmt.h"
#include "store/db.h"
#include "store/labels.h"

static json_t *
row_to_json(sqlite3_stmt *stmt)
{
	char created[RFC3339NANO_LEN], updated[RFC3339NANO_LEN];
	time_format_rfc3339nano(sqlite3_column_int64(stmt, 2), created);
	time_format_rfc3339nano(sqlite3_column_int64(stmt, 3), updated);
	return json_pack("{s:s,s:o,s:s,s:s}",
	    "name", (const char *)sqlite3_column_text(stmt, 0),
	    "labels", labels_from_text((const char *)sqlite3_column_text(stmt, 1)),
	    "created_at", created, "updated_at", updated);
}

json_t *
store_namespace_get(struct store *st, const char *name, enum store_result *res)
{
	sqlite3_stmt *stmt = store_stmt(st,
	    "SELECT name, labels, created_at, updated_at FROM namespaces WHERE name = ?");
	if (stmt == NULL) {
		*res = STORE_ERROR;
		return NULL;
	}
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(stmt);
	json_t *out = rc == SQLITE_ROW ? row_to_json(stmt) : NULL;
	*res = rc == SQLITE_ROW ? STORE_OK : rc == SQLITE_DONE ? STORE_NOT_FOUND : STORE_ERROR;
	sqlite3_reset(stmt);
	return out;
}

json_t *
store_namespace_list(struct store *st)
{
	sqlite3_stmt *stmt = store_stmt(st,
	    "SELECT name, labels, created_at, updated_at FROM namespaces ORDER BY name");
	if (stmt == NULL)
		return NULL;
	json_t *list = json_array();
	while (sqlite3_step(stmt) == SQLITE_ROW)
		json_array_append_new(list, row_to_json(stmt));
	sqlite3_reset(stmt);
	return list;
}

int64_t
store_namespace_count(struct store *st)
{
	sqlite3_stmt *stmt = store_stmt(st, "SELECT count(*) FROM namespaces");
	int64_t n = stmt && sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : -1;
	if (stmt)
		sqlite3_reset(stmt);
	return n;
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

enum store_result
store_namespace_insert(struct store *st, const char *name, const json_t *labels,
    int64_t now_ns)
{
	sqlite3_stmt *stmt = store_stmt(st,
	    "INSERT INTO namespaces (name, labels, created_at, updated_at) VALUES (?, ?, ?, ?)");
	if (stmt == NULL)
		return STORE_ERROR;
	char *text = json_dumps(labels, JSON_COMPACT | JSON_SORT_KEYS);
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, text, -1, free);
	sqlite3_bind_int64(stmt, 3, now_ns);
	sqlite3_bind_int64(stmt, 4, now_ns);
	return done_result(st, stmt);
}

enum store_result
store_namespace_set_labels(struct store *st, const char *name, const json_t *labels,
    int64_t now_ns)
{
	sqlite3_stmt *stmt = store_stmt(st,
	    "UPDATE namespaces SET labels = ?, updated_at = ? WHERE name = ?");
	if (stmt == NULL)
		return STORE_ERROR;
	char *text = json_dumps(labels, JSON_COMPACT | JSON_SORT_KEYS);
	sqlite3_bind_text(stmt, 1, text, -1, free);
	sqlite3_bind_int64(stmt, 2, now_ns);
	sqlite3_bind_text(stmt, 3, name, -1, SQLITE_STATIC);
	return done_result(st, stmt);
}

enum store_result
store_namespace_delete(struct store *st, const char *name)
{
	sqlite3_stmt *stmt = store_stmt(st, "DELETE FROM namespaces WHERE name = ?");
	if (stmt == NULL)
		return STORE_ERROR;
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
	return done_result(st, stmt);
}

enum store_result
store_namespace_ensure(struct store *st, const char *name, int64_t now_ns, int *created)
{
	sqlite3_stmt *stmt = store_stmt(st,
	    "INSERT OR IGNORE INTO namespaces (name, labels, created_at, updated_at) "
	    "VALUES (?, '{}', ?, ?)");
	if (stmt == NULL)
		return STORE_ERROR;
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, now_ns);
	sqlite3_bind_int64(stmt, 3, now_ns);
	if (store_step_done(st, stmt) != SQLITE_DONE)
		return STORE_ERROR;
	*created = sqlite3_changes(store_db(st)) > 0;
	return STORE_OK;
}

/* Tables holding namespaced resources, with the name a user would know them
 * by. Each component that adds such a table adds its row here. */
static const struct {
	const char *kind;
	const char *sql;
} resource_tables[] = {
	{ "images", "SELECT 1 FROM images WHERE namespace = ? LIMIT 1" },
	{ "content", "SELECT 1 FROM content WHERE namespace = ? LIMIT 1" },
	{ "snapshots", "SELECT 1 FROM snapshots WHERE namespace = ? LIMIT 1" },
	{ "containers", "SELECT 1 FROM containers WHERE namespace = ? LIMIT 1" },
	{ NULL, NULL },
};

const char *
store_namespace_first_resource(struct store *st, const char *name)
{
	for (size_t i = 0; resource_tables[i].kind != NULL; i++) {
		sqlite3_stmt *stmt = store_stmt(st, resource_tables[i].sql);
		if (stmt == NULL)
			return "unknown";
		sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
		int found = sqlite3_step(stmt) == SQLITE_ROW;
		sqlite3_reset(stmt);
		if (found)
			return resource_tables[i].kind;
	}
	return NULL;
}
