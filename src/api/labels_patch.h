/* PATCH {"labels": {...}} on any namespaced resource: validate, merge (null
 * removes a label), store and publish in one transaction, answer with the
 * updated resource. Each resource describes itself with a labeled_kind. */
#ifndef KEG_API_LABELS_PATCH_H
#define KEG_API_LABELS_PATCH_H

#include <jansson.h>
#include <stdint.h>

#include "store/namespaces.h"

struct http_request;
struct kegd;
struct store;

struct labeled_kind {
	const char *noun;	/* "image", "content": for messages */
	const char *id_field;	/* "name", "digest": in the event payload */
	const char *topic;	/* "/images/update" */
	json_t *(*get)(struct store *st, const char *ns, const char *id, enum store_result *res);
	enum store_result (*set_labels)(struct store *st, const char *ns, const char *id,
	    const json_t *labels, int64_t now_ns);
	/* Adds what GET shows beyond the row (may be NULL). */
	void (*decorate)(struct kegd *d, const char *ns, json_t *resource);
	/* Adds the row's other fields the update event carries (may be NULL). */
	void (*event_extra)(const json_t *row, json_t *payload);
};

/* The whole PATCH: replies in every case. */
void api_patch_labels(struct http_request *req, struct kegd *d,
    const struct labeled_kind *kind, const char *ns, const char *id);

#endif
