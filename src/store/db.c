#include "store/db.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "store/schema.h"

#define STMT_CACHE_SIZE 128

struct cached_stmt {
	const char *sql;
	sqlite3_stmt *stmt;
};

struct store {
	sqlite3 *db;
	bool in_tx;
	struct cached_stmt cache[STMT_CACHE_SIZE];
	size_t n_cached;
	void (*on_commit)(void *);
	void (*on_rollback)(void *);
	void *hook_arg;
};

sqlite3 *
store_db(struct store *st)
{
	return st->db;
}

int
store_exec(struct store *st, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_error("store: %s: %s", sql, msg ? msg : "error");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

sqlite3_stmt *
store_stmt(struct store *st, const char *sql)
{
	for (size_t i = 0; i < st->n_cached; i++) {
		if (st->cache[i].sql == sql) {
			sqlite3_reset(st->cache[i].stmt);
			sqlite3_clear_bindings(st->cache[i].stmt);
			return st->cache[i].stmt;
		}
	}
	sqlite3_stmt *stmt;
	unsigned flags = st->n_cached < STMT_CACHE_SIZE ? SQLITE_PREPARE_PERSISTENT : 0;
	if (sqlite3_prepare_v3(st->db, sql, -1, flags, &stmt, NULL) != SQLITE_OK) {
		log_error("store: prepare %s: %s", sql, sqlite3_errmsg(st->db));
		return NULL;
	}
	if (st->n_cached == STMT_CACHE_SIZE) {
		/* Not expected: the daemon has fewer distinct queries than this. */
		log_error("store: statement cache full");
		abort();
	}
	st->cache[st->n_cached++] = (struct cached_stmt){ sql, stmt };
	return stmt;
}

int
store_step_done(struct store *st, sqlite3_stmt *stmt)
{
	int rc = sqlite3_step(stmt);
	if (rc != SQLITE_DONE && rc != SQLITE_CONSTRAINT)
		log_error("store: %s: %s", sqlite3_sql(stmt), sqlite3_errmsg(st->db));
	sqlite3_reset(stmt);
	return rc;
}

int
store_begin(struct store *st)
{
	if (st->in_tx) {
		log_error("store: nested transaction");
		return -1;
	}
	if (store_exec(st, "BEGIN IMMEDIATE") < 0)
		return -1;
	st->in_tx = true;
	return 0;
}

int
store_commit(struct store *st)
{
	if (store_exec(st, "COMMIT") < 0) {
		store_rollback(st);
		return -1;
	}
	st->in_tx = false;
	if (st->on_commit)
		st->on_commit(st->hook_arg);
	return 0;
}

enum store_result
store_finish(struct store *st, enum store_result res)
{
	if (res == STORE_OK && store_commit(st) == 0)
		return STORE_OK;
	store_rollback(st);
	return res == STORE_OK ? STORE_ERROR : res;
}

void
store_rollback(struct store *st)
{
	if (!st->in_tx)
		return;
	/* After some errors SQLite has already rolled back; that is fine. */
	if (sqlite3_get_autocommit(st->db) == 0)
		store_exec(st, "ROLLBACK");
	st->in_tx = false;
	if (st->on_rollback)
		st->on_rollback(st->hook_arg);
}

bool
store_in_tx(const struct store *st)
{
	return st->in_tx;
}

void
store_set_tx_hooks(struct store *st, void (*on_commit)(void *),
    void (*on_rollback)(void *), void *arg)
{
	st->on_commit = on_commit;
	st->on_rollback = on_rollback;
	st->hook_arg = arg;
}

/* quick_check reads every page once: a torn or corrupt file is found at start
 * instead of by a later query deep inside a request. */
static int
check_integrity(struct store *st, char **err)
{
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(st->db, "PRAGMA quick_check", -1, &stmt, NULL) != SQLITE_OK) {
		*err = xasprintf("integrity check: %s", sqlite3_errmsg(st->db));
		return -1;
	}
	int rc = sqlite3_step(stmt);
	const char *result = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(stmt, 0) : NULL;
	int ok = result != NULL && strcmp(result, "ok") == 0;
	if (!ok)
		*err = xasprintf("database failed its integrity check: %s",
		    result ? result : sqlite3_errmsg(st->db));
	sqlite3_finalize(stmt);
	return ok ? 0 : -1;
}

static int
set_pragmas(struct store *st, char **err)
{
	static const char *const pragmas[] = {
		"PRAGMA journal_mode=WAL",
		/* NORMAL in WAL mode survives a process crash; only power loss can
		 * drop the newest commits, never corrupt the file. */
		"PRAGMA synchronous=NORMAL",
		"PRAGMA foreign_keys=ON",
		"PRAGMA secure_delete=OFF",
		NULL,
	};
	/* Only this daemon writes (the root is locked), so a busy database means
	 * an outside reader; waiting long for it would stall the whole loop. */
	sqlite3_busy_timeout(st->db, 200);
	for (const char *const *p = pragmas; *p; p++) {
		char *msg = NULL;
		if (sqlite3_exec(st->db, *p, NULL, NULL, &msg) != SQLITE_OK) {
			*err = xasprintf("%s: %s", *p, msg ? msg : "error");
			sqlite3_free(msg);
			return -1;
		}
	}
	return 0;
}

struct store *
store_open(const char *path, char **err)
{
	struct store *st = xcalloc(1, sizeof(*st));
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	if (sqlite3_open_v2(path, &st->db, flags, NULL) != SQLITE_OK) {
		*err = xasprintf("open %s: %s", path, st->db ? sqlite3_errmsg(st->db) : "no memory");
		store_close(st);
		return NULL;
	}
	sqlite3_extended_result_codes(st->db, 0);
	if (set_pragmas(st, err) < 0 || check_integrity(st, err) < 0 ||
	    schema_migrate(st, err) < 0) {
		store_close(st);
		return NULL;
	}
	/* quick_check filled the page cache with every page of the file (up
	 * to its 2 MB): pages an idle daemon has no use for. */
	sqlite3_db_release_memory(st->db);
	return st;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	for (size_t i = 0; i < st->n_cached; i++)
		sqlite3_finalize(st->cache[i].stmt);
	sqlite3_close(st->db);
	free(st);
}
