#include "kegd/settings.h"

#include <jansson.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

void
kegd_config_defaults(struct kegd_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->root = xstrdup(KEGD_DEFAULT_ROOT);
	cfg->state = xstrdup(KEGD_DEFAULT_STATE);
	cfg->address = xstrdup(KEGD_DEFAULT_ADDRESS);
	cfg->log_level = xstrdup("info");
	cfg->socket_group = xstrdup("keg");
	http_limits_default(&cfg->http);
	cfg->events.log_size = 10000;
	cfg->events.max_pending_bytes = 1024 * 1024;
	cfg->events.heartbeat_ms = 15000;
	registry_config_defaults(&cfg->registry);
	cfg->max_concurrent_downloads = 6;
	cfg->max_concurrent_unpacks = 2;
	cfg->ingest_max_age_s = 24 * 3600;
	cfg->snapshotter = xstrdup("overlayfs");
	cfg->log_root = xstrdup(KEGD_DEFAULT_LOG_ROOT);
	cfg->runtime_binary = xstrdup("runc");
}

void
kegd_config_free(struct kegd_config *cfg)
{
	free(cfg->root);
	free(cfg->state);
	free(cfg->address);
	free(cfg->log_level);
	free(cfg->socket_group);
	free(cfg->registry_auth_file);
	free(cfg->snapshotter);
	free(cfg->log_root);
	free(cfg->runtime_binary);
	free(cfg->shim_binary);
	json_decref(cfg->registries);
}

enum setting_kind { SET_STRING, SET_INT, SET_SIZE, SET_INT64, SET_OBJECT };

struct setting {
	const char *key;
	enum setting_kind kind;
	size_t offset;
	int64_t min, max;
};

#define OFF(field) offsetof(struct kegd_config, field)

static const struct setting settings[] = {
	{ "root", SET_STRING, OFF(root), 0, 0 },
	{ "state", SET_STRING, OFF(state), 0, 0 },
	{ "address", SET_STRING, OFF(address), 0, 0 },
	{ "log_level", SET_STRING, OFF(log_level), 0, 0 },
	{ "socket_group", SET_STRING, OFF(socket_group), 0, 0 },
	{ "http_max_header_bytes", SET_SIZE, OFF(http.max_header_bytes), 1024, 1 << 20 },
	{ "http_max_headers", SET_SIZE, OFF(http.max_headers), 8, 1000 },
	{ "http_max_body_bytes", SET_INT64, OFF(http.max_body_bytes), 1024, 1LL << 30 },
	{ "http_header_timeout_ms", SET_INT, OFF(http.header_timeout_ms), 100, 3600000 },
	{ "http_body_timeout_ms", SET_INT, OFF(http.body_timeout_ms), 100, 3600000 },
	{ "http_idle_timeout_ms", SET_INT, OFF(http.idle_timeout_ms), 100, 3600000 },
	{ "http_write_timeout_ms", SET_INT, OFF(http.write_timeout_ms), 100, 3600000 },
	{ "http_max_connections", SET_INT, OFF(http.max_connections), 16, 1000000 },
	{ "event_log_size", SET_INT64, OFF(events.log_size), 16, 100000000 },
	{ "event_max_pending_bytes", SET_SIZE, OFF(events.max_pending_bytes), 4096, 1 << 30 },
	{ "event_heartbeat_ms", SET_INT, OFF(events.heartbeat_ms), 100, 3600000 },
	{ "registries", SET_OBJECT, OFF(registries), 0, 0 },
	{ "registry_auth_file", SET_STRING, OFF(registry_auth_file), 0, 0 },
	{ "registry_max_attempts", SET_INT, OFF(registry.max_attempts), 1, 100 },
	{ "registry_backoff_ms", SET_INT, OFF(registry.backoff_ms), 1, 60000 },
	{ "registry_connect_timeout_s", SET_INT, OFF(registry.connect_timeout_s), 1, 600 },
	{ "registry_stall_timeout_s", SET_INT, OFF(registry.stall_timeout_s), 1, 3600 },
	{ "max_concurrent_downloads", SET_INT, OFF(max_concurrent_downloads), 1, 64 },
	{ "max_concurrent_unpacks", SET_INT, OFF(max_concurrent_unpacks), 1, 64 },
	{ "ingest_max_age_s", SET_INT64, OFF(ingest_max_age_s), 0, 365LL * 24 * 3600 },
	{ "snapshotter", SET_STRING, OFF(snapshotter), 0, 0 },
	{ "log_root", SET_STRING, OFF(log_root), 0, 0 },
	{ "runtime_binary", SET_STRING, OFF(runtime_binary), 0, 0 },
	{ "shim_binary", SET_STRING, OFF(shim_binary), 0, 0 },
	{ NULL, 0, 0, 0, 0 },
};

static int
apply_setting(struct kegd_config *cfg, const struct setting *s, json_t *v, char **err)
{
	char *base = (char *)cfg + s->offset;
	if (s->kind == SET_OBJECT) {
		if (!json_is_object(v)) {
			*err = xasprintf("%s must be an object", s->key);
			return -1;
		}
		json_decref(*(json_t **)base);
		*(json_t **)base = json_incref(v);
		return 0;
	}
	if (s->kind == SET_STRING) {
		if (!json_is_string(v) || json_string_length(v) == 0) {
			*err = xasprintf("%s must be a non-empty string", s->key);
			return -1;
		}
		free(*(char **)base);
		*(char **)base = xstrdup(json_string_value(v));
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < s->min ||
	    json_integer_value(v) > s->max) {
		*err = xasprintf("%s must be an integer from %lld to %lld", s->key,
		    (long long)s->min, (long long)s->max);
		return -1;
	}
	json_int_t n = json_integer_value(v);
	if (s->kind == SET_INT)
		*(int *)base = (int)n;
	else if (s->kind == SET_SIZE)
		*(size_t *)base = (size_t)n;
	else
		*(int64_t *)base = (int64_t)n;
	return 0;
}

int
kegd_config_load(struct kegd_config *cfg, const char *path, char **err)
{
	json_error_t jerr;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		*err = xasprintf("%s:%d: %s", path, jerr.line, jerr.text);
		return -1;
	}
	int rc = 0;
	if (!json_is_object(root)) {
		*err = xasprintf("%s: the config must be a JSON object", path);
		rc = -1;
	}
	const char *key;
	json_t *value;
	json_object_foreach(root, key, value) {
		if (rc < 0)
			break;
		const struct setting *s = settings;
		while (s->key != NULL && strcmp(s->key, key) != 0)
			s++;
		if (s->key == NULL) {
			*err = xasprintf("%s: unknown setting \"%s\"", path, key);
			rc = -1;
		} else if (apply_setting(cfg, s, value, err) < 0) {
			rc = -1;
		}
	}
	json_decref(root);
	return rc;
}
