#include "store/tasks.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "store/db.h"

#define TASK_COLUMNS "namespace, container_id, exec_id, status, pid, shim_pid, " \
	"shim_start, terminal, process, exit_status, exited_at, exit_published, " \
	"created_at, updated_at"

static const char *const status_names[] = { "created", "running", "paused", "stopped" };

const char *
task_status_name(enum task_status s)
{
	return (unsigned)s < 4 ? status_names[s] : "unknown";
}

static enum task_status
status_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (s && strcmp(s, status_names[i]) == 0)
			return (enum task_status)i;
	return TASK_STOPPED;
}

void
task_row_clear(struct task_row *row)
{
	free(row->ns);
	free(row->container_id);
	free(row->exec_id);
	free(row->process);
	memset(row, 0, sizeof(*row));
}

void
task_rows_free(struct task_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		task_row_clear(&rows[i]);
	free(rows);
}

static char *
col_text(sqlite3_stmt *stmt, int i)
{
	const char *s = (const char *)sqlite3_column_text(stmt, i);
	return s ? xstrdup(s) : NULL;
}

static void
row_read(sqlite3_stmt *stmt, struct task_row *r)
{
	memset(r, 0, sizeof(*r));
	r->ns = col_text(stmt, 0);
	r->container_id = col_text(stmt, 1);
	r->exec_id = col_text(stmt, 2);
	r->status = status_parse((const char *)sqlite3_column_text(stmt, 3));
	r->pid = (pid_t)sqlite3_column_int64(stmt, 4);
	r->shim_pid = (pid_t)sqlite3_column_int64(stmt, 5);
	r->shim_start = (unsigned long long)sqlite3_column_int64(stmt, 6);
	r->terminal = sqlite3_column_int(stmt, 7) != 0;
	r->process = col_text(stmt, 8);
	r->exited = sqlite3_column_type(stmt, 9) != SQLITE_NULL;
	r->exit_status = sqlite3_column_int(stmt, 9);
	r->exited_at = sqlite3_column_int64(stmt, 10);
	r->exit_published = sqlite3_column_int(stmt, 11) != 0;
	r->created_at = sqlite3_column_int64(stmt, 12);
	r->updated_at = sqlite3_column_int64(stmt, 13);
}

static void
bind_key(sqlite3_stmt *stmt, int first, const char *ns, const char *cid, const char *eid)
{
	sqlite3_bind_text(stmt, first, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, first + 1, cid, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, first + 2, eid ? eid : "", -1, SQLITE_STATIC);
}

enum store_result
store_task_get(struct store *st, const char *ns, const char *cid, const char *eid,
    struct task_row *out)
{
	sqlite3_stmt *stmt = store_stmt(st, "SELECT " TASK_COLUMNS " FROM tasks "
	    "WHERE namespace = ? AND container_id = ? AND exec_id = ?");
	memset(out, 0, sizeof(*out));
	if (stmt == NULL)
		return STORE_ERROR;
	bind_key(stmt, 1, ns, cid, eid);
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		row_read(stmt, out);
	sqlite3_reset(stmt);
	return rc == SQLITE_ROW ? STORE_OK : rc == SQLITE_DONE ? STORE_NOT_FOUND : STORE_ERROR;
}

