#include "images/pull.h"

#include <event2/event.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "content/blobs.h"
#include "content/digest.h"
#include "content/ingest.h"
#include "distribution/downloads.h"
#include "distribution/registry.h"
#include "images/imageconfig.h"
#include "images/manifest.h"
#include "images/mediatype.h"
#include "images/pull_state.h"
#include "images/unpack_layers.h"
#include "ops/operation.h"
#include "snapshots/service.h"

static void fetch_doc(struct pull_blob *b);
static int store_doc(struct pull_blob *b);
static void download_layer(struct pull_blob *b);
static void unpack_advance(struct pull *p);

#define RESTORE_ROUNDS_MAX 3

/* ---- lifetime ------------------------------------------------------------ */

static void
blob_free(struct pull_blob *b)
{
	if (b->rr)
		registry_request_cancel(b->rr);
	if (b->waiter)
		downloads_unwant(b->waiter);
	json_decref(b->labels);
	free(b->digest);
	free(b->media_type);
	free(b->doc);
	free(b);
}

static void
pull_free(evutil_socket_t fd, short what, void *arg)
{
	struct pull *p = arg;
	for (size_t i = 0; i < p->n_blobs; i++)
		blob_free(p->blobs[i]);
	free(p->blobs);
	for (size_t i = 0; i < p->n_ul; i++) {
		free(p->ul[i].digest);
		free(p->ul[i].media_type);
		free(p->ul[i].diff_id);
	}
	free(p->ul);
	free(p->snapshotter);
	free(p->unpack_digest);
	image_ref_free(&p->ref);
	platform_clear(&p->want);
	credentials_free(&p->creds);
	event_free(p->free_ev);
	free(p->ns);
	free(p->name);
	free(p->repo_name);
	free(p);
}

/* Stops every transfer and frees the pull once the stack has unwound.
 * Partial downloads stay for a resume (a cancel, a failure elsewhere),
 * unless the registry proved untrustworthy. */
static void
pull_end(struct pull *p)
{
	p->finished = true;
	for (size_t i = 0; i < p->n_blobs; i++) {
		struct pull_blob *b = p->blobs[i];
		if (b->rr)
			registry_request_cancel(b->rr);
		if (b->waiter && p->distrusted)
			downloads_unwant_distrusted(b->waiter);
		else if (b->waiter)
			downloads_unwant(b->waiter);
		b->rr = NULL;
		b->waiter = NULL;
	}
	/* A running unpack nobody else waits for is cancelled, its active
	 * snapshot removed; so is a layer extracted, waiting for the one below. */
	for (size_t i = 0; i < p->n_ul; i++) {
		unpacker_unwant(p->ul[i].waiter);
		p->ul[i].waiter = NULL;
	}
	event_active(p->free_ev, EV_TIMEOUT, 0);
}

void
pull_fail(struct pull *p, enum errcode code, const char *fmt, ...)
{
	if (p->failed || p->finished)
		return;
	p->failed = true;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pull_report(p, true);
	operation_fail(p->op, code, "%s", msg);
	pull_end(p);
}

static void
step_begin(struct pull *p)
{
	p->pending++;
}

/* A blob this pull found already here can be gone by the end: another
 * namespace deleted it, the last that had it recorded. No row may be
 * recorded without its bytes, so documents (still in memory) are stored
 * again and layers fetched again; the number of blobs fetched again. */
static int
restore_missing(struct pull *p)
{
	int again = 0;
	for (size_t i = 0; i < p->n_blobs && !p->failed; i++) {
		struct pull_blob *b = p->blobs[i];
		if (blob_stat(p->env.bs, b->digest, NULL) == 0)
			continue;
		if (b->doc != NULL) {
			store_doc(b);
		} else {
			download_layer(b);
			again++;
		}
	}
	if (again > 0 && ++p->restore_rounds > RESTORE_ROUNDS_MAX)
		pull_fail(p, ERR_UNAVAILABLE, "blobs of %s keep being deleted during the pull",
		    p->name);
	return again;
}

static void
step_end(struct pull *p)
{
	if (--p->pending > 0 || p->failed || p->finished)
		return;
	if (restore_missing(p) > 0 || p->failed)
		return;	/* step_end comes again when they are back */
	pull_report(p, true);
	if (pull_commit(p) == 0)
		pull_end(p);
}

static void
on_cancel(void *arg)
{
	struct pull *p = arg;
	p->failed = true;
	pull_end(p);
}

