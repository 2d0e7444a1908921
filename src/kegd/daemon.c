#include "config.h"
#include "kegd/daemon.h"

#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "common/children.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "common/util.h"
#include "events/bus.h"
#include "http/request.h"
#include "http/router.h"
#include "http/server.h"
#include "content/blobs.h"
#include "content/ingest.h"
#include "distribution/downloads.h"
#include "distribution/registry.h"
#include "images/pull.h"
#include "images/unpack_layers.h"
#include "kegd/lockfile.h"
#include "kegd/socket_group.h"
#include "ops/operation.h"
#include "snapshots/service.h"
#include "store/db.h"
#include "tasks/service.h"

#define SHUTDOWN_GRACE_SECONDS 5

struct http_router *
kegd_build_router(void)
{
	struct http_router *r = http_router_new();
	http_router_add_table(r, api_system_routes);
	http_router_add_table(r, api_namespace_routes);
	http_router_add_table(r, api_event_routes);
	http_router_add_table(r, api_operation_routes);
	http_router_add_table(r, api_content_routes);
	http_router_add_table(r, api_image_routes);
	http_router_add_table(r, api_import_routes);
	http_router_add_table(r, api_export_routes);
	http_router_add_table(r, api_snapshot_routes);
	http_router_add_table(r, api_mount_routes);
	http_router_add_table(r, api_container_routes);
	http_router_add_table(r, api_task_routes);
	return r;
}

static void
dispatch(struct http_request *req, void *arg)
{
	struct kegd *d = arg;
	log_debug("http: %s %s", req->method, req->target);
	http_router_dispatch(d->router, req, d);
}

static bool
streams_body(const struct http_request *req, void *arg)
{
	const struct kegd *d = arg;
	const struct http_route *rt = http_router_find(d->router, req->method, req->path);
	return rt != NULL && (rt->flags & HTTP_ROUTE_STREAM_BODY);
}

/* 1000 event subscribers and as many clients need more than the usual
 * soft limit of 1024 descriptors. */
static void
raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			log_warn("cannot raise the descriptor limit: %s", strerror(errno));
	}
}

/* The root holds every image and container of every user: only root reads it. */
static int
prepare_dirs(const struct kegd_config *cfg)
{
	char *sockdir = xstrdup(cfg->address);
	char *slash = strrchr(sockdir, '/');
	if (slash != NULL && slash != sockdir)
		*slash = '\0';
	int rc = 0;
	if (mkdir_p(cfg->root, 0700) < 0 || chmod(cfg->root, 0700) < 0) {
		log_error("root %s: %s", cfg->root, strerror(errno));
		rc = -1;
	} else if (mkdir_p(cfg->state, 0711) < 0) {
		log_error("state %s: %s", cfg->state, strerror(errno));
		rc = -1;
	} else if (slash != NULL && slash != sockdir && mkdir_p(sockdir, 0711) < 0) {
		log_error("socket directory %s: %s", sockdir, strerror(errno));
		rc = -1;
	}
	free(sockdir);
	return rc;
}

static void
shutdown_done(void *arg)
{
	struct kegd *d = arg;
	event_base_loopexit(d->base, NULL);
}

static void
shutdown_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct kegd *d = arg;
	log_warn("shutdown: %zu connections still busy after %d s; closing them",
	    http_server_connections(d->http), SHUTDOWN_GRACE_SECONDS);
	event_base_loopexit(d->base, NULL);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct kegd *d = arg;
	if (d->shutting_down)
		return;
	d->shutting_down = true;
	log_info("received %s, shutting down", strsignal((int)sig));
	event_bus_close_all(d->bus);
	operations_close_watchers(d->ops);
	tasks_close_waiters(d->tasks);
	api_attach_close_all();
	struct timeval tv = { SHUTDOWN_GRACE_SECONDS, 0 };
	event_add(d->shutdown_timer, &tv);
	http_server_shutdown(d->http, shutdown_done, d);
}

void
kegd_image_env(const struct kegd *d, struct image_env *env)
{
	env->base = d->base;
	env->st = d->store;
	env->bus = d->bus;
	env->bs = d->blobs;
	env->reg = d->registry;
	env->dl = d->downloads;
	env->ops = d->ops;
	env->snaps = d->snapshots;
	env->unpacker = d->unpacker;
}

/* Content, registries, downloads and operations. Partial downloads older
 * than ingest_max_age_s are dropped here; newer ones stay for resuming. */
static int
start_image_components(struct kegd *d)
{
	char *err = NULL;
	d->blobs = blob_store_open(d->cfg->root, &err);
	if (d->blobs == NULL) {
		log_error("%s", err);
		free(err);
		return -1;
	}
	ingest_remove_stale(d->blobs, d->cfg->ingest_max_age_s);
	struct registry_config rc = d->cfg->registry;
	rc.hosts = d->cfg->registries;
	rc.auth_file = d->cfg->registry_auth_file;
	d->registry = registry_new(d->base, &rc, &err);
	if (d->registry == NULL) {
		log_error("registries: %s", err);
		free(err);
		return -1;
	}
	d->downloads = downloads_new(d->base, d->registry, d->blobs,
	    d->cfg->max_concurrent_downloads);
	d->ops = operations_new(d->base, d->bus);
	return 0;
}

