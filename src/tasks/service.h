/* The task service: containerd's task model over kegd-shim and an OCI
 * runtime (runc, crun). A task is keyed by its container's id; exec
 * processes by (container id, exec id). Every process is supervised by one
 * shim that outlives kegd; the service watches each shim with a pidfd,
 * records its exit status (from the shim's exit file) in the tasks table
 * with /tasks/exit in the same transaction, and wakes waiters. At open it
 * watches the shims of every task row again (restart survival).
 *
 * Results come through task_done_fn: result (the callback takes the
 * reference) or err. A callback may run before the call returns. */
#ifndef KEG_TASKS_SERVICE_H
#define KEG_TASKS_SERVICE_H

#include <jansson.h>
#include <stdbool.h>

#include "common/errcode.h"

struct event_base;
struct event_bus;
struct snapshots;
struct store;
struct tasks;

struct tasks_config {
	struct event_base *base;
	struct store *st;
	struct event_bus *bus;
	struct snapshots *snaps;
	const char *root;		/* kegd root: checkpoint images */
	const char *state;		/* kegd state: bundles, runtime roots */
	const char *log_root;
	const char *runtime_binary;	/* default runtime (name or path) */
	const char *shim_binary;	/* NULL: kegd-shim next to kegd */
};

struct task_error {
	enum errcode code;
	char message[512];
};

typedef void (*task_done_fn)(json_t *result, const struct task_error *err, void *arg);

/* Which process: exec_id NULL or "" is the init process. */
struct task_ref {
	const char *ns, *id, *exec_id;
};

struct tasks *tasks_open(const struct tasks_config *cfg, char **err);
/* Waiters (long-polls, log followers) end with ERR_UNAVAILABLE: for a
 * graceful stop, which waits for busy requests. */
void tasks_close_waiters(struct tasks *t);
/* Pending work and waiters end with ERR_UNAVAILABLE; shims live on. */
void tasks_close(struct tasks *t);

struct task_create_opts {
	bool terminal;		/* a console (process.terminal) */
	bool stdin_open;	/* stdin through the attach socket */
	const char *checkpoint;	/* absolute image dir: restore from it */
	bool start;		/* started too, in the same runtime call */
};

/* Result: the task JSON {id, pid, status, terminal, created_at}. With a
 * checkpoint the runtime restores instead of creating, and the task comes
 * back running (/tasks/create then /tasks/start); a failed restore leaves
 * nothing (ERR_FAILED_PRECONDITION with the runtime's message). */
void tasks_create(struct tasks *t, const char *ns, const char *id,
    const struct task_create_opts *o, task_done_fn done, void *arg);
/* Init: runc start; exec: launches its shim. Result: the task JSON. */
void tasks_start(struct tasks *t, const struct task_ref *ref, task_done_fn done, void *arg);
/* Result: {} once the signal is sent. */
void tasks_kill(struct tasks *t, const struct task_ref *ref, int sig, bool all,
    task_done_fn done, void *arg);
/* Result: {exit_status, exited_at, pid}; for a task not stopped only with
 * force (killed first, its exit awaited). */
void tasks_delete(struct tasks *t, const struct task_ref *ref, bool force,
    task_done_fn done, void *arg);

json_t *tasks_get(struct tasks *t, const struct task_ref *ref, struct task_error *err);
/* Init processes of ns; NULL with err on a store error. */
json_t *tasks_list(struct tasks *t, const char *ns, struct task_error *err);
/* Exec processes of a task. */
json_t *tasks_list_execs(struct tasks *t, const char *ns, const char *id,
    struct task_error *err);

/* Calls done with {exit_status, exited_at} once the process has stopped
 * (at once when it has). Returns a handle to cancel with (done then never
 * runs), or NULL when done already ran. */
struct task_waiter;
struct task_waiter *tasks_wait(struct tasks *t, const struct task_ref *ref,
    task_done_fn done, void *arg);
void tasks_wait_cancel(struct task_waiter *w);

/* Result: {"processes": [{"pid": N}, …]}. */
void tasks_pids(struct tasks *t, const char *ns, const char *id, task_done_fn done,
    void *arg);
void tasks_pause(struct tasks *t, const char *ns, const char *id, task_done_fn done,
    void *arg);
void tasks_resume(struct tasks *t, const char *ns, const char *id, task_done_fn done,
    void *arg);
/* resources: an OCI LinuxResources object. */
void tasks_update(struct tasks *t, const char *ns, const char *id, const json_t *resources,
    task_done_fn done, void *arg);

struct task_checkpoint_opts {
	const char *image_path;		/* absolute; NULL: ROOT/checkpoints/NS/ID */
	bool leave_running;
};
/* Result: {"checkpoint": image_path}. CRIU missing or failing:
 * ERR_FAILED_PRECONDITION with the runtime's message. */
void tasks_checkpoint(struct tasks *t, const char *ns, const char *id,
    const struct task_checkpoint_opts *o, task_done_fn done, void *arg);

/* Adds an exec process (not started). process: {args, env?, cwd?, user?
 * {uid, gid, additionalGids?}, terminal?}; what is missing comes from the
 * container's process. Result: the exec's task JSON. */
json_t *tasks_exec_add(struct tasks *t, const char *ns, const char *id, const char *exec_id,
    const json_t *process, struct task_error *err);

/* Where a process's output and shim files are (malloc'd), for logs,
 * attach and resize. NULL with err when the task does not exist. */
char *tasks_log_path(struct tasks *t, const struct task_ref *ref, struct task_error *err);
char *tasks_shim_dir(struct tasks *t, const struct task_ref *ref, struct task_error *err);
/* The container's cgroups path (spec linux.cgroupsPath), malloc'd. */
char *tasks_cgroups_path(struct tasks *t, const char *ns, const char *id,
    struct task_error *err);

#endif