/* ---- blobs --------------------------------------------------------------- */

static struct pull_blob *
find_blob(struct pull *p, const char *digest)
{
	for (size_t i = 0; digest && i < p->n_blobs; i++)
		if (p->blobs[i]->digest && strcmp(p->blobs[i]->digest, digest) == 0)
			return p->blobs[i];
	return NULL;
}

/* A blob to fetch; *fresh is false when the pull already has it (a layer
 * shared by two platforms' manifests is fetched once). */
static struct pull_blob *
add_blob(struct pull *p, enum blob_role role, const struct descriptor *d, int depth,
    bool *fresh)
{
	struct pull_blob *b = d ? find_blob(p, d->digest) : NULL;
	*fresh = b == NULL;
	if (b != NULL)
		return b;
	b = xcalloc(1, sizeof(*b));
	b->p = p;
	b->role = role;
	b->depth = depth;
	b->size = d ? d->size : -1;
	b->digest = d ? xstrdup(d->digest) : NULL;
	b->media_type = d ? xstrdup(d->media_type) : NULL;
	b->labels = json_object();
	p->blobs = xrealloc(p->blobs, (p->n_blobs + 1) * sizeof(*p->blobs));
	p->blobs[p->n_blobs++] = b;
	return b;
}

/* The registry sent what we refuse (bytes that are not the digest, more
 * than the size, answers that make no sense): it is not trusted for the
 * rest of this pull's bytes either. */
static void
distrust_on(struct pull *p, enum registry_failure f)
{
	if (f == REG_INVALID || f == REG_SINK)
		p->distrusted = true;
}

static enum errcode
failure_code(enum registry_failure f)
{
	switch (f) {
	case REG_NOT_FOUND: return ERR_NOT_FOUND;
	case REG_UNAUTHORIZED: return ERR_UNAUTHENTICATED;
	case REG_INVALID:
	case REG_SINK: return ERR_INVALID_ARGUMENT;
	case REG_CANCELLED: return ERR_CANCELLED;
	default: return ERR_UNAVAILABLE;
	}
}

/* ---- documents: index, manifest, config ---------------------------------- */

static void
set_gc_label(struct pull_blob *parent, const char *key, const char *digest)
{
	char name[96];
	snprintf(name, sizeof(name), "containerd.io/gc.ref.content.%s", key);
	json_object_set_new(parent->labels, name, json_string(digest));
}

static void
fetch_child(struct pull_blob *parent, enum blob_role role, const struct descriptor *d,
    const char *label)
{
	bool fresh;
	struct pull_blob *b = add_blob(parent->p, role, d, parent->depth + 1, &fresh);
	set_gc_label(parent, label, d->digest);
	if (!fresh)
		return;
	b->parent = parent;
	step_begin(parent->p);
	fetch_doc(b);
}

static void on_blob_progress(int64_t offset, void *arg);
static void on_layer_done(enum registry_failure f, const char *err, void *arg);

static void
want_layer(struct pull_blob *parent, const struct descriptor *d, size_t index)
{
	struct pull *p = parent->p;
	char label[32];
	snprintf(label, sizeof(label), "l.%zu", index);
	set_gc_label(parent, label, d->digest);
	bool fresh;
	struct pull_blob *b = add_blob(p, ROLE_LAYER, d, parent->depth + 1, &fresh);
	if (fresh)
		download_layer(b);
}

/* The shared downloads tell at once when the blob is here already. */
static void
download_layer(struct pull_blob *b)
{
	struct pull *p = b->p;
	int64_t have;
	b->state = blob_stat(p->env.bs, b->digest, &have) == 0 && have == b->size ?
	    BLOB_EXISTS : BLOB_FETCHING;
	b->offset = 0;
	struct blob_source src = { p->ref.domain, p->ref.path, b->digest, b->size,
		p->has_creds ? &p->creds : NULL };
	step_begin(p);
	b->waiter = downloads_want(p->env.dl, &src, on_blob_progress, on_layer_done, b);
}

static void
on_blob_progress(int64_t offset, void *arg)
{
	struct pull_blob *b = arg;
	b->offset = offset;
	pull_report(b->p, false);
}

