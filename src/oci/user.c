/* process.user from a user string ("name", "uid", "uid:gid", "name:group")
 * resolved with the image's own /etc/passwd and /etc/group, as containerd
 * does. Any id out of range is an error: a wrapped -1 or 2^32 must never
 * quietly become root. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "oci/internal.h"

int
oci_parse_id(const char *s, uint32_t *id)
{
	const char *p = s;
	bool negative = false;
	if (*p == '-' || *p == '+')
		negative = *p++ == '-';
	if (*p == '\0')
		return -1;
	unsigned long long v = 0;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		if (v > OCI_ID_MAX)	/* keep going: a later letter means a name */
			continue;
		v = v * 10 + (unsigned)(*p - '0');
	}
	if (negative || v > OCI_ID_MAX)
		return -2;
	*id = (uint32_t)v;
	return 0;
}

/* Splits the next line of *cursor into at most n ':'-separated fields
 * (in place); false at the end. Short lines give NULL fields. */
static bool
next_entry(char **cursor, char **fields, size_t n)
{
	if (!*cursor || !**cursor)
		return false;
	char *line = *cursor;
	char *nl = strchr(line, '\n');
	*cursor = nl ? nl + 1 : NULL;
	if (nl)
		*nl = '\0';
	for (size_t i = 0; i < n; i++) {
		fields[i] = line;
		char *colon = line ? strchr(line, ':') : NULL;
		if (colon)
			*colon = '\0';
		line = colon ? colon + 1 : NULL;
	}
	return true;
}

struct pw_entry {
	char *name;		/* owned */
	uint32_t uid, gid;
};

/* Finds the passwd entry with this name (or, name NULL, this uid).
 * 0 found, 1 not found (or no passwd file), -1 error. */
static int
find_passwd(int rootfs_fd, const char *name, uint32_t uid,
    struct pw_entry *out, struct oci_error *err)
{
	char *data, *cursor, *f[4];
	size_t len;
	int r = oci_read_etc(rootfs_fd, "passwd", &data, &len, err);
	if (r != 0)
		return r;
	cursor = data;
	r = 1;
	while (r == 1 && next_entry(&cursor, f, 4)) {
		uint32_t u, g;
		if (!f[3] || oci_parse_id(f[2], &u) || oci_parse_id(f[3], &g))
			continue;
		if (name ? strcmp(f[0], name) != 0 : u != uid)
			continue;
		*out = (struct pw_entry){ xstrdup(f[0]), u, g };
		r = 0;
	}
	free(data);
	return r;
}

struct gid_list {
	uint32_t *v;
	size_t n;
};

static void
gids_add(struct gid_list *l, uint32_t gid)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i] == gid)
			return;
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = gid;
}

static bool
member_of(char *members, const char *user)
{
	for (char *m = members; m && *m;) {
		char *comma = strchr(m, ',');
		size_t n = comma ? (size_t)(comma - m) : strlen(m);
		if (n == strlen(user) && strncmp(m, user, n) == 0)
			return true;
		m = comma ? comma + 1 : NULL;
	}
	return false;
}

/* Scans /etc/group once: the gid of group_name (when not NULL) into *gid,
 * and every group listing member (when not NULL) into list. 0 when
 * group_name was found (or not asked for), 1 when not, -1 on error. */
static int
scan_group(int rootfs_fd, const char *group_name, uint32_t *gid,
    const char *member, struct gid_list *list, struct oci_error *err)
{
	char *data, *cursor, *f[4];
	size_t len;
	int r = oci_read_etc(rootfs_fd, "group", &data, &len, err);
	if (r < 0)
		return r;
	r = group_name ? 1 : 0;
	cursor = data;
	while (data && next_entry(&cursor, f, 4)) {
		uint32_t g;
		if (!f[2] || oci_parse_id(f[2], &g))
			continue;
		if (group_name && r == 1 && strcmp(f[0], group_name) == 0) {
			*gid = g;
			r = 0;
		}
		if (member && f[3] && member_of(f[3], member))
			gids_add(list, g);
	}
	free(data);
	return r;
}

/* The user part: a uid (looked up for its name and primary gid) or a
 * name that must exist in the image's passwd. */
