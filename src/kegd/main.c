/* kegd: the keg daemon. Parses its settings, starts, runs the loop. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "http/router.h"
#include "kegd/settings.h"
#include "kegd/daemon.h"

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: kegd [--root DIR] [--state DIR] [--address SOCK] [--config FILE]\n"
	    "            [--log-root DIR] [--log-level error|warn|info|debug]\n"
	    "       kegd --routes | --version | --help\n"
	    "\n"
	    "  --root DIR       persistent data (default " KEGD_DEFAULT_ROOT ")\n"
	    "  --state DIR      runtime state (default " KEGD_DEFAULT_STATE ")\n"
	    "  --address SOCK   API socket (default " KEGD_DEFAULT_ADDRESS ")\n"
	    "  --log-root DIR   task logs (default " KEGD_DEFAULT_LOG_ROOT ")\n"
	    "  --config FILE    JSON settings; command-line options win\n"
	    "  --routes         print the API's routes and exit\n");
}

static void
print_routes(void)
{
	struct http_router *r = kegd_build_router();
	for (size_t i = 0; i < http_router_count(r); i++) {
		const struct http_route *rt = http_router_get(r, i);
		printf("%s %s\n", rt->method, rt->pattern);
	}
	http_router_free(r);
}

static void
set_string(char **field, const char *value)
{
	free(*field);
	*field = xstrdup(value);
}

enum { OPT_ROOT = 1, OPT_STATE, OPT_ADDRESS, OPT_CONFIG, OPT_LOG_LEVEL, OPT_LOG_ROOT, OPT_ROUTES,
	OPT_VERSION, OPT_HELP };

static const struct option options[] = {
	{ "root", required_argument, NULL, OPT_ROOT },
	{ "state", required_argument, NULL, OPT_STATE },
	{ "address", required_argument, NULL, OPT_ADDRESS },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "log-root", required_argument, NULL, OPT_LOG_ROOT },
	{ "routes", no_argument, NULL, OPT_ROUTES },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

/* The config file is read first so that the command line overrides it
 * whatever order the options come in. */
static int
load_config_file(struct kegd_config *cfg, int argc, char **argv)
{
	int opt;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (opt != OPT_CONFIG)
			continue;
		char *err = NULL;
		if (kegd_config_load(cfg, optarg, &err) < 0) {
			fprintf(stderr, "kegd: %s\n", err);
			free(err);
			return -1;
		}
	}
	optind = 0;
	opterr = 1;
	return 0;
}

/* Returns 0 to run, 1 to exit successfully, -1 on a usage error. */
static int
parse_args(struct kegd_config *cfg, int argc, char **argv)
{
	if (load_config_file(cfg, argc, argv) < 0)
		return -1;
	int opt;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case OPT_ROOT: set_string(&cfg->root, optarg); break;
		case OPT_STATE: set_string(&cfg->state, optarg); break;
		case OPT_ADDRESS: set_string(&cfg->address, optarg); break;
		case OPT_LOG_LEVEL: set_string(&cfg->log_level, optarg); break;
		case OPT_LOG_ROOT: set_string(&cfg->log_root, optarg); break;
		case OPT_CONFIG: break;
		case OPT_ROUTES: print_routes(); return 1;
		case OPT_VERSION: printf("kegd %s (%s)\n", PACKAGE_VERSION, KEG_REVISION); return 1;
		case OPT_HELP: usage(stdout); return 1;
		default: usage(stderr); return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "kegd: unexpected argument %s\n", argv[optind]);
		return -1;
	}
	if (log_set_level_name(cfg->log_level) < 0) {
		fprintf(stderr, "kegd: unknown log level %s\n", cfg->log_level);
		return -1;
	}
	if (cfg->root[0] != '/' || cfg->state[0] != '/' || cfg->address[0] != '/' ||
	    cfg->log_root[0] != '/') {
		fprintf(stderr, "kegd: --root, --state, --address and --log-root must be "
		    "absolute paths\n");
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct kegd_config cfg;
	kegd_config_defaults(&cfg);
	int rc = parse_args(&cfg, argc, argv);
	if (rc != 0) {
		kegd_config_free(&cfg);
		return rc > 0 ? 0 : 2;
	}
	struct kegd d;
	if (kegd_start(&d, &cfg) < 0) {
		kegd_config_free(&cfg);
		return 1;
	}
	/* Start-up's transient allocations (the integrity check's pages, the
	 * schema, config parsing) are freed by now, but malloc keeps the pages:
	 * give them back before idling. */
	malloc_trim(0);
	rc = kegd_run(&d);
	kegd_teardown(&d);
	log_info("kegd stopped");
	kegd_config_free(&cfg);
	return rc < 0 ? 1 : 0;
}
