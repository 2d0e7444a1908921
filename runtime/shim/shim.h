/* kegd-shim internals. One shim supervises one container process: it runs
 * the runtime's create (or exec --detach) as a child subreaper, copies the
 * process's output into a CRI log and to attached clients, and writes the
 * exit status when the process ends (runtime/README: the contract with kegd).
 *
 * Everything here links only libc: the shim outlives kegd and must not
 * depend on the daemon's libraries. The shim's working directory is its
 * state directory, so the socket and file names below are relative (which
 * also keeps long state paths within sun_path's limit). */
#ifndef KEG_RUNTIME_SHIM_SHIM_H
#define KEG_RUNTIME_SHIM_SHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "runtime/proc_stat.h"

#define CRI_LINE_MAX 16384		/* longer lines are cut as P records */
#define CAPTURE_MAX 65536		/* output kept while the runtime runs */
#define CLIENT_BUF_MAX (256 * 1024)	/* unsent output before a client is dropped */
#define STDIN_BUF_MAX 65536		/* attach input not yet taken by stdin */
#define MAX_ATTACH 16
#define MAX_CONTROL 8
#define DRAIN_MS 2000			/* output drained after the exit, at most */
#define CREATE_TIMEOUT_MS 25000		/* below kegd's 30 s wait for the ready line */

#define SHIM_RUNTIME_LOG "runtime.log"
#define SHIM_PID_FILE "pid"
#define SHIM_CONSOLE_SOCK "console.sock"
#define SHIM_ATTACH_SOCK "attach.sock"
#define SHIM_CONTROL_SOCK "control.sock"
#define SHIM_INFO_FILE "shim.json"
#define SHIM_EXIT_FILE "exit"

enum stream { STREAM_STDOUT = 0, STREAM_STDERR = 1 };

struct shim_opts {
	const char *id, *bundle, *state_dir, *runtime, *runtime_root, *log;
	const char *exec_process;	/* NULL: create the init process */
	const char *restore;		/* checkpoint image dir: restore, not create */
	bool start;			/* `run --detach`: create and start at once */
	int ready_fd;
	bool tty, stdin_open;
};

/* A growable byte buffer with a hard cap. */
struct buf {
	char *data;
	size_t len, cap;
};
/* Appends; false (nothing appended) when the result would exceed max. */
bool buf_append(struct buf *b, const void *p, size_t n, size_t max);
void buf_consume(struct buf *b, size_t n);
void buf_free(struct buf *b);

/* crilog.c: the CRI log, "RFC3339Nano STREAM F|P TEXT\n" per record. */
struct crilog {
	int fd;
	char line[2][CRI_LINE_MAX];
	size_t len[2];
};
int crilog_open(struct crilog *l, const char *path);
void crilog_write(struct crilog *l, enum stream s, const char *p, size_t n);
/* Writes what is left of unterminated lines (as F) and closes. */
void crilog_close(struct crilog *l);

/* json.c: the little JSON the shim writes and reads. */
/* Writes s as a quoted JSON string into out (cap bytes, NUL-terminated;
 * cut short if needed); invalid UTF-8 bytes become '?'. */
void json_quote(char *out, size_t cap, const char *s);
/* The string value of key in a one-level JSON object text: 0 with the
 * unescaped value in out, or -1 when absent or not a string. */
int json_get_string(const char *obj, const char *key, char *out, size_t cap);

/* util.c */
int64_t now_ns(void);
int64_t mono_ms(void);
void format_rfc3339nano(int64_t ns, char out[32]);
/* Writes data to path (relative to the state dir) through path.tmp, fsync
 * and rename, so readers see all of it or nothing. */
int write_atomic(const char *path, const char *data, size_t n);
int write_all(int fd, const char *p, size_t n);
int set_nonblock(int fd);
int read_pid_file(const char *path, pid_t *pid);

/* spawn.c: the runtime's create, restore or exec, stdio as given. */
pid_t runtime_spawn(const struct shim_opts *o, int in, int out, int err);

/* sockets.c */
int unix_listen(const char *name, int type);
int unix_accept(int lfd);
/* Receives one descriptor sent with SCM_RIGHTS (the console master). */
int recv_fd(int sock);

/* report.c: what the shim tells kegd. */
void report_ready(const struct shim_opts *o, pid_t cpid);
/* Writes {"error":msg} on the ready fd (msg taken from the runtime's json
 * log past log_offset, else the last line of err_text). */
void report_failure(const struct shim_opts *o, off_t log_offset, const char *err_text);
int report_exit(int status, int64_t exited_at);

struct attach_client {
	int fd;
	struct buf out;
};

struct control_client {
	int fd;
	char line[128];
	size_t len;
};

struct early_exit {
	pid_t pid;
	int status;
	int64_t at;
};

struct shim {
	const struct shim_opts *o;
	struct crilog log;
	int out_fd[2];		/* stdout and stderr read ends; tty: master, -1 */
	int in_fd;		/* the process's stdin: pipe or master; -1 none */
	int master;		/* tty master, or -1 */
	int console_lfd;	/* until the master arrives */
	int console_conn;	/* the runtime's connection bringing it */
	bool console_received;	/* the master came (it may be closed again) */
	int runtime_err;	/* tty: the runtime's own stderr pipe */
	int sig_fd;
	int attach_lfd, control_lfd;
	struct attach_client attach[MAX_ATTACH];
	size_t n_attach;
	struct control_client control[MAX_CONTROL];
	size_t n_control;
	struct buf in_pending;
	struct buf capture[2];	/* output read while the runtime ran */
	struct buf backlog;	/* exec: output before the first attach */
	bool attached_once;
	pid_t runtime_pid;
	int runtime_status;
	bool runtime_exited;
	pid_t cpid;		/* 0 until the runtime's pid file is read */
	int cpid_status;
	bool cpid_exited;
	int64_t exited_at;
	struct early_exit early[64];	/* exits seen before cpid was known */
	size_t n_early;
};

/* reap.c */
int reap_init(struct shim *s);
void reap_children(struct shim *s);
/* Looks cpid up among exits seen before it was known. */
void reap_match_early(struct shim *s);

/* attach.c */
void attach_accept(struct shim *s);
void attach_broadcast(struct shim *s, const char *p, size_t n);
void attach_flush(struct shim *s, size_t i);
void attach_read(struct shim *s, size_t i);
void attach_drop(struct shim *s, size_t i);
void stdin_flush(struct shim *s);
void stdin_close(struct shim *s);

/* control.c */
void control_accept(struct shim *s);
void control_read(struct shim *s, size_t i);

/* output.c */
/* Reads what fd has: false at EOF (or a dead tty), true otherwise. */
bool output_read(struct shim *s, enum stream st);
/* Hands output captured during create to the log and attach clients. */
void output_replay(struct shim *s);

/* loop.c */
/* Runs the runtime to completion: 0 once cpid is known, -1 on failure
 * (reported). */
int loop_create(struct shim *s, off_t log_offset);
/* Supervises until cpid exits and its output is drained. */
void loop_run(struct shim *s);

#endif
