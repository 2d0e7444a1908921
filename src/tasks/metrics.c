/* Which cgroup version, where the task's cgroup is, and the small file
 * reads the per-version readers share. */
#include "tasks/metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "common/util.h"
#include "tasks/cgroup_stats.h"
#include "tasks/metrics_internal.h"

#define CGROUP_ROOT "/sys/fs/cgroup"
#define CG_FILE_MAX (64 * 1024)
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif

enum cgroup_mode
cgroup_mode_detect(void)
{
	struct statfs st;
	if (statfs(CGROUP_ROOT, &st) < 0)
		return CGROUP_MODE_NONE;
	if (st.f_type == CGROUP2_SUPER_MAGIC)
		return CGROUP_MODE_V2;
	/* A tmpfs of per-controller mounts: v1 (or hybrid, whose unified
	 * part runc's cgroupfs driver does not use for limits). */
	return st.f_type == TMPFS_MAGIC ? CGROUP_MODE_V1 : CGROUP_MODE_NONE;
}

char *
cg_read(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	free(path);
	if (fd < 0)
		return NULL;
	char *buf = xmalloc(CG_FILE_MAX + 1);
	size_t got = 0;
	ssize_t n;
	while (got < CG_FILE_MAX &&
	    (n = read(fd, buf + got, CG_FILE_MAX - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			close(fd);
			return NULL;
		}
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	return buf;
}

int
cg_value(const char *dir, const char *name, uint64_t *out, bool *max)
{
	char *t = cg_read(dir, name);
	int rc = t ? cgroup_value_u64(t, out, max) : -1;
	free(t);
	return rc;
}

int
cg_keyed(const char *dir, const char *name, const char *key, uint64_t *out)
{
	char *t = cg_read(dir, name);
	int rc = t ? cgroup_keyed_u64(t, key, out) : -1;
	free(t);
	return rc;
}

void
cg_set(json_t *obj, const char *field, uint64_t v)
{
	/* JSON integers are signed 64-bit in jansson; cgroup counters never
	 * get near 2^63, clamp rather than wrap if one did. */
	json_object_set_new(obj, field, json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v));
}

void
cg_set_value(json_t *obj, const char *field, const char *dir,
    const char *name, bool skip_max)
{
	uint64_t v;
	bool max;
	if (cg_value(dir, name, &v, &max) == 0 && !(max && skip_max))
		cg_set(obj, field, v);
}

void
cg_set_keyed(json_t *obj, const char *field, const char *dir,
    const char *name, const char *key, uint64_t mul, uint64_t div)
{
	uint64_t v;
	if (cg_keyed(dir, name, key, &v) == 0)
		cg_set(obj, field, v / div * mul + v % div * mul / div);
}

json_t *
cg_pids(const char *dir)
{
	json_t *o = json_object();
	cg_set_value(o, "current", dir, "pids.current", false);
	cg_set_value(o, "limit", dir, "pids.max", true);
	return o;
}

bool
cg_is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* systemd's "slice:prefix:name" → "/a.slice/a-b.slice/prefix-name.scope":
 * a slice named a-b.slice lives inside a.slice. */
static char *
systemd_path(const char *spec)
{
	const char *c1 = strchr(spec, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (c2 == NULL || strchr(c2 + 1, ':') != NULL)
		return NULL;
	char *slice = xstrndup(spec, (size_t)(c1 - spec));
	char *out = xstrdup("");
	if (*slice != '\0' && strcmp(slice, "-.slice") != 0) {
		char *base = xstrndup(slice, str_has_suffix(slice, ".slice") ?
		    strlen(slice) - 6 : strlen(slice));
		for (size_t i = 0;; i++) {
			if (base[i] != '-' && base[i] != '\0')
				continue;
			char *next = xasprintf("%s/%.*s.slice", out, (int)i, base);
			free(out);
			out = next;
			if (base[i] == '\0')
				break;
		}
		free(base);
	}
	char *full = xasprintf("%s/%.*s-%s.scope", out, (int)(c2 - c1 - 1), c1 + 1, c2 + 1);
	free(out);
	free(slice);
	return full;
}

/* The path relative to a hierarchy's root, "/" separated; NULL for one
 * that could climb out of it. */
static char *
normal_path(const char *cgroups_path)
{
	char *p = strchr(cgroups_path, ':') != NULL ? systemd_path(cgroups_path) :
	    cgroups_path[0] == '/' ? xstrdup(cgroups_path) :
	    xasprintf("/%s", cgroups_path);
	if (p != NULL && (strstr(p, "/../") != NULL || str_has_suffix(p, "/..") ||
	    strcmp(p, "/") == 0)) {
		free(p);
		return NULL;
	}
	return p;
}

json_t *
task_metrics_read_at(const char *root, enum cgroup_mode mode, const char *cgroups_path)
{
	char *path = cgroups_path ? normal_path(cgroups_path) : NULL;
	if (path == NULL || (mode != CGROUP_MODE_V1 && mode != CGROUP_MODE_V2)) {
		free(path);
		errno = EINVAL;
		return NULL;
	}
	json_t *m = json_pack("{s:s}", "cgroup", mode == CGROUP_MODE_V2 ? "v2" : "v1");
	int rc = mode == CGROUP_MODE_V2 ? metrics_v2(root, path, m) :
	    metrics_v1(root, path, m);
	free(path);
	if (rc < 0) {
		json_decref(m);
		errno = ENOENT;
		return NULL;
	}
	return m;
}

json_t *
task_metrics_read(const char *cgroups_path)
{
	return task_metrics_read_at(CGROUP_ROOT, cgroup_mode_detect(), cgroups_path);
}
