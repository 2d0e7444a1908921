#include "snapshotters/mount.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"

/* mount(8)'s flag options; anything else is file-system data. */
static const struct {
	const char *name;
	unsigned long flag;
	bool clear;
} flag_options[] = {
	{ "ro", MS_RDONLY, false }, { "rw", MS_RDONLY, true },
	{ "bind", MS_BIND, false }, { "rbind", MS_BIND | MS_REC, false },
	{ "nosuid", MS_NOSUID, false }, { "suid", MS_NOSUID, true },
	{ "nodev", MS_NODEV, false }, { "dev", MS_NODEV, true },
	{ "noexec", MS_NOEXEC, false }, { "exec", MS_NOEXEC, true },
	{ "sync", MS_SYNCHRONOUS, false }, { "async", MS_SYNCHRONOUS, true },
	{ "dirsync", MS_DIRSYNC, false },
	{ "noatime", MS_NOATIME, false }, { "atime", MS_NOATIME, true },
	{ "nodiratime", MS_NODIRATIME, false }, { "diratime", MS_NODIRATIME, true },
	{ "relatime", MS_RELATIME, false }, { "norelatime", MS_RELATIME, true },
	{ "strictatime", MS_STRICTATIME, false },
	{ "defaults", 0, false },
};

static const struct {
	const char *name;
	unsigned long flag;
} propagation_options[] = {
	{ "private", MS_PRIVATE }, { "rprivate", MS_PRIVATE | MS_REC },
	{ "slave", MS_SLAVE }, { "rslave", MS_SLAVE | MS_REC },
	{ "shared", MS_SHARED }, { "rshared", MS_SHARED | MS_REC },
	{ "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE | MS_REC },
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

struct parsed_mount {
	const char *type;
	const char *source;
	unsigned long flags;
	unsigned long propagation;
	char *data;		/* comma-separated; "" when none */
};

static void
add_data(char **data, const char *opt)
{
	char *joined = xasprintf("%s%s%s", *data, **data ? "," : "", opt);
	free(*data);
	*data = joined;
}

static bool
apply_flag_option(struct parsed_mount *m, const char *opt)
{
	for (size_t i = 0; i < N_OF(flag_options); i++) {
		if (strcmp(opt, flag_options[i].name) != 0)
			continue;
		if (flag_options[i].clear)
			m->flags &= ~flag_options[i].flag;
		else
			m->flags |= flag_options[i].flag;
		return true;
	}
	for (size_t i = 0; i < N_OF(propagation_options); i++) {
		if (strcmp(opt, propagation_options[i].name) == 0) {
			m->propagation = propagation_options[i].flag;
			return true;
		}
	}
	return false;
}

static int
parse_mount(const json_t *j, struct parsed_mount *m, char *err, size_t errlen)
{
	*m = (struct parsed_mount){ 0 };
	m->type = json_string_value(json_object_get(j, "type"));
	m->source = json_string_value(json_object_get(j, "source"));
	json_t *options = json_object_get(j, "options");
	if (m->type == NULL || m->source == NULL || (options && !json_is_array(options))) {
		snprintf(err, errlen, "a mount needs a type, a source and a list of options");
		return -1;
	}
	m->data = xstrdup("");
	size_t i;
	json_t *o;
	json_array_foreach(options, i, o) {
		const char *opt = json_string_value(o);
		if (opt == NULL || strchr(opt, ',') != NULL) {
			snprintf(err, errlen, "mount options must be strings without commas");
			free(m->data);
			return -1;
		}
		if (!apply_flag_option(m, opt))
			add_data(&m->data, opt);
	}
	return 0;
}

/* overlay's lowerdir=a:b:… may not fit the one page mount(2) takes. As
 * containerd does, such a mount is made from the directory the layers
 * share, with relative names, in a child so the daemon's cwd never moves. */
static char *
common_parent(const char *data)
{
	const char *lower = strstr(data, "lowerdir=");
	if (lower == NULL)
		return NULL;
	lower += strlen("lowerdir=");
	size_t len = strcspn(lower, ",");
	char *dirs = xstrndup(lower, len), *common = NULL, *save = NULL;
	for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		char *slash = strrchr(d, '/');
		char *parent = slash && slash != d ? xstrndup(d, (size_t)(slash - d)) : NULL;
		char *up = parent ? strrchr(parent, '/') : NULL;
		/* layers are …/ID/fs: the common directory is the one above ID */
		if (up != NULL && up != parent)
			*up = '\0';
		if (parent == NULL || (common && strcmp(common, parent) != 0)) {
			free(parent);
			free(common);
			common = NULL;
			break;
		}
		free(common);
		common = parent;
	}
	free(dirs);
	return common;
}

static char *
relative_data(const char *data, const char *dir)
{
	size_t dlen = strlen(dir);
	char *out = xstrdup("");
	char *copy = xstrdup(data), *save = NULL;
	for (char *opt = strtok_r(copy, ",", &save); opt; opt = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(opt, '=');
		if (eq == NULL || (!str_has_prefix(opt, "lowerdir=") && !str_has_prefix(opt,
		    "upperdir=") && !str_has_prefix(opt, "workdir="))) {
			add_data(&out, opt);
			continue;
		}
		char *rel = xstrndup(opt, (size_t)(eq - opt) + 1);
		char *save2 = NULL;
		int first = 1;
		for (char *d = strtok_r(eq + 1, ":", &save2); d; d = strtok_r(NULL, ":", &save2)) {
			const char *r = strncmp(d, dir, dlen) == 0 && d[dlen] == '/' ? d + dlen + 1 : d;
			char *next = xasprintf("%s%s%s", rel, first ? "" : ":", r);
			free(rel);
			rel = next;
			first = 0;
		}
		add_data(&out, rel);
		free(rel);
	}
	free(copy);
	return out;
}

static int
mount_from_dir(const struct parsed_mount *m, const char *target, char *err, size_t errlen)
{
	char *dir = common_parent(m->data);
	if (dir == NULL || target[0] != '/') {
		free(dir);
		snprintf(err, errlen, "mount %s: the options are too long", m->type);
		return -1;
	}
	char *data = relative_data(m->data, dir);
	pid_t pid = fork();
	if (pid == 0)
		_exit(chdir(dir) == 0 && mount(m->source, target, m->type, m->flags, data) == 0 ?
		    0 : errno);
	int status = 0;
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	free(data);
	free(dir);
	int e = pid < 0 ? errno : WIFEXITED(status) ? WEXITSTATUS(status) : EIO;
	if (e != 0) {
		snprintf(err, errlen, "mount %s on %s: %s", m->type, target, strerror(e));
		return -1;
	}
	return 0;
}

static int
mount_one(const struct parsed_mount *m, const char *target, char *err, size_t errlen)
{
	unsigned long flags = m->flags;
	bool bind = flags & MS_BIND;
	/* A bind mount takes ro (and the other flags) only in a remount. */
	if (strlen(m->data) >= (size_t)sysconf(_SC_PAGESIZE))
		return mount_from_dir(m, target, err, errlen);
	if (mount(m->source, target, m->type, bind ? flags & (MS_BIND | MS_REC) : flags,
	    m->data) < 0) {
		snprintf(err, errlen, "mount %s %s on %s: %s", m->type, m->source, target,
		    strerror(errno));
		return -1;
	}
	unsigned long extra = flags & ~(MS_BIND | MS_REC);
	if (bind && extra != 0 && mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | extra,
	    NULL) < 0) {
		snprintf(err, errlen, "remount %s read-only: %s", target, strerror(errno));
		umount2(target, MNT_DETACH);
		return -1;
	}
	if (m->propagation && mount(NULL, target, NULL, m->propagation, NULL) < 0) {
		snprintf(err, errlen, "mount propagation of %s: %s", target, strerror(errno));
		umount2(target, MNT_DETACH);
		return -1;
	}
	return 0;
}

