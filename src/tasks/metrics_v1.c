/* cgroup v1: one hierarchy per controller, the task's cgroup at the same
 * path in each. Units differ from v2 (ns, USER_HZ ticks); the JSON uses
 * v2's so clients need not care. */
#include <stdlib.h>
#include <unistd.h>

#include "common/util.h"
#include "tasks/cgroup_stats.h"
#include "tasks/metrics_internal.h"

/* A limit this high is v1's "unlimited" (PAGE_COUNTER_MAX pages). */
#define V1_UNLIMITED (1ULL << 62)

/* The controller's directory for path; "cpu,cpuacct" style joint mounts
 * are usually also linked under each name, but try the joint name too. */
static char *
ctl_dir(const char *root, const char *ctl, const char *joint, const char *path)
{
	char *dir = xasprintf("%s/%s%s", root, ctl, path);
	if (cg_is_dir(dir) || joint == NULL)
		return dir;
	free(dir);
	return xasprintf("%s/%s%s", root, joint, path);
}

static json_t *
cpu_v1(const char *acct, const char *cpu)
{
	json_t *o = json_object();
	long hz = sysconf(_SC_CLK_TCK);
	uint64_t v;
	bool max;
	if (cg_value(acct, "cpuacct.usage", &v, &max) == 0)
		cg_set(o, "usage_usec", v / 1000);
	/* usage_user/usage_sys are ns (4.x+); cpuacct.stat is in ticks. */
	if (cg_value(acct, "cpuacct.usage_user", &v, &max) == 0)
		cg_set(o, "user_usec", v / 1000);
	else
		cg_set_keyed(o, "user_usec", acct, "cpuacct.stat", "user", 1000000,
		    hz > 0 ? (uint64_t)hz : 100);
	if (cg_value(acct, "cpuacct.usage_sys", &v, &max) == 0)
		cg_set(o, "system_usec", v / 1000);
	else
		cg_set_keyed(o, "system_usec", acct, "cpuacct.stat", "system", 1000000,
		    hz > 0 ? (uint64_t)hz : 100);
	cg_set_keyed(o, "throttled_usec", cpu, "cpu.stat", "throttled_time", 1, 1000);
	cg_set_keyed(o, "nr_throttled", cpu, "cpu.stat", "nr_throttled", 1, 1);
	return o;
}

static json_t *
memory_v1(const char *dir)
{
	json_t *o = json_object();
	uint64_t v;
	bool max;
	cg_set_value(o, "usage", dir, "memory.usage_in_bytes", false);
	if (cg_value(dir, "memory.limit_in_bytes", &v, &max) == 0 && v < V1_UNLIMITED)
		cg_set(o, "limit", v);
	cg_set_value(o, "max_usage", dir, "memory.max_usage_in_bytes", false);
	/* total_* include the cgroup's children, as v2's numbers do. */
	if (cg_keyed(dir, "memory.stat", "total_rss", &v) == 0 ||
	    cg_keyed(dir, "memory.stat", "rss", &v) == 0)
		cg_set(o, "rss", v);
	if (cg_keyed(dir, "memory.stat", "total_cache", &v) == 0 ||
	    cg_keyed(dir, "memory.stat", "cache", &v) == 0)
		cg_set(o, "cache", v);
	cg_set_keyed(o, "oom_kills", dir, "memory.oom_control", "oom_kill", 1, 1);
	return o;
}

static json_t *
io_v1(const char *dir)
{
	json_t *o = json_object();
	char *t = cg_read(dir, "blkio.throttle.io_service_bytes_recursive");
	if (t == NULL)
		t = cg_read(dir, "blkio.throttle.io_service_bytes");
	uint64_t r, w;
	if (t != NULL && cgroup_blkio_bytes(t, &r, &w) == 0) {
		cg_set(o, "read_bytes", r);
		cg_set(o, "write_bytes", w);
	}
	free(t);
	return o;
}

int
metrics_v1(const char *root, const char *path, json_t *m)
{
	char *acct = ctl_dir(root, "cpuacct", "cpu,cpuacct", path);
	char *cpu = ctl_dir(root, "cpu", "cpu,cpuacct", path);
	char *mem = ctl_dir(root, "memory", NULL, path);
	char *pids = ctl_dir(root, "pids", NULL, path);
	char *blkio = ctl_dir(root, "blkio", NULL, path);
	int rc = -1;
	/* The cgroup exists when runc made it in any of these. */
	if (cg_is_dir(mem) || cg_is_dir(pids) || cg_is_dir(acct)) {
		json_object_set_new(m, "cpu", cpu_v1(acct, cpu));
		json_object_set_new(m, "memory", memory_v1(mem));
		json_object_set_new(m, "pids", cg_pids(pids));
		json_object_set_new(m, "io", io_v1(blkio));
		rc = 0;
	}
	free(acct);
	free(cpu);
	free(mem);
	free(pids);
	free(blkio);
	return rc;
}
