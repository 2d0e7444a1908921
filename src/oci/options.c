/* The API's overrides object: checked key by key (an unknown key is an
 * error naming it, so a typo never silently does nothing) and applied over
 * the defaults and the image config. Capabilities, the user and seccomp
 * are left to build.c, which needs them all together. */
#include <stdlib.h>
#include <string.h>

#include "oci/internal.h"

static bool
is_bool(const json_t *v)
{
	return json_is_boolean(v);
}

static bool
is_args(const json_t *v)
{
	size_t i;
	json_t *a;
	if (!json_is_array(v) || json_array_size(v) == 0)
		return false;
	json_array_foreach(v, i, a)
		if (!json_is_string(a))
			return false;
	return json_string_length(json_array_get(v, 0)) > 0;
}

static bool
is_env(const json_t *v)
{
	size_t i;
	json_t *e;
	if (!json_is_array(v))
		return false;
	json_array_foreach(v, i, e) {
		const char *s = json_string_value(e);
		if (!s || s[0] == '\0' || s[0] == '=')
			return false;
	}
	return true;
}

static bool
is_abs_path(const json_t *v)
{
	return json_is_string(v) && oci_path_safe(json_string_value(v));
}

static bool
is_user(const json_t *v)
{
	return json_is_string(v) && json_string_length(v) > 0;
}

static bool
is_gids(const json_t *v)
{
	size_t i;
	json_t *g;
	if (!json_is_array(v))
		return false;
	json_array_foreach(v, i, g) {
		if (json_is_integer(g) ? json_integer_value(g) < 0 ||
		    (unsigned long long)json_integer_value(g) > OCI_ID_MAX :
		    !json_is_string(g) || json_string_length(g) == 0)
			return false;
	}
	return true;
}

/* What sethostname takes and a shell prompt shows sanely. */
static bool
is_hostname(const json_t *v)
{
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	if (!s || n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] == '/' || s[i] == 0x7f)
			return false;
	return true;
}

static bool
is_annotations(const json_t *v)
{
	const char *k;
	json_t *a;
	if (!json_is_object(v))
		return false;
	json_object_foreach((json_t *)v, k, a)
		if (!json_is_string(a))
			return false;
	return true;
}

/* Keys checked by their own module are listed with a NULL checker. */
static const struct {
	const char *key;
	bool (*ok)(const json_t *);
	const char *want;
} keys[] = {
	{ "args", is_args, "a non-empty array of strings" },
	{ "env", is_env, "an array of \"KEY=value\" strings" },
	{ "cwd", is_abs_path, "an absolute path without \"..\"" },
	{ "user", is_user, "a non-empty string" },
	{ "additional_gids", is_gids, "an array of gids or group names" },
	{ "tty", is_bool, "a boolean" },
	{ "hostname", is_hostname, "a host name of 1..64 printable bytes" },
	{ "readonly_rootfs", is_bool, "a boolean" },
	{ "privileged", is_bool, "a boolean" },
	{ "host_network", is_bool, "a boolean" },
	{ "cgroups_path", is_abs_path, "an absolute path without \"..\"" },
	{ "annotations", is_annotations, "an object of strings" },
	{ "mounts", NULL, NULL }, { "cap_add", NULL, NULL },
	{ "cap_drop", NULL, NULL }, { "memory_limit", NULL, NULL },
	{ "cpu_shares", NULL, NULL }, { "cpu_quota", NULL, NULL },
	{ "cpu_period", NULL, NULL }, { "cpus", NULL, NULL },
	{ "pids_limit", NULL, NULL },
};

static int
check_key(const char *key, const json_t *v, struct oci_error *err)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcmp(keys[i].key, key) != 0)
			continue;
		if (keys[i].ok && !keys[i].ok(v))
			return oci_fail(err, ERR_INVALID_ARGUMENT,
			    "options.%s must be %s", key, keys[i].want);
		return 0;
	}
	return oci_fail(err, ERR_INVALID_ARGUMENT,
	    "options: unknown key \"%s\"", key);
}

