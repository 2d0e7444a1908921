/* Start-up repair of one snapshotter's directory against the rows, for
 * whatever a SIGKILL left between the steps of create and remove:
 *
 *   tmp-ID with its row    the crash came after the commit: renamed to ID
 *   tmp-ID without a row   half made: removed
 *   ID without a row       the row was removed, the directory not yet: removed
 *   trash-*, probe-*       removal or a probe under way: removed
 *   a row without its ID   reported, and dropped with its descendants (their
 *                          trees stand on the missing one)
 *   a transient snapshot   work a crash made worthless: dropped
 *
 * Removal goes to the sweeper's worker; the renames here are instant. */
#include "snapshots/internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "common/log.h"
#include "common/util.h"
#include "events/bus.h"
#include "store/labels.h"

struct known_row {
	int64_t id, parent_id;
	char *ns, *key;
	bool transient;
	bool doomed;
};

struct repair {
	struct snapshots *s;
	struct snapshotter *sn;
	struct repair_report *report;
	struct known_row *rows;		/* by increasing id */
	size_t n_rows;
	bool trashed;
};

static void
collect_row(const struct snapmeta_brief *b, void *arg)
{
	struct repair *r = arg;
	json_t *labels = labels_from_text(b->labels);
	r->rows = xrealloc(r->rows, (r->n_rows + 1) * sizeof(*r->rows));
	r->rows[r->n_rows++] = (struct known_row){
		.id = b->id, .parent_id = b->parent_id, .ns = xstrdup(b->ns),
		.key = xstrdup(b->key),
		.transient = b->kind != SNAPSHOT_COMMITTED &&
		    json_object_get(labels, SNAPSHOT_LABEL_TRANSIENT) != NULL,
	};
	json_decref(labels);
}

