/* The running daemon: its one event loop and the components on it. Handlers
 * reach everything through this context. */
#ifndef KEG_KEGD_DAEMON_H
#define KEG_KEGD_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include "kegd/settings.h"

struct blob_store;
struct downloads;
struct event_base;
struct event;
struct event_bus;
struct operations;
struct registry;
struct snapshots;
struct tasks;
struct http_router;
struct http_server;
struct store;

struct kegd {
	const struct kegd_config *cfg;
	struct event_base *base;
	struct store *store;
	struct event_bus *bus;
	struct http_router *router;
	struct http_server *http;
	struct blob_store *blobs;
	struct registry *registry;
	struct downloads *downloads;
	struct operations *ops;
	struct snapshots *snapshots;
	struct tasks *tasks;
	struct unpacker *unpacker;
	struct event *sig_term, *sig_int, *shutdown_timer;
	int lock_fd;
	int64_t started_ns;
	bool shutting_down;
};

/* Builds everything and listens; -1 (logged) on failure, with what was built
 * torn down again. */
int kegd_start(struct kegd *d, const struct kegd_config *cfg);
/* Runs the loop until SIGTERM/SIGINT and a graceful stop. */
int kegd_run(struct kegd *d);
void kegd_teardown(struct kegd *d);

/* What image operations need, gathered from the daemon. */
struct image_env;
void kegd_image_env(const struct kegd *d, struct image_env *env);

/* Builds the full route table (also used by `kegd --routes`). */
struct http_router *kegd_build_router(void);

#endif
