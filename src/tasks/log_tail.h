/* Where `tail N` starts in a CRI log, found by reading the file backwards
 * a block at a time (never the whole file in memory, one block per step
 * so the loop is not held up by a big file and a big N). Counts full (F)
 * lines of the selected streams; the start is just past the (N+1)th one
 * from the end, so the P pieces of the N lines are included. */
#ifndef KEG_TASKS_LOG_TAIL_H
#define KEG_TASKS_LOG_TAIL_H

#include <stdint.h>

struct log_tail_scan {
	int fd;
	int64_t want;		/* N */
	unsigned streams;
	int64_t pos;		/* [pos, size) has been examined */
	int64_t next_nl;	/* the newline ending the line being scanned; -1 before the last one is found */
	int64_t found;
	int64_t start;		/* the answer, once a step returned 1 */
	char *buf;
};

void log_tail_init(struct log_tail_scan *t, int fd, int64_t size, int64_t n,
    unsigned streams);
/* One block: 1 when t->start is known, 0 to call again, -1 on a read error
 * (errno). */
int log_tail_step(struct log_tail_scan *t);
void log_tail_free(struct log_tail_scan *t);

#endif