static struct known_row *
find_row(struct repair *r, int64_t id)
{
	size_t lo = 0, hi = r->n_rows;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (r->rows[mid].id == id)
			return &r->rows[mid];
		if (r->rows[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* "123" → 123; -1 for anything else. */
static int64_t
parse_id(const char *s)
{
	if (*s < '1' || *s > '9' || strlen(s) > 18)
		return -1;
	int64_t v = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v;
}

static bool
dir_exists(struct repair *r, const char *name)
{
	struct stat st;
	char *p = xasprintf("%s/%s", r->sn->dir, name);
	bool exists = lstat(p, &st) == 0;
	free(p);
	return exists;
}

static void
trash(struct repair *r, const char *name)
{
	char *from = xasprintf("%s/%s", r->sn->dir, name);
	char *to = xasprintf("%s/trash-%s", r->sn->dir, name);
	if (rename(from, to) < 0)
		log_warn("snapshots: repair: rename %s: %s", from, strerror(errno));
	free(from);
	free(to);
	r->trashed = true;
	r->report->removed_dirs++;
}

/* A probe's test mount may still be up if kegd died during it. */
static void
trash_probe(struct repair *r, const char *name)
{
	char *m = xasprintf("%s/%s/m", r->sn->dir, name);
	umount2(m, MNT_DETACH);
	free(m);
	trash(r, name);
}

static void
finish_or_trash_tmp(struct repair *r, const char *name, int64_t id)
{
	char final[32];
	snprintf(final, sizeof(final), "%lld", (long long)id);
	if (find_row(r, id) == NULL || dir_exists(r, final)) {
		trash(r, name);
		return;
	}
	char *from = xasprintf("%s/%s", r->sn->dir, name);
	char *to = xasprintf("%s/%s", r->sn->dir, final);
	if (rename(from, to) < 0)
		log_warn("snapshots: repair: rename %s: %s", from, strerror(errno));
	else
		r->report->completed++;
	free(from);
	free(to);
}

static void
check_entry(struct repair *r, const char *name)
{
	int64_t id;
	if ((id = parse_id(name)) > 0) {
		service_saw_id(r->s, id);
		if (find_row(r, id) == NULL)
			trash(r, name);
	} else if (str_has_prefix(name, "tmp-") && (id = parse_id(name + 4)) > 0) {
		service_saw_id(r->s, id);
		finish_or_trash_tmp(r, name, id);
	} else if (str_has_prefix(name, "trash-")) {
		/* trash-ID or trash-tmp-ID: its id must not come back while it is there */
		const char *n = strrchr(name, '-') + 1;
		if ((id = parse_id(n)) > 0)
			service_saw_id(r->s, id);
		r->trashed = true;
		r->report->removed_dirs++;
	} else if (str_has_prefix(name, "probe-")) {
		trash_probe(r, name);
	} else {
		log_warn("snapshots: repair: leaving %s/%s alone: not a snapshot's", r->sn->dir, name);
	}
}

static int
scan_directory(struct repair *r)
{
	DIR *d = opendir(r->sn->dir);
	if (d == NULL)
		return -1;
	/* Names first: the checks rename entries of this directory. */
	char **names = NULL;
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		names = xrealloc(names, (n + 1) * sizeof(*names));
		names[n++] = xstrdup(e->d_name);
	}
	closedir(d);
	for (size_t i = 0; i < n; i++) {
		check_entry(r, names[i]);
		free(names[i]);
	}
	free(names);
	return 0;
}

/* Rows in id order, but a parent does not always come before its children
 * (a layer extracted before its parent was committed has the lower id):
 * the rows gone or transient are marked first, then their descendants
 * until nothing changes. */
static void
mark_doomed(struct repair *r)
{
	for (size_t i = 0; i < r->n_rows; i++) {
		struct known_row *k = &r->rows[i];
		char name[32];
		snprintf(name, sizeof(name), "%lld", (long long)k->id);
		if (!dir_exists(r, name)) {
			log_warn("snapshots: %s snapshot %.200s (namespace %s, id %lld): its "
			    "directory is missing; dropping it and its descendants",
			    r->sn->ops->name, k->key, k->ns, (long long)k->id);
			k->doomed = true;
			r->report->missing++;
		} else if (k->transient) {
			k->doomed = true;
			r->report->transient++;
			trash(r, name);
		}
	}
	for (bool changed = true; changed;) {
		changed = false;
		for (size_t i = 0; i < r->n_rows; i++) {
			struct known_row *k = &r->rows[i];
			struct known_row *parent = k->parent_id ? find_row(r, k->parent_id) : NULL;
			if (k->doomed || parent == NULL || !parent->doomed)
				continue;
			char name[32];
			snprintf(name, sizeof(name), "%lld", (long long)k->id);
			k->doomed = changed = true;
			r->report->missing++;
			trash(r, name);
		}
	}
}

/* How many ancestors k has among the rows (a parent's id may be above or
 * below its child's). */
static size_t
row_depth(struct repair *r, const struct known_row *k)
{
	size_t depth = 0;
	for (const struct known_row *p = k; p->parent_id != 0 && depth <= r->n_rows; depth++)
		if ((p = find_row(r, p->parent_id)) == NULL)
			break;
	return depth;
}

static int
by_depth_desc(const void *a, const void *b)
{
	const size_t *x = a, *y = b;	/* {depth, index} */
	return x[0] < y[0] ? 1 : x[0] > y[0] ? -1 : 0;
}

/* Children before their parents (the parent id is a foreign key): deepest
 * first. */
static int
drop_doomed(void *arg)
{
	struct repair *r = arg;
	size_t (*order)[2] = xcalloc(r->n_rows + 1, sizeof(*order));
	size_t n = 0;
	for (size_t i = 0; i < r->n_rows; i++)
		if (r->rows[i].doomed) {
			order[n][0] = row_depth(r, &r->rows[i]);
			order[n++][1] = i;
		}
	qsort(order, n, sizeof(*order), by_depth_desc);
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct known_row *k = &r->rows[order[i][1]];
		if (snapmeta_delete(r->s->st, k->id) != STORE_OK ||
		    event_bus_publish(r->s->bus, k->ns, "/snapshot/remove", json_pack("{s:s,s:s}",
		    "key", k->key, "snapshotter", r->sn->ops->name)) < 0)
			rc = -1;
	}
	free(order);
	return rc;
}

static void
report(const struct repair *r)
{
	const struct repair_report *rep = r->report;
	if (rep->completed || rep->removed_dirs || rep->missing || rep->transient)
		log_info("snapshots: %s repaired: %d finished, %d directories removed, "
		    "%d rows without a directory dropped, %d transient snapshots dropped",
		    r->sn->ops->name, rep->completed, rep->removed_dirs, rep->missing,
		    rep->transient);
}

void
snapshots_repair(struct snapshots *s, size_t index)
{
	struct repair r = { s, s->sn[index], &s->repair[index], NULL, 0, false };
	if (snapmeta_scan(s->st, r.sn->ops->name, collect_row, &r) < 0) {
		log_error("snapshots: repair of %s: the metadata store cannot be read",
		    r.sn->ops->name);
	} else if (scan_directory(&r) < 0) {
		log_warn("snapshots: repair of %s: %s", r.sn->dir, strerror(errno));
	} else {
		mark_doomed(&r);
		if (r.report->missing + r.report->transient > 0 &&
		    service_transaction(s, drop_doomed, &r) < 0)
			log_error("snapshots: repair of %s: dropping rows failed", r.sn->ops->name);
	}
	report(&r);
	if (r.trashed)
		sweeper_run(&s->sweep[index]);
	for (size_t i = 0; i < r.n_rows; i++) {
		free(r.rows[i].ns);
		free(r.rows[i].key);
	}
	free(r.rows);
}
