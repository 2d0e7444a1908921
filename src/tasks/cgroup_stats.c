#include "tasks/cgroup_stats.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A decimal u64 at s (leading digits only); -1 when there are none or it
 * overflows. *end is past the digits. */
static int
u64_at(const char *s, uint64_t *out, const char **end)
{
	uint64_t v = 0;
	const char *p = s;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (p == s)
		return -1;
	*out = v;
	if (end != NULL)
		*end = p;
	return 0;
}

static const char *
next_line(const char *p)
{
	const char *nl = strchr(p, '\n');
	return nl ? nl + 1 : NULL;
}

int
cgroup_keyed_u64(const char *text, const char *key, uint64_t *out)
{
	size_t klen = strlen(key);
	for (const char *p = text; p != NULL && *p; p = next_line(p)) {
		const char *end;
		if (strncmp(p, key, klen) == 0 && p[klen] == ' ' &&
		    u64_at(p + klen + 1, out, &end) == 0 &&
		    (*end == '\n' || *end == '\0'))
			return 0;
	}
	return -1;
}

int
cgroup_value_u64(const char *text, uint64_t *out, bool *max)
{
	const char *end;
	*max = false;
	if (strncmp(text, "max", 3) == 0 && (text[3] == '\n' || text[3] == '\0')) {
		*max = true;
		*out = UINT64_MAX;
		return 0;
	}
	if (u64_at(text, out, &end) < 0 || (*end != '\n' && *end != '\0'))
		return -1;
	return 0;
}

/* Adds key=N's value from a space-separated line [p, e) to *sum. */
static void
add_field(const char *p, const char *e, const char *key, uint64_t *sum)
{
	size_t klen = strlen(key);
	for (const char *f = p; f < e; ) {
		const char *sp = memchr(f, ' ', (size_t)(e - f));
		const char *fe = sp ? sp : e;
		uint64_t v;
		if ((size_t)(fe - f) > klen && strncmp(f, key, klen) == 0 &&
		    u64_at(f + klen, &v, NULL) == 0)
			*sum += v;
		f = fe + 1;
	}
}

int
cgroup_io_stat(const char *text, uint64_t *read, uint64_t *write)
{
	*read = *write = 0;
	for (const char *p = text; p != NULL && *p; p = next_line(p)) {
		const char *e = strchr(p, '\n');
		if (e == NULL)
			e = p + strlen(p);
		add_field(p, e, "rbytes=", read);
		add_field(p, e, "wbytes=", write);
	}
	return 0;
}

int
cgroup_blkio_bytes(const char *text, uint64_t *read, uint64_t *write)
{
	bool any = false;
	*read = *write = 0;
	for (const char *p = text; p != NULL && *p; p = next_line(p)) {
		/* "MAJ:MIN Op N"; "Total N" lines have no device. */
		const char *op = strchr(p, ' '), *nl = strchr(p, '\n');
		uint64_t v;
		if (op == NULL || (nl != NULL && op > nl) || memchr(p, ':', (size_t)(op - p)) == NULL)
			continue;
		op++;
		if (strncmp(op, "Read ", 5) == 0 && u64_at(op + 5, &v, NULL) == 0) {
			*read += v;
			any = true;
		} else if (strncmp(op, "Write ", 6) == 0 && u64_at(op + 6, &v, NULL) == 0) {
			*write += v;
			any = true;
		}
	}
	/* A cgroup that has done no I/O has just "Total 0": zeros, found. */
	return any || strstr(text, "Total") != NULL ? 0 : -1;
}
