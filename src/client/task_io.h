/* What `keg run` and `keg tasks` share about a running process: its API
 * path, printing its log stream (stdout to stdout, stderr to stderr),
 * waiting for its exit status, forwarding Ctrl-C and kill to it, and the
 * interactive attach with a raw terminal. */
#ifndef KEG_CLIENT_TASK_IO_H
#define KEG_CLIENT_TASK_IO_H

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>

#include "client/buf.h"
#include "client/command.h"

/* "/tasks/ID" or "/tasks/ID/execs/EID" (eid NULL), plus "/tail" when
 * tail is set; free() the result. */
char *task_path(const char *id, const char *eid, const char *tail);

struct task_logs_opts {
	bool follow;
	long long tail;		/* -1: all */
	const char *since;	/* as typed: RFC 3339, unix seconds, or 10s/5m/2h; NULL: all */
	bool json;		/* print the NDJSON entries as they come */
};

/* Streams the process's log to the terminal until it ends (with follow:
 * until the process stopped and its output is all out). Returns an exit
 * status (EXIT_OK when the stream ended cleanly). */
int task_logs_print(struct keg_context *ctx, const char *id, const char *eid,
    const struct task_logs_opts *o);

/* GET .../wait: the exit status (0..255, 128+signal) in *status. */
int task_wait_status(struct keg_context *ctx, const char *id, const char *eid,
    int *status);

/* A signal name ("TERM", "SIGTERM") or number; -1 when unknown. */
int task_signal_parse(const char *s);

/* SIGINT and SIGTERM, while it runs, go to the process (POST .../kill)
 * instead of ending keg, as ctr does. Uses a thread with its own API
 * client, so the main one can stay in a stream. */
struct sig_forward;
struct sig_forward *sig_forward_start(const struct keg_context *ctx, const char *id,
    const char *eid);
void sig_forward_stop(struct sig_forward *f);

/* POST .../start: EXIT_OK, or the status after saying what failed. */
int task_start(struct keg_context *ctx, const char *id, const char *eid);

/* Starts the process and prints its output until it stops, Ctrl-C and
 * kill forwarded to it (sig_forward); then its exit status in *status.
 * Returns keg's status (EXIT_OK when *status is set). */
int task_start_follow(struct keg_context *ctx, const char *id, const char *eid,
    int *status);
/* The same for a process already started. */
int task_follow(struct keg_context *ctx, const char *id, const char *eid, int *status);

/* The interactive session over .../attach: the terminal in raw mode
 * (restored before returning), stdin to the process, its output to
 * stdout, window size changes sent as .../resize; with start, the process
 * is started once attached (attach before start loses no output). Then
 * its exit status in *status. Returns keg's status (EXIT_OK when *status
 * is set). */
int task_attach_wait(struct keg_context *ctx, const char *id, const char *eid, bool start,
    int *status);

extern const struct keg_command cmd_tasks_exec;
extern const struct keg_command cmd_tasks_checkpoint;
extern const struct keg_command cmd_tasks_restore;

#endif
