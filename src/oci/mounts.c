/* options.mounts: extra mounts, each {destination, type?, source?,
 * options?}. Destinations are absolute and cleaned, never with "..", so
 * the runtime's own in-rootfs resolution is not the only guard. */
#include <stdlib.h>
#include <string.h>

#include "oci/internal.h"

static bool
is_string_array(const json_t *a)
{
	size_t i;
	json_t *v;
	if (!json_is_array(a))
		return false;
	json_array_foreach(a, i, v)
		if (!json_is_string(v))
			return false;
	return true;
}

static int
check_one(const json_t *m, size_t i, struct oci_error *err)
{
	const char *key;
	json_t *v;
	if (!json_is_object(m))
		return oci_fail(err, ERR_INVALID_ARGUMENT,
		    "options.mounts[%zu] must be an object", i);
	json_object_foreach((json_t *)m, key, v) {
		bool ok = strcmp(key, "options") == 0 ? is_string_array(v) :
		    json_is_string(v);
		if (strcmp(key, "destination") && strcmp(key, "type") &&
		    strcmp(key, "source") && strcmp(key, "options"))
			return oci_fail(err, ERR_INVALID_ARGUMENT,
			    "options.mounts[%zu]: unknown key \"%s\"", i, key);
		if (!ok)
			return oci_fail(err, ERR_INVALID_ARGUMENT,
			    "options.mounts[%zu].%s has the wrong type", i, key);
	}
	const char *dest = json_string_value(json_object_get(m, "destination"));
	if (!dest || !oci_path_safe(dest) || strcmp(dest, "/") == 0)
		return oci_fail(err, ERR_INVALID_ARGUMENT,
		    "options.mounts[%zu].destination must be an absolute path "
		    "without \"..\" and not \"/\"", i);
	const char *type = json_string_value(json_object_get(m, "type"));
	const char *source = json_string_value(json_object_get(m, "source"));
	if ((!type || strcmp(type, "bind") == 0) && (!source || !*source))
		return oci_fail(err, ERR_INVALID_ARGUMENT,
		    "options.mounts[%zu]: a bind mount needs a source", i);
	return 0;
}

int
oci_mounts_check(const json_t *mounts, struct oci_error *err)
{
	size_t i;
	json_t *m;
	if (!json_is_array(mounts))
		return oci_fail(err, ERR_INVALID_ARGUMENT,
		    "options.mounts must be an array");
	json_array_foreach(mounts, i, m)
		if (check_one(m, i, err) != 0)
			return -1;
	return 0;
}

static bool
has_option(const json_t *opts, const char *a, const char *b)
{
	size_t i;
	json_t *v;
	json_array_foreach(opts, i, v) {
		const char *s = json_string_value(v);
		if (strcmp(s, a) == 0 || strcmp(s, b) == 0)
			return true;
	}
	return false;
}

/* A mount given without a type is a bind mount; a bind mount without
 * "bind"/"rbind" in its options gets "rbind", as `ctr run --mount`. */
static json_t *
normalise(const json_t *m, char *dest)
{
	const char *type = json_string_value(json_object_get(m, "type"));
	const char *source = json_string_value(json_object_get(m, "source"));
	json_t *opts = json_object_get(m, "options");
	opts = opts ? json_deep_copy(opts) : json_array();
	if (!type)
		type = "bind";
	if (strcmp(type, "bind") == 0 && !has_option(opts, "bind", "rbind"))
		json_array_append_new(opts, json_string("rbind"));
	return json_pack("{s:s, s:s, s:s, s:o}", "destination", dest,
	    "type", type, "source", source ? source : type, "options", opts);
}

/* Replaces a default mount at the same destination (a user's /dev/shm
 * wins over ours) instead of stacking two mounts there. */
static void
put_mount(json_t *list, json_t *mount)
{
	const char *dest = json_string_value(json_object_get(mount,
	    "destination"));
	for (size_t i = 0; i < json_array_size(list); i++) {
		const char *d = json_string_value(json_object_get(
		    json_array_get(list, i), "destination"));
		if (d && strcmp(d, dest) == 0) {
			json_array_set_new(list, i, mount);
			return;
		}
	}
	json_array_append_new(list, mount);
}

int
oci_mounts_apply(json_t *spec, const json_t *mounts, struct oci_error *err)
{
	size_t i;
	json_t *m;
	if (oci_mounts_check(mounts, err) != 0)
		return -1;
	json_t *list = oci_arr(spec, "mounts");
	json_array_foreach(mounts, i, m) {
		char *dest = oci_path_clean(json_string_value(
		    json_object_get(m, "destination")));
		put_mount(list, normalise(m, dest));
		free(dest);
	}
	return 0;
}
