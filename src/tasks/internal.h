/* What the task service's files share: the service, the in-memory side of
 * a task (its shim watch, OOM watch, waiters) and pending operations. */
#ifndef KEG_TASKS_INTERNAL_H
#define KEG_TASKS_INTERNAL_H

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "runtime/runc.h"
#include "store/tasks.h"
#include "tasks/service.h"

struct oom_watch;
struct shim_watch;
struct task;

/* Someone waiting for a process to stop: an API client or an internal
 * step (delete after a forced kill). */
struct task_waiter {
	TAILQ_ENTRY(task_waiter) link;
	struct task *task;
	task_done_fn done;
	void *arg;
};
TAILQ_HEAD(task_waiter_list, task_waiter);

/* The in-memory side of one process, made on demand, freed on delete. */
struct task {
	TAILQ_ENTRY(task) link;
	struct tasks *t;
	char *ns, *cid, *eid;		/* eid "" for init */
	char *dir;			/* the shim's state directory */
	struct shim_watch *watch;
	struct oom_watch *oom;
	struct task_waiter_list waiters;
	int starting;			/* a start is in flight: exit waits */
	bool exit_pending;		/* the shim went while starting */
	bool busy;			/* delete or create in flight */
	bool reclaiming;		/* deleted; the runtime's delete runs */
};
TAILQ_HEAD(task_list, task);

/* One asynchronous operation; at close each is failed and freed. */
struct task_op {
	TAILQ_ENTRY(task_op) link;
	struct tasks *t;
	struct task *task;		/* held while the op runs; may be NULL */
	char *ns, *cid, *eid;
	task_done_fn done;
	void *arg;
	/* Operation-specific. */
	json_t *json;
	char *path;
	int sig;
	bool flag;
	struct task_row row;
	char *runtime_log;		/* runc's json log, for its message */
	char *checkpoint;		/* create: the image to restore from */
	bool start;			/* create: started in the same runtime call */
	bool waits_reclaim;		/* a create waiting for task_reclaim */
	struct task_create_opts create;	/* its options (checkpoint: above) */
};
TAILQ_HEAD(task_op_list, task_op);

struct tasks {
	struct event_base *base;
	struct store *st;
	struct event_bus *bus;
	struct snapshots *snaps;
	char *root, *state, *log_root, *runtime_binary, *shim_binary;
	struct task_list tasks;
	struct task_op_list ops;
	bool closing;
};

/* ---- common.c ---- */
void task_err(struct task_error *err, enum errcode code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The task object for a key (created when missing and make is set). */
struct task *task_find(struct tasks *t, const char *ns, const char *cid, const char *eid,
    bool make);
void task_free(struct task *k);
/* Frees k when nothing refers to it any more (no watch, waiters, work). */
void task_release(struct task *k);

struct task_op *op_new(struct tasks *t, const char *ns, const char *cid, const char *eid,
    task_done_fn done, void *arg);
/* Calls done (with result or err) and frees the op. */
void op_finish(struct task_op *op, json_t *result, const struct task_error *err);
void op_fail(struct task_op *op, enum errcode code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Paths (malloc'd). */
char *task_bundle_dir(const struct tasks *t, const char *ns, const char *cid);
char *task_dir(const struct tasks *t, const char *ns, const char *cid, const char *eid);
char *task_log_file(const struct tasks *t, const char *ns, const char *cid, const char *eid);
char *task_runtime_root(const struct tasks *t, const char *ns);

/* The row, or -1 after setting err (not_found / internal). */
int task_row_load(struct tasks *t, const char *ns, const char *cid, const char *eid,
    struct task_row *row, struct task_error *err);
json_t *task_row_json(const struct task_row *row);
bool task_is_init(const char *eid);

/* The container's runtime binary (malloc'd absolute path), from its
 * runtime.options.binary_name or the default; NULL with err. */
char *task_runtime_binary(struct tasks *t, const json_t *container, struct task_error *err);
/* A runc context for the container of ns/cid. 0, or -1 with err; free
 * *binary and *root after the call that uses ctx. */
int task_runc_ctx(struct tasks *t, const char *ns, const char *cid, struct runc_ctx *ctx,
    char **binary, char **root, struct task_error *err);
/* An error from a failed runtime call: its message, under code. */
void task_runtime_err(struct task_error *err, enum errcode code, const char *what,
    const char *stderr_text, const char *log_path);

/* Removes a directory tree that holds only small files and directories
 * (a bundle), not crossing into other file systems. */
int task_remove_tree(const char *path);
/* Unmounts BUNDLE/rootfs (detached). */
void task_rootfs_unmount(const char *bundle);
/* Unmounts BUNDLE/rootfs and removes the bundle. */
void task_bundle_remove(const char *bundle);
/* A task's log files go with it (an init's takes its execs' along), and a
 * new task starts with none. */
void task_logs_remove(const struct tasks *t, const char *ns, const char *cid,
    const char *eid);

/* ---- exit.c ---- */
/* Watches k's shim; its exit is recorded and published when it goes. */
void task_watch(struct task *k, pid_t shim_pid, unsigned long long shim_start);
/* Records the exit from the shim's exit file (or 255 when there is none). */
void task_handle_exit(struct task *k);
/* Runs and frees every waiter of k with (result, err). */
void task_wake_waiters(struct task *k, const json_t *result, const struct task_error *err);
struct task_waiter *task_add_waiter(struct task *k, task_done_fn done, void *arg);

/* ---- oom.c ---- */
typedef void (*oom_fn)(void *arg);
/* Watches the memory cgroup of pid for OOM kills (cgroup v1 eventfd,
 * cgroup v2 inotify on memory.events). NULL when it cannot. */
struct oom_watch *oom_watch_start(struct event_base *base, pid_t pid, oom_fn fn, void *arg);
/* Stops, first reporting an OOM that is signalled but not yet read. */
void oom_watch_stop(struct oom_watch *w);
void task_oom_start(struct task *k, pid_t pid);

/* ---- exec.c ---- */
void tasks_exec_start(struct tasks *t, const struct task_ref *ref, task_done_fn done,
    void *arg);
void tasks_exec_delete(struct tasks *t, const struct task_ref *ref, bool force,
    task_done_fn done, void *arg);

/* ---- reclaim.c ---- */
/* Runs the runtime's delete of k's stopped process, then removes its
 * bundle and frees k; creates of the same id wait until then. */
void task_reclaim(struct task *k, const struct runc_ctx *ctx);
/* True when ns/cid is being reclaimed: the create is then queued and
 * runs (with done, arg) once it is over. */
bool task_create_deferred(struct tasks *t, const char *ns, const char *cid,
    const struct task_create_opts *o, task_done_fn done, void *arg);
/* Writes BUNDLE/runtime (the runtime binary), for the sweep after a
 * crash. 0, or -1 with errno. */
int task_runtime_note(const char *bundle, const char *binary);

/* ---- recover.c ---- */
void tasks_recover(struct tasks *t);

/* ---- orphans.c ---- */
/* Unmounts and removes every bundle that has no task row. */
void tasks_remove_orphans(struct tasks *t);

#endif
