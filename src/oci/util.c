/* Error reporting, JSON and path helpers shared by the oci builders. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "oci/internal.h"

int
oci_fail(struct oci_error *err, enum errcode code, const char *fmt, ...)
{
	va_list ap;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -1;
}

/* Replaces a member of the wrong type: the defaults always have the right
 * one, and a caller asking for an object wants to write into it. */
static json_t *
member(json_t *parent, const char *key, bool array)
{
	json_t *v = json_object_get(parent, key);
	if (v && (array ? json_is_array(v) : json_is_object(v)))
		return v;
	v = array ? json_array() : json_object();
	json_object_set_new(parent, key, v);
	return v;
}

json_t *
oci_obj(json_t *parent, const char *key)
{
	return member(parent, key, false);
}

json_t *
oci_arr(json_t *parent, const char *key)
{
	return member(parent, key, true);
}

json_t *
oci_str_array(const char *const *items)
{
	json_t *a = json_array();
	for (size_t i = 0; items[i]; i++)
		json_array_append_new(a, json_string(items[i]));
	return a;
}

bool
oci_path_safe(const char *path)
{
	return path && path[0] == '/' && oci_path_no_dotdot(path);
}

bool
oci_path_no_dotdot(const char *path)
{
	if (!path)
		return false;
	for (const char *p = path; *p;) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return false;
		p += n;
		while (*p == '/')
			p++;
	}
	return true;
}

char *
oci_path_clean(const char *path)
{
	if (!oci_path_safe(path))
		return NULL;
	char *out = xmalloc(strlen(path) + 2);
	size_t o = 0;
	for (const char *p = path; *p;) {
		while (*p == '/')
			p++;
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == '.')) {
			p += n;
			continue;
		}
		out[o++] = '/';
		memcpy(out + o, p, n);
		o += n;
		p += n;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	return out;
}
