#include "distribution/curlm.h"

#include <event2/event.h>
#include <stdlib.h>

#include "common/log.h"
#include "common/util.h"
#include "lazy/lazy_curl.h"

struct curlm {
	CURLM *multi;
	struct event_base *base;
	struct event *timer;
	int running;
};

/* What we keep per easy handle, reached through CURLOPT_PRIVATE. */
struct transfer {
	struct curlm *cm;
	curlm_done_fn done;
	void *arg;
};

/* What we keep per socket, reached through curl_multi_assign. */
struct watched_socket {
	struct event *ev;
};

static void
finish_transfers(struct curlm *cm)
{
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(cm->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		CURL *easy = msg->easy_handle;
		CURLcode result = msg->data.result;
		struct transfer *t = NULL;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t);
		curl_multi_remove_handle(cm->multi, easy);
		curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
		if (t != NULL) {
			curlm_done_fn done = t->done;
			void *arg = t->arg;
			free(t);
			done(easy, result, arg);
		}
	}
}

static void
socket_ready(evutil_socket_t fd, short what, void *arg)
{
	struct curlm *cm = arg;
	int action = ((what & EV_READ) ? CURL_CSELECT_IN : 0) |
	    ((what & EV_WRITE) ? CURL_CSELECT_OUT : 0);
	curl_multi_socket_action(cm->multi, fd, action, &cm->running);
	finish_transfers(cm);
}

static void
timer_due(evutil_socket_t fd, short what, void *arg)
{
	struct curlm *cm = arg;
	curl_multi_socket_action(cm->multi, CURL_SOCKET_TIMEOUT, 0, &cm->running);
	finish_transfers(cm);
}

static int
on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct curlm *cm = userp;
	struct watched_socket *ws = socketp;
	if (what == CURL_POLL_REMOVE) {
		if (ws != NULL) {
			event_free(ws->ev);
			free(ws);
		}
		curl_multi_assign(cm->multi, s, NULL);
		return 0;
	}
	short kind = EV_PERSIST | ((what & CURL_POLL_IN) ? EV_READ : 0) |
	    ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
	if (ws == NULL) {
		ws = xcalloc(1, sizeof(*ws));
		curl_multi_assign(cm->multi, s, ws);
	} else {
		event_free(ws->ev);
	}
	ws->ev = event_new(cm->base, s, kind, socket_ready, cm);
	event_add(ws->ev, NULL);
	return 0;
}

static int
on_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct curlm *cm = userp;
	if (timeout_ms < 0) {
		evtimer_del(cm->timer);
		return 0;
	}
	/* A zero timeout means "act now", but not from inside this callback:
	 * the loop runs the timer on its next turn. */
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	evtimer_add(cm->timer, &tv);
	return 0;
}

struct curlm *
curlm_new(struct event_base *base)
{
	struct curlm *cm = xcalloc(1, sizeof(*cm));
	cm->base = base;
	return cm;
}

/* The multi handle is made for the first transfer, not at start: making it
 * initialises libcurl and with it OpenSSL (its config, providers, error
 * strings), which left ~2.5 MB of libcrypto resident in an idle daemon that
 * may never talk to a registry. libcurl itself is loaded then too. */
int
curlm_prepare(struct curlm *cm, char *err, size_t errlen)
{
	if (cm->multi != NULL)
		return 0;
	if (lazy_curl_load(err, errlen) < 0)
		return -1;
	cm->multi = curl_multi_init();
	cm->timer = evtimer_new(cm->base, timer_due, cm);
	if (cm->multi == NULL || cm->timer == NULL)
		abort();
	/* The multi handle opens a wake-up socket pair without O_CLOEXEC;
	 * runtimes and shims forked later must not inherit it. */
	fd_cloexec_all();
	curl_multi_setopt(cm->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(cm->multi, CURLMOPT_SOCKETDATA, cm);
	curl_multi_setopt(cm->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(cm->multi, CURLMOPT_TIMERDATA, cm);
	/* Registries serve many blobs per host: reuse connections, and let the
	 * pull code, not curl, decide how many transfers run at once. */
	curl_multi_setopt(cm->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 16L);
	return 0;
}

int
curlm_add(struct curlm *cm, CURL *easy, curlm_done_fn done, void *arg)
{
	/* easy exists, so libcurl is loaded: this can only make the handle. */
	char err[256];
	if (curlm_prepare(cm, err, sizeof(err)) < 0)
		return -1;
	struct transfer *t = xcalloc(1, sizeof(*t));
	t->cm = cm;
	t->done = done;
	t->arg = arg;
	curl_easy_setopt(easy, CURLOPT_PRIVATE, t);
	if (curl_multi_add_handle(cm->multi, easy) != CURLM_OK) {
		curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
		free(t);
		return -1;
	}
	return 0;
}

void
curlm_remove(struct curlm *cm, CURL *easy)
{
	struct transfer *t = NULL;
	curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t);
	curl_multi_remove_handle(cm->multi, easy);
	curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
	free(t);
}

int
curlm_running(const struct curlm *cm)
{
	return cm->running;
}

void
curlm_free(struct curlm *cm)
{
	if (cm == NULL)
		return;
	/* Transfers still registered belong to their owners, who free their
	 * handles; here we only detach them from the multi handle. */
	if (cm->multi != NULL) {
		curl_multi_cleanup(cm->multi);
		event_free(cm->timer);
	}
	free(cm);
}
