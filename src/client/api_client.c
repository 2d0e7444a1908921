#include "config.h"

#include "client/api_client.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/http_reply.h"
#include "client/unix_conn.h"
#include "common/util.h"

/* A JSON reply bigger than this is a broken daemon, not data worth holding. */
#define REPLY_MAX_BYTES (64u << 20)
#define ERROR_BODY_MAX_BYTES (64u << 10)
/* What one receive takes, and one piece of an upload. */
#define IO_BYTES (64u << 10)
/* Room before an upload piece for its chunk-size line ("ffff\r\n"), and
 * after it for the line break that ends the chunk. */
#define CHUNK_PREFIX_ROOM 18
#define CHUNK_SUFFIX_ROOM 2

struct api_client {
	char *address;
	char *ns;		/* sent as Keg-Namespace, or NULL */
	int fd;			/* the connection kept from the last reply, or -1 */
	char *in;		/* IO_BYTES to receive into, once needed */
	char *out;		/* an upload's pieces, once needed */
	char *error;		/* message of the last failure */
	char *error_code;	/* the API's code of the last error reply */
	long status;
};

/* What is asked. */
struct request {
	const char *method;
	const char *path;		/* under /v1 */
	const char *accept;
	const char *last_event_id;	/* or NULL */
	const char *upgrade;		/* the protocol to switch to, or NULL */
	const char *payload;		/* a JSON body, or NULL */
	const struct api_upload *upload;	/* a body read as it goes, or NULL */
	volatile sig_atomic_t *stop;	/* or NULL */
};

/* How far the request went. */
struct sent {
	size_t bytes;		/* of it that went, head included */
	bool upload_read;	/* the upload's source was read: never again */
	bool whole;		/* all of it went */
	int errnum;		/* why sending failed, or 0 */
};

/* Where the reply goes, and what came of it. */
struct reply {
	api_chunk_fn on_chunk;	/* a 2xx body as it arrives; NULL: kept in body */
	void *arg;
	bool *established;	/* set when a 2xx body begins, or NULL */
	size_t body_max;	/* what body holds at the most */
	bool overflow_fails;	/* more is an error (else it is dropped) */

	struct http_reply_head head;
	struct buf body;
	struct buf early;	/* after 101: what came after the head */
	size_t received;	/* bytes of the reply read */
	bool overflow;
	bool reset;		/* ECONNRESET: kegd closed with our bytes unread */
};

struct api_client *
api_client_new(const char *address, const char *ns)
{
	struct api_client *c = xcalloc(1, sizeof(*c));
	c->address = xstrdup(address);
	c->ns = ns ? xstrdup(ns) : NULL;
	c->fd = -1;
	c->error = xstrdup("");
	c->error_code = xstrdup("");
	return c;
}

static void
drop_connection(struct api_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

void
api_client_free(struct api_client *c)
{
	if (c == NULL)
		return;
	drop_connection(c);
	free(c->address);
	free(c->ns);
	free(c->in);
	free(c->out);
	free(c->error);
	free(c->error_code);
	free(c);
}

const char *
api_error_message(const struct api_client *c)
{
	return c->error;
}

const char *
api_error_code(const struct api_client *c)
{
	return c->error_code;
}

long
api_status(const struct api_client *c)
{
	return c->status;
}

static void set_error(struct api_client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
set_error(struct api_client *c, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = xstrdup("out of memory");
	va_end(ap);
	free(c->error);
	c->error = msg;
}

static void
set_error_code(struct api_client *c, const char *code)
{
	free(c->error_code);
	c->error_code = xstrdup(code);
}

char *
api_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = xmalloc(strlen(s) * 3 + 1), *o = out;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p) != NULL) {
			*o++ = (char)*p;
			continue;
		}
		*o++ = '%';
		*o++ = hex[*p >> 4];
		*o++ = hex[*p & 15];
	}
	*o = '\0';
	return out;
}

static bool
status_ok(long status)
{
	return status >= 200 && status <= 299;
}

static enum api_result
connect_error(struct api_client *c, int err)
{
	const char *hint = err == EACCES ?
	    " (run as root or as a member of the socket's group)" : err == ENAMETOOLONG ?
	    " (a socket path has at most 107 bytes)" :
	    " (is kegd running? choose the socket with --address or KEG_ADDRESS)";
	set_error(c, "cannot connect to kegd at %s: %s%s", c->address, strerror(err), hint);
	return API_ERR_CONNECT;
}

