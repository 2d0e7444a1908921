/* JSON documents written to files in one write, not one per token. */
#ifndef KEG_JSON_FILE_H
#define KEG_JSON_FILE_H

#include <jansson.h>

/* Writes json (jansson dump flags) to fd. jansson's own json_dumpfd issues
 * a write(2) per token: ~3000 for a task's config.json, which cost more
 * than the rest of task create in the daemon. Returns 0, or -1 with errno. */
int json_write_fd(const json_t *json, int fd, size_t flags);

/* Writes json to dir/name through dir/.name.tmp and rename(2), mode 0600,
 * so a reader (or a restart after a crash) sees the old file or the whole
 * new one. Returns 0, or -1 with errno. */
int json_write_file_atomic(const char *dir, const char *name, const json_t *json,
    size_t flags);

#endif
