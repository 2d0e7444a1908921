/* The runtime a container names: containerd's runc shim name (the only one
 * keg runs) and the runc-compatible binary to call. The binary name goes on
 * the shim's command line later, so it is checked here. */
#include "containers/containers.h"

#include <limits.h>
#include <string.h>

static bool
binary_name_valid(const json_t *v, struct container_error *err)
{
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	if (s == NULL || len == 0 || len >= PATH_MAX || strlen(s) != len ||
	    strpbrk(s, "\n\r") != NULL) {
		container_error_set(err, ERR_INVALID_ARGUMENT,
		    "runtime.options.binary_name must be a non-empty string without NUL or newline");
		return false;
	}
	/* A name looked up in PATH, or an absolute path; nothing relative to
	 * wherever kegd happens to run. */
	if (strchr(s, '/') != NULL ? s[0] != '/' : strcmp(s, ".") == 0 || strcmp(s, "..") == 0) {
		container_error_set(err, ERR_INVALID_ARGUMENT,
		    "runtime.options.binary_name %.256s: a plain name (looked up in PATH) or an "
		    "absolute path", s);
		return false;
	}
	return true;
}

static const char *
runtime_name(const json_t *requested, struct container_error *err)
{
	json_t *name = json_object_get(requested, "name");
	if (name == NULL)
		return CONTAINER_RUNTIME_RUNC;
	if (!json_is_string(name) || strcmp(json_string_value(name), CONTAINER_RUNTIME_RUNC) != 0) {
		container_error_set(err, ERR_INVALID_ARGUMENT,
		    "runtime.name: only %s is supported", CONTAINER_RUNTIME_RUNC);
		return NULL;
	}
	return CONTAINER_RUNTIME_RUNC;
}

/* options: null/absent or {"binary_name": ...}; the chosen binary or NULL. */
static const json_t *
runtime_binary(const json_t *requested, struct container_error *err)
{
	json_t *options = json_object_get(requested, "options");
	if (options == NULL || json_is_null(options))
		return json_null();
	const char *key;
	json_t *v;
	if (!json_is_object(options)) {
		container_error_set(err, ERR_INVALID_ARGUMENT, "runtime.options must be an object");
		return NULL;
	}
	json_object_foreach(options, key, v) {
		if (strcmp(key, "binary_name") != 0) {
			container_error_set(err, ERR_INVALID_ARGUMENT,
			    "runtime.options: unknown option \"%.64s\" (binary_name is the one)", key);
			return NULL;
		}
	}
	v = json_object_get(options, "binary_name");
	return v == NULL ? json_null() : binary_name_valid(v, err) ? v : NULL;
}

static bool
only_known_keys(const json_t *requested, struct container_error *err)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)requested, key, v) {
		if (strcmp(key, "name") != 0 && strcmp(key, "options") != 0) {
			container_error_set(err, ERR_INVALID_ARGUMENT,
			    "runtime: unknown field \"%.64s\"", key);
			return false;
		}
	}
	return true;
}

json_t *
container_runtime(const json_t *requested, const char *default_binary,
    struct container_error *err)
{
	const char *name = CONTAINER_RUNTIME_RUNC;
	const json_t *binary = json_null();
	if (requested != NULL && !json_is_object(requested)) {
		container_error_set(err, ERR_INVALID_ARGUMENT,
		    "runtime must be an object {name, options}");
		return NULL;
	}
	if (requested != NULL && (!only_known_keys(requested, err) ||
	    (name = runtime_name(requested, err)) == NULL ||
	    (binary = runtime_binary(requested, err)) == NULL))
		return NULL;
	const char *bin = json_string_value(binary);
	if (bin == NULL)
		bin = default_binary ? default_binary : CONTAINER_DEFAULT_BINARY;
	return json_pack("{s:s,s:{s:s}}", "name", name, "options", "binary_name", bin);
}