static int
collect(sqlite3_stmt *stmt, struct task_row **rows, size_t *n)
{
	size_t cap = 0;
	int rc;
	*rows = NULL;
	*n = 0;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*rows = xrealloc(*rows, cap * sizeof(**rows));
		}
		row_read(stmt, &(*rows)[(*n)++]);
	}
	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE) {
		task_rows_free(*rows, *n);
		*rows = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

int
store_task_list(struct store *st, const char *ns, const char *cid, struct task_row **rows,
    size_t *n)
{
	sqlite3_stmt *stmt = store_stmt(st, "SELECT " TASK_COLUMNS " FROM tasks "
	    "WHERE (?1 IS NULL OR namespace = ?1) AND (?2 IS NULL OR container_id = ?2) "
	    "ORDER BY namespace, container_id, exec_id");
	if (stmt == NULL)
		return -1;
	if (ns)
		sqlite3_bind_text(stmt, 1, ns, -1, SQLITE_STATIC);
	if (cid)
		sqlite3_bind_text(stmt, 2, cid, -1, SQLITE_STATIC);
	return collect(stmt, rows, n);
}

int
store_task_list_live(struct store *st, struct task_row **rows, size_t *n)
{
	sqlite3_stmt *stmt = store_stmt(st, "SELECT " TASK_COLUMNS " FROM tasks "
	    "WHERE status != 'stopped' ORDER BY namespace, container_id, exec_id");
	if (stmt == NULL)
		return -1;
	return collect(stmt, rows, n);
}

static enum store_result
changed(struct store *st, sqlite3_stmt *stmt)
{
	int rc = store_step_done(st, stmt);
	if (rc == SQLITE_CONSTRAINT)
		return STORE_EXISTS;
	if (rc != SQLITE_DONE)
		return STORE_ERROR;
	return sqlite3_changes(store_db(st)) ? STORE_OK : STORE_NOT_FOUND;
}

enum store_result
store_task_insert(struct store *st, const struct task_row *r, int64_t now_ns)
{
	sqlite3_stmt *stmt = store_stmt(st, "INSERT INTO tasks (namespace, container_id, "
	    "exec_id, status, pid, shim_pid, shim_start, terminal, process, created_at, "
	    "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
	if (stmt == NULL)
		return STORE_ERROR;
	bind_key(stmt, 1, r->ns, r->container_id, r->exec_id);
	sqlite3_bind_text(stmt, 4, task_status_name(r->status), -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 5, r->pid);
	sqlite3_bind_int64(stmt, 6, r->shim_pid);
	sqlite3_bind_int64(stmt, 7, (sqlite3_int64)r->shim_start);
	sqlite3_bind_int(stmt, 8, r->terminal);
	if (r->process)
		sqlite3_bind_text(stmt, 9, r->process, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 10, now_ns);
	sqlite3_bind_int64(stmt, 11, now_ns);
	return changed(st, stmt);
}

enum store_result
store_task_set_started(struct store *st, const char *ns, const char *cid, const char *eid,
    enum task_status status, pid_t pid, pid_t shim_pid, unsigned long long shim_start,
    int64_t now_ns)
{
	sqlite3_stmt *stmt = store_stmt(st, "UPDATE tasks SET status = ?, pid = ?, "
	    "shim_pid = ?, shim_start = ?, updated_at = ? "
	    "WHERE namespace = ? AND container_id = ? AND exec_id = ?");
	if (stmt == NULL)
		return STORE_ERROR;
	sqlite3_bind_text(stmt, 1, task_status_name(status), -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, pid);
	sqlite3_bind_int64(stmt, 3, shim_pid);
	sqlite3_bind_int64(stmt, 4, (sqlite3_int64)shim_start);
	sqlite3_bind_int64(stmt, 5, now_ns);
	bind_key(stmt, 6, ns, cid, eid);
	return changed(st, stmt);
}

enum store_result
store_task_set_status(struct store *st, const char *ns, const char *cid, const char *eid,
    enum task_status status, int64_t now_ns)
{
	sqlite3_stmt *stmt = store_stmt(st, "UPDATE tasks SET status = ?, updated_at = ? "
	    "WHERE namespace = ? AND container_id = ? AND exec_id = ?");
	if (stmt == NULL)
		return STORE_ERROR;
	sqlite3_bind_text(stmt, 1, task_status_name(status), -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, now_ns);
	bind_key(stmt, 3, ns, cid, eid);
	return changed(st, stmt);
}

enum store_result
store_task_set_exit(struct store *st, const char *ns, const char *cid, const char *eid,
    int status, int64_t exited_at, int64_t now_ns)
{
	sqlite3_stmt *stmt = store_stmt(st, "UPDATE tasks SET status = 'stopped', "
	    "exit_status = ?, exited_at = ?, exit_published = 1, updated_at = ? "
	    "WHERE namespace = ? AND container_id = ? AND exec_id = ?");
	if (stmt == NULL)
		return STORE_ERROR;
	sqlite3_bind_int(stmt, 1, status);
	sqlite3_bind_int64(stmt, 2, exited_at);
	sqlite3_bind_int64(stmt, 3, now_ns);
	bind_key(stmt, 4, ns, cid, eid);
	return changed(st, stmt);
}

enum store_result
store_task_delete(struct store *st, const char *ns, const char *cid, const char *eid)
{
	sqlite3_stmt *stmt = store_stmt(st, "DELETE FROM tasks "
	    "WHERE namespace = ? AND container_id = ? AND exec_id = ?");
	if (stmt == NULL)
		return STORE_ERROR;
	bind_key(stmt, 1, ns, cid, eid);
	return changed(st, stmt);
}

enum store_result
store_task_delete_all(struct store *st, const char *ns, const char *cid)
{
	sqlite3_stmt *stmt = store_stmt(st,
	    "DELETE FROM tasks WHERE namespace = ? AND container_id = ?");
	if (stmt == NULL)
		return STORE_ERROR;
	sqlite3_bind_text(stmt, 1, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, cid, -1, SQLITE_STATIC);
	return changed(st, stmt);
}
