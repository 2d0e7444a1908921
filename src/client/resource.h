/* What every named resource command does alike (images, content, and
 * whatever comes next): its API path, rm of several names, and showing or
 * changing labels with KEY=VALUE / KEY= arguments. */
#ifndef KEG_CLIENT_RESOURCE_H
#define KEG_CLIENT_RESOURCE_H

#include <jansson.h>
#include <stdbool.h>

#include "client/command.h"

/* "/COLLECTION/NAME", the name percent-encoded; free() the result. */
char *resource_path(const char *collection, const char *name);

/* DELETE each of names[0..n-1], printing each one removed. Goes on past a
 * failure, as rm does; the status still tells that something failed. */
int resource_remove_each(struct keg_context *ctx, const char *collection,
    char **names, int n);

/* The whole `rm NAME...` command: -h only, then resource_remove_each;
 * missing is the usage error without a name. */
int resource_remove_command(struct keg_context *ctx, int argc, char **argv,
    const char *collection, const char *missing);

/* Without args, prints the resource's labels (one KEY=VALUE a line, or the
 * object with --format json); with them, sets (KEY=VALUE) and removes
 * (KEY=) labels by PATCH. */
int resource_labels(struct keg_context *ctx, const char *path, char **args, int n);

/* After a change: silence for people, as from mkdir; the object for
 * scripts. Takes the reply. */
int resource_print_changed(const struct keg_context *ctx, json_t *reply);

struct table;

/* How `ls` shows one kind of resource: GET path answers {key: [items]};
 * -q prints each item's id_field; tables have these headers and one row an
 * item from add_row; --format json prints the answer as is. */
struct list_spec {
	const char *path;
	const char *key;
	const char *id_field;
	const char *const *headers;
	int n_headers;
	void (*add_row)(struct table *t, const json_t *item);
};

/* The whole `ls [-q]` command. */
int resource_list(struct keg_context *ctx, int argc, char **argv, const struct list_spec *spec);

/* A command that takes only -h: returns -1 to go on, else the status. */
int resource_no_options(struct keg_context *ctx, int argc, char **argv);

/* A command that takes only -h, then at least one operand and, when max is
 * not 0, at most max: -1 to go on (the operands from optind), else the
 * status after a usage error, missing (none given) or too_many. */
int resource_operands(struct keg_context *ctx, int argc, char **argv, int max,
    const char *missing, const char *too_many);

/* GET path and print the answer: as JSON with --format json or when print
 * is NULL, else by print(reply, arg). Returns the exit status. */
int resource_show(struct keg_context *ctx, const char *path,
    void (*print)(const json_t *reply, const void *arg), const void *arg);

#endif
