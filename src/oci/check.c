/* oci_spec_check: what task create runs on a container's spec before it
 * becomes a bundle's config.json. The spec may be an expert's full spec,
 * so this refuses what could reach outside the bundle: a root other than
 * the bundle's own rootfs dir and mount destinations with "..". */
#include <string.h>

#include "oci/internal.h"

#define BAD(...) oci_fail(err, ERR_INVALID_ARGUMENT, __VA_ARGS__)

static bool
id_ok(const json_t *v)
{
	return json_is_integer(v) && json_integer_value(v) >= 0 &&
	    (unsigned long long)json_integer_value(v) <= OCI_ID_MAX;
}

static bool
optional_string_array(const json_t *v)
{
	size_t i;
	json_t *s;
	if (!v)
		return true;
	if (!json_is_array(v))
		return false;
	json_array_foreach(v, i, s)
		if (!json_is_string(s))
			return false;
	return true;
}

static int
check_user(const json_t *user, struct oci_error *err)
{
	size_t i;
	json_t *g;
	if (!user)
		return 0;
	if (!json_is_object(user))
		return BAD("spec: process.user must be an object");
	json_t *uid = json_object_get(user, "uid");
	json_t *gid = json_object_get(user, "gid");
	if ((uid && !id_ok(uid)) || (gid && !id_ok(gid)))
		return BAD("spec: process.user uid/gid must be in 0..%llu",
		    OCI_ID_MAX);
	json_t *extra = json_object_get(user, "additionalGids");
	if (extra && !json_is_array(extra))
		return BAD("spec: process.user.additionalGids must be an array");
	json_array_foreach(extra, i, g)
		if (!id_ok(g))
			return BAD("spec: process.user.additionalGids[%zu] must "
			    "be in 0..%llu", i, OCI_ID_MAX);
	return 0;
}

static int
check_process(const json_t *process, struct oci_error *err)
{
	size_t i;
	json_t *a;
	if (!json_is_object(process))
		return BAD("spec: process must be an object");
	json_t *args = json_object_get(process, "args");
	if (!json_is_array(args) || json_array_size(args) == 0)
		return BAD("spec: process.args must be a non-empty array "
		    "(no command: give args or use an image with one)");
	json_array_foreach(args, i, a)
		if (!json_is_string(a) || (i == 0 && json_string_length(a) == 0))
			return BAD("spec: process.args[%zu] must be a%s string",
			    i, i == 0 ? " non-empty" : "");
	json_t *cwd = json_object_get(process, "cwd");
	if (!json_is_string(cwd) || !oci_path_safe(json_string_value(cwd)))
		return BAD("spec: process.cwd must be an absolute path without "
		    "\"..\"");
	if (!optional_string_array(json_object_get(process, "env")))
		return BAD("spec: process.env must be an array of strings");
	json_t *term = json_object_get(process, "terminal");
	if (term && !json_is_boolean(term))
		return BAD("spec: process.terminal must be a boolean");
	return check_user(json_object_get(process, "user"), err);
}

static int
check_mount(const json_t *m, size_t i, struct oci_error *err)
{
	if (!json_is_object(m))
		return BAD("spec: mounts[%zu] must be an object", i);
	const char *dest = json_string_value(json_object_get(m, "destination"));
	if (!dest || !oci_path_safe(dest))
		return BAD("spec: mounts[%zu].destination must be an absolute "
		    "path without \"..\"", i);
	json_t *type = json_object_get(m, "type");
	json_t *source = json_object_get(m, "source");
	if ((type && !json_is_string(type)) || (source && !json_is_string(source)))
		return BAD("spec: mounts[%zu] type and source must be strings", i);
	if (!optional_string_array(json_object_get(m, "options")))
		return BAD("spec: mounts[%zu].options must be an array of "
		    "strings", i);
	return 0;
}

static int
check_root(const json_t *root, struct oci_error *err)
{
	const char *path = json_string_value(json_object_get(root, "path"));
	if (!json_is_object(root) || !path || strcmp(path, "rootfs") != 0)
		return BAD("spec: root.path must be \"rootfs\" (the bundle's "
		    "rootfs directory)");
	json_t *ro = json_object_get(root, "readonly");
	if (ro && !json_is_boolean(ro))
		return BAD("spec: root.readonly must be a boolean");
	return 0;
}

static int
check_linux(const json_t *linux_, struct oci_error *err)
{
	if (!linux_)
		return 0;
	if (!json_is_object(linux_))
		return BAD("spec: linux must be an object");
	json_t *cg = json_object_get(linux_, "cgroupsPath");
	if (cg && (!json_is_string(cg) ||
	    !oci_path_no_dotdot(json_string_value(cg))))
		return BAD("spec: linux.cgroupsPath must be a string without "
		    "\"..\"");
	return 0;
}

int
oci_spec_check(const json_t *spec, struct oci_error *err)
{
	size_t i;
	json_t *m;
	if (!json_is_object(spec))
		return BAD("spec must be an object");
	json_t *version = json_object_get(spec, "ociVersion");
	if (!json_is_string(version) || json_string_length(version) == 0)
		return BAD("spec: ociVersion must be a non-empty string");
	if (check_root(json_object_get(spec, "root"), err) != 0 ||
	    check_process(json_object_get(spec, "process"), err) != 0 ||
	    check_linux(json_object_get(spec, "linux"), err) != 0)
		return -1;
	json_t *mounts = json_object_get(spec, "mounts");
	if (mounts && !json_is_array(mounts))
		return BAD("spec: mounts must be an array");
	json_array_foreach(mounts, i, m)
		if (check_mount(m, i, err) != 0)
			return -1;
	json_t *host = json_object_get(spec, "hostname");
	if (host && !json_is_string(host))
		return BAD("spec: hostname must be a string");
	return 0;
}