static void
on_layer_done(enum registry_failure f, const char *err, void *arg)
{
	struct pull_blob *b = arg;
	struct pull *p = b->p;
	b->waiter = NULL;
	if (f != REG_OK) {
		distrust_on(p, f);
		pull_fail(p, failure_code(f), "layer %s: %s", b->digest, err ? err : "failed");
		return;
	}
	if (b->state != BLOB_EXISTS)
		b->state = BLOB_DONE;
	b->offset = b->size;
	pull_report(p, true);
	unpack_advance(p);
	step_end(p);
}

/* ---- unpack: layers into chainID snapshots ------------------------------- */

static bool
layer_ready(const struct pull_blob *b)
{
	return b != NULL && b->waiter == NULL && b->state != BLOB_WAITING &&
	    b->state != BLOB_FETCHING;
}

/* A blob's unpack state: the least advanced of the places it has in the
 * manifest. */
static void
show_unpack(struct pull *p, const char *digest)
{
	struct pull_blob *lb = find_blob(p, digest);
	if (lb == NULL)
		return;
	enum blob_unpack least = LAYER_UNPACK_DONE;
	for (size_t i = 0; i < p->n_ul; i++)
		if (strcmp(p->ul[i].digest, digest) == 0 && p->ul[i].state < least)
			least = p->ul[i].state;
	lb->unpack = least;
}

static void
on_extracted(void *arg)
{
	struct unpack_layer *l = arg;
	struct pull *p = l->p;
	if (l->state < LAYER_UNPACK_EXTRACTED)
		l->state = LAYER_UNPACK_EXTRACTED;
	show_unpack(p, l->digest);
	pull_report(p, true);
}

static void
on_unpacked(bool ok, enum errcode code, const char *message, void *arg)
{
	struct unpack_layer *l = arg;
	struct pull *p = l->p;
	l->waiter = NULL;
	if (!ok) {
		pull_fail(p, code, "%s", message);
		return;
	}
	l->state = LAYER_UNPACK_DONE;
	show_unpack(p, l->digest);
	pull_report(p, true);
	unpack_advance(p);
}

/* Asks the unpacker for every layer whose blob is here, each on its parent
 * chainID: they are extracted in parallel and committed in order (or, for
 * a snapshotter that copies parents, one after the other). Ends the unpack
 * step once every layer is committed. */
static void
unpack_advance(struct pull *p)
{
	if (!p->ul_ready || p->failed || p->finished)
		return;
	bool all_done = true, changed = false;
	for (size_t i = 0; i < p->n_ul && !p->failed && !p->finished; i++) {
		struct unpack_layer *l = &p->ul[i];
		if (l->state == LAYER_UNPACK_DONE)
			continue;
		all_done = false;
		if (l->state == LAYER_UNPACK_NONE) {
			l->state = LAYER_UNPACK_WAITING;
			changed = true;
		}
		if (l->waiter != NULL)
			continue;
		struct pull_blob *lb = find_blob(p, l->digest);
		if (!layer_ready(lb))
			continue;
		/* Deleted meanwhile (by another namespace, its last user): fetched
		 * again, and the unpack comes when it is back. */
		if (blob_stat(p->env.bs, lb->digest, NULL) < 0) {
			download_layer(lb);
			continue;
		}
		l->state = LAYER_UNPACK_RUNNING;
		changed = true;
		struct layer_spec spec = {
			.ns = p->ns, .snapshotter = p->snapshotter, .chain_id = l->chain_id,
			.parent = i > 0 ? p->ul[i - 1].chain_id : NULL,
			.diff_id = l->diff_id, .blob_digest = l->digest, .media_type = l->media_type,
		};
		l->waiter = unpacker_want(p->env.unpacker, &spec, on_unpacked, on_extracted, l);
	}
	if (changed) {
		for (size_t i = 0; i < p->n_ul; i++)
			show_unpack(p, p->ul[i].digest);
		pull_report(p, true);
	}
	if (!all_done || p->failed || p->finished)
		return;
	p->ul_ready = false;
	if (p->n_ul > 0 && p->ul_config != NULL) {
		/* The image's config keeps the snapshot chain from gc, as containerd. */
		char *label = xasprintf("containerd.io/gc.ref.snapshot.%s", p->snapshotter);
		json_object_set_new(p->ul_config->labels, label,
		    json_string(p->ul[p->n_ul - 1].chain_id));
		free(label);
	}
	step_end(p);
}

/* The manifest whose layers are unpacked: the one chosen for the wanted
 * platform (with all_platforms, the best only if it matches). */