int
mounts_mount(const json_t *mounts, const char *target, char *err, size_t errlen)
{
	if (!json_is_array(mounts) || json_array_size(mounts) == 0) {
		snprintf(err, errlen, "no mounts to make");
		return -1;
	}
	size_t i;
	json_t *j;
	json_array_foreach(mounts, i, j) {
		struct parsed_mount m;
		int rc = parse_mount(j, &m, err, errlen);
		if (rc == 0) {
			rc = mount_one(&m, target, err, errlen);
			free(m.data);
		}
		if (rc < 0) {
			while (i-- > 0)
				umount2(target, MNT_DETACH);
			return -1;
		}
	}
	return 0;
}

int
mounts_unmount(const char *target, bool detach, char *err, size_t errlen)
{
	for (int n = 0;; n++) {
		if (umount2(target, UMOUNT_NOFOLLOW | (detach ? MNT_DETACH : 0)) == 0)
			continue;
		/* EINVAL: not a mount point (any more). */
		if (errno == EINVAL && n > 0)
			return 0;
		snprintf(err, errlen, "unmount %s: %s", target, strerror(errno));
		return -1;
	}
}

static bool
has_option(const json_t *options, const char *opt)
{
	size_t i;
	json_t *o;
	json_array_foreach(options, i, o)
		if (json_is_string(o) && strcmp(json_string_value(o), opt) == 0)
			return true;
	return false;
}

char *
mounts_writable_dir(const json_t *mounts)
{
	const json_t *m = json_array_get(mounts, json_array_size(mounts) - 1);
	const char *type = json_string_value(json_object_get(m, "type"));
	const json_t *options = json_object_get(m, "options");
	if (type == NULL || has_option(options, "ro"))
		return NULL;
	if (strcmp(type, "bind") == 0) {
		const char *source = json_string_value(json_object_get(m, "source"));
		return source ? xstrdup(source) : NULL;
	}
	size_t i;
	json_t *o;
	json_array_foreach(options, i, o) {
		const char *opt = json_string_value(o);
		if (opt != NULL && str_has_prefix(opt, "upperdir="))
			return xstrdup(opt + strlen("upperdir="));
	}
	return NULL;
}

json_t *
mounts_read_only(const json_t *mounts)
{
	json_t *copy = json_deep_copy(mounts), *m;
	size_t i;
	json_array_foreach(copy, i, m) {
		json_t *options = json_object_get(m, "options");
		if (!json_is_array(options)) {
			options = json_array();
			json_object_set_new(m, "options", options);
		}
		json_array_append_new(options, json_string("ro"));
	}
	return copy;
}
