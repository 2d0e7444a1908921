/* The command table: every keg command is one struct keg_command, in its
 * own cmd_*.c file. A command either runs (run) or groups subcommands
 * (subcommands), so `keg images pull` slots in as one more table entry. */
#ifndef KEG_CLIENT_COMMAND_H
#define KEG_CLIENT_COMMAND_H

#include <getopt.h>
#include <stdbool.h>

#include "client/api_client.h"
#include "client/output.h"

/* Exit statuses: people and scripts tell a failure from a typo. */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

struct keg_command;

struct keg_context {
	struct api_client *api;
	enum output_format format;
	const char *address;
	const char *ns;			/* NULL: kegd's default namespace */
	const struct keg_command *cmd;	/* the command running, for its help */
	char path[128];			/* "keg namespaces create", for messages */
};

struct keg_command {
	const char *name;
	const char *alias;		/* another name, or NULL */
	const char *summary;		/* one line for the command list */
	const char *synopsis;		/* what follows the name in "usage:" */
	const char *options;		/* the --help text after the summary, or NULL */
	/* argv[0] is the command's name; options are read with cmd_getopt. */
	int (*run)(struct keg_context *ctx, int argc, char **argv);
	const struct keg_command *const *subcommands;	/* NULL-terminated */
};

/* Runs cmd, or finds and runs its subcommand in argv[1]. */
int command_run(struct keg_context *ctx, const struct keg_command *cmd, int argc,
    char **argv);
const struct keg_command *command_find(const struct keg_command *const *list,
    const char *name);
void command_print_list(const struct keg_command *const *list, FILE *out);

/* getopt_long with keg's conventions: -h/--help (which every option table
 * lists as 'h') prints the help and yields CMD_OPT_HELP; a bad option prints
 * a usage error and yields CMD_OPT_ERROR. */
enum { CMD_OPT_HELP = -2, CMD_OPT_ERROR = -3 };
int cmd_getopt(struct keg_context *ctx, int argc, char **argv, const char *shortopts,
    const struct option *longopts);
/* The exit status for CMD_OPT_HELP and CMD_OPT_ERROR. */
int cmd_opt_exit(int opt);

void cmd_print_help(const struct keg_context *ctx, FILE *out);
/* "keg CMD: MESSAGE" and the synopsis on stderr; returns EXIT_USAGE. */
int cmd_usage_error(const struct keg_context *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* "keg: MESSAGE" for the API call that just failed; returns EXIT_FAIL. */
int cmd_api_error(const struct keg_context *ctx);
/* "keg: writing output: ..." when stdout failed; returns EXIT_FAIL. */
int cmd_output_error(void);

/* The commands main() knows, one per cmd_*.c file. */
extern const struct keg_command cmd_version;
extern const struct keg_command cmd_info;
extern const struct keg_command cmd_namespaces;
extern const struct keg_command cmd_events;
extern const struct keg_command cmd_images;
extern const struct keg_command cmd_content;
extern const struct keg_command cmd_operations;
extern const struct keg_command cmd_snapshots;
extern const struct keg_command cmd_containers;
extern const struct keg_command cmd_tasks;
extern const struct keg_command cmd_run;

#endif
