#include "images/import.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/children.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "common/util.h"
#include "content/blobs.h"
#include "content/digest.h"
#include "events/bus.h"
#include "images/import_plan.h"
#include "images/import_worker.h"
#include "ops/operation.h"
#include "store/content.h"
#include "store/db.h"
#include "store/images.h"
#include "store/namespaces.h"

#define FEED_HIGH_WATER (4 * 1024 * 1024)
#define FEED_LOW_WATER (512 * 1024)
#define IMPORT_MAX_BYTES (64LL << 30)
#define IMPORT_MAX_ENTRIES 100000
#define REPORT_LINE_MAX 16384

struct import_job {
	struct image_env env;
	struct operation *op;
	char *ns, *base_name, *stage;
	int64_t expected, received;
	pid_t worker;
	int status;
	bool worker_done, report_done, input_done, ended;
	bool attached;		/* the request still feeds us: do not free yet */
	int feed_fd;
	struct evbuffer *pending;	/* archive bytes the pipe has not taken */
	struct event *feed_ev;
	struct bufferevent *report;
	struct staged_entry *entries;
	size_t n_entries;
	char *worker_error;
	bool worker_internal;	/* the worker's failure is not the archive's */
	void (*drain)(void *);
	void *drain_arg;
	struct event *free_ev;
};

static void finish_if_ready(struct import_job *job);

/* ---- lifetime ------------------------------------------------------------ */

static void
remove_stage(const char *dir)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dfd >= 0) {
		DIR *d = fdopendir(dfd);
		struct dirent *de;
		while (d && (de = readdir(d)) != NULL)
			if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
				unlinkat(dfd, de->d_name, 0);
		if (d)
			closedir(d);
		else
			close(dfd);
	}
	rmdir(dir);
}

static void
job_free(evutil_socket_t fd, short what, void *arg)
{
	struct import_job *job = arg;
	if (job->worker > 0 && !job->worker_done) {
		children_forget(job->worker);
		kill(job->worker, SIGKILL);
	}
	if (job->feed_fd >= 0)
		close(job->feed_fd);
	if (job->feed_ev)
		event_free(job->feed_ev);
	if (job->report)
		bufferevent_free(job->report);
	evbuffer_free(job->pending);
	for (size_t i = 0; i < job->n_entries; i++) {
		free(job->entries[i].path);
		free(job->entries[i].digest);
		free(job->entries[i].link);
	}
	free(job->entries);
	if (job->stage)
		remove_stage(job->stage);
	free(job->stage);
	free(job->ns);
	free(job->base_name);
	free(job->worker_error);
	event_free(job->free_ev);
	free(job);
}

static void
job_end(struct import_job *job)
{
	if (job->ended)
		return;
	job->ended = true;
	if (job->feed_ev)
		event_del(job->feed_ev);
	if (!job->attached)
		event_active(job->free_ev, EV_TIMEOUT, 0);
}

/* The request is done with us; if we have ended too, go. */
static void
job_detach(struct import_job *job)
{
	job->attached = false;
	job->drain = NULL;
	if (job->ended)
		event_active(job->free_ev, EV_TIMEOUT, 0);
}

static void job_fail(struct import_job *job, enum errcode code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
job_fail(struct import_job *job, enum errcode code, const char *fmt, ...)
{
	if (job->ended)
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	operation_fail(job->op, code, "%s", msg);
	job_end(job);
}

static void
report_progress(struct import_job *job, const char *phase)
{
	operation_progress(job->op, json_pack("{s:s,s:I,s:I,s:I}", "phase", phase,
	    "done_bytes", (json_int_t)job->received,
	    "total_bytes", (json_int_t)(job->expected > 0 ? job->expected : job->received),
	    "entries", (json_int_t)job->n_entries));
}

/* ---- feeding the worker -------------------------------------------------- */

static void
feed_writable(evutil_socket_t fd, short what, void *arg)
{
	struct import_job *job = arg;
	while (evbuffer_get_length(job->pending) > 0) {
		int n = evbuffer_write(job->pending, job->feed_fd);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n <= 0) {
			/* The worker stopped reading: its report will say why. */
			evbuffer_drain(job->pending, evbuffer_get_length(job->pending));
			break;
		}
	}
	if (evbuffer_get_length(job->pending) > 0)
		event_add(job->feed_ev, NULL);
	else if (job->input_done && job->feed_fd >= 0) {
		close(job->feed_fd); /* EOF for the worker */
		job->feed_fd = -1;
	}
	if (evbuffer_get_length(job->pending) < FEED_LOW_WATER && job->drain) {
		void (*fn)(void *) = job->drain;
		job->drain = NULL;
		fn(job->drain_arg);
	}
}

bool
import_feed(struct import_job *job, struct evbuffer *data)
{
	job->received += (int64_t)evbuffer_get_length(data);
	if (job->ended || job->feed_fd < 0) {
		evbuffer_drain(data, evbuffer_get_length(data));
		return true;
	}
	evbuffer_add_buffer(job->pending, data);
	feed_writable(-1, 0, job);
	report_progress(job, "receiving");
	return evbuffer_get_length(job->pending) < FEED_HIGH_WATER;
}