static void
choose_unpack(struct pull_blob *b, const struct descriptor *descs, const size_t *order,
    size_t chosen)
{
	struct pull *p = b->p;
	if (!p->unpack || chosen == 0)
		return;
	if (b->depth != 0 && (p->unpack_digest == NULL || strcmp(p->unpack_digest, b->digest) != 0))
		return;
	const struct descriptor *d = &descs[order[0]];
	free(p->unpack_digest);
	p->unpack_digest = NULL;
	if (!p->all_platforms || d->platform == NULL || platform_match(&p->want, d->platform))
		p->unpack_digest = xstrdup(d->digest);
}

static void
plan_unpack(struct pull_blob *b, const struct image_manifest *m)
{
	struct pull *p = b->p;
	if (!p->unpack || p->ul != NULL)
		return;
	if (b->depth == 0 && p->unpack_digest == NULL)
		p->unpack_digest = xstrdup(b->digest);
	if (p->unpack_digest == NULL || strcmp(p->unpack_digest, b->digest) != 0)
		return;
	p->ul = xcalloc(m->n_layers + 1, sizeof(*p->ul));
	p->n_ul = m->n_layers;
	for (size_t i = 0; i < m->n_layers; i++) {
		p->ul[i].p = p;
		p->ul[i].digest = xstrdup(m->layers[i].digest);
		p->ul[i].media_type = xstrdup(m->layers[i].media_type);
	}
}

/* The config of the manifest being unpacked gives the diffIDs: the
 * chainIDs follow, and the unpack holds a step until it is through. */
static void
plan_chain(struct pull_blob *b, const struct image_config *c)
{
	struct pull *p = b->p;
	if (p->ul == NULL || p->ul_ready || p->ul_config != NULL || b->parent == NULL ||
	    b->parent->digest == NULL || strcmp(b->parent->digest, p->unpack_digest) != 0 ||
	    c->n_diff_ids != p->n_ul)
		return;
	for (size_t i = 0; i < p->n_ul; i++) {
		p->ul[i].diff_id = xstrdup(c->diff_ids[i]);
		chain_id_next(i ? p->ul[i - 1].chain_id : NULL, c->diff_ids[i], p->ul[i].chain_id);
	}
	p->ul_config = b;
	p->ul_ready = true;
	step_begin(p);
}

static int
handle_index(struct pull_blob *b)
{
	struct pull *p = b->p;
	struct descriptor *descs = NULL;
	size_t n = 0;
	char err[256];
	if (b->depth >= INDEX_MAX_DEPTH) {
		pull_fail(p, ERR_INVALID_ARGUMENT, "indexes nested deeper than %d", INDEX_MAX_DEPTH);
		return -1;
	}
	if (index_parse(b->doc, b->doc_len, &descs, &n, err, sizeof(err)) < 0) {
		pull_fail(p, ERR_INVALID_ARGUMENT, "index %s: %s", b->digest, err);
		return -1;
	}
	size_t *order = xcalloc(n + 1, sizeof(size_t));
	size_t chosen = index_select(descs, n, &p->want, p->all_platforms, order);
	if (chosen == 0) {
		char *want = platform_string(&p->want);
		pull_fail(p, ERR_NOT_FOUND, "%s has no image for platform %s", p->name, want);
		free(want);
	}
	choose_unpack(b, descs, order, chosen);
	for (size_t i = 0; i < chosen && !p->failed; i++) {
		char label[32];
		snprintf(label, sizeof(label), "m.%zu", order[i]);
		fetch_child(b, ROLE_MANIFEST, &descs[order[i]], label);
	}
	free(order);
	descriptors_free(descs, n);
	return p->failed ? -1 : 0;
}

static int
handle_manifest(struct pull_blob *b)
{
	struct pull *p = b->p;
	struct image_manifest m;
	char err[256];
	if (manifest_parse(b->doc, b->doc_len, &m, err, sizeof(err)) < 0) {
		pull_fail(p, ERR_INVALID_ARGUMENT, "manifest %s: %s", b->digest, err);
		return -1;
	}
	plan_unpack(b, &m);
	fetch_child(b, ROLE_CONFIG, &m.config, "config");
	for (size_t i = 0; i < m.n_layers && !p->failed; i++)
		want_layer(b, &m.layers[i], i);
	image_manifest_clear(&m);
	unpack_advance(p);
	return p->failed ? -1 : 0;
}

