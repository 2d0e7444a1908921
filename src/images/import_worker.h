/* The import worker: runs in a child process, reads an image archive (docker
 * save or OCI layout; tar, gzip or zstd) from a descriptor with libarchive,
 * and stages every regular file as STAGE/<sha256 hex>. Archive names never
 * become paths: a hostile "../../etc/passwd" entry is just a name in the
 * report. Writes one JSON line per entry to the report descriptor:
 *   {"path": "...", "digest": "sha256:...", "size": N, "gzip": bool}
 *   {"path": "...", "link": "target"}           (symlinks and hardlinks)
 * and a last line {"done": true} or {"error": "..."}; an error that is not
 * the archive's (libarchive cannot be loaded) adds "internal": true. */
#ifndef KEG_IMAGES_IMPORT_WORKER_H
#define KEG_IMAGES_IMPORT_WORKER_H

#include <stdint.h>

struct import_limits {
	int64_t max_total_bytes;	/* all entries together, uncompressed */
	int64_t max_entries;
};

/* Returns the exit status for the child. */
int import_worker_run(int in_fd, int report_fd, const char *stage_dir,
    const struct import_limits *limits);

#endif
