/* Shared by metrics.c and the per-version readers. */
#ifndef KEG_TASKS_METRICS_INTERNAL_H
#define KEG_TASKS_METRICS_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* The text of dir/name (at most 64 KiB), NUL-terminated; NULL when it
 * cannot be read. The caller frees. */
char *cg_read(const char *dir, const char *name);
/* A one-value file; -1 when absent or garbled. */
int cg_value(const char *dir, const char *name, uint64_t *out, bool *max);
/* key's value in a keyed file; -1 when absent. */
int cg_keyed(const char *dir, const char *name, const char *key, uint64_t *out);
/* obj[field] = v. */
void cg_set(json_t *obj, const char *field, uint64_t v);
/* obj[field] = the one-value file's value (absent when missing; absent
 * too when unlimited and skip_max). */
void cg_set_value(json_t *obj, const char *field, const char *dir,
    const char *name, bool skip_max);
/* obj[field] = key's value in a keyed file, scaled by mul/div. */
void cg_set_keyed(json_t *obj, const char *field, const char *dir,
    const char *name, const char *key, uint64_t mul, uint64_t div);
bool cg_is_dir(const char *path);
/* The pids group (current, limit) from dir's pids.current and pids.max:
 * the same files in v1's pids hierarchy and in v2. */
json_t *cg_pids(const char *dir);

/* Fill m's groups (cpu, memory, pids, io); -1 with errno ENOENT when the
 * cgroup is in no hierarchy. */
int metrics_v1(const char *root, const char *path, json_t *m);
int metrics_v2(const char *root, const char *path, json_t *m);

#endif