/* The config must list one diff_id per layer of its manifest. */
static int
handle_config(struct pull_blob *b)
{
	struct pull *p = b->p;
	struct image_config c;
	struct image_manifest m;
	char err[256];
	if (image_config_parse(b->doc, b->doc_len, &c, err, sizeof(err)) < 0) {
		pull_fail(p, ERR_INVALID_ARGUMENT, "config %s: %s", b->digest, err);
		return -1;
	}
	int rc = 0;
	if (manifest_parse(b->parent->doc, b->parent->doc_len, &m, err, sizeof(err)) == 0) {
		rc = image_config_check_layers(&c, &m, err, sizeof(err));
		image_manifest_clear(&m);
	}
	if (rc == 0)
		plan_chain(b, &c);
	image_config_free(&c);
	if (rc < 0)
		pull_fail(p, ERR_INVALID_ARGUMENT, "config %s: %s", b->digest, err);
	else
		unpack_advance(p);
	return rc;
}

static enum media_kind
doc_kind(const struct pull_blob *b)
{
	enum media_kind k = b->media_type ? media_kind_of(b->media_type) : MEDIA_UNKNOWN;
	return k == MEDIA_UNKNOWN ? media_kind_sniff(b->doc, b->doc_len) : k;
}

/* The document's bytes are verified and stored: act on what it says. */
static void
doc_ready(struct pull_blob *b)
{
	struct pull *p = b->p;
	enum media_kind kind = doc_kind(b);
	int rc;
	/* The image's target needs a media type even when nothing said one (a
	 * root read from the store, a registry without Content-Type). */
	if (b->media_type == NULL && kind != MEDIA_UNKNOWN)
		b->media_type = xstrdup(media_kind_name(kind));
	if (b->role == ROLE_CONFIG) {
		rc = handle_config(b);
	} else if (media_is_index(kind)) {
		b->role = ROLE_INDEX;
		rc = handle_index(b);
	} else if (media_is_manifest(kind)) {
		b->role = ROLE_MANIFEST;
		rc = handle_manifest(b);
	} else {
		pull_fail(p, ERR_INVALID_ARGUMENT, "%s: unsupported media type %s%s", b->digest,
		    b->media_type ? b->media_type : "(none)",
		    kind == MEDIA_DOCKER_SCHEMA1 ? ": " SCHEMA1_REFUSED : "");
		rc = -1;
	}
	if (rc < 0)
		return;
	if (b->state != BLOB_EXISTS)
		b->state = BLOB_DONE;
	b->offset = b->size;
	pull_report(p, true);
	step_end(p);
}

/* Writes a verified document into the content store (if not there yet). */
static int
store_doc(struct pull_blob *b)
{
	struct pull *p = b->p;
	if (blob_stat(p->env.bs, b->digest, NULL) == 0)
		return 0;
	char *err = NULL, out[DIGEST_LEN + 1];
	char *ref = xasprintf("doc-%s", b->digest);
	struct ingest *ing = ingest_open(p->env.bs, ref, b->digest, b->size, &err);
	free(ref);
	if (ing == NULL || ingest_restart(ing) < 0 || ingest_write(ing, b->doc, b->doc_len) < 0 ||
	    ingest_commit(ing, b->digest, b->size, out, &err) < 0) {
		if (ing != NULL && err == NULL)
			ingest_discard(ing);
		pull_fail(p, ERR_INTERNAL, "storing %s: %s", b->digest, err ? err : "write failed");
		free(err);
		return -1;
	}
	return 0;
}

static void
strip_params(char *mt)
{
	if (mt != NULL)
		mt[strcspn(mt, "; ")] = '\0';
}

/* Checks the bytes against what was asked for: the descriptor's digest and
 * size, the reference's digest, and the registry's Docker-Content-Digest.
 * resp: they come from the registry (NULL: from the store). */
