/* Unit tests for user resolution in src/oci: a temporary directory plays
 * the rootfs, with /etc/passwd and /etc/group written per test, including
 * hostile ones (a FIFO, symlinks aimed at host files, a huge file, ids
 * past 2^32). */
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "oci/internal.h"

#define PASSWD "root:x:0:0:root:/root:/bin/sh\n" \
	"app:x:1000:1000::/home/app:/bin/sh\n" \
	"broken:x:notanumber:1\n" \
	"big:x:4294967296:1\n"
#define GROUP "root:x:0:\nwheel:x:10:root,app\nstaff:x:50:other,app\n" \
	"app:x:1000:\nempty:x:60\n"

static char top[64];	/* holds rootfs/ and host/ */
static int rootfs = -1;

static int
rm_entry(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	return remove(p);
}

static void
write_file(const char *rel, const char *text)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", top, rel);
	FILE *f = fopen(p, "w");
	if (!f)
		return;
	fputs(text, f);
	fclose(f);
}

static void
make_dir(const char *rel)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", top, rel);
	mkdir(p, 0755);
}

/* A fresh tree: TOP/rootfs (the rootfs, etc/ only when with_etc) and
 * TOP/host (stands for host files the image must never reach). */
static void
setup(bool with_etc)
{
	if (rootfs >= 0)
		close(rootfs);
	if (top[0])
		nftw(top, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	snprintf(top, sizeof(top), "/tmp/keg-oci-user-XXXXXX");
	if (!mkdtemp(top)) {
		top[0] = '\0';
		return;
	}
	make_dir("rootfs");
	make_dir("host");
	if (with_etc) {
		make_dir("rootfs/etc");
		write_file("rootfs/etc/passwd", PASSWD);
		write_file("rootfs/etc/group", GROUP);
	}
	char p[512];
	snprintf(p, sizeof(p), "%s/rootfs", top);
	rootfs = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static void
teardown(void)
{
	if (rootfs >= 0)
		close(rootfs);
	rootfs = -1;
	if (top[0])
		nftw(top, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	top[0] = '\0';
}

static bool
resolves(const char *user, uint32_t uid, uint32_t gid)
{
	struct oci_user u;
	struct oci_error err;
	if (!CHECK(oci_user_resolve(rootfs, user, NULL, &u, &err) == 0)) {
		printf("  %s: %s\n", user, err.message);
		return false;
	}
	bool ok = CHECK_UINT_EQ(u.uid, uid) & CHECK_UINT_EQ(u.gid, gid);
	oci_user_free(&u);
	return ok;
}

static void
refused(const char *user, const char *needle)
{
	struct oci_user u;
	struct oci_error err = { 0 };
	CHECK_INT_EQ(oci_user_resolve(rootfs, user, NULL, &u, &err), -1);
	CHECK_INT_EQ(err.code, ERR_INVALID_ARGUMENT);
	CHECK_UINT_EQ(u.uid, 0);	/* cleared, not half-filled */
	if (!CHECK(strstr(err.message, needle) != NULL))
		printf("  %s: %s (wanted \"%s\")\n", user, err.message, needle);
}

static bool
has_gid(const struct oci_user *u, uint32_t gid)
{
	for (size_t i = 0; i < u->ngids; i++)
		if (u->gids[i] == gid)
			return true;
	return false;
}

/* ---- tests ---- */

static void
user_by_name_and_uid(void)
{
	setup(true);
	resolves("app", 1000, 1000);
	resolves("1000", 1000, 1000);
	resolves("root", 0, 0);
	resolves("app:wheel", 1000, 10);
	resolves("1000:50", 1000, 50);
	resolves("app:2147483647", 1000, 2147483647U);
	resolves("2147483647", 2147483647U, 0);	/* not in passwd: gid 0 */
	teardown();
}

static void
groups_from_membership(void)
{
	setup(true);
	struct oci_user u;
	struct oci_error err;
	json_t *extra = json_pack("[i, s]", 7, "empty");
	if (CHECK(oci_user_resolve(rootfs, "app", extra, &u, &err) == 0)) {
		CHECK_UINT_EQ(u.gids[0], 1000);
		CHECK(has_gid(&u, 10));
		CHECK(has_gid(&u, 50));
		CHECK(has_gid(&u, 7));
		CHECK(has_gid(&u, 60));
		CHECK(!has_gid(&u, 0));
		CHECK_UINT_EQ(u.ngids, 5);
		oci_user_free(&u);
	}
	json_decref(extra);
	extra = json_pack("[s]", "nosuch");
	CHECK_INT_EQ(oci_user_resolve(rootfs, "app", extra, &u, &err), -1);
	CHECK(strstr(err.message, "nosuch") != NULL);
	json_decref(extra);
	teardown();
}

static void
unknown_names_refused(void)
{
	setup(true);
	refused("nobody", "\"nobody\" not found");
	refused("app:nogroup", "\"nogroup\" not found");
	refused("broken", "not found");	/* a garbled entry never matches */
	refused(":10", "empty");
	refused("app:", "empty");
	teardown();
}

static void
out_of_range_ids_refused(void)
{
	setup(true);
	refused("4294967296", "out of range");
	refused("4294967295", "out of range");
	refused("2147483648", "out of range");	/* past 2^31 */
	refused("-1", "out of range");
	refused("-0", "out of range");
	refused("99999999999999999999999999", "out of range");
	refused("0:-1", "out of range");
	refused("1000:4294967296", "out of range");
	refused("big", "not found");	/* its uid field is past 2^32 */
	teardown();
}

static void
missing_passwd(void)
{
	setup(false);
	resolves("123", 123, 0);
	resolves("123:45", 123, 45);
	refused("app", "not found");
	refused("1:staff", "not found");
	struct oci_user u;
	struct oci_error err;
	CHECK_INT_EQ(oci_user_resolve(-1, "5:6", NULL, &u, &err), 0);
	CHECK_UINT_EQ(u.uid, 5);
	oci_user_free(&u);
	teardown();
}

/* A FIFO must be refused at once: opening it for reading would block
 * until a writer came. alarm() turns a hang into a failure. */
static void
fifo_passwd_refused(void)
{
	setup(false);
	make_dir("rootfs/etc");
	char p[512];
	snprintf(p, sizeof(p), "%s/rootfs/etc/passwd", top);
	CHECK(mkfifo(p, 0644) == 0);
	alarm(10);
	refused("app", "not a regular file");
	refused("1000", "not a regular file");
	alarm(0);
	teardown();
}

static void
directory_passwd_refused(void)
{
	setup(false);
	make_dir("rootfs/etc");
	make_dir("rootfs/etc/passwd");
	refused("app", "not a regular file");
	teardown();
}

/* /etc/passwd -> an absolute path that exists on the host: resolved in
 * the rootfs, it finds the rootfs's own copy at that path. */
static void
symlink_passwd_stays_inside(void)
{
	setup(false);
	make_dir("rootfs/etc");
	write_file("host/passwd", "evil:x:0:0::/:/bin/sh\n");
	char host[256], inside[256], link[256];
	snprintf(host, sizeof(host), "%s/host/passwd", top);
	snprintf(link, sizeof(link), "%s/rootfs/etc/passwd", top);
	CHECK(symlink(host, link) == 0);
	refused("evil", "not found");	/* dangling inside: no passwd */

	/* the same path inside the rootfs is what must be read */
	make_dir("rootfs/tmp");
	snprintf(inside, sizeof(inside), "rootfs%s", top);
	make_dir(inside);
	snprintf(inside, sizeof(inside), "rootfs%s/host", top);
	make_dir(inside);
	snprintf(inside, sizeof(inside), "rootfs%s/host/passwd", top);
	write_file(inside, "evil:x:4242:4243::/:/bin/sh\n");
	resolves("evil", 4242, 4243);
	teardown();
}

static void
relative_symlink_cannot_climb(void)
{
	setup(false);
	make_dir("rootfs/etc");
	write_file("host/passwd", "evil:x:0:0::/:/bin/sh\n");
	char target[300], link[256];
	snprintf(target, sizeof(target), "../../../../../../..%s/host/passwd",
	    top);
	snprintf(link, sizeof(link), "%s/rootfs/etc/passwd", top);
	CHECK(symlink(target, link) == 0);
	refused("evil", "not found");
	teardown();
}

static void
etc_symlink_to_host(void)
{
	setup(false);
	write_file("host/passwd", "evil:x:0:0::/:/bin/sh\n");
	char host[256], link[256];
	snprintf(host, sizeof(host), "%s/host", top);
	snprintf(link, sizeof(link), "%s/rootfs/etc", top);
	CHECK(symlink(host, link) == 0);
	refused("evil", "not found");
	teardown();
}

static void
huge_passwd_refused(void)
{
	setup(true);
	char p[512];
	snprintf(p, sizeof(p), "%s/rootfs/etc/passwd", top);
	int fd = open(p, O_WRONLY | O_TRUNC | O_CLOEXEC);
	CHECK(fd >= 0 && ftruncate(fd, OCI_ETC_FILE_MAX + 1) == 0);
	close(fd);
	refused("app", "larger than");
	CHECK(truncate(p, OCI_ETC_FILE_MAX) == 0);	/* at the cap: fine */
	refused("app", "not found");			/* all NULs */
	teardown();
}

/* End to end: the image's User resolved through oci_spec_build. */
static void
spec_user_from_image(void)
{
	setup(true);
	struct oci_error err;
	json_t *config = json_pack("{s:[s], s:s}", "Cmd", "id", "User", "app");
	json_t *options = json_pack("{s:[i]}", "additional_gids", 99);
	struct oci_spec_input in = { .ns = "n", .id = "c", .image_config = config,
		.rootfs_fd = rootfs, .options = options };
	json_t *s = oci_spec_build(&in, &err);
	if (CHECK(s != NULL)) {
		json_t *u = json_object_get(json_object_get(s, "process"), "user");
		CHECK_INT_EQ(json_integer_value(json_object_get(u, "uid")), 1000);
		CHECK_INT_EQ(json_integer_value(json_object_get(u, "gid")), 1000);
		CHECK_INT_EQ(json_array_size(json_object_get(u,
		    "additionalGids")), 4);
	}
	json_decref(s);
	json_decref(options);
	options = json_pack("{s:s}", "user", "4294967296");
	in.options = options;
	CHECK(oci_spec_build(&in, &err) == NULL);
	CHECK(strstr(err.message, "out of range") != NULL);
	json_decref(options);
	json_decref(config);
	teardown();
}

int
main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(user_by_name_and_uid),
		UNIT_TEST(groups_from_membership),
		UNIT_TEST(unknown_names_refused),
		UNIT_TEST(out_of_range_ids_refused),
		UNIT_TEST(missing_passwd),
		UNIT_TEST(fifo_passwd_refused),
		UNIT_TEST(directory_passwd_refused),
		UNIT_TEST(symlink_passwd_stays_inside),
		UNIT_TEST(relative_symlink_cannot_climb),
		UNIT_TEST(etc_symlink_to_host),
		UNIT_TEST(huge_passwd_refused),
		UNIT_TEST(spec_user_from_image),
	};
	return unit_run(tests, UNIT_COUNT(tests));
}
