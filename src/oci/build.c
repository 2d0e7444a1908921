/* oci_spec_build: defaults, then the image config, then the options, then
 * what depends on the final picture (user, capabilities, seccomp), and the
 * same check task create runs, so a container never stores a spec that
 * task create would refuse. */
#include <stdio.h>

#include "common/names.h"
#include "oci/internal.h"

static int
apply_user(json_t *spec, const struct oci_spec_input *in,
    const char *image_user, struct oci_error *err)
{
	const json_t *o = in->options;
	const char *user = json_string_value(json_object_get(o, "user"));
	struct oci_user u;
	if (!user)
		user = image_user;
	if (oci_user_resolve(in->rootfs_fd, user,
	    json_object_get(o, "additional_gids"), &u, err) != 0)
		return -1;
	json_t *ju = json_pack("{s:I, s:I}", "uid", (json_int_t)u.uid,
	    "gid", (json_int_t)u.gid);
	if (u.ngids > 0) {
		json_t *gids = json_array();
		for (size_t i = 0; i < u.ngids; i++)
			json_array_append_new(gids, json_integer(u.gids[i]));
		json_object_set_new(ju, "additionalGids", gids);
	}
	oci_user_free(&u);
	json_object_set_new(oci_obj(spec, "process"), "user", ju);
	return 0;
}

/* Capabilities and then the seccomp profile that follows from them. */
static int
apply_security(json_t *spec, const json_t *options, struct oci_error *err)
{
	bool privileged = json_is_true(json_object_get(options, "privileged"));
	if (oci_caps_apply(spec, privileged, json_object_get(options, "cap_add"),
	    json_object_get(options, "cap_drop"), err) != 0)
		return -1;
	if (privileged)
		return 0;	/* Docker's --privileged: no seccomp filter */
	json_t *bounding = json_object_get(json_object_get(json_object_get(
	    spec, "process"), "capabilities"), "bounding");
	json_object_set_new(oci_obj(spec, "linux"), "seccomp",
	    oci_seccomp_default(bounding));
	return 0;
}

static json_t *
build_from_defaults(const struct oci_spec_input *in, struct oci_error *err)
{
	const char *image_user;
	json_t *spec = oci_defaults(in->ns, in->id);
	if (!spec) {
		oci_fail(err, ERR_INTERNAL, "cannot build the default spec");
		return NULL;
	}
	if (oci_image_config_apply(spec, in->image_config, &image_user,
	    err) != 0 ||
	    (in->options && oci_options_apply(spec, in->options, err) != 0) ||
	    apply_user(spec, in, image_user, err) != 0 ||
	    apply_security(spec, in->options, err) != 0) {
		json_decref(spec);
		return NULL;
	}
	return spec;
}

/* A full spec replaces everything we would generate; options on top of it
 * would be half-applied guesses, so the two are exclusive. */
static json_t *
build_from_base(const struct oci_spec_input *in, struct oci_error *err)
{
	if (json_is_object(in->options) && json_object_size(in->options) > 0) {
		oci_fail(err, ERR_INVALID_ARGUMENT,
		    "options cannot be combined with a full spec");
		return NULL;
	}
	return json_deep_copy(in->base_spec);
}

json_t *
oci_spec_build(const struct oci_spec_input *in, struct oci_error *err)
{
	/* ns and id become the default cgroup path and the hostname. */
	if (!identifier_valid(in->ns) || !identifier_valid(in->id)) {
		oci_fail(err, ERR_INVALID_ARGUMENT,
		    "invalid namespace or container id");
		return NULL;
	}
	if (oci_options_check(in->options, err) != 0)
		return NULL;
	json_t *spec = in->base_spec ? build_from_base(in, err) :
	    build_from_defaults(in, err);
	if (spec && oci_spec_check(spec, err) != 0) {
		json_decref(spec);
		return NULL;
	}
	return spec;
}
