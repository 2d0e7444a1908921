/* Helpers shared by the files of src/oci; not part of the public API.
 * Every builder edits a spec in place and returns 0, or -1 with err set. */
#ifndef KEG_OCI_INTERNAL_H
#define KEG_OCI_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "oci/spec.h"

/* The largest uid or gid accepted. The kernel takes up to 2^32-2, but ids
 * past 2^31 turn negative in every tool that keeps them in an int (and
 * (uint32_t)-1 means "no id"): such a user is refused, never run as
 * something else. */
#define OCI_ID_MAX 2147483647ULL
/* /etc/passwd and /etc/group of an image are read up to this size. */
#define OCI_ETC_FILE_MAX (1024 * 1024)

int oci_fail(struct oci_error *err, enum errcode code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Small JSON helpers: get-or-create a member object or array. */
json_t *oci_obj(json_t *parent, const char *key);
json_t *oci_arr(json_t *parent, const char *key);
json_t *oci_str_array(const char *const *items);

/* Paths. Absolute, with no ".." component: what a mount destination needs. */
bool oci_path_safe(const char *path);
/* No ".." component, absolute or not (cgroup paths may be relative). */
bool oci_path_no_dotdot(const char *path);
/* A cleaned copy of an absolute path ("//", "/./" and a trailing '/'
 * removed) or NULL when it is not safe; caller frees. */
char *oci_path_clean(const char *path);

/* defaults.c: containerd's default spec for ns/id. */
json_t *oci_defaults(const char *ns, const char *id);

/* caps.c */
/* "net_admin", "NET_ADMIN" or "CAP_NET_ADMIN" -> "CAP_NET_ADMIN" in out;
 * false when libcap does not know the name. */
bool oci_cap_canonical(const char *name, char *out, size_t size);
int oci_caps_check_list(const json_t *names, const char *key,
    struct oci_error *err);
/* Sets bounding/effective/permitted from the defaults (or all when
 * privileged) changed by cap_add/cap_drop; inheritable and ambient empty. */
int oci_caps_apply(json_t *spec, bool privileged, const json_t *cap_add,
    const json_t *cap_drop, struct oci_error *err);

/* seccomp.c: the default profile for the final bounding set. */
json_t *oci_seccomp_default(const json_t *bounding_caps);

/* user.c */
struct oci_user {
	uint32_t uid, gid;
	uint32_t *gids;		/* additional gids, primary first */
	size_t ngids;
};
int oci_user_resolve(int rootfs_fd, const char *user, const json_t *extra_gids,
    struct oci_user *out, struct oci_error *err);
void oci_user_free(struct oci_user *u);
/* Parses a decimal id: -1 when not a number at all, -2 when a number out
 * of [0, OCI_ID_MAX] (negative included), else 0 with *id set. */
int oci_parse_id(const char *s, uint32_t *id);

/* etcfile.c: reads /etc/<name> of the rootfs safely; 1 when absent. */
int oci_read_etc(int rootfs_fd, const char *name, char **data, size_t *len,
    struct oci_error *err);

/* env.c: merges "K=V" entries of add into the env array (same key
 * replaced in place; a bare "K" removes K). */
int oci_env_merge(json_t *env, const json_t *add, const char *what,
    struct oci_error *err);

/* image_config.c: args, env and cwd from the image; *user gets its User
 * (borrowed from image_config, may be NULL). */
int oci_image_config_apply(json_t *spec, const json_t *config,
    const char **user, struct oci_error *err);

/* options.c and resources.c */
int oci_options_apply(json_t *spec, const json_t *options,
    struct oci_error *err);
int oci_resources_check(const json_t *options, struct oci_error *err);
int oci_resources_apply(json_t *spec, const json_t *options,
    struct oci_error *err);

/* mounts.c */
int oci_mounts_check(const json_t *mounts, struct oci_error *err);
int oci_mounts_apply(json_t *spec, const json_t *mounts,
    struct oci_error *err);

#endif