static int
verify_doc(struct pull_blob *b, const struct registry_response *resp)
{
	struct pull *p = b->p;
	char actual[DIGEST_LEN + 1];
	digest_buffer(b->doc ? b->doc : "", b->doc_len, actual);
	const char *expected = b->digest ? b->digest : p->ref.digest;
	/* What the registry sent is not what was asked for. */
	bool lied = resp != NULL;
	if (expected != NULL && strcmp(expected, actual) != 0) {
		p->distrusted |= lied;
		pull_fail(p, ERR_INVALID_ARGUMENT, "%s: digest mismatch: the registry sent %s",
		    expected, actual);
		return -1;
	}
	if (expected == NULL && resp && resp->docker_digest && digest_valid(resp->docker_digest) &&
	    strcmp(resp->docker_digest, actual) != 0) {
		p->distrusted |= lied;
		pull_fail(p, ERR_INVALID_ARGUMENT, "%s: content is %s but the registry says %s",
		    p->name, actual, resp->docker_digest);
		return -1;
	}
	if (b->size >= 0 && (int64_t)b->doc_len != b->size) {
		p->distrusted |= lied;
		pull_fail(p, ERR_INVALID_ARGUMENT, "%s: %zu bytes, expected %lld", actual,
		    b->doc_len, (long long)b->size);
		return -1;
	}
	if (b->digest == NULL)
		b->digest = xstrdup(actual);
	b->size = (int64_t)b->doc_len;
	if (b->media_type == NULL && resp && resp->content_type) {
		b->media_type = xstrdup(resp->content_type);
		strip_params(b->media_type);
	}
	return 0;
}

static int
doc_sink(const void *data, size_t len, void *arg)
{
	struct pull_blob *b = arg;
	size_t limit = b->role == ROLE_CONFIG ? CONFIG_MAX_BYTES : MANIFEST_MAX_BYTES;
	if (b->size >= 0 && (int64_t)limit > b->size)
		limit = (size_t)b->size;
	if (b->doc_len + len > limit)
		return -1;
	b->doc = xrealloc(b->doc, b->doc_len + len + 1);
	memcpy(b->doc + b->doc_len, data, len);
	b->doc_len += len;
	b->doc[b->doc_len] = '\0';
	b->offset = (int64_t)b->doc_len;
	return 0;
}

static int
doc_restart(void *arg)
{
	struct pull_blob *b = arg;
	b->doc_len = 0;
	return 0;
}

static void
doc_fetched(const struct registry_response *resp, void *arg)
{
	struct pull_blob *b = arg;
	struct pull *p = b->p;
	b->rr = NULL;
	distrust_on(p, resp->failure);
	if (resp->failure == REG_SINK) {
		pull_fail(p, ERR_INVALID_ARGUMENT, "%s: larger than its descriptor or the %s limit",
		    b->digest ? b->digest : p->name, b->role == ROLE_CONFIG ? "config" : "manifest");
		return;
	}
	if (resp->failure == REG_NOT_FOUND && b->digest == NULL) {
		/* The registry's words tell a missing repository from a missing tag. */
		pull_fail(p, ERR_NOT_FOUND, "%s: not found%s%s", p->name, resp->error ? ": " : "",
		    resp->error ? resp->error : "");
		return;
	}
	if (resp->failure != REG_OK) {
		pull_fail(p, failure_code(resp->failure), "%s", resp->error ? resp->error : "failed");
		return;
	}
	if (verify_doc(b, resp) < 0 || store_doc(b) < 0)
		return;
	doc_ready(b);
}

/* Reads a document already in the content store: no need to ask again. */
static int
read_local_doc(struct pull_blob *b)
{
	/* A root named by digest has no size yet: the digest checks the bytes. */
	if (b->digest == NULL)
		return -1;
	b->doc = blob_read_small(b->p->env.bs, b->digest, CONFIG_MAX_BYTES, &b->doc_len);
	if (b->doc == NULL || (b->size >= 0 && (int64_t)b->doc_len != b->size)) {
		free(b->doc);
		b->doc = NULL;
		b->doc_len = 0;
		return -1;
	}
	b->state = BLOB_EXISTS;
	return 0;
}

static void
on_config_done(enum registry_failure f, const char *err, void *arg)
{
	struct pull_blob *b = arg;
	struct pull *p = b->p;
	b->waiter = NULL;
	if (f != REG_OK) {
		distrust_on(p, f);
		pull_fail(p, failure_code(f), "config %s: %s", b->digest, err ? err : "failed");
		return;
	}
	if (read_local_doc(b) < 0) {
		pull_fail(p, ERR_INTERNAL, "config %s: stored but not readable", b->digest);
		return;
	}
	b->state = BLOB_DONE;
	if (verify_doc(b, NULL) == 0)
		doc_ready(b);
}

/* A config is a blob like a layer: it comes through the shared downloads,
 * so two pulls of one image ask the registry for it once. */
