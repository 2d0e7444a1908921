/* The new container's root file system, mounted only while its spec is
 * built: users and groups come from the image's own /etc/passwd and
 * /etc/group, read by the oci code relative to a directory fd so nothing
 * outside the rootfs can be reached through it. The mount point is a fresh
 * private directory under STATE/tmp, never a path a client chose. */
#include "containers/containers.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "oci/spec.h"
#include "snapshotters/mount.h"

/* STATE/tmp as a real directory of ours, 0700: a symlink planted there
 * must not send the mount elsewhere. */
static int
private_tmp(const char *state_dir, char *out, size_t outlen, struct container_error *err)
{
	struct stat st;
	if (snprintf(out, outlen, "%s/tmp", state_dir) >= (int)outlen) {
		container_error_set(err, ERR_INTERNAL, "state directory path too long");
		return -1;
	}
	if (mkdir(out, 0700) < 0 && errno != EEXIST) {
		container_error_set(err, ERR_INTERNAL, "mkdir %s: %s", out, strerror(errno));
		return -1;
	}
	if (lstat(out, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid()) {
		container_error_set(err, ERR_INTERNAL, "%s is not a directory of kegd's", out);
		return -1;
	}
	return 0;
}

static int
make_mount_point(const char *state_dir, char *dir, size_t len, struct container_error *err)
{
	char tmp[PATH_MAX];
	if (private_tmp(state_dir, tmp, sizeof(tmp), err) < 0)
		return -1;
	if (snprintf(dir, len, "%s/rootfs-XXXXXX", tmp) >= (int)len || mkdtemp(dir) == NULL) {
		container_error_set(err, ERR_INTERNAL, "making a mount point in %s: %s", tmp,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* Takes the mounts off and the directory away; a busy mount is detached so
 * the directory never stays mounted. */
static void
release_mount_point(const char *dir, bool mounted)
{
	char why[512];
	if (mounted && mounts_unmount(dir, false, why, sizeof(why)) < 0) {
		log_warn("containers: unmounting %s: %s; detaching", dir, why);
		if (mounts_unmount(dir, true, why, sizeof(why)) < 0)
			log_error("containers: detaching %s: %s", dir, why);
	}
	if (rmdir(dir) < 0)
		log_warn("containers: removing %s: %s", dir, strerror(errno));
}

static json_t *
build_on(const char *dir, struct oci_spec_input *in, struct container_error *err)
{
	int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		container_error_set(err, ERR_INTERNAL, "opening the rootfs: %s", strerror(errno));
		return NULL;
	}
	struct oci_error oerr;
	in->rootfs_fd = fd;
	json_t *spec = oci_spec_build(in, &oerr);
	in->rootfs_fd = -1;
	close(fd);
	/* The spec a task will run is checked now too: an expert's base spec
	 * that no task could start is refused at create. */
	if (spec != NULL && oci_spec_check(spec, &oerr) < 0) {
		json_decref(spec);
		spec = NULL;
	}
	if (spec == NULL)
		container_error_set(err, oerr.code, "%s", oerr.message);
	return spec;
}

json_t *
container_build_spec(const char *state_dir, const json_t *mounts, struct oci_spec_input *in,
    struct container_error *err)
{
	char dir[PATH_MAX], why[512];
	if (make_mount_point(state_dir, dir, sizeof(dir), err) < 0)
		return NULL;
	/* Only read: read-only, which also spares the unmount a sync of the
	 * host's file system. */
	json_t *ro = mounts_read_only(mounts);
	int rc = mounts_mount(ro, dir, why, sizeof(why));
	json_decref(ro);
	if (rc < 0) {
		container_error_set(err, ERR_INTERNAL, "mounting the rootfs: %s", why);
		release_mount_point(dir, false);
		return NULL;
	}
	json_t *spec = build_on(dir, in, err);
	release_mount_point(dir, true);
	return spec;
}
