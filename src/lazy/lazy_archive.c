/* The libarchive functions kegd's workers call, forwarded to a libarchive
 * opened with dlopen() in the worker (lazylib.h). Linked, Debian's
 * libarchive brings libxml2, ICU, libstdc++, nettle, lzma, zstd, lz4 and
 * bz2 into the daemon, which never reads an archive itself: only its forked
 * children do. The prototypes come from <archive.h> and <archive_entry.h>,
 * so the compiler checks each definition against libarchive's own. A
 * function the workers start to use needs a line here (the link fails
 * until then). */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>

#include "lazy/lazy_archive.h"
#include "lazy/lazylib.h"

#define ARCHIVE_FUNCTIONS(X) \
	X(archive_errno) X(archive_error_string) X(archive_filter_name) \
	X(archive_read_new) X(archive_read_free) \
	X(archive_read_support_filter_gzip) X(archive_read_support_filter_zstd) \
	X(archive_read_support_filter_none) X(archive_read_support_format_tar) \
	X(archive_read_support_format_raw) \
	X(archive_read_open) X(archive_read_open_fd) X(archive_read_next_header) \
	X(archive_read_data) X(archive_read_data_block) \
	X(archive_write_new) X(archive_write_free) X(archive_write_close) \
	X(archive_write_fail) X(archive_write_add_filter_none) \
	X(archive_write_set_format_pax_restricted) X(archive_write_set_bytes_per_block) \
	X(archive_write_open_fd) X(archive_write_header) X(archive_write_data) \
	X(archive_write_data_block) X(archive_write_finish_entry) \
	X(archive_write_disk_new) X(archive_write_disk_set_options) \
	X(archive_entry_new) X(archive_entry_free) \
	X(archive_entry_pathname) X(archive_entry_hardlink) X(archive_entry_symlink) \
	X(archive_entry_filetype) X(archive_entry_size) \
	X(archive_entry_uid) X(archive_entry_gid) \
	X(archive_entry_rdevmajor) X(archive_entry_rdevminor) \
	X(archive_entry_atime) X(archive_entry_atime_nsec) X(archive_entry_atime_is_set) \
	X(archive_entry_mtime) X(archive_entry_mtime_nsec) X(archive_entry_mtime_is_set) \
	X(archive_entry_set_pathname) X(archive_entry_set_hardlink) \
	X(archive_entry_set_filetype) X(archive_entry_set_perm) X(archive_entry_set_size) \
	X(archive_entry_set_uid) X(archive_entry_set_gid) X(archive_entry_set_mtime) \
	X(archive_entry_xattr_add_entry) X(archive_entry_xattr_clear) \
	X(archive_entry_xattr_reset) X(archive_entry_xattr_next)

enum { ARCHIVE_FUNCTIONS(LAZYLIB_INDEX) N_ARCHIVE_FUNCTIONS };
static const char *const names[] = { ARCHIVE_FUNCTIONS(LAZYLIB_NAME) };
static void *syms[N_ARCHIVE_FUNCTIONS];
/* KEG_LIBARCHIVE_SONAME: what kegd would have linked, found by configure. */
static struct lazylib archive_lib = {
	KEG_LIBARCHIVE_SONAME, names, syms, N_ARCHIVE_FUNCTIONS, false
};

#define REAL(fn) LAZYLIB_REAL(&archive_lib, fn)

int
lazy_archive_load(char *err, size_t errlen)
{
	return lazylib_load(&archive_lib, err, errlen);
}

/* ---- struct archive: errors, reading, writing ------------------------------ */

int
archive_errno(struct archive *a)
{
	return REAL(archive_errno)(a);
}

const char *
archive_error_string(struct archive *a)
{
	return REAL(archive_error_string)(a);
}

const char *
archive_filter_name(struct archive *a, int n)
{
	return REAL(archive_filter_name)(a, n);
}

struct archive *
archive_read_new(void)
{
	return REAL(archive_read_new)();
}

int
archive_read_free(struct archive *a)
{
	return REAL(archive_read_free)(a);
}

int
archive_read_support_filter_gzip(struct archive *a)
{
	return REAL(archive_read_support_filter_gzip)(a);
}

int
archive_read_support_filter_zstd(struct archive *a)
{
	return REAL(archive_read_support_filter_zstd)(a);
}

int
archive_read_support_filter_none(struct archive *a)
{
	return REAL(archive_read_support_filter_none)(a);
}

int
archive_read_support_format_tar(struct archive *a)
{
	return REAL(archive_read_support_format_tar)(a);
}

int
archive_read_support_format_raw(struct archive *a)
{
	return REAL(archive_read_support_format_raw)(a);
}

int
archive_read_open(struct archive *a, void *client_data, archive_open_callback *open_cb,
    archive_read_callback *read_cb, archive_close_callback *close_cb)
{
	return REAL(archive_read_open)(a, client_data, open_cb, read_cb, close_cb);
}

int
archive_read_open_fd(struct archive *a, int fd, size_t block_size)
{
	return REAL(archive_read_open_fd)(a, fd, block_size);
}

int
archive_read_next_header(struct archive *a, struct archive_entry **entry)
{
	return REAL(archive_read_next_header)(a, entry);
}

la_ssize_t
archive_read_data(struct archive *a, void *buf, size_t len)
{
	return REAL(archive_read_data)(a, buf, len);
}

int
archive_read_data_block(struct archive *a, const void **buf, size_t *size, la_int64_t *offset)
{
	return REAL(archive_read_data_block)(a, buf, size, offset);
}

struct archive *
archive_write_new(void)
{
	return REAL(archive_write_new)();
}

int
archive_write_free(struct archive *a)
{
	return REAL(archive_write_free)(a);
}

