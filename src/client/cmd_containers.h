/* What `keg containers create` sends, shared with `keg run`: its options
 * and REF ID [CMD ARGS...] as a POST /v1/containers body. */
#ifndef KEG_CLIENT_CMD_CONTAINERS_H
#define KEG_CLIENT_CMD_CONTAINERS_H

#include <getopt.h>
#include <jansson.h>

#include "client/command.h"

/* The long options create takes (terminated), and their short letters
 * ("+" first: what follows REF and ID is the container's command line). */
extern const struct option container_create_longopts[];
#define CONTAINER_CREATE_SHORTOPTS "+s:rR:l:e:u:w:tm:M:Ph"

/* Applies one option from cmd_getopt to body; EXIT_USAGE after saying
 * what is wrong, 0 when it was one of create's, 1 when it is not. */
int container_create_option(struct keg_context *ctx, json_t *body, int opt, const char *arg);

/* REF ID [CMD ARGS...] from argv[optind..]; -1 to go on, else EXIT_USAGE. */
int container_create_operands(struct keg_context *ctx, json_t *body, int argc, char **argv);

#endif
