/* Mounts as containerd describes them — [{"type", "source", "options"}], the
 * value of GET /v1/snapshots/{key}/mounts — put on a directory with
 * mount(2), and taken off again. For the daemon's own use (image mount,
 * task root file systems) and its tests. */
#ifndef KEG_SNAPSHOTTERS_MOUNT_H
#define KEG_SNAPSHOTTERS_MOUNT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Mounts each entry of mounts on target, in order. On failure the ones
 * already made are taken off again and err says what failed. */
int mounts_mount(const json_t *mounts, const char *target, char *err, size_t errlen);

/* Takes off everything mounted on target, newest first, until target is no
 * mount point; detach (MNT_DETACH) lets a busy mount go once unused. */
int mounts_unmount(const char *target, bool detach, char *err, size_t errlen);

/* A copy of mounts with each one read-only ("ro" appended), for a mount
 * that only reads. It is also cheaper to take off: unmounting a read-write
 * overlay syncs its upper directory's whole file system (the host's, with
 * everyone's dirty data: tens of ms), a read-only one does not. */
json_t *mounts_read_only(const json_t *mounts);

/* The directory a writer may fill directly instead of through a mount (as
 * containerd's overlay applier does for an unpack): a read-write bind's
 * source, or overlay's upperdir. NULL when the mounts are read-only.
 * Caller frees. */
char *mounts_writable_dir(const json_t *mounts);

#endif