int
archive_write_close(struct archive *a)
{
	return REAL(archive_write_close)(a);
}

int
archive_write_fail(struct archive *a)
{
	return REAL(archive_write_fail)(a);
}

int
archive_write_add_filter_none(struct archive *a)
{
	return REAL(archive_write_add_filter_none)(a);
}

int
archive_write_set_format_pax_restricted(struct archive *a)
{
	return REAL(archive_write_set_format_pax_restricted)(a);
}

int
archive_write_set_bytes_per_block(struct archive *a, int bytes_per_block)
{
	return REAL(archive_write_set_bytes_per_block)(a, bytes_per_block);
}

int
archive_write_open_fd(struct archive *a, int fd)
{
	return REAL(archive_write_open_fd)(a, fd);
}

int
archive_write_header(struct archive *a, struct archive_entry *entry)
{
	return REAL(archive_write_header)(a, entry);
}

la_ssize_t
archive_write_data(struct archive *a, const void *buf, size_t len)
{
	return REAL(archive_write_data)(a, buf, len);
}

la_ssize_t
archive_write_data_block(struct archive *a, const void *buf, size_t len, la_int64_t offset)
{
	return REAL(archive_write_data_block)(a, buf, len, offset);
}

int
archive_write_finish_entry(struct archive *a)
{
	return REAL(archive_write_finish_entry)(a);
}

struct archive *
archive_write_disk_new(void)
{
	return REAL(archive_write_disk_new)();
}

int
archive_write_disk_set_options(struct archive *a, int flags)
{
	return REAL(archive_write_disk_set_options)(a, flags);
}

/* ---- struct archive_entry ---------------------------------------------------- */

struct archive_entry *
archive_entry_new(void)
{
	return REAL(archive_entry_new)();
}

void
archive_entry_free(struct archive_entry *e)
{
	REAL(archive_entry_free)(e);
}

const char *
archive_entry_pathname(struct archive_entry *e)
{
	return REAL(archive_entry_pathname)(e);
}

const char *
archive_entry_hardlink(struct archive_entry *e)
{
	return REAL(archive_entry_hardlink)(e);
}

const char *
archive_entry_symlink(struct archive_entry *e)
{
	return REAL(archive_entry_symlink)(e);
}

__LA_MODE_T
archive_entry_filetype(struct archive_entry *e)
{
	return REAL(archive_entry_filetype)(e);
}

la_int64_t
archive_entry_size(struct archive_entry *e)
{
	return REAL(archive_entry_size)(e);
}

la_int64_t
archive_entry_uid(struct archive_entry *e)
{
	return REAL(archive_entry_uid)(e);
}

la_int64_t
archive_entry_gid(struct archive_entry *e)
{
	return REAL(archive_entry_gid)(e);
}

dev_t
archive_entry_rdevmajor(struct archive_entry *e)
{
	return REAL(archive_entry_rdevmajor)(e);
}

dev_t
archive_entry_rdevminor(struct archive_entry *e)
{
	return REAL(archive_entry_rdevminor)(e);
}

time_t
archive_entry_atime(struct archive_entry *e)
{
	return REAL(archive_entry_atime)(e);
}

long
archive_entry_atime_nsec(struct archive_entry *e)
{
	return REAL(archive_entry_atime_nsec)(e);
}

int
archive_entry_atime_is_set(struct archive_entry *e)
{
	return REAL(archive_entry_atime_is_set)(e);
}

time_t
archive_entry_mtime(struct archive_entry *e)
{
	return REAL(archive_entry_mtime)(e);
}

long
archive_entry_mtime_nsec(struct archive_entry *e)
{
	return REAL(archive_entry_mtime_nsec)(e);
}

int
archive_entry_mtime_is_set(struct archive_entry *e)
{
	return REAL(archive_entry_mtime_is_set)(e);
}

void
archive_entry_set_pathname(struct archive_entry *e, const char *name)
{
	REAL(archive_entry_set_pathname)(e, name);
}

void
archive_entry_set_hardlink(struct archive_entry *e, const char *target)
{
	REAL(archive_entry_set_hardlink)(e, target);
}

void
archive_entry_set_filetype(struct archive_entry *e, unsigned int type)
{
	REAL(archive_entry_set_filetype)(e, type);
}

void
archive_entry_set_perm(struct archive_entry *e, __LA_MODE_T perm)
{
	REAL(archive_entry_set_perm)(e, perm);
}

void
archive_entry_set_size(struct archive_entry *e, la_int64_t size)
{
	REAL(archive_entry_set_size)(e, size);
}

void
archive_entry_set_uid(struct archive_entry *e, la_int64_t uid)
{
	REAL(archive_entry_set_uid)(e, uid);
}

void
archive_entry_set_gid(struct archive_entry *e, la_int64_t gid)
{
	REAL(archive_entry_set_gid)(e, gid);
}

void
archive_entry_set_mtime(struct archive_entry *e, time_t sec, long nsec)
{
	REAL(archive_entry_set_mtime)(e, sec, nsec);
}

void
archive_entry_xattr_add_entry(struct archive_entry *e, const char *name, const void *value,
    size_t size)
{
	REAL(archive_entry_xattr_add_entry)(e, name, value, size);
}

void
archive_entry_xattr_clear(struct archive_entry *e)
{
	REAL(archive_entry_xattr_clear)(e);
}

int
archive_entry_xattr_reset(struct archive_entry *e)
{
	return REAL(archive_entry_xattr_reset)(e);
}

int
archive_entry_xattr_next(struct archive_entry *e, const char **name, const void **value,
    size_t *size)
{
	return REAL(archive_entry_xattr_next)(e, name, value, size);
}
