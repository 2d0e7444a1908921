/* The image config's "config" object applied as containerd's
 * WithImageConfig does: args = Entrypoint + Cmd, Env over the default PATH,
 * WorkingDir; User is handed back for resolution after the options. */
#include <stdlib.h>

#include "common/util.h"
#include "oci/internal.h"

/* Entrypoint and Cmd may be null or missing; anything else must be an
 * array of strings (a malformed image is refused, not half-applied). */
static int
append_strings(json_t *args, const json_t *config, const char *key,
    struct oci_error *err)
{
	size_t i;
	json_t *v, *list = json_object_get(config, key);
	if (!list || json_is_null(list))
		return 0;
	if (!json_is_array(list))
		return oci_fail(err, ERR_INVALID_ARGUMENT,
		    "image config %s is not an array", key);
	json_array_foreach(list, i, v) {
		if (!json_is_string(v))
			return oci_fail(err, ERR_INVALID_ARGUMENT,
			    "image config %s[%zu] is not a string", key, i);
		json_array_append(args, v);
	}
	return 0;
}

static int
apply_cwd(json_t *process, const json_t *config, struct oci_error *err)
{
	json_t *wd = json_object_get(config, "WorkingDir");
	if (!wd || json_is_null(wd))
		return 0;
	const char *s = json_string_value(wd);
	if (!s)
		return oci_fail(err, ERR_INVALID_ARGUMENT,
		    "image config WorkingDir is not a string");
	if (*s == '\0')
		return 0;
	/* Docker takes a relative WorkingDir as relative to "/". */
	char *abs = s[0] == '/' ? xstrdup(s) : xasprintf("/%s", s);
	char *clean = oci_path_clean(abs);
	free(abs);
	if (!clean)
		return oci_fail(err, ERR_INVALID_ARGUMENT,
		    "image config WorkingDir \"%s\" is not a safe path", s);
	json_object_set_new(process, "cwd", json_string(clean));
	free(clean);
	return 0;
}

int
oci_image_config_apply(json_t *spec, const json_t *config, const char **user,
    struct oci_error *err)
{
	*user = NULL;
	if (!config || json_is_null(config))
		return 0;
	if (!json_is_object(config))
		return oci_fail(err, ERR_INVALID_ARGUMENT,
		    "image config is not an object");
	json_t *process = oci_obj(spec, "process");
	json_t *args = oci_arr(process, "args");
	json_array_clear(args);
	if (append_strings(args, config, "Entrypoint", err) != 0 ||
	    append_strings(args, config, "Cmd", err) != 0)
		return -1;
	json_t *env = json_object_get(config, "Env");
	if (env && !json_is_null(env) &&
	    oci_env_merge(oci_arr(process, "env"), env, "image config Env",
	    err) != 0)
		return -1;
	if (apply_cwd(process, config, err) != 0)
		return -1;
	json_t *u = json_object_get(config, "User");
	if (u && !json_is_null(u) && !json_is_string(u))
		return oci_fail(err, ERR_INVALID_ARGUMENT,
		    "image config User is not a string");
	*user = json_string_value(u);
	return 0;
}
