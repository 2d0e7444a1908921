/* The unpacker: layers into committed chainID snapshots (unpack_layers.h). */
#include "images/unpack_layers.h"

#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common/log.h"
#include "common/util.h"
#include "content/blobs.h"
#include "images/imageconfig.h"
#include "images/manifest.h"
#include "images/mediatype.h"
#include "images/platform.h"
#include "snapshots/service.h"
#include "snapshotters/mount.h"
#include "store/content.h"
#include "unpack/unpack.h"

/* A job extracts one chainID. Serial (the snapshotter copies the parent
 * into a new snapshot, native): it stays queued until its parent is
 * committed, then prepares on top of it, extracts and commits. Parallel
 * (the layer's directory does not depend on the parent's, overlayfs): it
 * prepares a snapshot without a parent and extracts at once; the tree then
 * waits (JOB_EXTRACTED, no longer counted as running) until the parent is
 * committed, and is committed onto it: commits go in chain order. */
enum job_state { JOB_QUEUED, JOB_PREPARING, JOB_UNPACKING, JOB_EXTRACTED, JOB_FINISHED };

struct job {
	struct unpacker *u;
	enum job_state state;
	bool parallel;			/* extracted before the parent is committed */
	char *ns, *snapshotter, *chain_id, *parent, *diff_id, *blob_digest, *media_type;
	char *key;			/* the active snapshot, once prepared */
	struct unpack_handle *h;
	struct layer_waiter *waiters;
	bool ok;
	enum errcode code;
	char message[1024];
	int64_t bytes, entries;		/* what the extraction wrote */
	struct event *notify_ev;
	struct job *prev, *next;	/* in-flight list, queue order */
};

struct layer_waiter {
	struct job *job;		/* NULL: the chainID was committed already */
	layer_done_fn done;
	layer_extracted_fn extracted;
	void *arg;
	struct event *ev;		/* for the already-committed case */
	struct layer_waiter *prev, *next;
};

struct unpacker {
	struct event_base *base;
	struct snapshots *snaps;
	struct blob_store *bs;
	int limit;
	int running;			/* jobs preparing or unpacking */
	struct job *head, *tail;
	bool draining;
};

static void pump(struct unpacker *u);
static bool chain_committed(struct unpacker *u, const char *ns, const char *snapshotter,
    const char *chain_id);

/* ---- chainIDs -------------------------------------------------------------- */

void
chain_id_next(const char *parent, const char *diff_id, char out[DIGEST_LEN + 1])
{
	if (parent == NULL) {
		snprintf(out, DIGEST_LEN + 1, "%s", diff_id);
		return;
	}
	char *s = xasprintf("%s %s", parent, diff_id);
	digest_buffer(s, strlen(s), out);
	free(s);
}

/* ---- jobs ------------------------------------------------------------------ */

static void
job_unlink(struct job *j)
{
	struct unpacker *u = j->u;
	if (j->prev)
		j->prev->next = j->next;
	else if (u->head == j)
		u->head = j->next;
	if (j->next)
		j->next->prev = j->prev;
	else if (u->tail == j)
		u->tail = j->prev;
	j->prev = j->next = NULL;
}

static void
job_free(struct job *j)
{
	if (j->notify_ev)
		event_free(j->notify_ev);
	free(j->ns);
	free(j->snapshotter);
	free(j->chain_id);
	free(j->parent);
	free(j->diff_id);
	free(j->blob_digest);
	free(j->media_type);
	free(j->key);
	free(j);
}

/* Tells the waiters (on the next loop turn) and frees the job. */
static void
job_notify(evutil_socket_t fd, short what, void *arg)
{
	struct job *j = arg;
	struct unpacker *u = j->u;
	while (j->waiters != NULL) {
		struct layer_waiter *w = j->waiters;
		j->waiters = w->next;
		if (j->waiters)
			j->waiters->prev = NULL;
		w->job = NULL;
		layer_done_fn done = w->done;
		void *warg = w->arg;
		free(w);
		done(j->ok, j->code, j->message, warg);
	}
	job_free(j);
	pump(u);
}

