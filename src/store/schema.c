#include "store/schema.h"

#include <sqlite3.h>
#include <stdlib.h>

#include "common/log.h"
#include "common/util.h"
#include "store/db.h"

/* Append only: a released migration never changes, a new one is added. */
static const char *const migrations[] = {
	/* 1: namespaces and the event log */
	"CREATE TABLE namespaces ("
	"  name TEXT PRIMARY KEY,"
	"  labels TEXT NOT NULL DEFAULT '{}',"	/* JSON object */
	"  created_at INTEGER NOT NULL,"		/* ns since the epoch */
	"  updated_at INTEGER NOT NULL"
	");"
	/* AUTOINCREMENT: ids never go back, even after the log is pruned and the
	 * daemon killed, so Last-Event-ID replay stays sound. */
	"CREATE TABLE events ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  timestamp INTEGER NOT NULL,"
	"  namespace TEXT NOT NULL,"
	"  topic TEXT NOT NULL,"
	"  payload TEXT NOT NULL"			/* JSON */
	");",
	/* 2: content metadata and images. A blob's bytes are shared on disk;
	 * each namespace that uses it has its own row (labels, gc refs). */
	"CREATE TABLE content ("
	"  namespace TEXT NOT NULL REFERENCES namespaces(name),"
	"  digest TEXT NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  labels TEXT NOT NULL DEFAULT '{}',"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL,"
	"  PRIMARY KEY (namespace, digest)"
	");"
	"CREATE INDEX content_by_digest ON content(digest);"
	"CREATE TABLE images ("
	"  namespace TEXT NOT NULL REFERENCES namespaces(name),"
	"  name TEXT NOT NULL,"
	"  target_media_type TEXT NOT NULL,"
	"  target_digest TEXT NOT NULL,"
	"  target_size INTEGER NOT NULL,"
	"  labels TEXT NOT NULL DEFAULT '{}',"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL,"
	"  PRIMARY KEY (namespace, name)"
	");",
	/* 3: snapshots. The id names the directory (ROOT/snapshots/SNAPSHOTTER/ID)
	 * and is chosen by kegd; a committed snapshot's key is its name. */
	"CREATE TABLE snapshots ("
	"  id INTEGER PRIMARY KEY,"
	"  namespace TEXT NOT NULL REFERENCES namespaces(name),"
	"  snapshotter TEXT NOT NULL,"
	"  key TEXT NOT NULL,"
	"  parent_id INTEGER REFERENCES snapshots(id),"
	"  kind TEXT NOT NULL CHECK (kind IN ('active', 'view', 'committed')),"
	"  labels TEXT NOT NULL DEFAULT '{}',"
	"  usage_size INTEGER,"			/* measured once committed */
	"  usage_inodes INTEGER,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL,"
	"  UNIQUE (namespace, snapshotter, key)"
	");"
	"CREATE INDEX snapshots_by_parent ON snapshots(parent_id);",
	/* 4: containers: metadata only (as containerd's), the OCI spec as JSON.
	 * The snapshot is named by key in snapshotter; runtime is {name, options}. */
	"CREATE TABLE containers ("
	"  namespace TEXT NOT NULL REFERENCES namespaces(name),"
	"  id TEXT NOT NULL,"
	"  image TEXT NOT NULL DEFAULT '',"
	"  snapshotter TEXT NOT NULL DEFAULT '',"
	"  snapshot_key TEXT NOT NULL DEFAULT '',"
	"  runtime TEXT NOT NULL,"			/* JSON {name, options} */
	"  spec TEXT NOT NULL,"			/* JSON: the OCI runtime spec */
	"  labels TEXT NOT NULL DEFAULT '{}',"
	"  extensions TEXT NOT NULL DEFAULT '{}',"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL,"
	"  PRIMARY KEY (namespace, id)"
	");",
	/* 5: tasks: one row per container process (exec_id '' is the init
	 * process). The shim's pid and start time (field 22 of /proc/PID/stat)
	 * find it again after a restart without trusting a reused pid;
	 * exit_published makes /tasks/exit go out exactly once. */
	"CREATE TABLE tasks ("
	"  namespace TEXT NOT NULL,"
	"  container_id TEXT NOT NULL,"
	"  exec_id TEXT NOT NULL DEFAULT '',"
	"  status TEXT NOT NULL CHECK (status IN"
	"    ('created', 'running', 'paused', 'stopped')),"
	"  pid INTEGER NOT NULL DEFAULT 0,"
	"  shim_pid INTEGER NOT NULL DEFAULT 0,"
	"  shim_start INTEGER NOT NULL DEFAULT 0,"
	"  terminal INTEGER NOT NULL DEFAULT 0,"
	"  process TEXT,"				/* JSON: an exec's OCI process */
	"  exit_status INTEGER,"
	"  exited_at INTEGER,"
	"  exit_published INTEGER NOT NULL DEFAULT 0,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL,"
	"  PRIMARY KEY (namespace, container_id, exec_id),"
	"  FOREIGN KEY (namespace, container_id) REFERENCES containers(namespace, id)"
	");",
};

#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

int
schema_latest_version(void)
{
	return N_MIGRATIONS;
}

int
schema_current_version(struct store *st)
{
	sqlite3_stmt *stmt;
	int version = -1;
	if (sqlite3_prepare_v2(store_db(st), "PRAGMA user_version", -1, &stmt, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(stmt) == SQLITE_ROW)
		version = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	return version;
}

static int
apply_migration(struct store *st, int index, char **err)
{
	char *bump = xasprintf("PRAGMA user_version=%d", index + 1);
	char *msg = NULL;
	int rc = -1;
	if (store_begin(st) < 0) {
		*err = xasprintf("migration %d: cannot begin", index + 1);
		goto out;
	}
	if (sqlite3_exec(store_db(st), migrations[index], NULL, NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(store_db(st), bump, NULL, NULL, &msg) != SQLITE_OK) {
		*err = xasprintf("migration %d: %s", index + 1, msg ? msg : "error");
		store_rollback(st);
		goto out;
	}
	if (store_commit(st) < 0) {
		*err = xasprintf("migration %d: commit failed", index + 1);
		goto out;
	}
	log_info("store: schema migrated to version %d", index + 1);
	rc = 0;
out:
	sqlite3_free(msg);
	free(bump);
	return rc;
}

int
schema_migrate(struct store *st, char **err)
{
	int version = schema_current_version(st);
	if (version < 0) {
		*err = xasprintf("cannot read schema version: %s", sqlite3_errmsg(store_db(st)));
		return -1;
	}
	if (version > N_MIGRATIONS) {
		*err = xasprintf("database schema %d is newer than this kegd knows (%d)",
		    version, N_MIGRATIONS);
		return -1;
	}
	for (int i = version; i < N_MIGRATIONS; i++)
		if (apply_migration(st, i, err) < 0)
			return -1;
	return 0;
}
