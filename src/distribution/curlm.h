/* libcurl's multi interface driven by the daemon's event_base (the
 * "multi_socket" pattern): curl tells us which sockets to watch and when its
 * timer is due, we tell it when they are ready. No call here ever blocks. */
#ifndef KEG_DISTRIBUTION_CURLM_H
#define KEG_DISTRIBUTION_CURLM_H

#include <curl/curl.h>
#include <stddef.h>

struct event_base;
struct curlm;

typedef void (*curlm_done_fn)(CURL *easy, CURLcode result, void *arg);

struct curlm *curlm_new(struct event_base *base);
/* Loads libcurl (kegd opens it on first use: src/lazy/lazy_curl.h) and makes
 * the multi handle. Every path calls this before its first curl_* call:
 * 0, or -1 with a message in err when libcurl cannot be loaded (the caller
 * fails its request; a later call tries again). */
int curlm_prepare(struct curlm *cm, char *err, size_t errlen);
/* Aborts every transfer still running (their done callbacks do not run). */
void curlm_free(struct curlm *cm);

/* Starts easy; done(easy, result, arg) runs once when it finishes, after
 * which the caller owns easy again (to reuse or clean up). */
int curlm_add(struct curlm *cm, CURL *easy, curlm_done_fn done, void *arg);
/* Stops a running transfer without calling its done callback. */
void curlm_remove(struct curlm *cm, CURL *easy);

int curlm_running(const struct curlm *cm);

#endif
