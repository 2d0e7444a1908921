#include "content/ingest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/timefmt.h"
#include "common/util.h"
#include "content/blobs.h"

#define META_MAX 4096

struct ingest {
	struct blob_store *bs;
	char *ref;
	char key[DIGEST_HEX_LEN + 1];	/* sha256 of ref: a safe directory name */
	char *dir;
	int fd;
	int64_t offset;
	struct digester dg;
};

static char *
ingest_file(const struct ingest *ing, const char *name)
{
	return xasprintf("%s/%s", ing->dir, name);
}

/* Small metadata files beside the data: written whole, read whole. */
static int
write_meta(const struct ingest *ing, const char *name, const char *value)
{
	char *path = ingest_file(ing, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	free(path);
	if (fd < 0)
		return -1;
	size_t len = strlen(value);
	int rc = write(fd, value, len) == (ssize_t)len ? 0 : -1;
	close(fd);
	return rc;
}

static char *
read_meta_at(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	free(path);
	if (fd < 0)
		return NULL;
	char buf[META_MAX + 1];
	ssize_t n = read(fd, buf, META_MAX);
	close(fd);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return xstrdup(buf);
}

/* Re-reads the bytes a previous writer left, so the digest covers them. */
static int
rehash_existing(struct ingest *ing)
{
	char buf[65536];
	ssize_t n;
	if (lseek(ing->fd, 0, SEEK_SET) < 0)
		return -1;
	while ((n = read(ing->fd, buf, sizeof(buf))) > 0) {
		digester_update(&ing->dg, buf, (size_t)n);
		ing->offset += n;
	}
	return n < 0 ? -1 : 0;
}

static void
ingest_free(struct ingest *ing)
{
	if (ing->fd >= 0)
		close(ing->fd);
	blob_store_unlock_ref(ing->bs, ing->key);
	digester_free(&ing->dg);
	free(ing->ref);
	free(ing->dir);
	free(ing);
}

/* A leftover for another digest is useless: start it over. */
static bool
leftover_matches(struct ingest *ing, const char *expected)
{
	char *old = read_meta_at(ing->dir, "expected");
	bool same = expected == NULL || old == NULL || strcmp(old, expected) == 0;
	free(old);
	return same;
}

static int
ingest_prepare(struct ingest *ing, const char *expected, int64_t total)
{
	if (mkdir(ing->dir, 0700) < 0 && errno != EEXIST)
		return -1;
	char *data = ingest_file(ing, "data");
	ing->fd = open(data, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	free(data);
	if (ing->fd < 0)
		return -1;
	if (!leftover_matches(ing, expected) && ftruncate(ing->fd, 0) < 0)
		return -1;
	char total_text[32];
	snprintf(total_text, sizeof(total_text), "%lld", (long long)total);
	if (write_meta(ing, "ref", ing->ref) < 0 || write_meta(ing, "total", total_text) < 0 ||
	    write_meta(ing, "expected", expected ? expected : "") < 0)
		return -1;
	return rehash_existing(ing);
}

struct ingest *
ingest_open(struct blob_store *bs, const char *ref, const char *expected, int64_t total,
    char **err)
{
	struct ingest *ing = xcalloc(1, sizeof(*ing));
	ing->bs = bs;
	ing->fd = -1;
	ing->ref = xstrdup(ref);
	char d[DIGEST_LEN + 1];
	digest_buffer(ref, strlen(ref), d);
	memcpy(ing->key, digest_hex(d), DIGEST_HEX_LEN + 1);
	ing->dir = xasprintf("%s/ingest/%s", blob_store_dir(bs), ing->key);
	digester_init(&ing->dg);
	if (!blob_store_lock_ref(bs, ing->key)) {
		*err = xasprintf("ref %s is locked: another writer is active", ref);
		ing->key[0] = '\0';
		ingest_free(ing);
		errno = EBUSY;
		return NULL;
	}
	if (ingest_prepare(ing, expected, total) < 0) {
		*err = xasprintf("ingest %s: %s", ref, strerror(errno));
		ingest_free(ing);
		return NULL;
	}
	return ing;
}

int64_t
ingest_offset(const struct ingest *ing)
{
	return ing->offset;
}

const char *
ingest_ref(const struct ingest *ing)
{
	return ing->ref;
}

int
ingest_write(struct ingest *ing, const void *buf, size_t len)
{
	const char *p = buf;
	size_t left = len;
	while (left > 0) {
		ssize_t n = pwrite(ing->fd, p, left, ing->offset);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		digester_update(&ing->dg, p, (size_t)n);
		ing->offset += n;
		p += n;
		left -= (size_t)n;
	}
	return 0;
}

int
ingest_restart(struct ingest *ing)
{
	if (ftruncate(ing->fd, 0) < 0)
		return -1;
	digester_free(&ing->dg);
	digester_init(&ing->dg);
	ing->offset = 0;
	return 0;
}

/* The data goes first, in one step: a crash part way leaves no bytes that
 * lost the metadata saying what they must be (a resume would take them). */
static int
remove_dir_files(const char *dir)
{
	char *data = xasprintf("%s/data", dir);
	unlink(data);
	free(data);
	DIR *dp = opendir(dir);
	if (dp == NULL)
		return errno == ENOENT ? 0 : -1;
	struct dirent *de;
	while ((de = readdir(dp)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		unlinkat(dirfd(dp), de->d_name, 0);
	}
	closedir(dp);
	return rmdir(dir);
}

void
ingest_discard(struct ingest *ing)
{
	remove_dir_files(ing->dir);
	ingest_free(ing);
}

void
ingest_close(struct ingest *ing)
{
	ingest_free(ing);
}

static int
publish_blob(struct ingest *ing, const char *digest, char **err)
{
	char *data = ingest_file(ing, "data");
	char *target = blob_path(ing->bs, digest);
	int rc = 0;
	/* Read-only before it becomes visible: blobs never change. */
	if (fchmod(ing->fd, 0444) < 0 || rename(data, target) < 0) {
		*err = xasprintf("publish %s: %s", digest, strerror(errno));
		rc = -1;
	}
	free(data);
	free(target);
	return rc;
}

int
ingest_commit(struct ingest *ing, const char *expected, int64_t size,
    char digest_out[DIGEST_LEN + 1], char **err)
{
	if (size >= 0 && ing->offset != size) {
		*err = xasprintf("%s: got %lld bytes, expected %lld", ing->ref,
		    (long long)ing->offset, (long long)size);
		ingest_discard(ing);
		return -1;
	}
	digester_final(&ing->dg, digest_out);
	if (expected != NULL && strcmp(expected, digest_out) != 0) {
		*err = xasprintf("%s: digest mismatch: content is %s, expected %s",
		    ing->ref, digest_out, expected);
		ingest_discard(ing);
		return -1;
	}
	if (publish_blob(ing, digest_out, err) < 0) {
		ingest_discard(ing);
		return -1;
	}
	ingest_discard(ing); /* the data file has moved; this clears the rest */
	return 0;
}

static json_t *
describe_ingest(const char *dir)
{
	char *ref = read_meta_at(dir, "ref");
	char *total = read_meta_at(dir, "total");
	char *expected = read_meta_at(dir, "expected");
	char *data = xasprintf("%s/data", dir);
	struct stat st;
	json_t *out = NULL;
	if (ref != NULL && stat(data, &st) == 0) {
		char updated[RFC3339NANO_LEN];
		time_format_rfc3339nano((int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec,
		    updated);
		out = json_pack("{s:s,s:I,s:I,s:s,s:s}", "ref", ref,
		    "offset", (json_int_t)st.st_size,
		    "total", (json_int_t)(total ? strtoll(total, NULL, 10) : -1),
		    "expected", expected ? expected : "", "updated_at", updated);
	}
	free(ref);
	free(total);
	free(expected);
	free(data);
	return out;
}

/* Calls fn for each ingest directory. */
static void
each_ingest(struct blob_store *bs, void (*fn)(const char *dir, void *), void *arg)
{
	char *base = xasprintf("%s/ingest", blob_store_dir(bs));
	DIR *dp = opendir(base);
	struct dirent *de;
	while (dp != NULL && (de = readdir(dp)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		char *dir = xasprintf("%s/%s", base, de->d_name);
		fn(dir, arg);
		free(dir);
	}
	if (dp != NULL)
		closedir(dp);
	free(base);
}

static void
append_ingest(const char *dir, void *arg)
{
	json_t *one = describe_ingest(dir);
	if (one != NULL)
		json_array_append_new(arg, one);
}

json_t *
ingest_list(struct blob_store *bs)
{
	json_t *list = json_array();
	each_ingest(bs, append_ingest, list);
	return list;
}

struct stale_scan {
	time_t cutoff;
	int removed;
};

static void
remove_if_stale(const char *dir, void *arg)
{
	struct stale_scan *scan = arg;
	struct stat st;
	char *data = xasprintf("%s/data", dir);
	bool stale = stat(data, &st) < 0 || st.st_mtime < scan->cutoff;
	free(data);
	if (stale && remove_dir_files(dir) == 0)
		scan->removed++;
}

int
ingest_remove_stale(struct blob_store *bs, int64_t max_age_seconds)
{
	struct stale_scan scan = { time(NULL) - (time_t)max_age_seconds, 0 };
	each_ingest(bs, remove_if_stale, &scan);
	if (scan.removed > 0)
		log_info("content: removed %d stale ingests", scan.removed);
	return scan.removed;
}
