#include "http/response.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "http/conn.h"
#include "http/request.h"

const char *
http_status_text(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 416: return "Range Not Satisfiable";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}

static json_t *
error_body(enum errcode code, const char *message)
{
	return json_pack("{s:{s:s,s:s}}", "error", "code", errcode_name(code),
	    "message", message);
}

void
http_write_error_response(struct evbuffer *out, enum errcode code, const char *message)
{
	json_t *body = error_body(code, message);
	char *text = json_dumps(body, JSON_COMPACT);
	int status = errcode_status(code);
	evbuffer_add_printf(out,
	    "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
	    status, http_status_text(status), strlen(text), text);
	free(text);
	json_decref(body);
}

static void
write_head(struct http_request *req, int status, const char *content_type,
    const char *length_header)
{
	struct evbuffer *out = bufferevent_get_output(http_conn_bev(req->conn));
	/* Answered before its streamed body ended (a refusal): the rest of the
	 * body will not be read, so the connection cannot carry another request
	 * — and the client must hear that in this head, not find out later. */
	if (req->body_streaming && !req->body_ended)
		req->keep_alive = false;
	evbuffer_add_printf(out, "HTTP/1.%d %d %s\r\n", req->version_minor, status,
	    http_status_text(status));
	if (content_type != NULL)
		evbuffer_add_printf(out, "Content-Type: %s\r\n", content_type);
	if (length_header != NULL)
		evbuffer_add_printf(out, "%s\r\n", length_header);
	for (size_t i = 0; i < req->n_reply_headers; i++)
		evbuffer_add_printf(out, "%s: %s\r\n", req->reply_headers[i].name,
		    req->reply_headers[i].value);
	if (!req->keep_alive)
		evbuffer_add_printf(out, "Connection: close\r\n");
	else if (req->version_minor == 0)
		evbuffer_add_printf(out, "Connection: keep-alive\r\n");
	evbuffer_add(out, "\r\n", 2);
	req->responded = true;
}

static bool
is_head(const struct http_request *req)
{
	return strcmp(req->method, "HEAD") == 0;
}

void
http_reply(struct http_request *req, int status, const char *content_type,
    const void *body, size_t len)
{
	if (req->responded)
		return;
	char length[48];
	snprintf(length, sizeof(length), "Content-Length: %zu", len);
	write_head(req, status, content_type, status == 204 ? NULL : length);
	bool head_only = is_head(req) || status == 204;
	if (!head_only && len > 0)
		evbuffer_add(bufferevent_get_output(http_conn_bev(req->conn)), body, len);
	http_conn_response_queued(req->conn);
}

static void
free_body(const void *data, size_t len, void *arg)
{
	(void)len;
	(void)arg;
	free((void *)data);
}

void
http_reply_take(struct http_request *req, int status, const char *content_type, char *body,
    size_t len)
{
	if (req->responded) {
		free(body);
		return;
	}
	char length[48];
	snprintf(length, sizeof(length), "Content-Length: %zu", len);
	write_head(req, status, content_type, length);
	struct evbuffer *out = bufferevent_get_output(http_conn_bev(req->conn));
	if (is_head(req) || evbuffer_add_reference(out, body, len, free_body, NULL) < 0)
		free(body);
	http_conn_response_queued(req->conn);
}

void
http_reply_json(struct http_request *req, int status, json_t *json)
{
	char *text = json_dumps(json, JSON_COMPACT);
	json_decref(json);
	if (text == NULL) {
		http_reply_error(req, ERR_INTERNAL, "could not encode the response");
		return;
	}
	size_t len = strlen(text);
	text[len] = '\n'; /* for people reading curl output; NUL no longer needed */
	http_reply(req, status, "application/json", text, len + 1);
	free(text);
}

void
http_reply_error(struct http_request *req, enum errcode code, const char *fmt, ...)
{
	char message[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	http_reply_json(req, errcode_status(code), error_body(code, message));
}

void
http_reply_file(struct http_request *req, int status, const char *content_type, int fd,
    int64_t offset, int64_t len)
{
	if (req->responded) {
		close(fd);
		return;
	}
	char length[48];
	snprintf(length, sizeof(length), "Content-Length: %lld", (long long)len);
	write_head(req, status, content_type, length);
	struct evbuffer *out = bufferevent_get_output(http_conn_bev(req->conn));
	if (strcmp(req->method, "HEAD") == 0 || len == 0 ||
	    evbuffer_add_file(out, fd, offset, len) < 0)
		close(fd);
	http_conn_response_queued(req->conn);
}

void
http_reply_no_content(struct http_request *req)
{
	http_reply(req, 204, NULL, NULL, 0);
}

void
http_stream_begin(struct http_request *req, int status, const char *content_type)
{
	if (req->responded)
		return;
	req->streaming = true;
	req->chunked_reply = req->version_minor >= 1;
	if (!req->chunked_reply)
		req->keep_alive = false; /* HTTP/1.0: the end of the stream is EOF */
	/* HEAD: the head is the whole reply. The owner may go on writing until
	 * it ends the stream or the client leaves, so no next request can be
	 * read on this connection: close it after the head. */
	if (is_head(req))
		req->keep_alive = false;
	write_head(req, status, content_type,
	    req->chunked_reply ? "Transfer-Encoding: chunked" : NULL);
	http_conn_stream_started(req->conn);
}

void
http_stream_write(struct http_request *req, const void *data, size_t len)
{
	if (len == 0 || is_head(req))
		return;
	struct evbuffer *out = bufferevent_get_output(http_conn_bev(req->conn));
	if (req->chunked_reply)
		evbuffer_add_printf(out, "%zx\r\n", len);
	evbuffer_add(out, data, len);
	if (req->chunked_reply)
		evbuffer_add(out, "\r\n", 2);
}

size_t
http_stream_pending(const struct http_request *req)
{
	return evbuffer_get_length(bufferevent_get_output(http_conn_bev(req->conn)));
}

void
http_stream_end(struct http_request *req)
{
	if (req->chunked_reply && !is_head(req))
		evbuffer_add(bufferevent_get_output(http_conn_bev(req->conn)), "0\r\n\r\n", 5);
	req->on_close = NULL;
	req->on_drain = NULL;
	http_conn_response_queued(req->conn);
}

void
http_abort(struct http_request *req)
{
	http_conn_close(req->conn, false);
}
