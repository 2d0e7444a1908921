#include "distribution/downloads.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "common/log.h"
#include "common/util.h"
#include "content/blobs.h"
#include "content/ingest.h"
#include "distribution/credentials.h"

struct download;

/* Where a blob is asked from: a registry, a repository there, credentials. */
struct source {
	char *domain, *repo;
	struct credentials creds;
	bool has_creds;
};

struct download_waiter {
	TAILQ_ENTRY(download_waiter) link;
	struct download *d;
	struct source src;		/* what this waiter asked */
	download_progress_fn progress;
	download_done_fn done;
	void *arg;
};

TAILQ_HEAD(waiter_list, download_waiter);

struct download {
	TAILQ_ENTRY(download) link;
	struct downloads *dl;
	struct source src;		/* what the bytes come from */
	char *digest;
	int64_t size;
	struct waiter_list waiters;
	struct ingest *ing;
	struct registry_request *rr;
	bool running;
	bool resumed;			/* began from bytes an earlier try left */
	bool refetched;			/* and was fetched whole again after that */
	bool finished;			/* result set, delivery pending */
	enum registry_failure failure;
	char *error;
	struct event *finish_ev;	/* delivers the result on a later turn */
};

TAILQ_HEAD(download_list, download);

struct downloads {
	struct event_base *base;
	struct registry *reg;
	struct blob_store *bs;
	int limit;
	int running;
	struct download_list all;	/* running and queued */
};

/* ---- sources ------------------------------------------------------------- */

static void
source_init(struct source *s, const char *domain, const char *repo,
    const struct credentials *creds)
{
	s->domain = xstrdup(domain);
	s->repo = xstrdup(repo);
	s->has_creds = creds != NULL;
	s->creds.username = creds ? xstrdup(creds->username) : NULL;
	s->creds.password = creds ? xstrdup(creds->password) : NULL;
}

static void
source_clear(struct source *s)
{
	credentials_free(&s->creds);
	free(s->domain);
	free(s->repo);
	memset(s, 0, sizeof(*s));
}

static void
source_replace(struct source *dst, const struct source *src)
{
	struct source old = *dst;
	source_init(dst, src->domain, src->repo, src->has_creds ? &src->creds : NULL);
	source_clear(&old);
}

static bool
source_same(const struct source *a, const struct source *b)
{
	if (strcmp(a->domain, b->domain) != 0 || strcmp(a->repo, b->repo) != 0 ||
	    a->has_creds != b->has_creds)
		return false;
	return !a->has_creds || (strcmp(a->creds.username, b->creds.username) == 0 &&
	    strcmp(a->creds.password, b->creds.password) == 0);
}

/* ---- lifetime ------------------------------------------------------------ */

struct downloads *
downloads_new(struct event_base *base, struct registry *reg, struct blob_store *bs, int limit)
{
	struct downloads *dl = xcalloc(1, sizeof(*dl));
	dl->base = base;
	dl->reg = reg;
	dl->bs = bs;
	dl->limit = limit > 0 ? limit : 1;
	TAILQ_INIT(&dl->all);
	return dl;
}

static void start_queued(struct downloads *dl);
static void start_download(struct download *d);
static void deliver(evutil_socket_t fd, short what, void *arg);

static void
waiter_free(struct download_waiter *w)
{
	source_clear(&w->src);
	free(w);
}

static struct download *
download_alloc(struct downloads *dl, const struct source *src, const char *digest,
    int64_t size)
{
	struct download *d = xcalloc(1, sizeof(*d));
	d->dl = dl;
	source_init(&d->src, src->domain, src->repo, src->has_creds ? &src->creds : NULL);
	d->digest = xstrdup(digest);
	d->size = size;
	TAILQ_INIT(&d->waiters);
	d->finish_ev = event_new(dl->base, -1, 0, deliver, d);
	TAILQ_INSERT_TAIL(&dl->all, d, link);
	return d;
}

/* drop: the bytes so far are not kept for a resume (their source lied). */
static void
close_ingest(struct download *d, bool drop)
{
	if (d->ing == NULL)
		return;
	if (drop)
		ingest_discard(d->ing);
	else
		ingest_close(d->ing);	/* keep the bytes: the next try resumes */
	d->ing = NULL;
}

static void
download_free(struct download *d)
{
	TAILQ_REMOVE(&d->dl->all, d, link);
	if (d->rr)
		registry_request_cancel(d->rr);
	close_ingest(d, false);
	if (d->running)
		d->dl->running--;
	event_free(d->finish_ev);
	source_clear(&d->src);
	free(d->digest);
	free(d->error);
	free(d);
}

void
downloads_free(struct downloads *dl)
{
	if (dl == NULL)
		return;
	while (!TAILQ_EMPTY(&dl->all)) {
		struct download *d = TAILQ_FIRST(&dl->all);
		while (!TAILQ_EMPTY(&d->waiters)) {
			struct download_waiter *w = TAILQ_FIRST(&d->waiters);
			TAILQ_REMOVE(&d->waiters, w, link);
			waiter_free(w);
		}
		download_free(d);
	}
	free(dl);
}

