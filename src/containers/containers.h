/* Containers: metadata only, as containerd's container service. A container
 * names an image, a snapshot (made from the image's top chainID when the
 * container is created; a read-only view on request), a runtime and the OCI
 * runtime spec a task will run. Creating one builds the spec from the
 * image's config and its own /etc/passwd and /etc/group (read through the
 * snapshot mounted on a private temp dir), so a bad image is refused here
 * rather than when a task starts.
 *
 * Every change is one transaction with its event (/containers/create,
 * /containers/update, /containers/delete, containerd's payloads). The
 * snapshot is made before the row: it carries the transient label until
 * the row commits, in the same transaction, so a crash in between leaves a
 * snapshot the next start drops, never a half-made container. */
#ifndef KEG_CONTAINERS_CONTAINERS_H
#define KEG_CONTAINERS_CONTAINERS_H

#include <jansson.h>
#include <stdbool.h>

#include "common/errcode.h"

struct blob_store;
struct event_bus;
struct snapshots;
struct store;

#define CONTAINER_RUNTIME_RUNC "io.containerd.runc.v2"
#define CONTAINER_DEFAULT_BINARY "runc"

/* What the service works with; the pointers outlive any pending create. */
struct containers_env {
	struct store *st;
	struct blob_store *bs;
	struct snapshots *snaps;
	struct event_bus *bus;
	const char *state_dir;		/* rootfs mounts go in STATE/tmp */
	const char *runtime_binary;	/* default binary_name; NULL: runc */
};

struct container_error {
	enum errcode code;
	char message[512];
};

void container_error_set(struct container_error *err, enum errcode code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* POST /v1/containers, fields already type-checked as JSON by the caller. */
struct container_create {
	const char *ns;
	const char *id;
	const char *image;		/* a reference as typed */
	const char *snapshotter;	/* NULL: the default */
	const char *snapshot_key;	/* NULL: the id */
	bool readonly;			/* a view instead of an active snapshot */
	const json_t *runtime;		/* NULL: the default */
	const json_t *options;		/* OCI overrides, NULL ok */
	const json_t *spec;		/* a full base spec, NULL ok */
	const json_t *labels;		/* NULL ok */
	const json_t *extensions;	/* NULL ok */
};

/* Called once with the new container (the callee takes the reference) or
 * NULL and err. May run before container_create returns. */
typedef void (*container_done_fn)(json_t *container, const struct container_error *err,
    void *arg);

void container_create(const struct containers_env *env, const struct container_create *r,
    container_done_fn done, void *arg);

/* PATCH: any of image, spec, runtime, extensions, labels (merged, null
 * removes one). Returns the updated container or NULL with err. */
json_t *container_update(const struct containers_env *env, const char *ns, const char *id,
    const json_t *patch, struct container_error *err);

/* Refused (failed_precondition) while a task exists. Removes the row, then
 * the container's snapshot. 0 or -1 with err. */
int container_delete(const struct containers_env *env, const char *ns, const char *id,
    struct container_error *err);

/* {"name": "io.containerd.runc.v2", "options": {"binary_name": B}} from a
 * request's runtime (NULL: the default). NULL with err (invalid_argument)
 * for another runtime, unknown options or a bad binary name. */
json_t *container_runtime(const json_t *requested, const char *default_binary,
    struct container_error *err);

/* The labels a new container gets: the image config's labels outside the
 * reserved prefixes (containerd.io/, keg.io/), then the request's on top. */
json_t *container_initial_labels(const json_t *image_labels, const json_t *requested);

/* Runtime spec for a new container from the snapshot's mounts: mounted on
 * a private directory under STATE/tmp while the spec is built. */
struct oci_spec_input;
json_t *container_build_spec(const char *state_dir, const json_t *mounts,
    struct oci_spec_input *in, struct container_error *err);

#endif
