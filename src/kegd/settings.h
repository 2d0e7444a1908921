/* kegd's settings: built-in defaults, then a JSON config file, then the
 * command line, each overriding the one before. */
#ifndef KEG_KEGD_SETTINGS_H
#define KEG_KEGD_SETTINGS_H

#include <stdint.h>

#include <jansson.h>

#include "distribution/registry.h"
#include "events/bus.h"
#include "http/server.h"

#define KEGD_DEFAULT_ROOT "/var/lib/keg"
#define KEGD_DEFAULT_STATE "/run/keg"
#define KEGD_DEFAULT_ADDRESS "/run/keg/keg.sock"
#define KEGD_DEFAULT_LOG_ROOT "/var/log/keg"

struct kegd_config {
	char *root;
	char *state;
	char *address;
	char *log_level;
	char *socket_group;	/* chown the socket to it when it exists */
	struct http_limits http;
	struct event_bus_config events;
	/* Registries: "registries" (per-host settings), "registry_auth_file"
	 * (docker-style config.json), retry and timeout knobs. */
	json_t *registries;
	char *registry_auth_file;
	struct registry_config registry;
	int max_concurrent_downloads;
	int max_concurrent_unpacks;	/* layers unpacked at once, all pulls */
	int64_t ingest_max_age_s;	/* older partial downloads are removed */
	char *snapshotter;		/* the default: overlayfs or native */
	char *log_root;			/* task logs: LOG_ROOT/<ns>/<id>.log */
	char *runtime_binary;		/* runc-compatible; a name in PATH or a path */
	char *shim_binary;		/* NULL: kegd-shim next to kegd */
};

void kegd_config_defaults(struct kegd_config *cfg);
/* Reads a JSON file over cfg. Unknown keys are errors: a typo must not be a
 * silently ignored setting. Returns -1 with *err (caller frees). */
int kegd_config_load(struct kegd_config *cfg, const char *path, char **err);
void kegd_config_free(struct kegd_config *cfg);

#endif