/* Tells every waiter, then forgets the download. */
static void
deliver(evutil_socket_t fd, short what, void *arg)
{
	struct download *d = arg;
	struct downloads *dl = d->dl;
	while (!TAILQ_EMPTY(&d->waiters)) {
		struct download_waiter *w = TAILQ_FIRST(&d->waiters);
		TAILQ_REMOVE(&d->waiters, w, link);
		w->done(d->failure, d->error, w->arg);
		waiter_free(w);
	}
	download_free(d);
	start_queued(dl);
}

static void
finish(struct download *d, enum registry_failure failure, const char *err)
{
	d->finished = true;
	d->failure = failure;
	d->error = err ? xstrdup(err) : NULL;
	d->rr = NULL;
	if (d->running) {
		d->running = false;
		d->dl->running--;
	}
	event_active(d->finish_ev, EV_TIMEOUT, 0);
}

/* ---- sources failing ----------------------------------------------------- */

static void
tell_progress(struct download *d)
{
	int64_t offset = d->ing ? ingest_offset(d->ing) : 0;
	struct download_waiter *w;
	TAILQ_FOREACH(w, &d->waiters, link)
		if (w->progress)
			w->progress(offset, w->arg);
}

/* Fetches the blob from src from now on. drop: the bytes so far came from
 * a source that proved untrustworthy, and go; otherwise the new source is
 * asked only for the rest (a resume, checked as any resume is). */
static void
switch_source(struct download *d, const struct source *src, bool drop)
{
	log_info("download %s: fetching it from %s/%s instead of %s/%s%s", d->digest,
	    src->domain, src->repo, d->src.domain, d->src.repo,
	    drop ? ", from the start" : "");
	if (d->rr)
		registry_request_cancel(d->rr);
	d->rr = NULL;
	close_ingest(d, drop);
	source_replace(&d->src, src);
	d->refetched = false;
	if (d->running) {
		d->running = false;
		d->dl->running--;
		start_download(d);
	}
	if (!d->finished)
		tell_progress(d);
}

/* A failure is the failure of the source the download used: the waiters
 * that asked that source get it; one that asked another (registry,
 * repository or credentials) has the blob fetched from there before any
 * failure counts for it. True when the download goes on. */
static bool
retry_elsewhere(struct download *d, enum registry_failure failure, const char *err)
{
	struct download_waiter *w, *next, *other = NULL;
	TAILQ_FOREACH(w, &d->waiters, link) {
		if (!source_same(&w->src, &d->src)) {
			other = w;
			break;
		}
	}
	if (other == NULL)
		return false;
	struct download *failed = NULL;
	for (w = TAILQ_FIRST(&d->waiters); w != NULL; w = next) {
		next = TAILQ_NEXT(w, link);
		if (!source_same(&w->src, &d->src))
			continue;
		if (failed == NULL)
			failed = download_alloc(d->dl, &d->src, d->digest, d->size);
		TAILQ_REMOVE(&d->waiters, w, link);
		TAILQ_INSERT_TAIL(&failed->waiters, w, link);
		w->d = failed;
	}
	if (failed != NULL)
		finish(failed, failure, err);
	log_info("download %s from %s/%s failed: %s", d->digest, d->src.domain, d->src.repo,
	    err ? err : "?");
	switch_source(d, &other->src, failure == REG_INVALID);
	return true;
}

/* The source failed the download. Bytes it sent that were refused (too
 * many, or not the digest) are not kept for a resume. */
static void
fail(struct download *d, enum registry_failure failure, const char *err)
{
	if (failure == REG_INVALID)
		close_ingest(d, true);
	if (!retry_elsewhere(d, failure, err))
		finish(d, failure, err);
}

/* ---- fetching ------------------------------------------------------------ */

static int
sink(const void *data, size_t len, void *arg)
{
	struct download *d = arg;
	if (d->size >= 0 && ingest_offset(d->ing) + (int64_t)len > d->size) {
		/* More than the descriptor says: refuse rather than fill the disk. */
		return -1;
	}
	if (ingest_write(d->ing, data, len) < 0)
		return -1;
	struct download_waiter *w;
	TAILQ_FOREACH(w, &d->waiters, link)
		if (w->progress)
			w->progress(ingest_offset(d->ing), w->arg);
	return 0;
}

static int64_t
resume_offset(void *arg)
{
	struct download *d = arg;
	return ingest_offset(d->ing);
}

static int
restart(void *arg)
{
	struct download *d = arg;
	return ingest_restart(d->ing);
}

/* Bytes kept from an earlier try may be what is wrong (another source sent
 * them, or they were damaged since): a resumed download that fails its
 * digest is fetched once more from the start before the failure counts. */