static enum api_result transport_error(struct api_client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static enum api_result
transport_error(struct api_client *c, const char *fmt, ...)
{
	va_list ap;
	char *why;
	va_start(ap, fmt);
	if (vasprintf(&why, fmt, ap) < 0)
		why = NULL;
	va_end(ap);
	set_error(c, "talking to kegd at %s: %s", c->address, why ? why : "out of memory");
	free(why);
	return API_ERR_TRANSPORT;
}

/* Turns an error reply into its message; a reply that is not the API's
 * envelope (a proxy, a crash) still gets a sentence with the status. */
static enum api_result
status_error(struct api_client *c, const struct buf *body, const char *instead)
{
	json_t *reply = json_loadb(body->data ? body->data : "", body->len, 0, NULL);
	const char *code = NULL, *message = NULL;
	json_unpack(json_object_get(reply, "error"), "{s?s,s?s}",
	    "code", &code, "message", &message);
	if (code != NULL)
		set_error_code(c, code);
	if (message != NULL && *message != '\0')
		set_error(c, "%s", message);
	else
		set_error(c, "kegd answered HTTP %ld%s%s%s", c->status, code ? ": " : "",
		    code ? code : "", instead);
	json_decref(reply);
	return API_ERR_STATUS;
}

static enum api_result
decode_reply(struct api_client *c, const struct buf *body, json_t **reply)
{
	if (!status_ok(c->status))
		return status_error(c, body, "");
	if (body->len == 0)
		return API_OK;
	json_error_t jerr;
	json_t *j = json_loadb(body->data, body->len, 0, &jerr);
	if (j == NULL) {
		set_error(c, "kegd sent a reply that is not JSON: %s", jerr.text);
		return API_ERR_TRANSPORT;
	}
	if (reply != NULL)
		*reply = j;
	else
		json_decref(j);
	return API_OK;
}

/* --- the request ---------------------------------------------------- */

/* The path as typed by the caller (its parts escaped with api_escape);
 * bytes a request line cannot carry are escaped here. */
static void
append_target(struct buf *h, const char *path)
{
	buf_append(h, "/v1", 3);
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if (*p > 0x20 && *p < 0x7f)
			buf_append(h, (const char *)p, 1);
		else
			buf_appendf(h, "%%%02X", *p);
	}
}

/* A header whose value would break the head (a CR or LF) is left out. */
static void
append_header(struct buf *h, const char *name, const char *value)
{
	if (strpbrk(value, "\r\n") == NULL)
		buf_appendf(h, "%s: %s\r\n", name, value);
}

/* The head, and a JSON body with it: both go in one write. */
static void
request_head(const struct api_client *c, const struct request *rq, struct buf *h)
{
	buf_appendf(h, "%s ", rq->method);
	append_target(h, rq->path);
	buf_appendf(h, " HTTP/1.1\r\nHost: localhost\r\nUser-Agent: keg/%s\r\n",
	    PACKAGE_VERSION);
	append_header(h, "Accept", rq->accept ? rq->accept : "*/*");
	if (c->ns != NULL)
		append_header(h, "Keg-Namespace", c->ns);
	if (rq->last_event_id != NULL)
		append_header(h, "Last-Event-ID", rq->last_event_id);
	if (rq->upgrade != NULL)
		buf_appendf(h, "Connection: Upgrade\r\nUpgrade: %s\r\n", rq->upgrade);
	const struct api_upload *up = rq->upload;
	if (rq->payload != NULL) {
		buf_appendf(h, "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
		    strlen(rq->payload), rq->payload);
	} else if (up != NULL) {
		append_header(h, "Content-Type", up->content_type ? up->content_type :
		    "application/octet-stream");
		/* Without a size the body goes in chunks, as HTTP/1.1 allows. */
		if (up->size >= 0)
			buf_appendf(h, "Content-Length: %" PRId64 "\r\n\r\n", up->size);
		else
			buf_appendf(h, "Transfer-Encoding: chunked\r\n\r\n");
	} else {
		buf_appendf(h, "%s\r\n", rq->upgrade ? "Content-Length: 0\r\n" : "");
	}
}