static void
fetch_config(struct pull_blob *b)
{
	struct pull *p = b->p;
	if (b->size > CONFIG_MAX_BYTES) {
		pull_fail(p, ERR_INVALID_ARGUMENT, "config %s: %lld bytes, over the %d byte limit",
		    b->digest, (long long)b->size, CONFIG_MAX_BYTES);
		return;
	}
	b->state = BLOB_FETCHING;
	struct blob_source src = { p->ref.domain, p->ref.path, b->digest, b->size,
		p->has_creds ? &p->creds : NULL };
	b->waiter = downloads_want(p->env.dl, &src, on_blob_progress, on_config_done, b);
}

static void
fetch_doc(struct pull_blob *b)
{
	struct pull *p = b->p;
	if (read_local_doc(b) == 0) {
		if (verify_doc(b, NULL) == 0)
			doc_ready(b);
		return;
	}
	if (b->role == ROLE_CONFIG) {
		fetch_config(b);
		return;
	}
	b->state = BLOB_FETCHING;
	const char *reference = b->digest ? b->digest : p->ref.digest ? p->ref.digest : p->ref.tag;
	char *path = registry_manifest_path(p->ref.path, reference);
	struct registry_request_spec spec = {
		.domain = p->ref.domain, .repo = p->ref.path, .method = "GET", .path = path,
		.accept = MEDIA_ACCEPT_MANIFESTS,
		.creds = p->has_creds ? &p->creds : NULL,
		.sink = doc_sink, .restart = doc_restart, .done = doc_fetched, .arg = b,
	};
	b->rr = registry_request_start(p->env.reg, &spec);
	free(path);
}

/* ---- start --------------------------------------------------------------- */

/* The snapshotter to unpack into: named (it must be available) or the
 * daemon's default. */
static int
parse_snapshotter(struct pull *p, const struct pull_options *opt, char *err, size_t errlen)
{
	if (p->env.snaps == NULL || p->env.unpacker == NULL) {
		snprintf(err, errlen, "unpacking is not available");
		return -1;
	}
	const char *want = opt->snapshotter ? opt->snapshotter : snapshots_default(p->env.snaps);
	struct snapshot_error serr;
	if (snapshots_check(p->env.snaps, want, &serr) < 0) {
		snprintf(err, errlen, "%s", serr.message);
		return -1;
	}
	p->unpack = true;
	p->snapshotter = xstrdup(want);
	return 0;
}

static int
parse_options(struct pull *p, const struct pull_options *opt, enum errcode *code,
    char *err, size_t errlen)
{
	*code = ERR_INVALID_ARGUMENT;
	char why[200];
	if (image_ref_parse(opt->ref, &p->ref, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "invalid reference: %s", why);
		return -1;
	}
	if (opt->platform != NULL) {
		if (platform_parse(opt->platform, &p->want, err, errlen) < 0)
			return -1;
	} else {
		platform_host(&p->want);
	}
	if (opt->creds != NULL) {
		p->creds.username = xstrdup(opt->creds->username);
		p->creds.password = xstrdup(opt->creds->password);
		p->has_creds = true;
	}
	p->all_platforms = opt->all_platforms;
	if (opt->unpack && parse_snapshotter(p, opt, err, errlen) < 0)
		return -1;
	p->name = image_ref_string(&p->ref);
	p->repo_name = image_ref_name(&p->ref);
	p->ns = xstrdup(opt->ns);
	return 0;
}

struct operation *
pull_start(const struct image_env *env, const struct pull_options *opt, enum errcode *code,
    char *err, size_t errlen)
{
	struct pull *p = xcalloc(1, sizeof(*p));
	p->env = *env;
	p->free_ev = event_new(env->base, -1, 0, pull_free, p);
	if (parse_options(p, opt, code, err, errlen) < 0) {
		pull_free(-1, 0, p);
		return NULL;
	}
	p->op = operation_new(env->ops, "pull", p->ns, p->name);
	operation_set_cancel(p->op, on_cancel, p);
	log_info("pull %s: operation %s", p->name, operation_id(p->op));
	bool fresh;
	struct pull_blob *root = add_blob(p, ROLE_MANIFEST, NULL, 0, &fresh);
	if (p->ref.digest)
		root->digest = xstrdup(p->ref.digest);
	step_begin(p);
	pull_report(p, true);
	struct operation *op = p->op;
	fetch_doc(root);
	return op;
}
