#include "images/export_tar.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "images/export_plan.h"
#include "images/mediatype.h"
#include "lazy/lazy_archive.h"

#define COPY_CHUNK (1024 * 1024)

static const char *
archive_why(struct archive *a)
{
	const char *why = archive_error_string(a);
	return why != NULL ? why : strerror(errno);
}

static int
write_header(struct archive *a, const char *path, unsigned type, unsigned perm, int64_t size)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, path);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, perm);
	archive_entry_set_size(e, size);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_mtime(e, 0, 0);
	int rc = archive_write_header(a, e);
	archive_entry_free(e);
	if (rc != ARCHIVE_OK) {
		log_error("export: %s: %s", path, archive_why(a));
		return -1;
	}
	return 0;
}

static int
write_data(struct archive *a, const char *path, const void *data, size_t len)
{
	if (archive_write_data(a, data, len) != (la_ssize_t)len) {
		log_error("export: %s: %s", path, archive_why(a));
		return -1;
	}
	return 0;
}

static int
write_doc(struct archive *a, const char *path, const char *text)
{
	size_t len = strlen(text);
	if (write_header(a, path, AE_IFREG, 0444, (int64_t)len) < 0)
		return -1;
	return write_data(a, path, text, len);
}

static int
write_json(struct archive *a, const char *path, const json_t *doc)
{
	char *text = json_dumps(doc, JSON_COMPACT);
	int rc = text != NULL ? write_doc(a, path, text) : -1;
	free(text);
	return rc;
}

static int
copy_file(struct archive *a, int fd, const struct export_blob *b, const char *path, char *buf)
{
	int64_t left = b->size;
	while (left > 0) {
		ssize_t n = read(fd, buf, left < COPY_CHUNK ? (size_t)left : COPY_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_error("export: reading %s: %s", b->file, n < 0 ? strerror(errno) :
			    "the file is shorter than it was");
			return -1;
		}
		if (write_data(a, path, buf, (size_t)n) < 0)
			return -1;
		left -= n;
	}
	return 0;
}

static int
write_blob(struct archive *a, const struct export_blob *b, char *buf)
{
	int fd = open(b->file, O_RDONLY | O_CLOEXEC);
	struct stat st;
	/* Removed or replaced since the plan was made (e.g. by GC): the header
	 * would announce a size the data cannot have. */
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size != b->size) {
		log_error("export: %s: %s", b->file, fd < 0 ? strerror(errno) :
		    "its size changed since the export began");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	char *path = export_blob_archive_path(b->digest);
	int rc = write_header(a, path, AE_IFREG, 0444, b->size);
	if (rc == 0)
		rc = copy_file(a, fd, b, path, buf);
	free(path);
	close(fd);
	return rc;
}

/* The small documents first: a reader can see what the archive holds
 * before the layers. */
static int
write_entries(struct archive *a, const struct export_plan *plan)
{
	json_t *index = json_pack("{s:i,s:s,s:O}", "schemaVersion", 2, "mediaType",
	    MT_OCI_INDEX, "manifests", plan->index);
	int rc = write_doc(a, "oci-layout", EXPORT_LAYOUT_DOC);
	if (rc == 0)
		rc = write_json(a, "index.json", index);
	if (rc == 0)
		rc = write_json(a, "manifest.json", plan->docker);
	if (rc == 0)
		rc = write_header(a, "blobs/", AE_IFDIR, 0755, 0);
	if (rc == 0)
		rc = write_header(a, "blobs/sha256/", AE_IFDIR, 0755, 0);
	char *buf = xmalloc(COPY_CHUNK);
	for (size_t i = 0; i < plan->n_blobs && rc == 0; i++)
		rc = write_blob(a, &plan->blobs[i], buf);
	free(buf);
	json_decref(index);
	return rc;
}

int
export_tar_write(int fd, const struct export_plan *plan)
{
	/* kegd does not link libarchive (src/lazy/lazy_archive.h): the export
	 * child opens it. */
	char err[256];
	if (lazy_archive_load(err, sizeof(err)) < 0) {
		log_error("export: %s", err);
		return -1;
	}
	struct archive *a = archive_write_new();
	int rc = -1;
	/* ustar unless an entry needs more (a blob over 8 GiB). No blocking:
	 * each write goes to the pipe as made, and the end is not padded to
	 * 10 KiB. */
	if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_add_filter_none(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(a, 0) != ARCHIVE_OK ||
	    archive_write_open_fd(a, fd) != ARCHIVE_OK)
		log_error("export: %s", archive_why(a));
	else if (write_entries(a, plan) == 0) {
		if (archive_write_close(a) == ARCHIVE_OK)
			rc = 0;
		else
			log_error("export: ending the archive: %s", archive_why(a));
	}
	/* A failed archive must not get its end marker: the client would take
	 * a truncated archive for a whole one. */
	if (rc < 0)
		archive_write_fail(a);
	archive_write_free(a);
	return rc;
}
