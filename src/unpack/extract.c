#include "unpack/extract.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "unpack/beneath.h"
#include "unpack/entry_rules.h"
#include "unpack/whiteout.h"
#include "unpack/xattr_policy.h"

#define XATTR_NAME_LIMIT 255	/* the kernel's XATTR_NAME_MAX */

/* Not ARCHIVE_EXTRACT_SECURE_SYMLINKS: check_parents has already proved,
 * with one openat2(RESOLVE_NO_SYMLINKS), that every existing parent is a
 * real directory below the root, and nothing else changes the tree while
 * the worker writes it. libarchive's own check repeats that with an open,
 * a stat and a close per path component: two thirds of the system calls
 * of an unpack (~30 per entry). A symlink in the entry's own place is
 * still replaced, never written through (O_CREAT|O_EXCL, then unlink). */
static const int disk_flags = ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM |
    ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_ACL |
    ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS;

void
extractor_init(struct extractor *x, const struct unpack_request *req, struct failure *fail_out)
{
	*x = (struct extractor){ .req = req, .fail = fail_out };
	x->disk = archive_write_disk_new();
	archive_write_disk_set_options(x->disk, disk_flags);
	x->path = xmalloc((size_t)req->limits.max_path + 1);
	x->link = xmalloc((size_t)req->limits.max_path + 1);
	if (req->mode == UNPACK_NATIVE)
		x->written = pathset_new();
}

void
extractor_free(struct extractor *x)
{
	if (x->disk != NULL)
		archive_write_free(x->disk);
	pathset_free(x->written);
	free(x->path);
	free(x->link);
	*x = (struct extractor){ 0 };
}

/* ---- checks on the header ------------------------------------------------ */

static int
clean_name(struct extractor *x, const char *name, char *out, const char *what)
{
	if (name == NULL || name[0] == '\0')
		return fail(x->fail, UNPACK_INVALID_LAYER, "an entry has an empty %s", what);
	switch (entry_clean_path(name, out, (size_t)x->req->limits.max_path)) {
	case PATH_OK:
		return 0;
	case PATH_ABSOLUTE:
		return fail(x->fail, UNPACK_UNSAFE_ENTRY, "%s: an absolute %s", name, what);
	case PATH_DOTDOT:
		return fail(x->fail, UNPACK_UNSAFE_ENTRY, "%s: a %s with a '..' component", name, what);
	case PATH_TOO_LONG:
		return fail(x->fail, UNPACK_LIMIT_EXCEEDED, "an entry's %s is longer than %lld bytes",
		    what, (long long)x->req->limits.max_path);
	}
	return -1;
}

static int
check_type(struct extractor *x, struct archive_entry *e)
{
	switch (archive_entry_filetype(e)) {
	case AE_IFREG: case AE_IFDIR: case AE_IFLNK: case AE_IFIFO:
		return 0;
	case AE_IFCHR: case AE_IFBLK:
		if (entry_device_ok(archive_entry_rdevmajor(e), archive_entry_rdevminor(e)))
			return 0;
		return fail(x->fail, UNPACK_UNSAFE_ENTRY, "%s: device number %lld:%lld is not "
		    "one Linux can have", x->path, (long long)archive_entry_rdevmajor(e),
		    (long long)archive_entry_rdevminor(e));
	default:
		return fail(x->fail, UNPACK_INVALID_LAYER, "%s: unsupported entry type 0%o",
		    x->path, (unsigned)archive_entry_filetype(e));
	}
}

static int
check_symlink(struct extractor *x, struct archive_entry *e)
{
	const char *target = archive_entry_symlink(e);
	if (target == NULL || target[0] == '\0')
		return fail(x->fail, UNPACK_INVALID_LAYER, "%s: a symlink to nothing", x->path);
	if ((int64_t)strlen(target) > x->req->limits.max_path)
		return fail(x->fail, UNPACK_LIMIT_EXCEEDED, "%s: symlink target longer than "
		    "%lld bytes", x->path, (long long)x->req->limits.max_path);
	return 0;
}

/* A hardlink may name only what already exists inside the target, reached
 * without a symlink, and not a directory. Its data, if any (pax allows
 * some), is dropped: writing through a fresh link is how a layer would
 * write into a device node. */
static int
check_hardlink(struct extractor *x, struct archive_entry *e, const char *target)
{
	if (clean_name(x, target, x->link, "hardlink target") < 0)
		return -1;
	struct stat st;
	if (x->link[0] == '\0' || beneath_lstat(x->link, &st) < 0) {
		if (x->link[0] != '\0' && errno == ELOOP)
			return fail(x->fail, UNPACK_UNSAFE_ENTRY, "%s: hardlink target %s is reached "
			    "through a symlink", x->path, target);
		return fail(x->fail, UNPACK_UNSAFE_ENTRY, "%s: hardlink target %s is not an "
		    "entry extracted before it", x->path, target);
	}
	if (S_ISDIR(st.st_mode))
		return fail(x->fail, UNPACK_UNSAFE_ENTRY, "%s: a hardlink to directory %s",
		    x->path, target);
	archive_entry_set_hardlink(e, x->link);
	archive_entry_set_size(e, 0);
	return 0;
}