static int
resolve_user_part(int rootfs_fd, const char *part, struct pw_entry *pw,
    struct oci_error *err)
{
	uint32_t uid;
	int r = oci_parse_id(part, &uid);
	if (r == -2)
		return oci_fail(err, ERR_INVALID_ARGUMENT,
		    "user id \"%s\" is out of range (0..%llu)", part, OCI_ID_MAX);
	if (r == 0) {
		r = find_passwd(rootfs_fd, NULL, uid, pw, err);
		if (r == 1)	/* containerd: an unknown uid gets gid 0 */
			*pw = (struct pw_entry){ NULL, uid, 0 };
		return r < 0 ? -1 : 0;
	}
	r = find_passwd(rootfs_fd, part, 0, pw, err);
	if (r == 1)
		return oci_fail(err, ERR_INVALID_ARGUMENT,
		    "user \"%s\" not found in the image's /etc/passwd", part);
	return r;
}

static int
resolve_group_part(int rootfs_fd, const char *part, uint32_t *gid,
    struct oci_error *err)
{
	int r = oci_parse_id(part, gid);
	if (r == -2)
		return oci_fail(err, ERR_INVALID_ARGUMENT,
		    "group id \"%s\" is out of range (0..%llu)", part, OCI_ID_MAX);
	if (r == 0)
		return 0;
	r = scan_group(rootfs_fd, part, gid, NULL, NULL, err);
	if (r == 1)
		return oci_fail(err, ERR_INVALID_ARGUMENT,
		    "group \"%s\" not found in the image's /etc/group", part);
	return r;
}

/* options.additional_gids: numbers or group names of the image. */
static int
add_extra_gids(int rootfs_fd, const json_t *extra, struct gid_list *list,
    struct oci_error *err)
{
	size_t i;
	json_t *v;
	json_array_foreach(extra, i, v) {
		uint32_t gid;
		if (json_is_integer(v)) {
			json_int_t n = json_integer_value(v);
			if (n < 0 || (unsigned long long)n > OCI_ID_MAX)
				return oci_fail(err, ERR_INVALID_ARGUMENT,
				    "additional gid %lld is out of range",
				    (long long)n);
			gid = (uint32_t)n;
		} else if (!json_is_string(v) || resolve_group_part(rootfs_fd,
		    json_string_value(v), &gid, err) != 0) {
			return json_is_string(v) ? -1 : oci_fail(err,
			    ERR_INVALID_ARGUMENT,
			    "additional_gids must hold numbers or group names");
		}
		gids_add(list, gid);
	}
	return 0;
}

static int
resolve(int rootfs_fd, char *user, const json_t *extra, struct oci_user *out,
    struct pw_entry *pw, struct gid_list *gids, struct oci_error *err)
{
	char *group = strchr(user, ':');
	if (group)
		*group++ = '\0';
	if (*user == '\0' || (group && *group == '\0'))
		return oci_fail(err, ERR_INVALID_ARGUMENT,
		    "user: empty user or group name");
	if (resolve_user_part(rootfs_fd, user, pw, err) != 0)
		return -1;
	out->uid = pw->uid;
	out->gid = pw->gid;
	if (group && resolve_group_part(rootfs_fd, group, &out->gid, err) != 0)
		return -1;
	gids_add(gids, out->gid);
	if (pw->name && scan_group(rootfs_fd, NULL, NULL, pw->name, gids,
	    err) < 0)
		return -1;
	return extra ? add_extra_gids(rootfs_fd, extra, gids, err) : 0;
}

int
oci_user_resolve(int rootfs_fd, const char *user, const json_t *extra_gids,
    struct oci_user *out, struct oci_error *err)
{
	*out = (struct oci_user){ 0 };
	struct gid_list gids = { 0 };
	int r;
	if (!user || !*user) {
		/* root, as the image has no say; only asked-for groups */
		r = extra_gids ? add_extra_gids(rootfs_fd, extra_gids, &gids,
		    err) : 0;
	} else {
		struct pw_entry pw = { 0 };
		char *copy = xstrdup(user);
		r = resolve(rootfs_fd, copy, extra_gids, out, &pw, &gids, err);
		free(copy);
		free(pw.name);
	}
	if (r != 0) {
		free(gids.v);
		*out = (struct oci_user){ 0 };
		return -1;
	}
	out->gids = gids.v;
	out->ngids = gids.n;
	return 0;
}

void
oci_user_free(struct oci_user *u)
{
	free(u->gids);
	u->gids = NULL;
	u->ngids = 0;
}
