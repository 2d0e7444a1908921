/* keg's side of the REST API: HTTP/1.1 on kegd's Unix socket, spoken by
 * hand (a client links no HTTP library: every keg command starts fast),
 * one connection kept from request to request while kegd allows, JSON in
 * and out, and the API's error envelope ({"error":{"code","message"}})
 * turned into a sentence for the user. */
#ifndef KEG_CLIENT_API_CLIENT_H
#define KEG_CLIENT_API_CLIENT_H

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "client/buf.h"

struct api_client;

enum api_result {
	API_OK,
	API_ERR_CONNECT,	/* nothing answered on the socket */
	API_ERR_TRANSPORT,	/* the connection broke, or the reply made no sense */
	API_ERR_STATUS,		/* kegd answered with an error status */
	API_ERR_ABORTED,	/* the caller stopped a stream */
};

/* ns is sent as the Keg-Namespace header; NULL leaves the choice to kegd.
 * Nothing is connected yet: the first request connects. */
struct api_client *api_client_new(const char *address, const char *ns);
void api_client_free(struct api_client *c);

/* METHOD /v1PATH with an optional JSON body. On API_OK, *reply holds the
 * decoded reply (NULL for an empty one, e.g. 204); the caller owns it. */
enum api_result api_call(struct api_client *c, const char *method, const char *path,
    json_t *body, json_t **reply);

/* The body of a long-lived reply (an SSE stream), handed over as it arrives. */
typedef int (*api_chunk_fn)(const char *data, size_t len, void *arg);

/* A request body read as it is sent (an image archive), never held whole:
 * read fills up to len bytes and returns how many, 0 at the end, or -1 with
 * errno set (EINTR is retried unless the stream is being stopped). */
typedef ssize_t (*api_read_fn)(char *buf, size_t len, void *arg);
/* Called as the body goes out: sent bytes so far of total (-1: unknown). */
typedef void (*api_sent_fn)(int64_t sent, int64_t total, void *arg);

struct api_upload {
	const char *name;		/* what is sent, for "reading NAME: ..." */
	const char *content_type;	/* e.g. application/x-tar */
	int64_t size;			/* -1: unknown, sent chunked */
	api_read_fn read;
	api_sent_fn on_sent;		/* or NULL */
	void *arg;
};

struct api_stream {
	const char *method;		/* NULL: GET */
	const char *path;		/* under /v1, query included */
	json_t *body;			/* sent as JSON when set (POST /images/pull) */
	const char *accept;		/* e.g. text/event-stream */
	const char *last_event_id;	/* sent as Last-Event-ID when set */
	const struct api_upload *upload;	/* the body read as it goes, instead of body */
	api_chunk_fn on_chunk;		/* returns -1 to stop: API_ERR_ABORTED */
	void *arg;
	/* Set by a signal handler (installed without SA_RESTART) to end the
	 * stream: seen at once when the signal interrupts a wait, otherwise
	 * within a second. */
	volatile sig_atomic_t *stop;
	bool established;		/* out: kegd answered 2xx and the body began */
};

/* Reads a streaming reply (SSE, NDJSON, a blob) until it ends (API_OK),
 * breaks, or is stopped. */
enum api_result api_stream_get(struct api_client *c, struct api_stream *s);

/* POST /v1PATH asking kegd to switch the connection to protocol (an HTTP
 * Upgrade, "keg-attach"): after "101 Switching Protocols" it carries raw
 * bytes both ways, and is handed over. Returns its fd (close-on-exec; the
 * caller closes it), with what came after the reply's head (the first
 * output) in *early; -1 when kegd did not switch (api_error_message says
 * why). The client's next request uses a new connection. */
int api_upgrade(struct api_client *c, const char *path, const char *protocol,
    struct buf *early);

/* Why the last call failed, as a sentence to print after "keg: ". */
const char *api_error_message(const struct api_client *c);
/* The HTTP status of the last reply (0 when none came). */
long api_status(const struct api_client *c);
/* The API's stable error code ("not_found") of the last error reply, or "". */
const char *api_error_code(const struct api_client *c);

/* s percent-encoded for a path segment or query value; free() the result. */
char *api_escape(const char *s);

#endif