static void
job_finish(struct job *j, bool ok, enum errcode code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
job_finish(struct job *j, bool ok, enum errcode code, const char *fmt, ...)
{
	struct unpacker *u = j->u;
	if (j->state == JOB_PREPARING || j->state == JOB_UNPACKING)
		u->running--;
	j->state = JOB_FINISHED;
	j->ok = ok;
	j->code = code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(j->message, sizeof(j->message), fmt, ap);
	va_end(ap);
	job_unlink(j);
	if (!ok)
		log_info("unpack %s: %s", j->chain_id, j->message);
	event_active(j->notify_ev, EV_TIMEOUT, 0);
}

static void
remove_active(struct job *j)
{
	struct snapshot_error err;
	if (j->key != NULL && snapshots_remove(j->u->snaps, j->ns, j->snapshotter, j->key,
	    &err) < 0)
		log_warn("unpack: removing %s: %s", j->key, err.message);
}

static void
measured(json_t *result, const struct snapshot_error *err, void *arg)
{
	json_decref(result);
}

/* An extracted job whose parent is j's chainID, or NULL. */
static struct job *
extracted_child(struct unpacker *u, const struct job *j)
{
	for (struct job *c = u->head; c != NULL; c = c->next)
		if (c->state == JOB_EXTRACTED && c->parent != NULL &&
		    strcmp(c->parent, j->chain_id) == 0 && strcmp(c->ns, j->ns) == 0 &&
		    strcmp(c->snapshotter, j->snapshotter) == 0)
			return c;
	return NULL;
}

/* The extracted tree becomes the committed chainID (on its parent, for a
 * parallel job); then the layers extracted meanwhile on top of it follow. */
static void
job_commit(struct job *j)
{
	struct unpacker *u = j->u;
	struct snapshot_error err;
	json_t *info = j->parallel ?
	    snapshots_commit_onto(u->snaps, j->ns, j->snapshotter, j->chain_id, j->key, j->parent,
	    NULL, &err) :
	    snapshots_commit(u->snaps, j->ns, j->snapshotter, j->chain_id, j->key, NULL, &err);
	if (info == NULL) {
		remove_active(j);
		job_finish(j, false, err.code, "layer %s: committing %s: %s", j->blob_digest,
		    j->chain_id, err.message);
		return;
	}
	json_decref(info);
	/* Measured now and kept with the committed snapshot: the image's
	 * size_unpacked is then a sum of known numbers. */
	snapshots_usage(u->snaps, j->ns, j->snapshotter, j->chain_id, measured, NULL);
	log_debug("unpack: %s committed (%lld bytes, %lld entries)", j->chain_id,
	    (long long)j->bytes, (long long)j->entries);
	job_finish(j, true, ERR_INTERNAL, "%s", "");
	/* j stays allocated until its notify event runs. */
	struct job *c;
	while (!u->draining && (c = extracted_child(u, j)) != NULL)
		job_commit(c);
}

/* A parallel job's tree is written: its waiters hear of it, and it is
 * committed now if its parent is, else when the parent's job commits. */
static void
job_extracted(struct job *j)
{
	struct unpacker *u = j->u;
	u->running--;
	j->state = JOB_EXTRACTED;
	bool below = j->parent == NULL || chain_committed(u, j->ns, j->snapshotter, j->parent);
	log_debug("unpack: %s extracted%s", j->chain_id, below ? "" :
	    ", waiting for the layer below");
	for (struct layer_waiter *w = j->waiters, *next; w != NULL; w = next) {
		next = w->next;
		if (w->extracted)
			w->extracted(w->arg);
	}
	if (below)
		job_commit(j);
	pump(u);
}

static void
unpacked(const struct unpack_result *res, void *arg)
{
	struct job *j = arg;
	j->h = NULL;
	if (res->status != UNPACK_OK || j->waiters == NULL) {
		remove_active(j);
		if (res->status == UNPACK_DIGEST_MISMATCH)
			job_finish(j, false, unpack_status_errcode(res->status),
			    "layer %s: diffID mismatch: the image config says %s, the layer "
			    "unpacks to %s", j->blob_digest, j->diff_id,
			    res->diff_id[0] ? res->diff_id : "(unknown)");
		else
			job_finish(j, false, j->waiters == NULL ? ERR_CANCELLED :
			    unpack_status_errcode(res->status), "layer %s: unpack %s: %s",
			    j->blob_digest, unpack_status_name(res->status),
			    res->message && *res->message ? res->message : "failed");
		return;
	}
	j->bytes = res->bytes;
	j->entries = res->entries;
	if (j->parallel) {
		job_extracted(j);
		return;
	}
	j->u->running--;
	j->state = JOB_EXTRACTED;
	job_commit(j);
}

static void
prepared(json_t *result, const struct snapshot_error *err, void *arg)
{
	struct job *j = arg;
	struct unpacker *u = j->u;
	if (result == NULL) {
		free(j->key);
		j->key = NULL;
		job_finish(j, false, err->code, "layer %s: preparing a snapshot on %s: %s",
		    j->blob_digest, j->parent && !j->parallel ? j->parent : "nothing",
		    err->message);
		return;
	}
	if (j->waiters == NULL) {
		json_decref(result);
		remove_active(j);
		job_finish(j, false, ERR_CANCELLED, "cancelled");
		return;
	}
	char *dir = mounts_writable_dir(json_object_get(result, "mounts"));
	char *path = blob_path(u->bs, j->blob_digest);
	json_decref(result);
	struct unpack_request req = {
		.blob_fd = -1,
		.blob_path = path,
		.compression = media_layer_compression(j->media_type),
		.target_dir = dir,
		.mode = strcmp(j->snapshotter, "native") == 0 ? UNPACK_NATIVE : UNPACK_OVERLAY,
		.expected_diff_id = j->diff_id,
	};
	unpack_limits_default(&req.limits);
	if (req.compression == COMPRESSION_UNKNOWN) {
		remove_active(j);
		job_finish(j, false, ERR_INVALID_ARGUMENT, "layer %s: media type %s cannot be "
		    "unpacked", j->blob_digest, j->media_type ? j->media_type : "(none)");
	} else if (dir == NULL) {
		remove_active(j);
		job_finish(j, false, ERR_INTERNAL, "layer %s: the snapshot has no writable "
		    "directory", j->blob_digest);
	} else {
		j->state = JOB_UNPACKING;
		j->h = unpack_start(u->base, &req, unpacked, j);
		if (j->h == NULL) {
			remove_active(j);
			job_finish(j, false, ERR_INTERNAL, "layer %s: starting the unpack worker "
			    "failed", j->blob_digest);
		}
	}
	free(dir);
	free(path);
}

static void
job_start(struct job *j)
{
	struct unpacker *u = j->u;
	unsigned char rnd[8];
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		memset(rnd, 0, sizeof(rnd));
	char hex[17];
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
	j->key = xasprintf("extract-%s %s", hex, j->chain_id);
	j->state = JOB_PREPARING;
	u->running++;
	json_t *labels = json_pack("{s:s}", SNAPSHOT_LABEL_TRANSIENT, "true");
	struct snapshot_request r = { j->ns, j->snapshotter, j->key,
		j->parallel ? NULL : j->parent, labels };
	snapshots_prepare(u->snaps, &r, prepared, j);
	json_decref(labels);
}

/* Starts queued jobs while there is room; a serial job waits for its
 * parent's commit. */
static void
pump(struct unpacker *u)
{
	if (u->draining)
		return;
	for (struct job *j = u->head; j != NULL && u->running < u->limit; ) {
		struct job *next = j->next;
		if (j->state == JOB_QUEUED && (j->parallel || j->parent == NULL ||
		    chain_committed(u, j->ns, j->snapshotter, j->parent)))
			job_start(j);
		j = next;
	}
}

static struct job *
find_job(struct unpacker *u, const struct layer_spec *s)
{
	for (struct job *j = u->head; j != NULL; j = j->next)
		if (strcmp(j->chain_id, s->chain_id) == 0 && strcmp(j->ns, s->ns) == 0 &&
		    strcmp(j->snapshotter, s->snapshotter) == 0)
			return j;
	return NULL;
}

static void
committed_notify(evutil_socket_t fd, short what, void *arg)
{
	struct layer_waiter *w = arg;
	layer_done_fn done = w->done;
	void *warg = w->arg;
	event_free(w->ev);
	free(w);
	done(true, ERR_INTERNAL, "", warg);
}

static bool
chain_committed(struct unpacker *u, const char *ns, const char *snapshotter,
    const char *chain_id)
{
	struct snapshot_error err;
	json_t *info = snapshots_stat(u->snaps, ns, snapshotter, chain_id, &err);
	bool yes = info != NULL &&
	    strcmp(json_string_value(json_object_get(info, "kind")) ?: "", "committed") == 0;
	json_decref(info);
	return yes;
}

struct layer_waiter *
unpacker_want(struct unpacker *u, const struct layer_spec *s, layer_done_fn done,
    layer_extracted_fn extracted, void *arg)
{
	struct layer_waiter *w = xcalloc(1, sizeof(*w));
	w->done = done;
	w->extracted = extracted;
	w->arg = arg;
	struct job *j = find_job(u, s);
	if (j == NULL && chain_committed(u, s->ns, s->snapshotter, s->chain_id)) {
		w->ev = event_new(u->base, -1, 0, committed_notify, w);
		event_active(w->ev, EV_TIMEOUT, 0);
		return w;
	}
	if (j == NULL) {
		j = xcalloc(1, sizeof(*j));
		j->u = u;
		j->ns = xstrdup(s->ns);
		j->snapshotter = xstrdup(s->snapshotter);
		j->chain_id = xstrdup(s->chain_id);
		j->parent = s->parent ? xstrdup(s->parent) : NULL;
		j->diff_id = xstrdup(s->diff_id);
		j->blob_digest = xstrdup(s->blob_digest);
		j->media_type = s->media_type ? xstrdup(s->media_type) : NULL;
		j->parallel = snapshots_layers_independent(u->snaps, s->snapshotter);
		j->notify_ev = event_new(u->base, -1, 0, job_notify, j);
		j->prev = u->tail;
		if (u->tail)
			u->tail->next = j;
		else
			u->head = j;
		u->tail = j;
	}
	w->job = j;
	w->next = j->waiters;
	if (j->waiters)
		j->waiters->prev = w;
	j->waiters = w;
	if (j->state == JOB_EXTRACTED && j->parallel && extracted != NULL)
		extracted(arg);
	/* Started after the waiter is attached: a synchronous failure must
	 * still find someone to tell (on the next loop turn). */
	if (j->state == JOB_QUEUED)
		pump(u);
	return w;
}

void
unpacker_unwant(struct layer_waiter *w)
{
	if (w == NULL)
		return;
	struct job *j = w->job;
	if (j == NULL) {
		if (w->ev)
			event_free(w->ev);
		free(w);
		return;
	}
	if (w->prev)
		w->prev->next = w->next;
	else
		j->waiters = w->next;
	if (w->next)
		w->next->prev = w->prev;
	free(w);
	if (j->waiters != NULL)
		return;
	switch (j->state) {
	case JOB_QUEUED:
		job_unlink(j);
		job_free(j);
		break;
	case JOB_UNPACKING:
		if (j->h)
			unpack_cancel(j->h);	/* unpacked() removes the snapshot */
		break;
	case JOB_EXTRACTED:	/* waiting for its parent: the tree goes */
		remove_active(j);
		job_finish(j, false, ERR_CANCELLED, "cancelled");
		break;
	case JOB_PREPARING:	/* prepared() sees nobody waits */
	case JOB_FINISHED:
		break;
	}
}

/* ---- life ------------------------------------------------------------------ */

struct unpacker *
unpacker_new(struct event_base *base, struct snapshots *snaps, struct blob_store *bs, int limit)
{
	struct unpacker *u = xcalloc(1, sizeof(*u));
	u->base = base;
	u->snaps = snaps;
	u->bs = bs;
	u->limit = limit > 0 ? limit : 1;
	return u;
}

void
unpacker_drain(struct unpacker *u)
{
	if (u == NULL)
		return;
	u->draining = true;
	for (struct job *j = u->head, *next; j != NULL; j = next) {
		next = j->next;
		if (j->state == JOB_UNPACKING && j->h) {
			unpack_cancel(j->h);
		} else if (j->state == JOB_EXTRACTED) {
			remove_active(j);
			job_finish(j, false, ERR_CANCELLED, "kegd is stopping");
		}
	}
	struct timeval tv = { 5, 0 };
	event_base_loopexit(u->base, &tv);
	/* Each turn handles what came; a killed worker is reaped quickly. */
	for (int i = 0; u->running > 0 && i < 500; i++)
		event_base_loop(u->base, EVLOOP_ONCE);
	event_base_loop(u->base, EVLOOP_NONBLOCK);
}

void
unpacker_free(struct unpacker *u)
{
	if (u == NULL)
		return;
	while (u->head != NULL) {
		struct job *j = u->head;
		job_unlink(j);
		while (j->waiters) {
			struct layer_waiter *w = j->waiters;
			j->waiters = w->next;
			free(w);
		}
		if (j->state == JOB_QUEUED || j->state == JOB_EXTRACTED)
			job_free(j);
		/* else: the worker or the service still holds it; leaked at exit */
	}
	free(u);
}

/* ---- the chain of an image -------------------------------------------------- */

void
chain_ids_free(char **ids)
{
	for (size_t i = 0; ids && ids[i]; i++)
		free(ids[i]);
	free(ids);
}

static bool
present(struct store *st, struct blob_store *bs, const char *ns, const char *digest)
{
	enum store_result res;
	json_t *row = store_content_get(st, ns, digest, &res);
	json_decref(row);
	return res == STORE_OK && blob_stat(bs, digest, NULL) == 0;
}

/* The manifest to unpack: the root itself, or the best present match for
 * the host in an index (nested indexes followed). */
static char *
host_manifest(struct store *st, struct blob_store *bs, const char *ns, const char *digest,
    const char *media_type, int depth, size_t *len)
{
	if (depth > INDEX_MAX_DEPTH || !present(st, bs, ns, digest))
		return NULL;
	char *doc = blob_read_small(bs, digest, CONFIG_MAX_BYTES, len);
	if (doc == NULL)
		return NULL;
	enum media_kind kind = media_type ? media_kind_of(media_type) : MEDIA_UNKNOWN;
	if (kind == MEDIA_UNKNOWN)
		kind = media_kind_sniff(doc, *len);
	if (media_is_manifest(kind))
		return doc;
	struct descriptor *descs = NULL;
	size_t n = 0;
	char err[160];
	char *found = NULL;
	if (media_is_index(kind) && index_parse(doc, *len, &descs, &n, err, sizeof(err)) == 0) {
		struct platform host;
		platform_host(&host);
		size_t *order = xcalloc(n + 1, sizeof(size_t));
		size_t chosen = index_select(descs, n, &host, true, order);
		for (size_t i = 0; i < chosen && found == NULL; i++) {
			const struct descriptor *d = &descs[order[i]];
			if (d->platform != NULL && !platform_match(&host, d->platform))
				break;	/* the matching ones come first */
			found = host_manifest(st, bs, ns, d->digest, d->media_type, depth + 1, len);
		}
		free(order);
		platform_clear(&host);
		descriptors_free(descs, n);
	}
	free(doc);
	return found;
}

char **
image_chain_ids(struct store *st, struct blob_store *bs, const char *ns, const json_t *image,
    size_t *n)
{
	json_t *target = json_object_get(image, "target");
	const char *digest = json_string_value(json_object_get(target, "digest"));
	const char *mt = json_string_value(json_object_get(target, "mediaType"));
	*n = 0;
	if (digest == NULL)
		return NULL;
	size_t len;
	char *doc = host_manifest(st, bs, ns, digest, mt, 0, &len);
	if (doc == NULL)
		return NULL;
	struct image_manifest m;
	char err[160];
	int rc = manifest_parse(doc, len, &m, err, sizeof(err));
	free(doc);
	if (rc < 0)
		return NULL;
	char **ids = NULL;
	char *cdoc = present(st, bs, ns, m.config.digest) ?
	    blob_read_small(bs, m.config.digest, CONFIG_MAX_BYTES, &len) : NULL;
	struct image_config c;
	if (cdoc && image_config_parse(cdoc, len, &c, err, sizeof(err)) == 0) {
		if (c.n_diff_ids > 0 && c.n_diff_ids == m.n_layers) {
			ids = xcalloc(c.n_diff_ids + 1, sizeof(char *));
			char chain[DIGEST_LEN + 1];
			for (size_t i = 0; i < c.n_diff_ids; i++) {
				chain_id_next(i ? chain : NULL, c.diff_ids[i], chain);
				ids[i] = xstrdup(chain);
			}
			*n = c.n_diff_ids;
		}
		image_config_free(&c);
	}
	free(cdoc);
	image_manifest_clear(&m);
	return ids;
}

json_t *
image_host_config(struct store *st, struct blob_store *bs, const char *ns,
    const json_t *image)
{
	json_t *target = json_object_get(image, "target");
	const char *digest = json_string_value(json_object_get(target, "digest"));
	const char *mt = json_string_value(json_object_get(target, "mediaType"));
	size_t len;
	char *doc = digest ? host_manifest(st, bs, ns, digest, mt, 0, &len) : NULL;
	if (doc == NULL)
		return NULL;
	struct image_manifest m;
	char err[160];
	int rc = manifest_parse(doc, len, &m, err, sizeof(err));
	free(doc);
	if (rc < 0)
		return NULL;
	char *cdoc = present(st, bs, ns, m.config.digest) ?
	    blob_read_small(bs, m.config.digest, CONFIG_MAX_BYTES, &len) : NULL;
	image_manifest_clear(&m);
	/* Parsed by the checking parser first: only a well-formed config is
	 * handed on as JSON. */
	struct image_config c;
	json_t *config = NULL;
	if (cdoc && image_config_parse(cdoc, len, &c, err, sizeof(err)) == 0) {
		image_config_free(&c);
		config = json_loadb(cdoc, len, 0, NULL);
	}
	free(cdoc);
	return config;
}

struct usage_probe {
	bool in_call;
	bool called;
	bool got;
	int64_t size;
};

static void
usage_seen(json_t *result, const struct snapshot_error *err, void *arg)
{
	struct usage_probe *u = arg;
	if (!u->in_call) {	/* measured later: only kept by the service */
		json_decref(result);
		free(u);
		return;
	}
	u->called = true;
	u->got = result != NULL;
	if (result)
		u->size = json_integer_value(json_object_get(result, "size"));
	json_decref(result);
}

/* The summed usage of the chain, or -1 when a part is not measured yet
 * (asking starts the measurement, so a later look finds it). */
static int64_t
chain_usage(struct snapshots *snaps, const char *ns, const char *snapshotter, char **ids,
    size_t n)
{
	int64_t total = 0;
	for (size_t i = 0; i < n; i++) {
		struct usage_probe *p = xcalloc(1, sizeof(*p));
		p->in_call = true;
		snapshots_usage(snaps, ns, snapshotter, ids[i], usage_seen, p);
		p->in_call = false;
		if (!p->called) {
			total = -1;	/* the probe frees itself when the answer comes */
			continue;
		}
		if (!p->got)
			total = -1;
		if (total >= 0)
			total += p->size;
		free(p);
	}
	return total;
}

void
image_unpacked_info(struct store *st, struct blob_store *bs, struct snapshots *snaps,
    const char *ns, json_t *image)
{
	json_t *unpacked = json_object();
	size_t n;
	char **ids = snaps ? image_chain_ids(st, bs, ns, image, &n) : NULL;
	int64_t size = -1;
	if (ids != NULL) {
		json_t *plugins = snapshots_plugins(snaps);
		size_t i;
		json_t *pl;
		json_array_foreach(plugins, i, pl) {
			const char *name = json_string_value(json_object_get(pl, "name"));
			if (name == NULL || !json_is_true(json_object_get(pl, "available")))
				continue;
			struct snapshot_error err;
			json_t *info = snapshots_stat(snaps, ns, name, ids[n - 1], &err);
			const char *kind = json_string_value(json_object_get(info, "kind"));
			if (kind && strcmp(kind, "committed") == 0) {
				json_object_set_new(unpacked, name, json_string(ids[n - 1]));
				if (size < 0 && json_is_true(json_object_get(pl, "default")))
					size = chain_usage(snaps, ns, name, ids, n);
			}
			json_decref(info);
		}
		json_decref(plugins);
	}
	/* When only another snapshotter has it: that one's size. */
	if (ids != NULL && size < 0 && json_object_size(unpacked) > 0) {
		const char *name;
		json_t *v;
		json_object_foreach(unpacked, name, v) {
			size = chain_usage(snaps, ns, name, ids, n);
			break;
		}
	}
	json_object_set_new(image, "unpacked", unpacked);
	if (size >= 0)
		json_object_set_new(image, "size_unpacked", json_integer(size));
	chain_ids_free(ids);
}
