/* Parsers for the text of cgroup control files (v1 and v2), pure so they
 * are unit-tested with sample texts. Each returns 0 when it found what it
 * looked for, -1 otherwise (the caller leaves the field out). */
#ifndef KEG_TASKS_CGROUP_STATS_H
#define KEG_TASKS_CGROUP_STATS_H

#include <stdbool.h>
#include <stdint.h>

/* "key value" lines (cpu.stat, memory.stat, cpuacct.stat,
 * memory.events, memory.oom_control): the value of key. */
int cgroup_keyed_u64(const char *text, const char *key, uint64_t *out);

/* A one-value file (memory.current, pids.max, ...): a number, or "max"
 * (v2's unlimited) which sets *max and *out = UINT64_MAX. */
int cgroup_value_u64(const char *text, uint64_t *out, bool *max);

/* v2 io.stat ("8:0 rbytes=N wbytes=N rios=N ..." per device): the sums of
 * rbytes and wbytes. An empty file (no I/O yet) is 0 and 0. */
int cgroup_io_stat(const char *text, uint64_t *read, uint64_t *write);

/* v1 blkio.throttle.io_service_bytes ("8:0 Read N", "8:0 Write N", ...
 * "Total N"): the sums of Read and Write over devices. */
int cgroup_blkio_bytes(const char *text, uint64_t *read, uint64_t *write);

#endif
