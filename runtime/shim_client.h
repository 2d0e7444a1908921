/* kegd's side of kegd-shim (runtime/shim/): starting a shim, learning
 * when it is gone, and reading what it leaves in its state directory.
 * There is no protocol beyond that: the ready line, DIR/shim.json,
 * DIR/exit, DIR/attach.sock and DIR/control.sock (runtime/README). */
#ifndef KEG_RUNTIME_SHIM_CLIENT_H
#define KEG_RUNTIME_SHIM_CLIENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct event_base;

#define SHIM_READY_TIMEOUT_MS 30000

/* What a started shim reports (ready line and DIR/shim.json). */
struct shim_info {
	pid_t pid;			/* the container process */
	pid_t shim_pid;
	unsigned long long shim_start;	/* field 22 of /proc/SHIM_PID/stat */
};

/* Everything the shim's command line needs. Paths absolute. Copied by
 * shim_launch, so the struct may live on the caller's stack. */
struct shim_launch_config {
	struct event_base *base;
	const char *shim_binary;	/* path of kegd-shim */
	const char *id;			/* container id (runtime's id) */
	const char *bundle;
	const char *state_dir;		/* DIR: created by the caller */
	const char *runtime;		/* runtime binary (runc_lookup) */
	const char *runtime_root;	/* runtime --root */
	const char *log_path;		/* CRI log file */
	const char *exec_process;	/* process.json for an exec; NULL: init */
	const char *restore;		/* checkpoint image dir (init only): the
					 * shim restores instead of creating */
	bool start;			/* init only: created and started in one
					 * runtime call (`run --detach`) */
	bool tty;
	bool stdin_open;
};

/* info is NULL when the launch failed; error (never NULL then) is the
 * runtime's message or ours ("shim timed out", "shim exited"). Both are
 * valid only during the call. */
typedef void (*shim_launch_fn)(const struct shim_info *info, const char *error, void *arg);

/* Spawns the shim with a ready pipe (its write end, as fd 3, is the only
 * extra fd the shim inherits; stdin and stdout are /dev/null, stderr is
 * kegd's), reads the one JSON line in the loop (up to
 * SHIM_READY_TIMEOUT_MS; the shim itself kills a runtime that takes more
 * than 25 s and reports an error, so the timeout is a last resort) and
 * reaps the process it started through children_watch (children_init
 * must have run). On an error the caller should still `delete --force`
 * the id: a runtime killed half-way may leave state. 0: done runs exactly
 * once, never before this returns. -1 (errno set): nothing started, done
 * never called. */
int shim_launch(const struct shim_launch_config *cfg, shim_launch_fn done, void *arg);

/* Kills every shim launch still waiting for its ready line and forgets it
 * without calling back: for daemon shutdown. */
void shim_launch_abort_all(void);

typedef void (*shim_gone_fn)(void *arg);
struct shim_watch;

/* Calls fn once when the shim (shim_pid, started at shim_start) is gone:
 * through a pidfd on the loop, or from the loop at once (never before this
 * returns) when it is already gone or the pid now belongs to another
 * process. The handle is freed after fn runs. NULL only when out of
 * resources (pidfd_open unsupported for a live pid: errno ENOSYS). */
struct shim_watch *shim_watch(struct event_base *base, pid_t shim_pid,
    unsigned long long shim_start, shim_gone_fn fn, void *arg);
/* Stops a watch whose fn has not run yet; fn then never runs. */
void shim_watch_cancel(struct shim_watch *w);

/* True when shim_pid is running and is still the process started at
 * shim_start (not a reused pid). */
bool shim_alive(pid_t shim_pid, unsigned long long shim_start);

/* Reads DIR/exit: 0 with the status (exit code or 128+signal) and
 * exited_at (ns since the epoch), or -1 when absent or garbled. */
int shim_read_exit(const char *state_dir, int *status, int64_t *exited_at_ns);
/* Reads DIR/shim.json: 0 with *info, or -1 when absent or garbled. */
int shim_read_info(const char *state_dir, struct shim_info *info);

/* Connects to DIR/attach.sock (works for paths longer than sun_path):
 * a non-blocking, close-on-exec stream socket carrying the raw output
 * from now on; what is written to it goes to the process's stdin.
 * -1 with errno when the shim is not listening. */
int shim_attach_connect(const char *state_dir);
/* Sends one control line ("resize W H", "close-stdin"; no newline needed)
 * to DIR/control.sock. 0, or -1 with errno. Blocking, but the shim always
 * accepts at once. */
int shim_control(const char *state_dir, const char *line);
/* shim_control wrappers. */
int shim_resize(const char *state_dir, unsigned width, unsigned height);
int shim_close_stdin(const char *state_dir);

#endif
