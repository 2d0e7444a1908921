/* Signal forwarding, as ctr does for a task it runs: SIGINT and SIGTERM
 * sent to keg become POST .../kill for the process, and keg goes on
 * printing its output until it really exits. A thread waits for the
 * signals with sigwait (blocked everywhere else) and talks to kegd with its
 * own API client, since the main one is busy in a stream. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/task_io.h"
#include "common/util.h"

struct sig_forward {
	pthread_t thread;
	struct api_client *api;
	char *kill_path;
	sigset_t set;
	sigset_t old;
};

/* SIGUSR1 is keg's own "stop forwarding" from sig_forward_stop. */
static void *
forward_loop(void *arg)
{
	struct sig_forward *f = arg;
	for (;;) {
		int sig;
		if (sigwait(&f->set, &sig) != 0 || sig == SIGUSR1)
			return NULL;
		json_t *body = json_pack("{s:i}", "signal", sig);
		if (api_call(f->api, "POST", f->kill_path, body, NULL) != API_OK)
			fprintf(stderr, "keg: forwarding signal %d: %s\n", sig,
			    api_error_message(f->api));
		json_decref(body);
	}
}

struct sig_forward *
sig_forward_start(const struct keg_context *ctx, const char *id, const char *eid)
{
	struct sig_forward *f = xcalloc(1, sizeof(*f));
	f->api = api_client_new(ctx->address, ctx->ns);
	f->kill_path = task_path(id, eid, "kill");
	sigemptyset(&f->set);
	sigaddset(&f->set, SIGINT);
	sigaddset(&f->set, SIGTERM);
	sigaddset(&f->set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &f->set, &f->old);
	if (pthread_create(&f->thread, NULL, forward_loop, f) != 0) {
		pthread_sigmask(SIG_SETMASK, &f->old, NULL);
		api_client_free(f->api);
		free(f->kill_path);
		free(f);
		return NULL;
	}
	return f;
}

void
sig_forward_stop(struct sig_forward *f)
{
	if (f == NULL)
		return;
	pthread_kill(f->thread, SIGUSR1);
	pthread_join(f->thread, NULL);
	/* A signal that came after the process ended stays pending in the
	 * blocked set: it is delivered (and ends keg) when this unblocks,
	 * as it should. */
	pthread_sigmask(SIG_SETMASK, &f->old, NULL);
	api_client_free(f->api);
	free(f->kill_path);
	free(f);
}
