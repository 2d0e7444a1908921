/* What every handler needs: the request's namespace, its JSON body, and
 * store failures turned into API errors. Each returns -1 after it has
 * already replied with the error. */
#ifndef KEG_API_HELPERS_H
#define KEG_API_HELPERS_H

#include <jansson.h>
#include <stdbool.h>

struct http_request;

#define NAMESPACE_HEADER "Keg-Namespace"
#define DEFAULT_NAMESPACE "default"

/* ?namespace= or the Keg-Namespace header, else "default"; validated.
 * *out is owned by the caller. */
int api_namespace(struct http_request *req, char **out);

/* The body as a JSON object whose keys are all in allowed (NULL-terminated). */
int api_json_body(struct http_request *req, const char *const *allowed, json_t **out);

/* Rejects query parameters outside allowed (NULL-terminated). */
int api_check_query(struct http_request *req, const char *const *allowed);

/* True when the client asked for NDJSON progress (Accept:
 * application/x-ndjson) rather than a single JSON answer. */
bool api_wants_ndjson(const struct http_request *req);

/* Long work answers with its progress as NDJSON when asked, else with 202
 * and a Location to follow; the operation runs on either way. */
struct operation;
void api_reply_operation(struct http_request *req, struct operation *op);

/* ?label=KEY or ?label=KEY=VALUE, repeatable: rows must match all. Reads
 * the filters (NULL-terminated; caller frees with http_strv_free), -1 after
 * replying to a malformed one. */
int api_label_filters(struct http_request *req, char ***out);
/* True when labels (an object) has every filter. */
bool api_labels_match(json_t *labels, char *const *filters);
/* Keeps the entries of list whose "labels" match every filter. */
void api_filter_by_labels(json_t *list, char *const *filters);

/* An internal store failure: logged, 500 to the client. */
void api_reply_store_error(struct http_request *req, const char *what);

#endif
