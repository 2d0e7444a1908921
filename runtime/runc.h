/* The OCI runtime binary (runc, crun, any runc-compatible one) run
 * asynchronously on the daemon's loop: each call forks and execs
 * `BINARY --root ROOT [--log LOG --log-format json] ARGS…`, feeds optional
 * stdin bytes, collects stdout (up to RUNC_OUT_MAX) and stderr (up to
 * RUNC_ERR_MAX) through non-blocking pipes and calls back once when the
 * process is reaped (through children_watch, so children_init must have
 * run on the same base).
 *
 * Creating containers is the shim's job (runtime/shim_client.h): runc
 * create/exec make the container a child of whoever runs them, and only the
 * shim should be that parent. */
#ifndef KEG_RUNTIME_RUNC_H
#define KEG_RUNTIME_RUNC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct event_base;

#define RUNC_OUT_MAX (4u << 20)		/* stdout kept; more is dropped */
#define RUNC_ERR_MAX (64u << 10)	/* stderr kept; more is dropped */

/* Where and how to run the runtime. Strings are copied by each call, so the
 * struct may live on the caller's stack. */
struct runc_ctx {
	struct event_base *base;
	const char *binary;	/* absolute path, as from runc_lookup() */
	const char *root;	/* --root: state of this namespace's containers */
	const char *log;	/* --log (json format); NULL: none */
	int timeout_ms;		/* > 0: SIGKILL after that long; 0: no limit */
};

/* status: the exit code, 128+signal when killed by one (a timeout reports
 * 128+SIGKILL and says so in err), or -1 when the binary could not be
 * executed. out and err are NUL-terminated (possibly truncated at the
 * bounds), never NULL, valid only during the call. */
typedef void (*runc_done_fn)(int status, const char *out, const char *err, void *arg);

/* Runs the runtime with args (NULL-terminated; the subcommand and its
 * arguments, after the global --root/--log options). stdin_data (may be
 * NULL) of stdin_len bytes is written to its stdin, which is then closed;
 * without it stdin is /dev/null. 0: started, done runs exactly once,
 * never before this returns. -1 (errno set): nothing started, done is
 * never called. */
int runc_run(const struct runc_ctx *ctx, const char *const *args,
    const void *stdin_data, size_t stdin_len, runc_done_fn done, void *arg);

/* Wrappers over runc_run; same return and callback rules. */
int runc_start(const struct runc_ctx *ctx, const char *id, runc_done_fn done, void *arg);
/* `kill [--all] ID SIG` (sig as a number). */
int runc_kill(const struct runc_ctx *ctx, const char *id, int sig, bool all,
    runc_done_fn done, void *arg);
int runc_pause(const struct runc_ctx *ctx, const char *id, runc_done_fn done, void *arg);
int runc_resume(const struct runc_ctx *ctx, const char *id, runc_done_fn done, void *arg);
/* `ps --format json ID`: out is a JSON array of pids (runc_parse_pids). */
int runc_ps(const struct runc_ctx *ctx, const char *id, runc_done_fn done, void *arg);
/* `delete [--force] ID`. */
int runc_delete(const struct runc_ctx *ctx, const char *id, bool force,
    runc_done_fn done, void *arg);
/* `update --resources - ID` with resources_json (an OCI
 * LinuxResources object, serialized) on stdin. */
int runc_update(const struct runc_ctx *ctx, const char *id, const char *resources_json,
    runc_done_fn done, void *arg);
/* `checkpoint --image-path IMAGE_DIR [--work-path WORK_DIR]
 * [--leave-running] ID` (CRIU; fails with runc's message without it).
 * work_dir may be NULL. */
int runc_checkpoint(const struct runc_ctx *ctx, const char *id, const char *image_dir,
    const char *work_dir, bool leave_running, runc_done_fn done, void *arg);
/* `restore --detach --bundle BUNDLE --image-path IMAGE_DIR --pid-file
 * PID_FILE ID`: the restored process is reparented to whoever is the
 * nearest subreaper, so callers needing supervision run this from a shim. */
int runc_restore(const struct runc_ctx *ctx, const char *id, const char *bundle,
    const char *image_dir, const char *pid_file, runc_done_fn done, void *arg);

/* For daemon shutdown: waits a few seconds for runtime processes still
 * running (one killed half-way can leave a cgroup frozen), then kills
 * (SIGKILL) the rest, and forgets them all without calling back. */
void runc_abort_all(void);

/* Resolves a runtime binary: an absolute path is checked as is, a bare name
 * ("runc", "crun") is searched in PATH; anything else (relative with a
 * slash, empty) is refused. The result must be a regular executable file.
 * Returns a malloc'd absolute path, or NULL with *err set (malloc'd, caller
 * frees). */
char *runc_lookup(const char *name, char **err);

/* A short, single-line error message for a failed call: the "msg" of the
 * last "level":"error" entry of the json log at log_path (NULL: not read),
 * else the last non-empty line of err_text (runc's "time=… level=error
 * msg=…" form reduced to the msg), else "runtime failed". Malloc'd. */
char *runc_error_message(const char *err_text, const char *log_path);

/* Parses `ps --format json` output ("[1,2,3]" or "null"). 0 with *pids
 * (malloc'd, caller frees; NULL when *n is 0) and *n, or -1 if garbled. */
int runc_parse_pids(const char *out, pid_t **pids, size_t *n);

#endif
