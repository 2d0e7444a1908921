/* Capabilities: containerd's default set, names checked with libcap, and
 * Docker's add/drop rules ("ALL" in either). Inheritable and ambient stay
 * empty so an exec'd file never gains what the process did not have. */
#include <ctype.h>
#include <string.h>
#include <sys/capability.h>

#include "common/util.h"
#include "oci/internal.h"

static const char *const default_caps[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER",
	"CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP",
	"CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",
	"CAP_AUDIT_WRITE", NULL
};

/* libcap also takes numbers ("12") and is lenient about case; only
 * letters and '_' are names here, so a typo is never a capability. */
bool
oci_cap_canonical(const char *name, char *out, size_t size)
{
	char lower[64];
	if (strncasecmp(name, "CAP_", 4) == 0)
		name += 4;
	size_t n = strlen(name);
	if (n == 0 || n + 5 > sizeof(lower) || n + 5 > size)
		return false;
	memcpy(lower, "cap_", 4);
	for (size_t i = 0; i < n; i++) {
		if (!isalpha((unsigned char)name[i]) && name[i] != '_')
			return false;
		lower[4 + i] = (char)tolower((unsigned char)name[i]);
	}
	lower[4 + n] = '\0';
	cap_value_t v;
	if (cap_from_name(lower, &v) != 0)
		return false;
	for (size_t i = 0; i <= 4 + n; i++)
		out[i] = (char)toupper((unsigned char)lower[i]);
	return true;
}

static bool
is_all(const char *name)
{
	return strcasecmp(name, "ALL") == 0 || strcasecmp(name, "CAP_ALL") == 0;
}

int
oci_caps_check_list(const json_t *names, const char *key,
    struct oci_error *err)
{
	size_t i;
	json_t *v;
	char buf[64];
	if (!json_is_array(names))
		return oci_fail(err, ERR_INVALID_ARGUMENT,
		    "options.%s must be an array of capability names", key);
	json_array_foreach(names, i, v) {
		const char *s = json_string_value(v);
		if (!s)
			return oci_fail(err, ERR_INVALID_ARGUMENT,
			    "options.%s[%zu] must be a string", key, i);
		if (!is_all(s) && !oci_cap_canonical(s, buf, sizeof(buf)))
			return oci_fail(err, ERR_INVALID_ARGUMENT,
			    "options.%s: unknown capability \"%s\"", key, s);
	}
	return 0;
}

static bool
list_has(const json_t *list, const char *cap)
{
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v)
		if (strcmp(json_string_value(v), cap) == 0)
			return true;
	return false;
}

static bool
list_has_all(const json_t *names)
{
	size_t i;
	json_t *v;
	json_array_foreach(names, i, v)
		if (is_all(json_string_value(v)))
			return true;
	return false;
}

static void
list_add(json_t *list, const char *cap)
{
	if (!list_has(list, cap))
		json_array_append_new(list, json_string(cap));
}

/* Every capability libcap knows and kegd itself still holds in its
 * bounding set: the runtime cannot grant more than it has (kegd in a
 * container with fewer capabilities), and runc fails outright if asked. */
static void
add_all(json_t *set)
{
	char buf[64];
	for (cap_value_t v = 0; v < (cap_value_t)cap_max_bits(); v++) {
		if (cap_get_bound(v) != 1)
			continue;
		char *name = cap_to_name(v);
		if (name && oci_cap_canonical(name, buf, sizeof(buf)))
			list_add(set, buf);
		cap_free(name);
	}
}

/* Adds (or removes) each named capability; "ALL" is handled by the caller. */
static void
edit(json_t *set, const json_t *names, bool add)
{
	size_t i;
	json_t *v;
	char buf[64];
	json_array_foreach(names, i, v) {
		const char *s = json_string_value(v);
		if (is_all(s) || !oci_cap_canonical(s, buf, sizeof(buf)))
			continue;
		if (add) {
			list_add(set, buf);
			continue;
		}
		for (size_t j = json_array_size(set); j-- > 0;)
			if (strcmp(json_string_value(json_array_get(set, j)), buf) == 0)
				json_array_remove(set, j);
	}
}

static json_t *
compute_set(bool privileged, const json_t *cap_add, const json_t *cap_drop)
{
	json_t *set = json_array();
	bool add_all_caps = privileged || (cap_add && list_has_all(cap_add));
	if (cap_drop && list_has_all(cap_drop)) {
		/* Docker: dropping ALL starts from nothing; adds still count. */
		if (add_all_caps)
			add_all(set);
		else if (cap_add)
			edit(set, cap_add, true);
		return set;
	}
	if (add_all_caps) {
		add_all(set);
	} else {
		for (size_t i = 0; default_caps[i]; i++)
			list_add(set, default_caps[i]);
	}
	if (cap_add)
		edit(set, cap_add, true);
	if (cap_drop)
		edit(set, cap_drop, false);
	return set;
}

int
oci_caps_apply(json_t *spec, bool privileged, const json_t *cap_add,
    const json_t *cap_drop, struct oci_error *err)
{
	json_t *set = compute_set(privileged, cap_add, cap_drop);
	/* Separate copies: a later edit of one set must not change another. */
	json_t *caps = json_pack("{s:o, s:o, s:o, s:[], s:[]}",
	    "bounding", json_deep_copy(set), "effective", json_deep_copy(set),
	    "permitted", json_deep_copy(set), "inheritable", "ambient");
	json_decref(set);
	if (!caps)
		return oci_fail(err, ERR_INTERNAL, "cannot build capabilities");
	json_object_set_new(oci_obj(spec, "process"), "capabilities", caps);
	return 0;
}