void
import_set_drain_cb(struct import_job *job, void (*fn)(void *), void *arg)
{
	job->drain = fn;
	job->drain_arg = arg;
}

void
import_end_input(struct import_job *job)
{
	job->input_done = true;
	feed_writable(-1, 0, job);
	job_detach(job);
	finish_if_ready(job);
}

void
import_abort(struct import_job *job, const char *why)
{
	job_fail(job, ERR_INVALID_ARGUMENT, "the archive did not arrive whole: %s", why);
	job_detach(job);
}

/* ---- the worker's report ------------------------------------------------- */

static int
keep_entry(struct import_job *job, json_t *line)
{
	const char *path = json_string_value(json_object_get(line, "path"));
	const char *digest = json_string_value(json_object_get(line, "digest"));
	const char *link = json_string_value(json_object_get(line, "link"));
	char *norm = path ? import_normalize_path(path) : NULL;
	if (norm == NULL)
		return 0; /* "../x" and absolute names name nothing an image uses */
	if ((digest == NULL || !digest_valid(digest)) && link == NULL) {
		free(norm);
		return -1;
	}
	job->entries = xrealloc(job->entries, (job->n_entries + 1) * sizeof(*job->entries));
	job->entries[job->n_entries++] = (struct staged_entry){ norm,
		digest ? xstrdup(digest) : NULL,
		json_integer_value(json_object_get(line, "size")),
		json_is_true(json_object_get(line, "gzip")), link ? xstrdup(link) : NULL };
	return 0;
}

static void
report_line(struct import_job *job, const char *text, size_t len)
{
	json_t *line = json_loadb(text, len, 0, NULL);
	const char *error = json_string_value(json_object_get(line, "error"));
	if (error != NULL && job->worker_error == NULL) {
		job->worker_error = xstrdup(error);
		job->worker_internal = json_is_true(json_object_get(line, "internal"));
	} else if (json_object_get(line, "done") == NULL && error == NULL &&
	    keep_entry(job, line) < 0 && job->worker_error == NULL)
		job->worker_error = xstrdup("the import worker sent a malformed report");
	json_decref(line);
}

static void
report_readable(struct bufferevent *bev, void *arg)
{
	struct import_job *job = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len;
	char *line;
	while ((line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF)) != NULL) {
		report_line(job, line, len);
		free(line);
	}
	if (evbuffer_get_length(in) > REPORT_LINE_MAX && job->worker_error == NULL)
		job->worker_error = xstrdup("the import worker sent an overlong report line");
}

static void
report_event(struct bufferevent *bev, short what, void *arg)
{
	struct import_job *job = arg;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		report_readable(bev, job);
		job->report_done = true;
		finish_if_ready(job);
	}
}

static void
worker_exited(pid_t pid, int status, void *arg)
{
	struct import_job *job = arg;
	job->worker_done = true;
	job->status = status;
	finish_if_ready(job);
}

/* ---- recording ----------------------------------------------------------- */

/* Staged files become blobs by rename: the worker computed their digests and
 * the plan checked them against every descriptor that names them. */
