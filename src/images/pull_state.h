/* The state one pull keeps while it runs, shared by pull.c (fetching),
 * pull_commit.c (recording) and pull_progress.c (reporting). Internal. */
#ifndef KEG_IMAGES_PULL_STATE_H
#define KEG_IMAGES_PULL_STATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/errcode.h"
#include "content/digest.h"
#include "distribution/credentials.h"
#include "images/platform.h"
#include "images/pull.h"
#include "images/reference.h"

enum blob_role { ROLE_INDEX, ROLE_MANIFEST, ROLE_CONFIG, ROLE_LAYER };
enum blob_state { BLOB_WAITING, BLOB_FETCHING, BLOB_DONE, BLOB_EXISTS };
/* A layer of the manifest being unpacked; the others stay LAYER_UNPACK_NONE.
 * In the order a layer goes through them (a blob at several places of the
 * manifest shows the least advanced). */
enum blob_unpack {
	LAYER_UNPACK_NONE, LAYER_UNPACK_WAITING, LAYER_UNPACK_RUNNING,
	LAYER_UNPACK_EXTRACTED,	/* its tree is written, the layer below not yet committed */
	LAYER_UNPACK_DONE
};

struct pull;

struct pull_blob {
	struct pull *p;
	struct pull_blob *parent;	/* the manifest of a config */
	enum blob_role role;
	enum blob_state state;
	enum blob_unpack unpack;
	char *digest;		/* NULL for the root until it is resolved */
	char *media_type;
	int64_t size;		/* -1 for the root until it is resolved */
	int64_t offset;
	int depth;		/* index nesting */
	json_t *labels;		/* gc references to children */
	char *doc;		/* index/manifest/config bytes while parsed */
	size_t doc_len;
	struct registry_request *rr;
	struct download_waiter *waiter;
};

/* One layer of the manifest being unpacked, in order. Each is asked of
 * the unpacker once its blob is here, whatever the layers below it do. */
struct unpack_layer {
	struct pull *p;
	char *digest;
	char *media_type;
	char *diff_id;		/* NULL until the config is read */
	char chain_id[DIGEST_LEN + 1];
	enum blob_unpack state;
	struct layer_waiter *waiter;
};

struct pull {
	struct image_env env;
	struct operation *op;
	char *ns;
	struct image_ref ref;
	char *name;		/* canonical reference: the image's name */
	char *repo_name;	/* domain/path, for the progress document */
	struct credentials creds;
	bool has_creds;
	struct platform want;
	bool all_platforms;
	bool unpack;
	char *snapshotter;	/* resolved: never NULL when unpack */
	char *unpack_digest;	/* the manifest whose layers are unpacked */
	struct unpack_layer *ul;
	size_t n_ul;
	bool ul_ready;		/* diff_ids known, a step held until all are unpacked */
	struct pull_blob *ul_config;
	struct pull_blob **blobs;
	size_t n_blobs;
	int pending;		/* steps still running */
	int restore_rounds;	/* times blobs deleted meanwhile were fetched again */
	bool failed;
	/* It failed because its registry sent bytes that are not what was
	 * asked for: what its unfinished downloads got from there goes. */
	bool distrusted;
	bool finished;		/* freed on the next loop turn */
	int64_t last_report_ns;
	struct event *free_ev;
};

/* pull_progress.c: the progress document; unforced reports are rate
 * limited, since layers report every chunk they receive. */
void pull_report(struct pull *p, bool force);

/* pull_commit.c: records content rows and the image; 0 or -1 (failed). */
int pull_commit(struct pull *p);

/* pull.c */
void pull_fail(struct pull *p, enum errcode code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
