/* Environment merging with containerd's rule: a later "K=V" replaces the
 * earlier K in place (order kept), a bare "K" removes K. */
#include <string.h>

#include "oci/internal.h"

static size_t
key_len(const char *entry)
{
	const char *eq = strchr(entry, '=');
	return eq ? (size_t)(eq - entry) : strlen(entry);
}

static void
remove_key(json_t *env, const char *key, size_t n)
{
	for (size_t i = json_array_size(env); i-- > 0;) {
		const char *e = json_string_value(json_array_get(env, i));
		if (e && key_len(e) == n && strncmp(e, key, n) == 0)
			json_array_remove(env, i);
	}
}

static void
set_entry(json_t *env, const char *entry, size_t n)
{
	for (size_t i = 0; i < json_array_size(env); i++) {
		const char *e = json_string_value(json_array_get(env, i));
		if (e && key_len(e) == n && strncmp(e, entry, n) == 0) {
			json_array_set_new(env, i, json_string(entry));
			return;
		}
	}
	json_array_append_new(env, json_string(entry));
}

int
oci_env_merge(json_t *env, const json_t *add, const char *what,
    struct oci_error *err)
{
	size_t i;
	json_t *v;
	if (!json_is_array(add))
		return oci_fail(err, ERR_INVALID_ARGUMENT,
		    "%s must be an array of \"KEY=value\" strings", what);
	json_array_foreach(add, i, v) {
		const char *e = json_string_value(v);
		if (!e || e[0] == '=' || e[0] == '\0')
			return oci_fail(err, ERR_INVALID_ARGUMENT,
			    "%s[%zu] must be a \"KEY=value\" string", what, i);
		size_t n = key_len(e);
		if (e[n] == '=')
			set_entry(env, e, n);
		else
			remove_key(env, e, n);
	}
	return 0;
}
