/* Taking a connection over from HTTP (an Upgrade: the task attach
 * channel). The handler gets the socket and whatever the client sent after
 * the request; the HTTP side forgets the connection. */
#ifndef KEG_HTTP_HIJACK_H
#define KEG_HTTP_HIJACK_H

struct evbuffer;
struct http_request;

/* Writes head (e.g. "HTTP/1.1 101 ...\r\n\r\n") to the client, then hands
 * over the connection: returns a new close-on-exec, non-blocking
 * descriptor for the socket and moves bytes already read past the
 * request into extra. req is gone after this (its close callback does not
 * run). -1 (errno set) when it cannot: req is then still the handler's. */
int http_hijack(struct http_request *req, const char *head, struct evbuffer *extra);

#endif
