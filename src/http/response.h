/* Writing responses: whole JSON replies, errors in the API's one shape, and
 * open-ended streams (NDJSON, Server-Sent Events). */
#ifndef KEG_HTTP_RESPONSE_H
#define KEG_HTTP_RESPONSE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/errcode.h"

struct evbuffer;
struct http_request;

void http_reply(struct http_request *req, int status, const char *content_type,
    const void *body, size_t len);
/* Takes the reference to json. */
void http_reply_json(struct http_request *req, int status, json_t *json);
/* As http_reply, taking body (malloc'd) instead of copying it: freed once sent. */
void http_reply_take(struct http_request *req, int status, const char *content_type,
    char *body, size_t len);
void http_reply_error(struct http_request *req, enum errcode code,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void http_reply_no_content(struct http_request *req);
/* Replies with len bytes of fd from offset, taking fd: the kernel moves them
 * to the socket (sendfile) without passing through the loop's buffers. */
void http_reply_file(struct http_request *req, int status, const char *content_type,
    int fd, int64_t offset, int64_t len);

/* Starts an open-ended response (chunked on HTTP/1.1). */
void http_stream_begin(struct http_request *req, int status, const char *content_type);
void http_stream_write(struct http_request *req, const void *data, size_t len);
/* Bytes queued for the client and not yet taken by it. */
size_t http_stream_pending(const struct http_request *req);
/* Ends the stream; the connection may carry the next request. */
void http_stream_end(struct http_request *req);

/* Drops the connection now, e.g. a subscriber that stopped reading. The
 * request's close callback does not run; req is gone after this. */
void http_abort(struct http_request *req);

/* A whole error response for a request that never reached a handler. */
void http_write_error_response(struct evbuffer *out, enum errcode code,
    const char *message);

const char *http_status_text(int status);

#endif