/* Snapshotters are probed and what a crash left is repaired before the
 * socket opens: no request sees a half-made snapshot. */
static int
start_snapshots(struct kegd *d)
{
	char *err = NULL;
	struct snapshots_config sc = { d->cfg->root, d->cfg->snapshotter, d->store, d->bus };
	d->snapshots = snapshots_open(&sc, &err);
	if (d->snapshots == NULL) {
		log_error("snapshots: %s", err);
		free(err);
		return -1;
	}
	d->unpacker = unpacker_new(d->base, d->snapshots, d->blobs,
	    d->cfg->max_concurrent_unpacks);
	return 0;
}

/* Tasks come after snapshots (a task's rootfs is one) and watch every
 * shim of the task rows again before the socket opens. */
static int
start_tasks(struct kegd *d)
{
	char *err = NULL;
	const struct kegd_config *c = d->cfg;
	struct tasks_config tc = { d->base, d->store, d->bus, d->snapshots, c->root, c->state,
		c->log_root, c->runtime_binary, c->shim_binary };
	d->tasks = tasks_open(&tc, &err);
	if (d->tasks == NULL) {
		log_error("tasks: %s", err);
		free(err);
		return -1;
	}
	return 0;
}

static int
start_components(struct kegd *d)
{
	char *err = NULL;
	char *dbpath = xasprintf("%s/metadata.db", d->cfg->root);
	d->store = store_open(dbpath, &err);
	free(dbpath);
	if (d->store == NULL) {
		log_error("metadata: %s", err);
		free(err);
		return -1;
	}
	d->base = event_base_new();
	if (d->base == NULL) {
		log_error("cannot create the event loop");
		return -1;
	}
	if (children_init(d->base) < 0) {
		log_error("cannot watch child processes");
		return -1;
	}
	d->bus = event_bus_new(d->base, d->store, &d->cfg->events);
	if (start_image_components(d) < 0 || start_snapshots(d) < 0 || start_tasks(d) < 0)
		return -1;
	/* What libraries opened without O_CLOEXEC during start-up must not
	 * reach the runtimes and shims forked later. libcurl's sockets are made
	 * close-on-exec where they are opened (distribution/). */
	fd_cloexec_all();
	d->router = kegd_build_router();
	d->http = http_server_new(d->base, &d->cfg->http, dispatch, d);
	http_server_set_stream_body(d->http, streams_body);
	if (http_server_listen_unix(d->http, d->cfg->address, 0660,
	    socket_group_gid(d->cfg->socket_group)) < 0) {
		log_error("listen on %s: %s", d->cfg->address, strerror(errno));
		return -1;
	}
	d->sig_term = evsignal_new(d->base, SIGTERM, on_signal, d);
	d->sig_int = evsignal_new(d->base, SIGINT, on_signal, d);
	d->shutdown_timer = evtimer_new(d->base, shutdown_timeout, d);
	event_add(d->sig_term, NULL);
	event_add(d->sig_int, NULL);
	return 0;
}

int
kegd_start(struct kegd *d, const struct kegd_config *cfg)
{
	memset(d, 0, sizeof(*d));
	d->cfg = cfg;
	d->lock_fd = -1;
	d->started_ns = time_now_ns();
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();
	if (prepare_dirs(cfg) < 0)
		return -1;
	d->lock_fd = lockfile_acquire(cfg->root);
	if (d->lock_fd < 0) {
		if (errno == EWOULDBLOCK)
			log_error("another kegd is running on root %s", cfg->root);
		else
			log_error("lock %s/kegd.lock: %s", cfg->root, strerror(errno));
		return -1;
	}
	if (start_components(d) < 0) {
		kegd_teardown(d);
		return -1;
	}
	log_info("kegd %s listening on %s (root %s, state %s)", PACKAGE_VERSION,
	    cfg->address, cfg->root, cfg->state);
	return 0;
}

int
kegd_run(struct kegd *d)
{
	return event_base_dispatch(d->base) < 0 ? -1 : 0;
}

void
kegd_teardown(struct kegd *d)
{
	/* Operations cancel their transfers before the downloads and the
	 * registry client go; the bus ends its streams on connections the
	 * server still owns. */
	operations_free(d->ops);
	/* Cancelled work frees itself on the next loop turn: give it that. */
	if (d->base)
		event_base_loop(d->base, EVLOOP_NONBLOCK);
	/* Cancelled unpacks are reaped and their snapshots removed while
	 * the snapshot service still runs. */
	unpacker_drain(d->unpacker);
	api_attach_close_all();
	tasks_close(d->tasks);
	snapshots_close(d->snapshots);
	unpacker_free(d->unpacker);
	downloads_free(d->downloads);
	registry_free(d->registry);
	blob_store_close(d->blobs);
	event_bus_free(d->bus);
	http_server_free(d->http);
	http_router_free(d->router);
	if (d->sig_term)
		event_free(d->sig_term);
	if (d->sig_int)
		event_free(d->sig_int);
	if (d->shutdown_timer)
		event_free(d->shutdown_timer);
	store_close(d->store);
	children_shutdown();
	if (d->base)
		event_base_free(d->base);
	if (d->lock_fd >= 0)
		close(d->lock_fd);
	memset(d, 0, sizeof(*d));
	d->lock_fd = -1;
}
