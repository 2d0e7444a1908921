/* A process's API path, starting it, its log stream on the terminal, its
 * exit status. */
#include "client/task_io.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "client/buf.h"
#include "client/ndjson.h"
#include "common/util.h"

static volatile sig_atomic_t logs_stop;

char *
task_path(const char *id, const char *eid, const char *tail)
{
	char *eid_esc = eid ? api_escape(eid) : NULL, *id_esc = api_escape(id);
	char *path = xasprintf("/tasks/%s%s%s%s%s", id_esc, eid ? "/execs/" : "",
	    eid ? eid_esc : "", tail ? "/" : "", tail ? tail : "");
	free(id_esc);
	free(eid_esc);
	return path;
}

/* "10s", "5m", "2h" (docker's --since): that long ago, as unix seconds;
 * anything else goes to kegd as typed (RFC 3339 or unix seconds). */
static char *
since_value(const char *s)
{
	char *end;
	double d = strtod(s, &end);
	long mul = *end == 's' ? 1 : *end == 'm' ? 60 : *end == 'h' ? 3600 : 0;
	if (end == s || mul == 0 || end[1] != '\0' || d < 0 || !isdigit((unsigned char)*s))
		return api_escape(s);
	double t = (double)time(NULL) - d * (double)mul;
	return xasprintf("%.3f", t < 0 ? 0 : t);
}

static char *
logs_query(const char *id, const char *eid, const struct task_logs_opts *o)
{
	char *base = task_path(id, eid, "logs"), *since = o->since ? since_value(o->since) : NULL;
	char tail[32] = "";
	if (o->tail >= 0)
		snprintf(tail, sizeof(tail), "&tail=%lld", o->tail);
	char *path = xasprintf("%s?format=ndjson%s%s%s%s", base, o->follow ? "&follow=1" : "",
	    tail, since ? "&since=" : "", since ? since : "");
	free(base);
	free(since);
	return path;
}

struct logs_run {
	struct ndjson_reader reader;
	bool json;
	bool output_failed;
};

/* One entry: its text to the stream it came from. Output may hold NULs,
 * which JSON carries as \u0000: decode again allowing them. */
static int
print_entry(const char *line, size_t len, json_t *value, void *arg)
{
	struct logs_run *run = arg;
	if (run->json) {
		if (fwrite(line, 1, len, stdout) != len || putchar('\n') == EOF)
			run->output_failed = true;
		return run->output_failed ? -1 : 0;
	}
	json_t *v = value ? json_incref(value) : json_loadb(line, len, JSON_ALLOW_NUL, NULL);
	json_t *log = json_object_get(v, "log");
	const char *stream = json_string_value(json_object_get(v, "stream"));
	FILE *out = stream && strcmp(stream, "stderr") == 0 ? stderr : stdout;
	if (json_is_string(log)) {
		size_t n = json_string_length(log);
		if (fwrite(json_string_value(log), 1, n, out) != n || fputc('\n', out) == EOF)
			run->output_failed = true;
	}
	json_decref(v);
	return run->output_failed ? -1 : 0;
}

/* Output is flushed chunk by chunk: whoever watches sees lines as the
 * process writes them. */
static int
feed(const char *data, size_t len, void *arg)
{
	struct logs_run *run = arg;
	int rc = ndjson_reader_feed(&run->reader, data, len);
	if (fflush(stdout) == EOF || fflush(stderr) == EOF)
		run->output_failed = true;
	return rc < 0 || run->output_failed ? -1 : 0;
}

static void
on_stop(int sig)
{
	(void)sig;
	logs_stop = 1;
}

int
task_logs_print(struct keg_context *ctx, const char *id, const char *eid,
    const struct task_logs_opts *o)
{
	struct logs_run run = { .json = o->json };
	ndjson_reader_init(&run.reader, print_entry, &run);
	char *path = logs_query(id, eid, o);
	struct api_stream s = {
		.path = path, .accept = "application/x-ndjson",
		.on_chunk = feed, .arg = &run, .stop = &logs_stop,
	};
	/* Ctrl-C ends `keg tasks logs -f` quietly; under `keg run` the signals
	 * are blocked here and go to the process instead (sig_forward). */
	struct sigaction sa = { .sa_handler = on_stop };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	logs_stop = 0;
	enum api_result res = api_stream_get(ctx->api, &s);
	if (res == API_OK)
		ndjson_reader_feed(&run.reader, "\n", 1);
	fflush(stdout);
	ndjson_reader_free(&run.reader);
	free(path);
	if (run.output_failed)
		return cmd_output_error();
	if (res == API_ERR_ABORTED || res == API_OK)
		return EXIT_OK;
	return cmd_api_error(ctx);
}

int
task_wait_status(struct keg_context *ctx, const char *id, const char *eid, int *status)
{
	char *path = task_path(id, eid, "wait");
	json_t *reply = NULL;
	enum api_result res = api_call(ctx->api, "GET", path, NULL, &reply);
	free(path);
	if (res != API_OK)
		return cmd_api_error(ctx);
	json_t *st = json_object_get(reply, "exit_status");
	*status = json_is_integer(st) ? (int)json_integer_value(st) : 255;
	json_decref(reply);
	return EXIT_OK;
}

static const struct {
	const char *name;
	int sig;
} signals[] = {
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "KILL", SIGKILL },
	{ "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "PIPE", SIGPIPE }, { "ALRM", SIGALRM },
	{ "TERM", SIGTERM }, { "CONT", SIGCONT }, { "STOP", SIGSTOP }, { "TSTP", SIGTSTP },
	{ "WINCH", SIGWINCH }, { "ABRT", SIGABRT },
};

int
task_signal_parse(const char *s)
{
	char *end;
	long n = strtol(s, &end, 10);
	if (end != s && *end == '\0')
		return n > 0 && n < 65 ? (int)n : -1;
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		if (strcasecmp(s, signals[i].name) == 0)
			return signals[i].sig;
	return -1;
}

int
task_start(struct keg_context *ctx, const char *id, const char *eid)
{
	char *path = task_path(id, eid, "start");
	enum api_result res = api_call(ctx->api, "POST", path, NULL, NULL);
	free(path);
	return res == API_OK ? EXIT_OK : cmd_api_error(ctx);
}

int
task_start_follow(struct keg_context *ctx, const char *id, const char *eid, int *status)
{
	int rc = task_start(ctx, id, eid);
	return rc != EXIT_OK ? rc : task_follow(ctx, id, eid, status);
}

int
task_follow(struct keg_context *ctx, const char *id, const char *eid, int *status)
{
	struct sig_forward *f = sig_forward_start(ctx, id, eid);
	struct task_logs_opts lo = { .follow = true, .tail = -1 };
	int rc = task_logs_print(ctx, id, eid, &lo);
	sig_forward_stop(f);
	return rc != EXIT_OK ? rc : task_wait_status(ctx, id, eid, status);
}
