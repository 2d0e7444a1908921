/* A task's metrics from its cgroup, for GET /v1/tasks/{id}/metrics, on
 * cgroup v1 (/sys/fs/cgroup/<controller>/<path>) and v2 (unified,
 * /sys/fs/cgroup/<path>). Only small control files are read, synchronously
 * (they are kernel-generated, never block). A file that is missing or
 * unparsable leaves its field out rather than failing the whole answer.
 *
 * The JSON: {"cgroup": "v1"|"v2",
 *   "cpu": {usage_usec, user_usec, system_usec, throttled_usec?, nr_throttled?},
 *   "memory": {usage, limit?, max_usage?, rss?, cache?, oom_kills?},
 *   "pids": {current, limit?},
 *   "io": {read_bytes, write_bytes}}
 * (limit absent when unlimited). */
#ifndef KEG_TASKS_METRICS_H
#define KEG_TASKS_METRICS_H

#include <jansson.h>

enum cgroup_mode { CGROUP_MODE_NONE, CGROUP_MODE_V1, CGROUP_MODE_V2 };

/* How /sys/fs/cgroup is mounted (cgroup2 at the top means v2; hybrid
 * systems count as v1, as runc's cgroupfs driver uses the v1 hierarchies). */
enum cgroup_mode cgroup_mode_detect(void);

/* The metrics of the cgroup at cgroups_path (the spec's
 * linux.cgroupsPath: "/keg/ns/id", or systemd's "slice:prefix:name").
 * Returns a new object, or NULL with errno ENOENT when the cgroup does not
 * exist in any hierarchy (the task has no cgroup: stopped or deleted), or
 * EINVAL for a path with "..". */
json_t *task_metrics_read(const char *cgroups_path);

/* The same under another root and mode: for tests with a fake tree. */
json_t *task_metrics_read_at(const char *root, enum cgroup_mode mode,
    const char *cgroups_path);

#endif