static enum io_result
send_bytes(struct api_client *c, const struct request *rq, const char *p, size_t len,
    struct sent *st)
{
	size_t n = 0;
	enum io_result r = io_send(c->fd, p, len, rq->stop, &n);
	st->bytes += n;
	if (r == IO_FAILED)
		st->errnum = errno;
	return r;
}

static const char *
upload_name(const struct api_upload *up)
{
	return up->name ? up->name : "the upload";
}

/* Up to len bytes of the upload (0 at its end); EINTR is retried unless
 * the stream is being stopped. */
static enum api_result
read_upload(struct api_client *c, const struct request *rq, char *p, size_t len,
    size_t *got)
{
	const struct api_upload *up = rq->upload;
	for (;;) {
		if (rq->stop != NULL && *rq->stop)
			return API_ERR_ABORTED;
		ssize_t n = up->read(p, len, up->arg);
		if (n >= 0) {
			*got = (size_t)n;
			return API_OK;
		}
		if (errno != EINTR) {
			set_error(c, "reading %s: %s", upload_name(up), strerror(errno ? errno : EIO));
			return API_ERR_TRANSPORT;
		}
	}
}

/* The upload's body, a piece at a time: with its Content-Length, exactly
 * that many bytes; without, as chunks and the empty chunk at the end.
 * *r tells how the last send went (not IO_OK: kegd answered or broke). */
static enum api_result
send_upload(struct api_client *c, const struct request *rq, struct sent *st,
    enum io_result *r)
{
	const struct api_upload *up = rq->upload;
	bool chunked = up->size < 0;
	if (c->out == NULL)
		c->out = xmalloc(CHUNK_PREFIX_ROOM + IO_BYTES + CHUNK_SUFFIX_ROOM);
	char *data = c->out + CHUNK_PREFIX_ROOM;
	int64_t done = 0;
	while (chunked || done < up->size) {
		size_t want = IO_BYTES, got;
		if (!chunked && up->size - done < (int64_t)want)
			want = (size_t)(up->size - done);
		st->upload_read = true;
		enum api_result res = read_upload(c, rq, data, want, &got);
		if (res != API_OK)
			return res;
		if (got > want)
			got = want;
		if (got == 0 && !chunked) {
			set_error(c, "reading %s: it ended after %" PRId64 " of %" PRId64 " bytes",
			    upload_name(up), done, up->size);
			return API_ERR_TRANSPORT;
		}
		char *p = data;
		size_t len = got;
		if (chunked) {
			char line[CHUNK_PREFIX_ROOM + 1];
			int n = snprintf(line, sizeof(line), "%zx\r\n", got);
			p -= n;
			memcpy(p, line, (size_t)n);
			memcpy(data + got, "\r\n", 2);
			len += (size_t)n + 2;
		}
		if ((*r = send_bytes(c, rq, p, len, st)) != IO_OK || got == 0)
			return API_OK;
		done += (int64_t)got;
		if (up->on_sent != NULL)
			up->on_sent(done, up->size, up->arg);
	}
	return API_OK;
}

/* Sends the whole request. API_OK when its reply is to be read next: also
 * when kegd answered or broke before it had it all (st->whole is false),
 * since what it said then is the reason to give. */
static enum api_result
send_request(struct api_client *c, const struct request *rq, const struct buf *head,
    struct sent *st)
{
	enum io_result r = send_bytes(c, rq, head->data, head->len, st);
	if (r == IO_OK && rq->upload != NULL) {
		enum api_result res = send_upload(c, rq, st, &r);
		if (res != API_OK)
			return res;
	}
	if (r == IO_STOPPED)
		return API_ERR_ABORTED;
	st->whole = r == IO_OK;
	return API_OK;
}

/* --- the reply ------------------------------------------------------ */

static enum api_result
read_failed(struct api_client *c, enum io_result r, struct reply *rp, const struct sent *st)
{
	int err = errno;
	if (r == IO_STOPPED)
		return API_ERR_ABORTED;
	rp->reset = r == IO_FAILED && err == ECONNRESET;
	if (rp->received == 0 && st->errnum != 0)
		return transport_error(c, "sending the request: %s", strerror(st->errnum));
	if (r == IO_EOF)
		return transport_error(c, rp->received == 0 ?
		    "kegd closed the connection without answering" :
		    "kegd closed the connection before the reply ended");
	return transport_error(c, "reading the reply: %s", strerror(err));
}