static bool
refetch_whole(struct download *d)
{
	if (!d->resumed || d->refetched)
		return false;
	log_info("download %s: resumed bytes did not verify; fetching it whole", d->digest);
	d->refetched = true;
	d->running = false;
	d->dl->running--;
	start_download(d);
	return true;
}

/* Verifies the bytes and publishes the blob. */
static void
commit_download(struct download *d)
{
	char digest[DIGEST_LEN + 1];
	char *err = NULL;
	struct ingest *ing = d->ing;
	d->ing = NULL;
	if (ingest_commit(ing, d->digest, d->size, digest, &err) < 0) {
		if (!refetch_whole(d))
			fail(d, REG_INVALID, err);
		free(err);
		return;
	}
	finish(d, REG_OK, NULL);
}

static void
request_done(const struct registry_response *resp, void *arg)
{
	struct download *d = arg;
	d->rr = NULL;
	if (resp->failure != REG_OK) {
		const char *msg = resp->failure == REG_SINK ?
		    "the registry sent more bytes than the blob's size, or the disk is full" :
		    resp->error;
		fail(d, resp->failure == REG_SINK ? REG_INVALID : resp->failure, msg);
		return;
	}
	commit_download(d);
}

static void
start_download(struct download *d)
{
	char *err = NULL;
	char *ref = xasprintf("download-%s", d->digest);
	d->ing = ingest_open(d->dl->bs, ref, d->digest, d->size, &err);
	free(ref);
	if (d->ing == NULL) {
		finish(d, REG_UNAVAILABLE, err);
		free(err);
		return;
	}
	d->resumed = ingest_offset(d->ing) > 0;
	d->running = true;
	d->dl->running++;
	/* Every byte is here already (the last try ended before its commit):
	 * a Range from the end is no request a registry answers well. */
	if (d->size >= 0 && ingest_offset(d->ing) == d->size) {
		commit_download(d);
		return;
	}
	char *path = registry_blob_path(d->src.repo, d->digest);
	struct registry_request_spec spec = {
		.domain = d->src.domain, .repo = d->src.repo, .method = "GET", .path = path,
		.creds = d->src.has_creds ? &d->src.creds : NULL,
		.sink = sink, .resume_offset = resume_offset, .restart = restart,
		.done = request_done, .arg = d,
	};
	d->rr = registry_request_start(d->dl->reg, &spec);
	free(path);
}

static void
start_queued(struct downloads *dl)
{
	struct download *d;
	TAILQ_FOREACH(d, &dl->all, link) {
		if (dl->running >= dl->limit)
			return;
		if (!d->running && !d->finished)
			start_download(d);
	}
}

/* ---- waiters ------------------------------------------------------------- */

static struct download *
find(struct downloads *dl, const char *digest)
{
	struct download *d;
	TAILQ_FOREACH(d, &dl->all, link)
		if (strcmp(d->digest, digest) == 0 && !d->finished)
			return d;
	return NULL;
}

struct download_waiter *
downloads_want(struct downloads *dl, const struct blob_source *src,
    download_progress_fn progress, download_done_fn done, void *arg)
{
	struct download_waiter *w = xcalloc(1, sizeof(*w));
	source_init(&w->src, src->domain, src->repo, src->creds);
	w->progress = progress;
	w->done = done;
	w->arg = arg;
	struct download *d = find(dl, src->digest);
	bool fresh = d == NULL;
	if (fresh)
		d = download_alloc(dl, &w->src, src->digest, src->size);
	w->d = d;
	TAILQ_INSERT_TAIL(&d->waiters, w, link);
	int64_t have;
	if (fresh && blob_stat(dl->bs, src->digest, &have) == 0 && have == src->size)
		finish(d, REG_OK, NULL);	/* already here: nothing to fetch */
	else if (fresh)
		start_queued(dl);
	return w;
}

static void
unwant(struct download_waiter *w, bool distrust)
{
	struct download *d = w->d;
	struct downloads *dl = d->dl;
	TAILQ_REMOVE(&d->waiters, w, link);
	/* What the download got from the domain the waiter distrusts. */
	bool tainted = distrust && !d->finished && strcmp(d->src.domain, w->src.domain) == 0;
	if (d->finished) {
		/* the result is on its way to the others */
	} else if (TAILQ_EMPTY(&d->waiters)) {
		close_ingest(d, tainted);
		download_free(d);
		start_queued(dl);
	} else if (tainted) {
		struct download_waiter *o;
		TAILQ_FOREACH(o, &d->waiters, link)
			if (strcmp(o->src.domain, w->src.domain) != 0)
				break;
		/* The others asked that domain too: it goes on for them, and
		 * the digest decides. */
		if (o != NULL)
			switch_source(d, &o->src, true);
	}
	waiter_free(w);
}

void
downloads_unwant(struct download_waiter *w)
{
	unwant(w, false);
}

void
downloads_unwant_distrusted(struct download_waiter *w)
{
	unwant(w, true);
}
