/* The REST API: one file per resource, each exporting its route table.
 * Handlers get the daemon (struct kegd) as their context. */
#ifndef KEG_API_H
#define KEG_API_H

#include "http/router.h"

extern const struct http_route api_system_routes[];
extern const struct http_route api_namespace_routes[];
extern const struct http_route api_event_routes[];
extern const struct http_route api_operation_routes[];
extern const struct http_route api_content_routes[];
extern const struct http_route api_image_routes[];
extern const struct http_route api_import_routes[];
extern const struct http_route api_export_routes[];
extern const struct http_route api_snapshot_routes[];
extern const struct http_route api_mount_routes[];
extern const struct http_route api_container_routes[];
extern const struct http_route api_task_routes[];

/* Ends every attach session (upgraded connections spliced to a shim's
 * attach socket): the HTTP server no longer sees them, so a stopping kegd
 * closes them itself. The containers run on; their shims drop the client. */
void api_attach_close_all(void);

#endif
