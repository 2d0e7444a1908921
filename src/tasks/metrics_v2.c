/* cgroup v2: every controller's files in the one directory. */
#include <stdlib.h>

#include "common/util.h"
#include "tasks/cgroup_stats.h"
#include "tasks/metrics_internal.h"

static json_t *
cpu_v2(const char *dir)
{
	json_t *o = json_object();
	cg_set_keyed(o, "usage_usec", dir, "cpu.stat", "usage_usec", 1, 1);
	cg_set_keyed(o, "user_usec", dir, "cpu.stat", "user_usec", 1, 1);
	cg_set_keyed(o, "system_usec", dir, "cpu.stat", "system_usec", 1, 1);
	cg_set_keyed(o, "throttled_usec", dir, "cpu.stat", "throttled_usec", 1, 1);
	cg_set_keyed(o, "nr_throttled", dir, "cpu.stat", "nr_throttled", 1, 1);
	return o;
}

static json_t *
memory_v2(const char *dir)
{
	json_t *o = json_object();
	cg_set_value(o, "usage", dir, "memory.current", false);
	cg_set_value(o, "limit", dir, "memory.max", true);
	cg_set_value(o, "max_usage", dir, "memory.peak", false);	/* 5.19+ */
	cg_set_keyed(o, "rss", dir, "memory.stat", "anon", 1, 1);
	cg_set_keyed(o, "cache", dir, "memory.stat", "file", 1, 1);
	cg_set_keyed(o, "oom_kills", dir, "memory.events", "oom_kill", 1, 1);
	return o;
}

static json_t *
io_v2(const char *dir)
{
	json_t *o = json_object();
	char *t = cg_read(dir, "io.stat");
	uint64_t r, w;
	if (t != NULL && cgroup_io_stat(t, &r, &w) == 0) {
		cg_set(o, "read_bytes", r);
		cg_set(o, "write_bytes", w);
	}
	free(t);
	return o;
}

int
metrics_v2(const char *root, const char *path, json_t *m)
{
	char *dir = xasprintf("%s%s", root, path);
	if (!cg_is_dir(dir)) {
		free(dir);
		return -1;
	}
	json_object_set_new(m, "cpu", cpu_v2(dir));
	json_object_set_new(m, "memory", memory_v2(dir));
	json_object_set_new(m, "pids", cg_pids(dir));
	json_object_set_new(m, "io", io_v2(dir));
	free(dir);
	return 0;
}
