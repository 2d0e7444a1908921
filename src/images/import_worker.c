#include "images/import_worker.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "content/digest.h"
#include "lazy/lazy_archive.h"

#define NAME_MAX_BYTES 4096

struct worker {
	struct archive *a;
	int report_fd;
	const char *stage;
	const struct import_limits *limits;
	int64_t total;
	int64_t entries;
	char err[512];
};

static int
report(struct worker *w, json_t *line)
{
	char *text = json_dumps(line, JSON_COMPACT);
	json_decref(line);
	size_t len = strlen(text);
	text[len] = '\n';
	const char *p = text;
	size_t left = len + 1;
	while (left > 0) {
		ssize_t n = write(w->report_fd, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(text);
			return -1;
		}
		p += n;
		left -= (size_t)n;
	}
	free(text);
	return 0;
}

static int
fail(struct worker *w, const char *fmt, const char *arg)
{
	snprintf(w->err, sizeof(w->err), fmt, arg);
	return -1;
}

/* Copies the entry's data into a temp file while hashing, then names the
 * file by its digest. */
static int
stage_file(struct worker *w, const char *path)
{
	char *tmp = xasprintf("%s/.partial", w->stage);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		free(tmp);
		return fail(w, "staging: %s", strerror(errno));
	}
	struct digester dg;
	digester_init(&dg);
	unsigned char head[2] = { 0, 0 };
	int64_t size = 0;
	char buf[65536];
	la_ssize_t n;
	int rc = 0;
	while ((n = archive_read_data(w->a, buf, sizeof(buf))) > 0) {
		if (size < 2)
			memcpy(head + size, buf, (size_t)(n < 2 - size ? n : 2 - size));
		size += n;
		w->total += n;
		if (w->total > w->limits->max_total_bytes) {
			rc = fail(w, "the archive is larger than the import limit%s", "");
			break;
		}
		digester_update(&dg, buf, (size_t)n);
		if (write(fd, buf, (size_t)n) != n) {
			rc = fail(w, "staging: %s", strerror(errno));
			break;
		}
	}
	if (n < 0 && rc == 0)
		rc = fail(w, "reading the archive: %s", archive_error_string(w->a));
	close(fd);
	char digest[DIGEST_LEN + 1];
	digester_final(&dg, digest);
	digester_free(&dg);
	char *final = xasprintf("%s/%s", w->stage, digest_hex(digest));
	if (rc == 0 && rename(tmp, final) < 0)
		rc = fail(w, "staging: %s", strerror(errno));
	free(tmp);
	free(final);
	if (rc == 0)
		rc = report(w, json_pack("{s:s,s:s,s:I,s:b}", "path", path, "digest", digest,
		    "size", (json_int_t)size, "gzip", head[0] == 0x1f && head[1] == 0x8b));
	return rc;
}

static int
handle_entry(struct worker *w, struct archive_entry *e)
{
	const char *path = archive_entry_pathname(e);
	if (path == NULL || strlen(path) > NAME_MAX_BYTES)
		return fail(w, "an archive entry has no usable name%s", "");
	if (++w->entries > w->limits->max_entries)
		return fail(w, "the archive has more entries than the import limit%s", "");
	const char *hardlink = archive_entry_hardlink(e);
	mode_t type = archive_entry_filetype(e);
	if (hardlink != NULL)
		return report(w, json_pack("{s:s,s:s}", "path", path, "link", hardlink));
	if (type == AE_IFLNK) {
		const char *target = archive_entry_symlink(e);
		return target ? report(w, json_pack("{s:s,s:s}", "path", path, "link", target)) : 0;
	}
	if (type == AE_IFREG)
		return stage_file(w, path);
	return 0; /* directories and specials carry nothing an image needs */
}

static struct archive *
open_reader(int fd)
{
	struct archive *a = archive_read_new();
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_none(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_fd(a, fd, 65536) != ARCHIVE_OK) {
		archive_read_free(a);
		return NULL;
	}
	return a;
}

int
import_worker_run(int in_fd, int report_fd, const char *stage_dir,
    const struct import_limits *limits)
{
	struct worker w = { .report_fd = report_fd, .stage = stage_dir, .limits = limits };
	/* kegd does not link libarchive (src/lazy/lazy_archive.h): this child
	 * opens it. Not the archive's fault when that fails: "internal". */
	if (lazy_archive_load(w.err, sizeof(w.err)) < 0) {
		report(&w, json_pack("{s:s,s:b}", "error", w.err, "internal", 1));
		return 1;
	}
	w.a = open_reader(in_fd);
	if (w.a == NULL) {
		report(&w, json_pack("{s:s}", "error", "not a tar archive"));
		return 1;
	}
	struct archive_entry *e;
	int r, rc = 0;
	while (rc == 0 && (r = archive_read_next_header(w.a, &e)) == ARCHIVE_OK)
		rc = handle_entry(&w, e);
	if (rc == 0 && r != ARCHIVE_EOF)
		rc = fail(&w, "reading the archive: %s", archive_error_string(w.a));
	if (rc == 0 && w.entries == 0)
		rc = fail(&w, "the archive is empty or not a tar archive%s", "");
	archive_read_free(w.a);
	report(&w, rc == 0 ? json_pack("{s:b}", "done", 1) : json_pack("{s:s}", "error", w.err));
	return rc == 0 ? 0 : 1;
}