static int
publish_blobs(struct import_job *job, const struct import_plan *plan)
{
	for (size_t i = 0; i < plan->n_blobs; i++) {
		const char *digest = plan->blobs[i].digest;
		if (blob_stat(job->env.bs, digest, NULL) == 0)
			continue;
		char *from = xasprintf("%s/%s", job->stage, digest_hex(digest));
		char *to = blob_path(job->env.bs, digest);
		int rc = chmod(from, 0444) == 0 && rename(from, to) == 0 ? 0 : -1;
		free(from);
		free(to);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int
record_rows(struct import_job *job, const struct import_plan *plan, json_t *names)
{
	int64_t now = time_now_ns();
	int created_ns = 0;
	if (store_namespace_ensure(job->env.st, job->ns, now, &created_ns) != STORE_OK ||
	    (created_ns && event_bus_publish(job->env.bus, job->ns, "/namespaces/create",
	    json_pack("{s:s,s:{}}", "name", job->ns, "labels")) < 0))
		return -1;
	for (size_t i = 0; i < plan->n_blobs; i++) {
		bool created;
		const struct import_blob *b = &plan->blobs[i];
		if (store_content_put(job->env.st, job->ns, b->digest, b->size, b->labels, now,
		    &created) != STORE_OK || (created && event_bus_publish(job->env.bus, job->ns,
		    "/content/create", json_pack("{s:s,s:I}", "digest", b->digest,
		    "size", (json_int_t)b->size)) < 0))
			return -1;
	}
	for (size_t i = 0; i < plan->n_images; i++) {
		const struct import_image *im = &plan->images[i];
		struct image_target t = { im->media_type, im->digest, im->size };
		bool created;
		if (store_image_put(job->env.st, job->ns, im->name, &t, NULL, now, &created) != STORE_OK ||
		    event_bus_publish(job->env.bus, job->ns, created ? "/images/create" : "/images/update",
		    json_pack("{s:s,s:{}}", "name", im->name, "labels")) < 0)
			return -1;
		json_array_append_new(names, json_pack("{s:s,s:s}", "name", im->name,
		    "digest", im->digest));
	}
	return 0;
}

static void
record(struct import_job *job, const struct import_plan *plan)
{
	json_t *images = json_array();
	if (publish_blobs(job, plan) < 0) {
		json_decref(images);
		job_fail(job, ERR_INTERNAL, "moving imported blobs into the store failed");
		return;
	}
	if (store_begin(job->env.st) < 0 || record_rows(job, plan, images) < 0 ||
	    store_commit(job->env.st) < 0) {
		store_rollback(job->env.st);
		json_decref(images);
		job_fail(job, ERR_INTERNAL, "recording the imported images failed");
		return;
	}
	report_progress(job, "done");
	operation_done(job->op, json_pack("{s:o}", "images", images));
	job_end(job);
}

static void
finish_if_ready(struct import_job *job)
{
	if (job->ended || !job->worker_done || !job->report_done || !job->input_done)
		return;
	if (job->worker_error || !WIFEXITED(job->status) || WEXITSTATUS(job->status) != 0) {
		job_fail(job, job->worker_internal ? ERR_INTERNAL : ERR_INVALID_ARGUMENT, "%s",
		    job->worker_error ? job->worker_error : "the import worker failed");
		return;
	}
	report_progress(job, "assembling");
	struct import_plan plan;
	struct import_request req = { job->stage, job->base_name, NULL };
	char err[512];
	if (import_plan_build(&plan, job->entries, job->n_entries, &req, err, sizeof(err)) < 0) {
		job_fail(job, ERR_INVALID_ARGUMENT, "%s", err);
		return;
	}
	record(job, &plan);
	import_plan_free(&plan);
}

/* The operation is marked cancelled by its caller; stop the worker and
 * record nothing (bytes still arriving are drained and dropped). */
static void
on_cancel(void *arg)
{
	struct import_job *job = arg;
	job_end(job);
}

/* ---- start --------------------------------------------------------------- */

/* The child keeps only its two pipe ends: nothing of the daemon's (the
 * database, the API socket, clients) is within its reach. */
static void
worker_main(pid_t daemon_pid, int in_fd, int report_fd, const char *stage)
{
	int keep[2] = { in_fd, report_fd };
	if (child_isolate(daemon_pid, keep, 2) < 0)
		_exit(1);
	struct import_limits limits = { IMPORT_MAX_BYTES, IMPORT_MAX_ENTRIES };
	_exit(import_worker_run(3, 4, stage, &limits));
}

static int
spawn_worker(struct import_job *job)
{
	int in[2], rep[2];
	if (pipe2(in, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(rep, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	pid_t daemon_pid = getpid();
	pid_t pid = fork();
	if (pid == 0)
		worker_main(daemon_pid, in[0], rep[1], job->stage);
	close(in[0]);
	close(rep[1]);
	if (pid < 0) {
		close(in[1]);
		close(rep[0]);
		return -1;
	}
	job->worker = pid;
	job->feed_fd = in[1];
	evutil_make_socket_nonblocking(in[1]);
	evutil_make_socket_nonblocking(rep[0]);
	job->feed_ev = event_new(job->env.base, in[1], EV_WRITE, feed_writable, job);
	job->report = bufferevent_socket_new(job->env.base, rep[0], BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(job->report, report_readable, NULL, report_event, job);
	bufferevent_enable(job->report, EV_READ);
	children_watch(pid, worker_exited, job);
	log_debug("import: worker %ld for operation %s", (long)pid, operation_id(job->op));
	return 0;
}

struct import_job *
import_begin(const struct image_env *env, const struct import_options *opt, enum errcode *code,
    char *err, size_t errlen)
{
	struct import_job *job = xcalloc(1, sizeof(*job));
	job->env = *env;
	job->feed_fd = -1;
	job->ns = xstrdup(opt->ns);
	job->base_name = opt->base_name ? xstrdup(opt->base_name) : NULL;
	job->expected = opt->expected_bytes;
	job->pending = evbuffer_new();
	job->free_ev = event_new(env->base, -1, 0, job_free, job);
	job->attached = true;
	job->op = operation_new(env->ops, "import", opt->ns,
	    opt->base_name ? opt->base_name : "archive");
	operation_set_cancel(job->op, on_cancel, job);
	job->stage = xasprintf("%s/ingest/import-%s", blob_store_dir(env->bs), operation_id(job->op));
	if (mkdir(job->stage, 0700) < 0 || spawn_worker(job) < 0) {
		*code = ERR_INTERNAL;
		snprintf(err, errlen, "cannot start the import: %s", strerror(errno));
		job_fail(job, ERR_INTERNAL, "%s", err);
		job_detach(job);
		return NULL;
	}
	report_progress(job, "receiving");
	return job;
}

struct operation *
import_operation(const struct import_job *job)
{
	return job->op;
}
