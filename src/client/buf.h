/* A growable byte buffer, always NUL-terminated so text users can treat it
 * as a string; binary users go by len. */
#ifndef KEG_CLIENT_BUF_H
#define KEG_CLIENT_BUF_H

#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
};

#define BUF_INIT { NULL, 0, 0 }

void buf_append(struct buf *b, const char *s, size_t n);
void buf_appendf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_clear(struct buf *b);
void buf_free(struct buf *b);

#endif
