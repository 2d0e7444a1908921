/* OCI runtime spec generation: containerd's defaults, the image config
 * applied, the API's overrides on top, and the check task create runs on
 * whatever spec a container carries before it reaches the runtime. */
#ifndef KEG_OCI_SPEC_H
#define KEG_OCI_SPEC_H

#include <jansson.h>

#include "common/errcode.h"

struct oci_error {
	enum errcode code;
	char message[512];
};

struct oci_spec_input {
	const char *ns, *id;
	/* The image config's "config" object (Entrypoint, Cmd, Env,
	 * WorkingDir, User, ...); NULL when there is none. */
	const json_t *image_config;
	/* dirfd of the mounted rootfs, for /etc/passwd and /etc/group;
	 * -1 when there is none (numeric users only then). */
	int rootfs_fd;
	/* The API's overrides (ContainerOptions in api-spec/openapi.yaml); NULL ok. */
	const json_t *options;
	/* Experts: a full spec used instead of the defaults; NULL ok. */
	const json_t *base_spec;
};

/* Returns a new spec (caller owns the reference) or NULL with err set. */
json_t *oci_spec_build(const struct oci_spec_input *in, struct oci_error *err);

/* 0 when spec is safe to hand to the runtime, else -1 with err set
 * (ERR_INVALID_ARGUMENT). */
int oci_spec_check(const json_t *spec, struct oci_error *err);

/* Checks an options object's keys and types without a rootfs, so the API
 * can refuse a bad request before it prepares a snapshot. 0 or -1. */
int oci_options_check(const json_t *options, struct oci_error *err);

#endif