int
oci_options_check(const json_t *options, struct oci_error *err)
{
	const char *key;
	json_t *v;
	if (!options || json_is_null(options))
		return 0;
	if (!json_is_object(options))
		return oci_fail(err, ERR_INVALID_ARGUMENT,
		    "options must be an object");
	json_object_foreach((json_t *)options, key, v)
		if (check_key(key, v, err) != 0)
			return -1;
	const json_t *m = json_object_get(options, "mounts");
	const json_t *add = json_object_get(options, "cap_add");
	const json_t *drop = json_object_get(options, "cap_drop");
	if ((m && oci_mounts_check(m, err) != 0) ||
	    (add && oci_caps_check_list(add, "cap_add", err) != 0) ||
	    (drop && oci_caps_check_list(drop, "cap_drop", err) != 0))
		return -1;
	return oci_resources_check(options, err);
}

static void
drop_network_namespace(json_t *spec)
{
	json_t *ns = oci_arr(oci_obj(spec, "linux"), "namespaces");
	for (size_t i = json_array_size(ns); i-- > 0;) {
		const char *t = json_string_value(json_object_get(
		    json_array_get(ns, i), "type"));
		if (t && strcmp(t, "network") == 0)
			json_array_remove(ns, i);
	}
}

/* Docker's --privileged: nothing masked or read-only, every device usable
 * and sysfs/cgroupfs writable. Capabilities and seccomp: see build.c. */
static void
apply_privileged(json_t *spec)
{
	json_t *linux_ = oci_obj(spec, "linux");
	json_object_del(linux_, "maskedPaths");
	json_object_del(linux_, "readonlyPaths");
	json_object_set_new(oci_obj(linux_, "resources"), "devices",
	    json_pack("[{s:b, s:s}]", "allow", 1, "access", "rwm"));
	size_t i;
	json_t *m;
	json_array_foreach(oci_arr(spec, "mounts"), i, m) {
		const char *type = json_string_value(json_object_get(m, "type"));
		json_t *opts = json_object_get(m, "options");
		if (!type || (strcmp(type, "sysfs") && strcmp(type, "cgroup")))
			continue;
		for (size_t j = json_array_size(opts); j-- > 0;)
			if (strcmp(json_string_value(json_array_get(opts, j)),
			    "ro") == 0)
				json_array_set_new(opts, j, json_string("rw"));
	}
}

static void
set_if(json_t *obj, const char *field, const json_t *options, const char *key)
{
	json_t *v = json_object_get(options, key);
	if (v)
		json_object_set(obj, field, v);
}

/* v was checked by is_abs_path, so cleaning cannot fail. */
static void
set_clean_path(json_t *obj, const char *field, const json_t *v)
{
	char *clean = oci_path_clean(json_string_value(v));
	json_object_set_new(obj, field, json_string(clean));
	free(clean);
}

int
oci_options_apply(json_t *spec, const json_t *options, struct oci_error *err)
{
	json_t *process = oci_obj(spec, "process");
	json_t *v;
	if ((v = json_object_get(options, "args")))
		json_object_set_new(process, "args", json_deep_copy(v));
	if ((v = json_object_get(options, "env")) &&
	    oci_env_merge(oci_arr(process, "env"), v, "options.env", err) != 0)
		return -1;
	if ((v = json_object_get(options, "cwd")))
		set_clean_path(process, "cwd", v);
	if ((v = json_object_get(options, "cgroups_path")))
		set_clean_path(oci_obj(spec, "linux"), "cgroupsPath", v);
	set_if(process, "terminal", options, "tty");
	set_if(spec, "hostname", options, "hostname");
	set_if(oci_obj(spec, "root"), "readonly", options, "readonly_rootfs");
	if ((v = json_object_get(options, "annotations")))
		json_object_set_new(spec, "annotations", json_deep_copy(v));
	if (json_is_true(json_object_get(options, "host_network")))
		drop_network_namespace(spec);
	if (json_is_true(json_object_get(options, "privileged")))
		apply_privileged(spec);
	if ((v = json_object_get(options, "mounts")) &&
	    oci_mounts_apply(spec, v, err) != 0)
		return -1;
	return oci_resources_apply(spec, options, err);
}
