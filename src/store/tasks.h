/* Task rows: one per container process (exec_id "" is the init process),
 * what kegd needs to find a shim again after a restart (pid and start
 * time) and the exit status once known. exit_published is set in the
 * same transaction as the /tasks/exit event so it goes out exactly once. */
#ifndef KEG_STORE_TASKS_H
#define KEG_STORE_TASKS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "store/db.h"

struct store;

enum task_status { TASK_CREATED, TASK_RUNNING, TASK_PAUSED, TASK_STOPPED };

struct task_row {
	char *ns, *container_id, *exec_id;	/* exec_id "" for init */
	enum task_status status;
	pid_t pid, shim_pid;
	unsigned long long shim_start;
	bool terminal;
	char *process;			/* JSON of an exec's process; NULL for init */
	bool exited;			/* exit_status and exited_at are set */
	int exit_status;
	int64_t exited_at;
	bool exit_published;
	int64_t created_at, updated_at;
};

const char *task_status_name(enum task_status s);
void task_row_clear(struct task_row *row);
void task_rows_free(struct task_row *rows, size_t n);

enum store_result store_task_get(struct store *st, const char *ns, const char *cid,
    const char *eid, struct task_row *out);
/* Rows of ns (NULL: every namespace) and container (NULL: all), init
 * first, ordered. *rows malloc'd (task_rows_free). -1 on a store error. */
int store_task_list(struct store *st, const char *ns, const char *cid,
    struct task_row **rows, size_t *n);
/* Rows whose process may still run (status not stopped), every namespace:
 * what kegd watches again at start. */
int store_task_list_live(struct store *st, struct task_row **rows, size_t *n);

/* Inside a transaction. STORE_EXISTS when the key is taken. */
enum store_result store_task_insert(struct store *st, const struct task_row *row,
    int64_t now_ns);
/* The shim reported ready: pid, shim pid and start time, and the status. */
enum store_result store_task_set_started(struct store *st, const char *ns,
    const char *cid, const char *eid, enum task_status status, pid_t pid,
    pid_t shim_pid, unsigned long long shim_start, int64_t now_ns);
enum store_result store_task_set_status(struct store *st, const char *ns,
    const char *cid, const char *eid, enum task_status status, int64_t now_ns);
/* stopped, with the exit status, and exit_published = 1. */
enum store_result store_task_set_exit(struct store *st, const char *ns,
    const char *cid, const char *eid, int status, int64_t exited_at, int64_t now_ns);
enum store_result store_task_delete(struct store *st, const char *ns, const char *cid,
    const char *eid);
/* Every row of the container (init and execs). */
enum store_result store_task_delete_all(struct store *st, const char *ns, const char *cid);

#endif
