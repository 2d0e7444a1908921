/* Unit tests for src/tasks/cgroup_stats.c (parsers of cgroup v1 and v2
 * control files, sample texts from real kernels) and for the metrics
 * readers over a fake /sys/fs/cgroup tree in a temp dir. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "tasks/cgroup_stats.h"
#include "tasks/metrics.h"

static const char cpu_stat_v2[] =
    "usage_usec 123456\nuser_usec 100000\nsystem_usec 23456\n"
    "nr_periods 0\nnr_throttled 2\nthrottled_usec 77\n";

static const char memory_stat_v1[] =
    "cache 4096\nrss 8192\nrss_huge 0\nmapped_file 0\n"
    "hierarchical_memory_limit 9223372036854771712\n"
    "total_cache 40960\ntotal_rss 81920\n";

static void
keyed_values(void)
{
	uint64_t v = 0;
	CHECK(cgroup_keyed_u64(cpu_stat_v2, "usage_usec", &v) == 0 && v == 123456);
	CHECK(cgroup_keyed_u64(cpu_stat_v2, "throttled_usec", &v) == 0 && v == 77);
	CHECK(cgroup_keyed_u64(cpu_stat_v2, "usage", &v) < 0); /* a prefix is not a key */
	CHECK(cgroup_keyed_u64(cpu_stat_v2, "nope", &v) < 0);
	CHECK(cgroup_keyed_u64(memory_stat_v1, "rss", &v) == 0 && v == 8192);
	CHECK(cgroup_keyed_u64(memory_stat_v1, "total_rss", &v) == 0 && v == 81920);
	CHECK(cgroup_keyed_u64(memory_stat_v1, "hierarchical_memory_limit", &v) == 0 &&
	    v == 9223372036854771712ULL);
	CHECK(cgroup_keyed_u64("user 5\nsystem 7", "system", &v) == 0 && v == 7);
	CHECK(cgroup_keyed_u64("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n",
	    "oom_kill", &v) == 0 && v == 3);
	CHECK(cgroup_keyed_u64("", "x", &v) < 0);
	CHECK(cgroup_keyed_u64("x -1\n", "x", &v) < 0);
	CHECK(cgroup_keyed_u64("x 99999999999999999999999\n", "x", &v) < 0);
}

static void
single_values(void)
{
	uint64_t v;
	bool max;
	CHECK(cgroup_value_u64("4096\n", &v, &max) == 0 && v == 4096 && !max);
	CHECK(cgroup_value_u64("max\n", &v, &max) == 0 && max && v == UINT64_MAX);
	CHECK(cgroup_value_u64("0", &v, &max) == 0 && v == 0);
	CHECK(cgroup_value_u64("", &v, &max) < 0);
	CHECK(cgroup_value_u64("12 34\n", &v, &max) < 0);
	CHECK(cgroup_value_u64("maximum\n", &v, &max) < 0);
}

static void
io_stat_v2(void)
{
	uint64_t r = 1, w = 1;
	CHECK(cgroup_io_stat("8:0 rbytes=1024 wbytes=2048 rios=1 wios=2 dbytes=0 dios=0\n"
	    "253:1 rbytes=10 wbytes=20 rios=1 wios=1 dbytes=0 dios=0\n", &r, &w) == 0);
	CHECK_UINT_EQ(r, 1034);
	CHECK_UINT_EQ(w, 2068);
	CHECK(cgroup_io_stat("", &r, &w) == 0 && r == 0 && w == 0);
}

static void
blkio_v1(void)
{
	uint64_t r, w;
	CHECK(cgroup_blkio_bytes("8:0 Read 4096\n8:0 Write 512\n8:0 Sync 4608\n"
	    "8:0 Async 0\n8:0 Discard 0\n8:0 Total 4608\n"
	    "8:16 Read 4\n8:16 Write 8\nTotal 4620\n", &r, &w) == 0);
	CHECK_UINT_EQ(r, 4100);
	CHECK_UINT_EQ(w, 520);
	CHECK(cgroup_blkio_bytes("Total 0\n", &r, &w) == 0 && r == 0 && w == 0);
	CHECK(cgroup_blkio_bytes("", &r, &w) < 0);
}

/* A fake hierarchy: root/<rel>/<file> = text. */
static void
put(const char *root, const char *rel, const char *file, const char *text)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/%s'", root, rel);
	if (system(cmd) != 0)
		return;
	snprintf(cmd, sizeof(cmd), "%s/%s/%s", root, rel, file);
	FILE *f = fopen(cmd, "w");
	if (f != NULL) {
		fputs(text, f);
		fclose(f);
	}
}

static long long
get(json_t *m, const char *group, const char *field)
{
	json_t *v = json_object_get(json_object_get(m, group), field);
	return json_is_integer(v) ? json_integer_value(v) : -1;
}