/* Reads until in starts with a whole final head (interim 1xx replies other
 * than 101 are skipped); *head_len is its length. */
static enum api_result
read_head(struct api_client *c, const struct request *rq, struct reply *rp,
    const struct sent *st, struct buf *in, size_t *head_len)
{
	for (;;) {
		size_t n = in->len ? http_head_length(in->data, in->len) : 0;
		if (n > HTTP_HEAD_MAX || (n == 0 && in->len > HTTP_HEAD_MAX))
			return transport_error(c, "a reply head longer than %d bytes",
			    HTTP_HEAD_MAX);
		if (n > 0) {
			const char *why = NULL;
			if (http_reply_head_parse(in->data, n, &rp->head, &why) < 0)
				return transport_error(c, "%s", why);
			if (rp->head.status >= 200 || rp->head.status == 101) {
				*head_len = n;
				return API_OK;
			}
			memmove(in->data, in->data + n, in->len - n + 1);
			in->len -= n;
			continue;
		}
		size_t got;
		enum io_result r = io_recv(c->fd, c->in, IO_BYTES, rq->stop, &got);
		if (r != IO_OK)
			return read_failed(c, r, rp, st);
		rp->received += got;
		buf_append(in, c->in, got);
	}
}

/* A 2xx body to the caller's on_chunk as it comes; anything else kept. */
static int
take_content(const char *data, size_t len, void *arg)
{
	struct reply *rp = arg;
	if (rp->on_chunk != NULL && status_ok(rp->head.status)) {
		if (rp->established != NULL)
			*rp->established = true;
		return rp->on_chunk(data, len, rp->arg) < 0 ? -1 : 0;
	}
	size_t room = rp->body_max - rp->body.len;
	if (len > room) {
		if (rp->overflow_fails) {
			rp->overflow = true;
			return -1;
		}
		len = room;
	}
	buf_append(&rp->body, data, len);
	return 0;
}

/* The body, from the rest bytes that came with the head and then from the
 * socket. *clean: it ended where its framing said, nothing after it. */
static enum api_result
read_body(struct api_client *c, const struct request *rq, struct reply *rp,
    const struct sent *st, const char *rest, size_t rest_len, bool *clean)
{
	struct http_body body;
	http_body_init(&body, &rp->head);
	const char *p = rest;
	size_t n = rest_len;
	*clean = true;
	for (;;) {
		ssize_t used = n > 0 ? http_body_feed(&body, p, n, take_content, rp) : 0;
		if (used == HTTP_BODY_STOP && rp->overflow) {
			set_error(c, "kegd's reply is larger than %u bytes", REPLY_MAX_BYTES);
			return API_ERR_TRANSPORT;
		}
		if (used == HTTP_BODY_STOP)
			return API_ERR_ABORTED;
		if (used == HTTP_BODY_BAD)
			return transport_error(c, "a reply with a malformed chunked body");
		if ((size_t)used < n)
			*clean = false;		/* bytes after the reply: not HTTP */
		if (body.done)
			return API_OK;
		enum io_result r = io_recv(c->fd, c->in, IO_BYTES, rq->stop, &n);
		if (r == IO_EOF && http_body_complete_at_eof(&body)) {
			*clean = false;
			return API_OK;
		}
		if (r != IO_OK)
			return read_failed(c, r, rp, st);
		rp->received += n;
		p = c->in;
	}
}

/* Reads the reply; the connection is kept for the next request only when
 * the reply ended cleanly and kegd keeps it open. After a 101 it is left
 * for the caller to take. */