static int
check_owner(struct extractor *x, struct archive_entry *e)
{
	if (entry_id_ok(archive_entry_uid(e)) && entry_id_ok(archive_entry_gid(e)))
		return 0;
	return fail(x->fail, UNPACK_INVALID_LAYER, "%s: owner %lld:%lld is out of range",
	    x->path, (long long)archive_entry_uid(e), (long long)archive_entry_gid(e));
}

static int
check_size(struct extractor *x, struct archive_entry *e)
{
	if (archive_entry_filetype(e) != AE_IFREG || archive_entry_hardlink(e) != NULL)
		return 0;
	int64_t size = archive_entry_size(e);
	if (size < 0 || size > x->req->limits.max_bytes - x->bytes)
		return fail(x->fail, UNPACK_LIMIT_EXCEEDED, "%s: the layer writes more than the "
		    "limit of %lld bytes", x->path, (long long)x->req->limits.max_bytes);
	x->bytes += size;
	return 0;
}

static int
check_header(struct extractor *x, struct archive_entry *e)
{
	const char *hardlink = archive_entry_hardlink(e);
	if (x->path[0] == '\0' && (archive_entry_filetype(e) != AE_IFDIR || hardlink != NULL))
		return fail(x->fail, UNPACK_UNSAFE_ENTRY, "the layer's root entry is not a directory");
	if (check_owner(x, e) < 0)
		return -1;
	if (hardlink != NULL)
		return check_hardlink(x, e, hardlink);
	if (check_type(x, e) < 0 || check_size(x, e) < 0)
		return -1;
	return archive_entry_filetype(e) == AE_IFLNK ? check_symlink(x, e) : 0;
}

/* ---- extended attributes ------------------------------------------------- */

static int
check_xattr(struct extractor *x, const char *name, size_t size)
{
	if (strlen(name) > XATTR_NAME_LIMIT)
		return fail(x->fail, UNPACK_INVALID_LAYER, "%s: an xattr name is too long", x->path);
	if ((int64_t)size > x->req->limits.max_xattr_size)
		return fail(x->fail, UNPACK_LIMIT_EXCEEDED, "%s: xattr %s is larger than %lld bytes",
		    x->path, name, (long long)x->req->limits.max_xattr_size);
	return 0;
}

/* Rebuilds the entry's xattr list with what xattr_policy keeps. */
static int
filter_xattrs(struct extractor *x, struct archive_entry *e)
{
	struct archive_entry *kept = archive_entry_new();
	const char *name;
	const void *value;
	size_t size;
	int rc = 0;
	archive_entry_xattr_reset(e);
	while (rc == 0 && archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
		enum xattr_verdict v = xattr_policy(name);
		if (v == XATTR_REFUSE)
			rc = fail(x->fail, UNPACK_UNSAFE_ENTRY, "%s: xattr %s is overlayfs metadata, "
			    "which a layer may not set", x->path, name);
		else if (v == XATTR_SKIP)
			x->xattrs_skipped++;
		else if ((rc = check_xattr(x, name, size)) == 0)
			archive_entry_xattr_add_entry(kept, name, value, size);
	}
	if (rc == 0) {
		archive_entry_xattr_clear(e);
		archive_entry_xattr_reset(kept);
		while (archive_entry_xattr_next(kept, &name, &value, &size) == ARCHIVE_OK)
			archive_entry_xattr_add_entry(e, name, value, size);
	}
	archive_entry_free(kept);
	return rc;
}

/* ---- the way to the entry ------------------------------------------------ */

/* Every existing parent must be a real directory: a symlink among them
 * (from this layer or, in native mode, the parent's) would redirect the
 * write, and a file, device or FIFO cannot hold an entry. Missing parents
 * are fine; the writer makes them. */
static int
check_parents(struct extractor *x)
{
	if (x->path[0] == '\0')
		return 0;
	const char *leaf;
	int dfd = beneath_open_parent(x->path, false, &leaf);
	if (dfd >= 0) {
		close(dfd);
		return 0;
	}
	if (errno == ELOOP)
		return fail(x->fail, UNPACK_UNSAFE_ENTRY, "%s: the path passes through a symlink",
		    x->path);
	if (errno == ENOTDIR)
		return fail(x->fail, UNPACK_INVALID_LAYER, "%s: a parent is not a directory",
		    x->path);
	return 0;
}

/* Native mode: a non-directory replacing the parent's directory takes its
 * whole tree away, as overlayfs would hide it. */
