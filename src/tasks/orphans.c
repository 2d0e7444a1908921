/* Bundles without a task row: a crash between making a bundle and
 * recording (or after removing) its row leaves STATE/tasks/NS/ID behind,
 * its rootfs perhaps still mounted, and a crash while a deleted task was
 * reclaimed (reclaim.c) leaves the runtime's state too. At open, before
 * any request, the runtime named in BUNDLE/runtime deletes the id, and
 * each such bundle is unmounted and removed, so neither outlives the task
 * it was made for and a later create starts clean. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "runtime/exec.h"
#include "store/tasks.h"
#include "tasks/internal.h"

/* How long a runtime's delete may take here, before any request is
 * served; one that hangs (a frozen cgroup) is killed and logged. */
#define SWEEP_DELETE_TIMEOUT_MS 10000

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

/* BUNDLE/runtime: an absolute path, or NULL (a bundle from before the
 * runtime was recorded, or one whose create never got that far). */
static char *
noted_runtime(const char *bundle)
{
	char *path = xasprintf("%s/runtime", bundle), buf[PATH_MAX];
	FILE *f = fopen(path, "re");
	size_t n = f != NULL ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	if (f != NULL)
		fclose(f);
	free(path);
	buf[n] = '\0';
	return n > 1 && buf[0] == '/' && strlen(buf) == n ? xstrdup(buf) : NULL;
}

static int
wait_bounded(pid_t pid, int timeout_ms)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	int status;
	for (int waited = 0; waited < timeout_ms; waited += 10) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		if (r < 0 && errno != EINTR)
			return -1;
		nanosleep(&tick, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

/* `BIN --root ROOT delete --force ID`, waited for: the id is free again. */
static void
runtime_delete(struct tasks *t, const char *ns, const char *id, const char *bundle)
{
	char *bin = noted_runtime(bundle), *root = task_runtime_root(t, ns);
	if (bin != NULL) {
		const char *argv[] = { bin, "--root", root, "delete", "--force", id, NULL };
		int fds[3] = { -1, -1, -1 };
		pid_t pid = exec_child(argv, fds, 3);
		int rc = pid < 0 ? -1 : wait_bounded(pid, SWEEP_DELETE_TIMEOUT_MS);
		/* Non-zero also when the runtime never had the id: logged only. */
		if (rc != 0)
			log_info("tasks: %s delete %s/%s: status %d", bin, ns, id, rc);
	}
	free(bin);
	free(root);
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
		runtime_delete(t, ns, e->d_name, bundle);
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