static enum api_result
read_reply(struct api_client *c, const struct request *rq, struct reply *rp,
    const struct sent *st)
{
	struct buf in = BUF_INIT;
	size_t head_len = 0;
	bool keep = false;
	if (c->in == NULL)
		c->in = xmalloc(IO_BYTES);
	enum api_result res = read_head(c, rq, rp, st, &in, &head_len);
	if (res == API_OK) {
		c->status = rp->head.status;
		const char *rest = in.data + head_len;
		size_t rest_len = in.len - head_len;
		bool clean = false;
		if (rp->head.status == 101 && rq->upgrade == NULL)
			res = transport_error(c, "a switch of protocols keg did not ask for");
		else if (rp->head.status == 101)
			buf_append(&rp->early, rest, rest_len);
		else
			res = read_body(c, rq, rp, st, rest, rest_len, &clean);
		keep = res == API_OK && (rp->head.status == 101 ||
		    (clean && rp->head.keep_alive && st->whole));
	}
	buf_free(&in);
	if (!keep)
		drop_connection(c);
	return res;
}

/* One request and its reply, on the connection kept from the last one when
 * kegd still has it open. When kegd closed that one just as this request
 * went out (it never read it), the request goes again on a new connection;
 * never one whose upload was begun. */
static enum api_result
exchange(struct api_client *c, const struct request *rq, struct reply *rp)
{
	struct buf head = BUF_INIT;
	enum api_result res;
	request_head(c, rq, &head);
	c->status = 0;
	set_error_code(c, "");
	for (int attempt = 0;; attempt++) {
		if (c->fd >= 0 && !unix_conn_idle(c->fd))
			drop_connection(c);
		bool reused = c->fd >= 0;
		if (!reused && (c->fd = unix_connect(c->address)) < 0) {
			res = connect_error(c, errno);
			break;
		}
		struct sent st = { 0 };
		res = send_request(c, rq, &head, &st);
		if (res != API_OK) {
			drop_connection(c);
			break;
		}
		res = read_reply(c, rq, rp, &st);
		bool unread = rp->received == 0 && (st.bytes == 0 || rp->reset);
		if (res != API_ERR_TRANSPORT || !reused || attempt > 0 || st.upload_read ||
		    !unread)
			break;
	}
	buf_free(&head);
	return res;
}

static void
reply_free(struct reply *rp)
{
	buf_free(&rp->body);
	buf_free(&rp->early);
}

enum api_result
api_call(struct api_client *c, const char *method, const char *path, json_t *body,
    json_t **reply)
{
	if (reply != NULL)
		*reply = NULL;
	char *payload = body ? json_dumps(body, JSON_COMPACT) : NULL;
	struct request rq = {
		.method = method, .path = path, .accept = "application/json",
		.payload = payload,
	};
	struct reply rp = { .body_max = REPLY_MAX_BYTES, .overflow_fails = true };
	enum api_result res = exchange(c, &rq, &rp);
	if (res == API_OK)
		res = decode_reply(c, &rp.body, reply);
	reply_free(&rp);
	free(payload);
	return res;
}

enum api_result
api_stream_get(struct api_client *c, struct api_stream *s)
{
	char *payload = s->body && s->upload == NULL ? json_dumps(s->body, JSON_COMPACT) : NULL;
	struct request rq = {
		.method = s->method ? s->method : "GET", .path = s->path, .accept = s->accept,
		.last_event_id = s->last_event_id, .payload = payload, .upload = s->upload,
		.stop = s->stop,
	};
	/* The status is known by the time the body starts: a 2xx body goes to
	 * the caller as it arrives, anything else is kept to decode. */
	struct reply rp = {
		.on_chunk = s->on_chunk, .arg = s->arg, .established = &s->established,
		.body_max = ERROR_BODY_MAX_BYTES,
	};
	s->established = false;
	enum api_result res = exchange(c, &rq, &rp);
	if (res == API_OK && !status_ok(c->status))
		res = status_error(c, &rp.body, "");
	reply_free(&rp);
	free(payload);
	return res;
}

int
api_upgrade(struct api_client *c, const char *path, const char *protocol, struct buf *early)
{
	struct request rq = {
		.method = "POST", .path = path, .accept = "application/json",
		.upgrade = protocol,
	};
	struct reply rp = { .body_max = ERROR_BODY_MAX_BYTES };
	int fd = -1;
	enum api_result res = exchange(c, &rq, &rp);
	if (res == API_OK && c->status == 101) {
		fd = c->fd;
		c->fd = -1;
		buf_append(early, rp.early.data ? rp.early.data : "", rp.early.len);
	} else if (res == API_OK) {
		status_error(c, &rp.body, " instead of switching protocols");
	}
	reply_free(&rp);
	return fd;
}
