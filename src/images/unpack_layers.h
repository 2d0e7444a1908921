/* Layers unpacked into committed snapshots named by chainID, as containerd
 * does on pull: chainID(L0) = diffID0, chainID(Ln) = sha256 of
 * "chainID(n-1) diffID(n)". Images that share layers share snapshots.
 *
 * The unpacker is daemon-wide: it keeps the layers being unpacked in a small
 * in-flight map keyed by namespace + snapshotter + chainID, so two pulls that
 * want one chainID wait on one unpack, and runs at most `limit` extractions
 * at once (the rest queue). One unpack: an active snapshot "extract-<random>
 * <chainID>" labelled transient (a crash drops it at the next start), the
 * layer blob extracted into its writable directory by the confined worker
 * (unpack/unpack.h) with the expected diffID, then committed under the
 * chainID; on any failure the active snapshot is removed and nothing of the
 * layer stays.
 *
 * Where a layer's directory does not depend on its parent's (overlayfs:
 * whiteouts are devices and xattrs in the layer's own tree) the layers of
 * a chain are extracted in parallel: the active snapshot has no parent, and
 * once the parent chainID is committed the tree is committed onto it
 * (snapshots_commit_onto), so commits still go in chain order. Where a
 * snapshot starts as a copy of its parent (native) a layer waits, queued,
 * until its parent is committed. */
#ifndef KEG_IMAGES_UNPACK_LAYERS_H
#define KEG_IMAGES_UNPACK_LAYERS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/errcode.h"
#include "content/digest.h"

struct blob_store;
struct event_base;
struct snapshots;
struct store;
struct unpacker;
struct layer_waiter;

struct unpacker *unpacker_new(struct event_base *base, struct snapshots *snaps,
    struct blob_store *bs, int limit);
/* Lets running work end (cancelled unpacks are reaped, their active
 * snapshots removed) while snapshots are still open; call before
 * snapshots_close. Waits at most a few seconds. */
void unpacker_drain(struct unpacker *u);
void unpacker_free(struct unpacker *u);

struct layer_spec {
	const char *ns;
	const char *snapshotter;	/* a name, never NULL */
	const char *chain_id;
	const char *parent;		/* the previous chainID, NULL for the base */
	const char *diff_id;		/* expected, from the image config */
	const char *blob_digest;	/* the layer blob in the content store */
	const char *media_type;
};

/* ok: the chainID is committed. Otherwise code and message say why. */
typedef void (*layer_done_fn)(bool ok, enum errcode code, const char *message, void *arg);
/* The layer's tree is extracted (parallel unpack only); it is committed
 * when its parent is. Must not unwant. */
typedef void (*layer_extracted_fn)(void *arg);

/* Asks for the chainID to be committed; done runs once, later (never from
 * inside this call), unless unwanted first. A chainID committed already
 * is done at once (on the next loop turn). The parent need not be committed
 * yet, nor wanted: the layer is committed once it is. extracted (may be
 * NULL) runs when the tree is written, from inside this call when it is
 * already. */
struct layer_waiter *unpacker_want(struct unpacker *u, const struct layer_spec *spec,
    layer_done_fn done, layer_extracted_fn extracted, void *arg);
/* Stops waiting; the unpack is cancelled (its active snapshot removed) when
 * nobody waits any more. */
void unpacker_unwant(struct layer_waiter *w);

/* chainID of a layer on top of parent (NULL: the base layer). */
void chain_id_next(const char *parent, const char *diff_id, char out[DIGEST_LEN + 1]);

/* The chainIDs of an image's host-platform manifest (the best present
 * match), from its config's diff_ids: a NULL-terminated array (caller frees
 * with strv_free-style free of each and the array) and the count; NULL when
 * the image has no readable manifest/config or no layers. */
char **image_chain_ids(struct store *st, struct blob_store *bs, const char *ns,
    const json_t *image, size_t *n);
void chain_ids_free(char **ids);

/* The config document (the whole image config JSON, parsed and checked) of
 * the same manifest image_chain_ids reads; NULL when it is not readable. */
json_t *image_host_config(struct store *st, struct blob_store *bs, const char *ns,
    const json_t *image);

/* Adds "unpacked": {snapshotter: top chainID} for every snapshotter that has
 * the top chainID committed in ns, and "size_unpacked" (the summed usage of
 * the chain's snapshots) when every one of them has its usage measured
 * (the unpacker measures it after each commit). */
void image_unpacked_info(struct store *st, struct blob_store *bs, struct snapshots *snaps,
    const char *ns, json_t *image);

#endif