static void
rm_tree(const char *root)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	CHECK(system(cmd) == 0);
}

static void
metrics_v2_tree(void)
{
	char root[] = "/tmp/keg-test-cg-XXXXXX";
	if (!CHECK(mkdtemp(root) != NULL))
		return;
	put(root, "keg/ns/c1", "cpu.stat", cpu_stat_v2);
	put(root, "keg/ns/c1", "memory.current", "1048576\n");
	put(root, "keg/ns/c1", "memory.max", "max\n");
	put(root, "keg/ns/c1", "memory.stat", "anon 100\nfile 200\n");
	put(root, "keg/ns/c1", "pids.current", "3\n");
	put(root, "keg/ns/c1", "pids.max", "64\n");
	json_t *m = task_metrics_read_at(root, CGROUP_MODE_V2, "/keg/ns/c1");
	if (CHECK(m != NULL)) {
		CHECK_INT_EQ(get(m, "cpu", "usage_usec"), 123456);
		CHECK_INT_EQ(get(m, "memory", "usage"), 1048576);
		CHECK_INT_EQ(get(m, "memory", "limit"), -1);	/* unlimited: absent */
		CHECK_INT_EQ(get(m, "memory", "rss"), 100);
		CHECK_INT_EQ(get(m, "pids", "limit"), 64);
		CHECK_INT_EQ(get(m, "io", "read_bytes"), -1);	/* no io.stat */
	}
	json_decref(m);
	CHECK(task_metrics_read_at(root, CGROUP_MODE_V2, "/keg/ns/none") == NULL);
	CHECK(task_metrics_read_at(root, CGROUP_MODE_V2, "/keg/../..") == NULL);
	rm_tree(root);
}

static void
metrics_v1_tree(void)
{
	char root[] = "/tmp/keg-test-cg-XXXXXX";
	if (!CHECK(mkdtemp(root) != NULL))
		return;
	put(root, "cpuacct/keg/ns/c1", "cpuacct.usage", "5000000\n");
	put(root, "cpuacct/keg/ns/c1", "cpuacct.usage_user", "3000000\n");
	put(root, "cpuacct/keg/ns/c1", "cpuacct.stat", "user 1\nsystem 2\n");
	put(root, "cpu/keg/ns/c1", "cpu.stat", "nr_periods 1\nnr_throttled 1\nthrottled_time 9000\n");
	put(root, "memory/keg/ns/c1", "memory.usage_in_bytes", "4096\n");
	put(root, "memory/keg/ns/c1", "memory.limit_in_bytes", "9223372036854771712\n");
	put(root, "memory/keg/ns/c1", "memory.stat", memory_stat_v1);
	put(root, "blkio/keg/ns/c1", "blkio.throttle.io_service_bytes", "8:0 Read 7\n8:0 Write 9\nTotal 16\n");
	json_t *m = task_metrics_read_at(root, CGROUP_MODE_V1, "/keg/ns/c1");
	if (CHECK(m != NULL)) {
		CHECK_INT_EQ(get(m, "cpu", "usage_usec"), 5000);
		CHECK_INT_EQ(get(m, "cpu", "user_usec"), 3000);
		CHECK(get(m, "cpu", "system_usec") > 0); /* from ticks */
		CHECK_INT_EQ(get(m, "cpu", "throttled_usec"), 9);
		CHECK_INT_EQ(get(m, "memory", "usage"), 4096);
		CHECK_INT_EQ(get(m, "memory", "limit"), -1);
		CHECK_INT_EQ(get(m, "memory", "rss"), 81920);
		CHECK_INT_EQ(get(m, "io", "write_bytes"), 9);
		CHECK_INT_EQ(get(m, "pids", "current"), -1);
	}
	json_decref(m);
	/* systemd's slice:prefix:name form. */
	put(root, "memory/system.slice/keg-c2.scope", "memory.usage_in_bytes", "1\n");
	m = task_metrics_read_at(root, CGROUP_MODE_V1, "system.slice:keg:c2");
	CHECK(m != NULL && get(m, "memory", "usage") == 1);
	json_decref(m);
	put(root, "memory/a.slice/a-b.slice/x-c3.scope", "memory.usage_in_bytes", "2\n");
	m = task_metrics_read_at(root, CGROUP_MODE_V1, "a-b.slice:x:c3");
	CHECK(m != NULL && get(m, "memory", "usage") == 2);
	json_decref(m);
	rm_tree(root);
}

int
main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(keyed_values),
		UNIT_TEST(single_values),
		UNIT_TEST(io_stat_v2),
		UNIT_TEST(blkio_v1),
		UNIT_TEST(metrics_v2_tree),
		UNIT_TEST(metrics_v1_tree),
	};
	return unit_run(tests, UNIT_COUNT(tests));
}