static int
clear_way(struct extractor *x, struct archive_entry *e)
{
	struct stat st;
	if (x->req->mode != UNPACK_NATIVE || archive_entry_filetype(e) == AE_IFDIR ||
	    x->path[0] == '\0' || beneath_lstat(x->path, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0;
	const char *leaf;
	int dfd = beneath_open_parent(x->path, false, &leaf);
	int rc = dfd >= 0 ? beneath_remove(dfd, leaf) : -1;
	if (dfd >= 0)
		close(dfd);
	if (rc < 0)
		return fail(x->fail, UNPACK_WRITE_FAILED, "%s: cannot replace the directory: %s",
		    x->path, strerror(errno));
	return 0;
}

/* ---- writing ------------------------------------------------------------- */

/* libarchive's own refusals carry no errno; the filesystem's do. */
static int
disk_failed(struct extractor *x, const char *what)
{
	int err = archive_errno(x->disk);
	return fail(x->fail, err > 0 ? UNPACK_WRITE_FAILED : UNPACK_UNSAFE_ENTRY, "%s: %s: %s",
	    x->path[0] ? x->path : ".", what, archive_error_string(x->disk));
}

static int
copy_data(struct extractor *x, struct archive *tar)
{
	const void *buf;
	size_t size;
	la_int64_t offset;
	int r;
	while ((r = archive_read_data_block(tar, &buf, &size, &offset)) == ARCHIVE_OK)
		if (archive_write_data_block(x->disk, buf, size, offset) != ARCHIVE_OK)
			return disk_failed(x, "writing");
	if (r != ARCHIVE_EOF)
		return fail(x->fail, UNPACK_INVALID_LAYER, "%s: reading the layer: %s", x->path,
		    archive_error_string(tar));
	return 0;
}

/* libarchive defers the times of the directories it makes until nothing
 * more is written inside them, but sets those of the existing root at once;
 * writing its children would then move them. They are set again at the end. */
static void
remember_root_times(struct extractor *x, struct archive_entry *e)
{
	if (x->path[0] != '\0' || !archive_entry_mtime_is_set(e))
		return;
	struct timespec mtime = { archive_entry_mtime(e), archive_entry_mtime_nsec(e) };
	struct timespec atime = { archive_entry_atime(e), archive_entry_atime_nsec(e) };
	x->root_times[0] = archive_entry_atime_is_set(e) ? atime : mtime;
	x->root_times[1] = mtime;
	x->root_times_set = true;
}

static int
write_entry(struct extractor *x, struct archive *tar, struct archive_entry *e)
{
	remember_root_times(x, e);
	archive_entry_set_pathname(e, x->path[0] ? x->path : ".");
	if (archive_write_header(x->disk, e) != ARCHIVE_OK)
		return disk_failed(x, "creating");
	bool has_data = archive_entry_filetype(e) == AE_IFREG &&
	    archive_entry_hardlink(e) == NULL && archive_entry_size(e) > 0;
	if (has_data && copy_data(x, tar) < 0)
		return -1;
	if (archive_write_finish_entry(x->disk) != ARCHIVE_OK)
		return disk_failed(x, "restoring metadata");
	if (x->written != NULL)
		pathset_add_with_parents(x->written, x->path);
	return 0;
}

static int
apply_whiteout(struct extractor *x, struct archive_entry *e, const struct whiteout *w)
{
	if (w->kind == WHITEOUT_META)
		return 0;
	if (w->kind == WHITEOUT_BAD)
		return fail(x->fail, UNPACK_UNSAFE_ENTRY, "%s: a whiteout that names no sibling",
		    x->path);
	if (check_owner(x, e) < 0)
		return -1;
	struct whiteout_ctx ctx = { x->req->mode, x->written, x->fail };
	return whiteout_apply(&ctx, x->path, w, archive_entry_uid(e), archive_entry_gid(e));
}

static int
extract_entry(struct extractor *x, struct archive *tar, struct archive_entry *e)
{
	if (++x->entries > x->req->limits.max_entries)
		return fail(x->fail, UNPACK_LIMIT_EXCEEDED, "the layer has more than %lld entries",
		    (long long)x->req->limits.max_entries);
	if (clean_name(x, archive_entry_pathname(e), x->path, "name") < 0)
		return -1;
	struct whiteout w = entry_whiteout(x->path);
	if (w.kind != WHITEOUT_NONE)
		return apply_whiteout(x, e, &w);
	if (check_header(x, e) < 0 || filter_xattrs(x, e) < 0 || check_parents(x) < 0 ||
	    clear_way(x, e) < 0)
		return -1;
	return write_entry(x, tar, e);
}

int
extractor_run(struct extractor *x, struct archive *tar)
{
	struct archive_entry *e;
	int r;
	while ((r = archive_read_next_header(tar, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN)
		if (extract_entry(x, tar, e) < 0)
			return -1;
	if (r != ARCHIVE_EOF)
		return fail(x->fail, UNPACK_INVALID_LAYER, "reading the layer: %s",
		    archive_error_string(tar));
	/* Directory modes and times were deferred until nothing more is
	 * written inside them. */
	if (archive_write_close(x->disk) != ARCHIVE_OK)
		return disk_failed(x, "finishing directories");
	if (x->root_times_set && utimensat(AT_FDCWD, "/", x->root_times, 0) < 0)
		return fail(x->fail, UNPACK_WRITE_FAILED, "setting the root's times: %s",
		    strerror(errno));
	return 0;
}
