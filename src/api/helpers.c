#include "api/helpers.h"

#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "common/errcode.h"
#include "common/log.h"
#include "common/names.h"
#include "common/util.h"
#include "http/request.h"
#include "http/response.h"
#include "ops/operation.h"

int
api_namespace(struct http_request *req, char **out)
{
	char *ns = http_query(req, "namespace");
	if (ns == NULL && http_header(req, NAMESPACE_HEADER) != NULL)
		ns = xstrdup(http_header(req, NAMESPACE_HEADER));
	if (ns == NULL)
		ns = xstrdup(DEFAULT_NAMESPACE);
	if (!identifier_valid(ns)) {
		http_reply_error(req, ERR_INVALID_ARGUMENT,
		    "invalid namespace name: letters, digits and single . _ - between "
		    "them, at most %d characters", IDENTIFIER_MAX);
		free(ns);
		return -1;
	}
	*out = ns;
	return 0;
}

static int
check_keys(struct http_request *req, json_t *obj, const char *const *allowed)
{
	const char *key;
	json_t *value;
	json_object_foreach(obj, key, value) {
		const char *const *a = allowed;
		while (*a && strcmp(*a, key) != 0)
			a++;
		if (*a == NULL) {
			http_reply_error(req, ERR_INVALID_ARGUMENT, "unknown field \"%.64s\"", key);
			return -1;
		}
	}
	return 0;
}

int
api_json_body(struct http_request *req, const char *const *allowed, json_t **out)
{
	size_t len = evbuffer_get_length(req->body);
	if (len == 0) {
		http_reply_error(req, ERR_INVALID_JSON, "a JSON object body is required");
		return -1;
	}
	const char *data = (const char *)evbuffer_pullup(req->body, -1);
	json_error_t jerr;
	json_t *j = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL) {
		http_reply_error(req, ERR_INVALID_JSON, "malformed JSON at line %d column %d: %s",
		    jerr.line, jerr.column, jerr.text);
		return -1;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		http_reply_error(req, ERR_INVALID_JSON, "the body must be a JSON object");
		return -1;
	}
	if (check_keys(req, j, allowed) < 0) {
		json_decref(j);
		return -1;
	}
	*out = j;
	return 0;
}

int
api_check_query(struct http_request *req, const char *const *allowed)
{
	char *unknown = http_query_unknown(req, allowed);
	if (unknown == NULL)
		return 0;
	http_reply_error(req, ERR_INVALID_ARGUMENT, "unknown query parameter \"%.64s\"", unknown);
	free(unknown);
	return -1;
}

void
api_reply_store_error(struct http_request *req, const char *what)
{
	log_error("api: %s %s: %s failed", req->method, req->path, what);
	http_reply_error(req, ERR_INTERNAL, "%s failed; see the daemon log", what);
}

bool
api_wants_ndjson(const struct http_request *req)
{
	const char *accept = http_header(req, "Accept");
	return accept != NULL && strstr(accept, "application/x-ndjson") != NULL;
}

void
api_reply_operation(struct http_request *req, struct operation *op)
{
	if (api_wants_ndjson(req)) {
		operation_watch(op, req);
		return;
	}
	char *location = xasprintf("/v1/operations/%s", operation_id(op));
	http_reply_header(req, "Location", location);
	free(location);
	http_reply_json(req, 202, operation_json(op));
}

int
api_label_filters(struct http_request *req, char ***out)
{
	if (http_query_all(req, "label", out) < 0) {
		http_reply_error(req, ERR_INVALID_ARGUMENT, "malformed label filter");
		return -1;
	}
	for (char **f = *out; *f; f++) {
		if (**f == '\0' || **f == '=') {
			http_reply_error(req, ERR_INVALID_ARGUMENT,
			    "label filters are KEY or KEY=VALUE");
			http_strv_free(*out);
			return -1;
		}
	}
	return 0;
}

bool
api_labels_match(json_t *labels, char *const *filters)
{
	for (char *const *f = filters; *f; f++) {
		const char *eq = strchr(*f, '=');
		char *key = eq ? xstrndup(*f, (size_t)(eq - *f)) : xstrdup(*f);
		const char *have = json_string_value(json_object_get(labels, key));
		free(key);
		if (have == NULL || (eq && strcmp(have, eq + 1) != 0))
			return false;
	}
	return true;
}

void
api_filter_by_labels(json_t *list, char *const *filters)
{
	for (size_t i = json_array_size(list); i-- > 0;)
		if (!api_labels_match(json_object_get(json_array_get(list, i), "labels"), filters))
			json_array_remove(list, i);
}
