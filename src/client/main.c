/* keg: the command-line client of kegd, as ctr is containerd's. Reads the
 * global options, then hands the rest to the command table. */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/command.h"
#include "common/names.h"

#define KEG_DEFAULT_ADDRESS "/run/keg/keg.sock"

static int run_help(struct keg_context *ctx, int argc, char **argv);

static const struct keg_command cmd_help = {
	.name = "help",
	.summary = "Show the help of keg or of a command",
	.synopsis = "[COMMAND [SUBCOMMAND]]",
	.run = run_help,
};

static const struct keg_command *const commands[] = {
	&cmd_version,
	&cmd_info,
	&cmd_namespaces,
	&cmd_images,
	&cmd_content,
	&cmd_snapshots,
	&cmd_containers,
	&cmd_tasks,
	&cmd_run,
	&cmd_operations,
	&cmd_events,
	&cmd_help,
	NULL,
};

static const struct keg_command keg_root = {
	.name = "keg",
	.summary = "keg talks to kegd, the keg container runtime daemon, over its API socket.",
	.synopsis = "[-a SOCK] [-n NS] [--format table|json] COMMAND [ARG...]",
	.options =
	    "Global options:\n"
	    "  -a, --address SOCK   kegd's API socket (default $KEG_ADDRESS, else\n"
	    "                       " KEG_DEFAULT_ADDRESS ")\n"
	    "  -n, --namespace NS   work in namespace NS (default $KEG_NAMESPACE, else\n"
	    "                       kegd's default namespace)\n"
	    "      --format FORMAT  table, for people (the default), or json, for scripts\n"
	    "  -v, --version        print keg's version and exit\n"
	    "  -h, --help           show this help\n",
	.subcommands = commands,
};

/* `keg help namespaces create` is `keg namespaces create --help`. */
static int
run_help(struct keg_context *ctx, int argc, char **argv)
{
	const struct keg_command *cmd = &keg_root;
	ctx->cmd = cmd;
	snprintf(ctx->path, sizeof(ctx->path), "keg");
	for (int i = 1; i < argc; i++) {
		const struct keg_command *sub = cmd->subcommands ?
		    command_find(cmd->subcommands, argv[i]) : NULL;
		if (sub == NULL)
			return cmd_usage_error(ctx, "unknown command %s", argv[i]);
		cmd = sub;
		size_t used = strlen(ctx->path);
		snprintf(ctx->path + used, sizeof(ctx->path) - used, " %s", cmd->name);
		ctx->cmd = cmd;
	}
	cmd_print_help(ctx, stdout);
	return EXIT_OK;
}

enum { OPT_FORMAT = 1 };

static const struct option global_options[] = {
	{ "address", required_argument, NULL, 'a' },
	{ "namespace", required_argument, NULL, 'n' },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "version", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void
context_defaults(struct keg_context *ctx)
{
	const char *env;
	memset(ctx, 0, sizeof(*ctx));
	ctx->address = KEG_DEFAULT_ADDRESS;
	if ((env = getenv("KEG_ADDRESS")) != NULL && *env != '\0')
		ctx->address = env;
	if ((env = getenv("KEG_NAMESPACE")) != NULL && *env != '\0')
		ctx->ns = env;
	ctx->format = FORMAT_TABLE;
	ctx->cmd = &keg_root;
	snprintf(ctx->path, sizeof(ctx->path), "keg");
}

/* The namespace becomes a header line: a stray CR or LF must never reach it,
 * and kegd would refuse a bad name anyway, so say so before connecting. */
static int
check_context(struct keg_context *ctx)
{
	if (ctx->ns != NULL && !identifier_valid(ctx->ns))
		return cmd_usage_error(ctx, "invalid namespace %s: letters, digits and "
		    "single . _ - between them", ctx->ns);
	if (*ctx->address == '\0')
		return cmd_usage_error(ctx, "the socket address is empty");
	return EXIT_OK;
}

/* Returns -1 to go on with the command at argv[*first]; otherwise keg is
 * done already (--help, --version, a usage error) and this is its status. */
static int
parse_global_options(struct keg_context *ctx, int argc, char **argv, int *first)
{
	int opt;
	/* '+' stops at the command: its options are its own. */
	while ((opt = cmd_getopt(ctx, argc, argv, "+a:n:vh", global_options)) != -1) {
		switch (opt) {
		case 'a': ctx->address = optarg; break;
		case 'n': ctx->ns = optarg; break;
		case 'v':
			printf("keg %s (%s)\n", PACKAGE_VERSION, KEG_REVISION);
			return EXIT_OK;
		case OPT_FORMAT:
			if (output_format_parse(optarg, &ctx->format) < 0)
				return cmd_usage_error(ctx, "unknown format %s (table or json)",
				    optarg);
			break;
		default:
			return cmd_opt_exit(opt);
		}
	}
	if (optind >= argc)
		return cmd_usage_error(ctx, "a command is needed");
	*first = optind;
	int rc = check_context(ctx);
	return rc == EXIT_OK ? -1 : rc;
}

int
main(int argc, char **argv)
{
	struct keg_context ctx;
	context_defaults(&ctx);
	/* A reader that goes away (keg events | head) shows as EPIPE on write,
	 * which keg handles, rather than killing it mid-line. */
	signal(SIGPIPE, SIG_IGN);
	optind = 0;
	int first = 0, done = parse_global_options(&ctx, argc, argv, &first);
	if (done >= 0)
		return done;
	ctx.api = api_client_new(ctx.address, ctx.ns);
	/* The root group reads the command from argv[1]: hand it the argument
	 * before the command as its argv[0]. */
	ctx.path[0] = '\0';
	int rc = command_run(&ctx, &keg_root, argc - first + 1, argv + first - 1);
	api_client_free(ctx.api);
	if (fflush(stdout) == EOF && rc == EXIT_OK)
		rc = cmd_output_error();
	return rc;
}
