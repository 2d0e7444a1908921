/* The progress document of a pull, as NDJSON watchers and
 * GET /v1/operations/{id} show it:
 * {"ref", "done_bytes", "total_bytes", "blobs": [{"digest", "media_type",
 *  "kind", "size", "offset", "state", "unpack"?}]}
 * where "unpack" (waiting, unpacking, extracted, unpacked) is on the layers
 * being unpacked only. */
#include "common/timefmt.h"
#include "images/pull_state.h"
#include "ops/operation.h"

#define REPORT_INTERVAL_NS (100 * 1000000LL)

static const char *const role_names[] = { "index", "manifest", "config", "layer" };
static const char *const state_names[] = { "waiting", "downloading", "done", "exists" };
static const char *const unpack_names[] = {
	NULL, "waiting", "unpacking", "extracted", "unpacked"
};

static json_t *
blob_json(const struct pull_blob *b)
{
	json_t *j = json_pack("{s:s?,s:s?,s:s,s:I,s:I,s:s}", "digest", b->digest,
	    "media_type", b->media_type, "kind", role_names[b->role],
	    "size", (json_int_t)b->size, "offset", (json_int_t)b->offset,
	    "state", state_names[b->state]);
	/* The download's state stays as it was; the unpack has its own. */
	if (b->unpack != LAYER_UNPACK_NONE)
		json_object_set_new(j, "unpack", json_string(unpack_names[b->unpack]));
	return j;
}

void
pull_report(struct pull *p, bool force)
{
	int64_t now = time_now_ns();
	if (!force && now - p->last_report_ns < REPORT_INTERVAL_NS)
		return;
	p->last_report_ns = now;
	json_t *blobs = json_array();
	json_int_t done = 0, total = 0;
	for (size_t i = 0; i < p->n_blobs; i++) {
		const struct pull_blob *b = p->blobs[i];
		json_array_append_new(blobs, blob_json(b));
		if (b->size > 0) {
			total += b->size;
			done += b->offset;
		}
	}
	operation_progress(p->op, json_pack("{s:s,s:I,s:I,s:o}", "ref", p->name,
	    "done_bytes", done, "total_bytes", total, "blobs", blobs));
}
