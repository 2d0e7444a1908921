/* Bundles without a task row: a crash between making a bundle and
 * recording (or after removing) its row leaves STATE/tasks/NS/ID behind,
 * its rootfs perhaps still mounted. At open, before any request, each
 * such bundle is unmounted and removed, so the mount does not outlive
 * the task it was made for and a later create starts clean. */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "common/util.h"
#include "store/tasks.h"
#include "tasks/internal.h"

/* True when ns/cid has an init row (or the store cannot tell: then the
 * bundle is kept, never removed on a guess). */
static bool
has_row(struct tasks *t, const char *ns, const char *cid)
{
	struct task_row row;
	enum store_result res = store_task_get(t->st, ns, cid, "", &row);
	if (res == STORE_OK)
		task_row_clear(&row);
	return res != STORE_NOT_FOUND;
}

/* A real directory (not a symlink), whatever d_type the fs reports. */
static bool
is_dir(DIR *d, const struct dirent *e)
{
	struct stat st;
	if (e->d_name[0] == '.')
		return false;
	if (e->d_type != DT_UNKNOWN)
		return e->d_type == DT_DIR;
	return fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(st.st_mode);
}

static void
sweep_namespace(struct tasks *t, const char *nsdir, const char *ns)
{
	DIR *d = opendir(nsdir);
	struct dirent *e;
	while (d != NULL && (e = readdir(d)) != NULL) {
		if (!is_dir(d, e) || has_row(t, ns, e->d_name))
			continue;
		char *bundle = xasprintf("%s/%s", nsdir, e->d_name);
		log_warn("tasks: removing %s, a bundle without a task (left by a crash)",
		    bundle);
		task_bundle_remove(bundle);
		free(bundle);
	}
	if (d != NULL)
		closedir(d);
}

void
tasks_remove_orphans(struct tasks *t)
{
	char *root = xasprintf("%s/tasks", t->state);
	DIR *d = opendir(root);
	struct dirent *e;
	while (d != NULL && (e = readdir(d)) != NULL) {
		if (!is_dir(d, e))
			continue;
		char *nsdir = xasprintf("%s/%s", root, e->d_name);
		sweep_namespace(t, nsdir, e->d_name);
		free(nsdir);
	}
	if (d != NULL)
		closedir(d);
	free(root);
}
