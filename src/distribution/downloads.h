/* Blob downloads into the content store, shared: two pulls that need the same
 * blob wait on one download. A blob already in the store is not fetched. At
 * most `limit` downloads run at once; the rest queue. An interrupted download
 * keeps its bytes in the ingest and resumes with Range, from whichever
 * source asks next (a resume that does not verify is fetched once more
 * whole).
 *
 * A download fetches from the source of the waiter that started it. Its
 * failure counts only for the waiters that asked that same source: one that
 * asked another (registry, repository or credentials) has the blob fetched
 * from there instead. Bytes a source sent that were refused (not the digest,
 * more than the size) are never kept for a resume. */
#ifndef KEG_DISTRIBUTION_DOWNLOADS_H
#define KEG_DISTRIBUTION_DOWNLOADS_H

#include <stdbool.h>
#include <stdint.h>

#include "distribution/registry.h"

struct blob_store;
struct credentials;
struct downloads;
struct download_waiter;

struct downloads *downloads_new(struct event_base *base, struct registry *reg,
    struct blob_store *bs, int limit);
void downloads_free(struct downloads *dl);

struct blob_source {
	const char *domain;
	const char *repo;
	const char *digest;
	int64_t size;
	const struct credentials *creds;
};

/* offset: bytes held so far. */
typedef void (*download_progress_fn)(int64_t offset, void *arg);
/* failure REG_OK means the blob is now in the store. */
typedef void (*download_done_fn)(enum registry_failure failure, const char *err, void *arg);

/* Asks for a blob; done runs once, later (never from inside this call). */
struct download_waiter *downloads_want(struct downloads *dl, const struct blob_source *src,
    download_progress_fn progress, download_done_fn done, void *arg);
/* Stops waiting; the download itself stops when nobody waits any more, and
 * keeps its bytes for a resume. */
void downloads_unwant(struct download_waiter *w);
/* Stops waiting because the registry the waiter asked (its domain) proved
 * untrustworthy: it sent another blob that did not match its digest. What
 * the download got from that domain is not kept: when nobody else waits,
 * the partial bytes are dropped; when another waiter asked another domain,
 * the download starts over from there. A download from another domain, or
 * one the other waiters asked of the same domain, goes on as it is. */
void downloads_unwant_distrusted(struct download_waiter *w);

#endif
