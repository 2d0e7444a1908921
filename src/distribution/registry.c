#include "config.h"
#include "distribution/registry.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "distribution/challenge.h"
#include "distribution/credentials.h"
#include "distribution/curlm.h"
#include "distribution/hosts.h"
#include "distribution/token.h"

#define ERROR_BODY_MAX (16 * 1024)
#define HEADER_VALUE_MAX 4096

struct registry {
	struct event_base *base;
	struct curlm *cm;
	struct registry_hosts *hosts;
	struct credential_store *creds;
	struct token_cache *tokens;
	char **basic_domains;	/* registries that asked for Basic auth */
	size_t n_basic;
	struct registry_config cfg;
};

struct registry_request {
	struct registry *reg;
	struct registry_request_spec spec;	/* strings below are our copies */
	char *domain, *repo, *method, *path, *accept, *content_type;
	const struct credentials *creds;
	int attempt;
	int mirror;		/* index into the host's mirrors; -1: the registry */
	bool auth_tried;
	bool sent_range;
	bool body_started;	/* this attempt has delivered bytes to the sink */
	bool sink_dirty;	/* an attempt has, and the sink was not restarted since */
	bool sink_failed;
	CURL *easy;
	struct curl_slist *headers;
	struct event *backoff;
	struct token_fetch *token;
	struct registry_response resp;
	char *www_authenticate;
	char *content_range;
	char *errbody;
	size_t errlen;
};

void
registry_config_defaults(struct registry_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_attempts = 5;
	cfg->connect_timeout_s = 15;
	cfg->stall_timeout_s = 60;
	cfg->backoff_ms = 250;
}

struct registry *
registry_new(struct event_base *base, const struct registry_config *cfg, char **err)
{
	struct registry *reg = xcalloc(1, sizeof(*reg));
	reg->base = base;
	reg->cfg = *cfg;
	reg->hosts = registry_hosts_new(cfg->hosts, err);
	reg->creds = reg->hosts ? credential_store_load(cfg->auth_file, err) : NULL;
	if (reg->hosts == NULL || reg->creds == NULL) {
		registry_free(reg);
		return NULL;
	}
	reg->cm = curlm_new(base);
	reg->tokens = token_cache_new();
	return reg;
}

void
registry_free(struct registry *reg)
{
	if (reg == NULL)
		return;
	curlm_free(reg->cm);
	registry_hosts_free(reg->hosts);
	credential_store_free(reg->creds);
	token_cache_free(reg->tokens);
	for (size_t i = 0; i < reg->n_basic; i++)
		free(reg->basic_domains[i]);
	free(reg->basic_domains);
	free(reg);
}

char *
registry_manifest_path(const char *repo, const char *reference)
{
	return xasprintf("/v2/%s/manifests/%s", repo, reference);
}

char *
registry_blob_path(const char *repo, const char *digest)
{
	return xasprintf("/v2/%s/blobs/%s", repo, digest);
}

static bool
uses_basic(const struct registry *reg, const char *domain)
{
	for (size_t i = 0; i < reg->n_basic; i++)
		if (strcmp(reg->basic_domains[i], domain) == 0)
			return true;
	return false;
}

static void
remember_basic(struct registry *reg, const char *domain)
{
	if (uses_basic(reg, domain))
		return;
	reg->basic_domains = xrealloc(reg->basic_domains, (reg->n_basic + 1) * sizeof(char *));
	reg->basic_domains[reg->n_basic++] = xstrdup(domain);
}

static char *
request_scope(const struct registry_request *rr)
{
	return xasprintf("repository:%s:%s", rr->repo, rr->spec.push ? "pull,push" : "pull");
}

/* The domain this attempt talks to: a mirror first (pulls only), then the
 * registry itself. */
static const char *
attempt_domain(const struct registry_request *rr)
{
	const struct registry_host *h = registry_hosts_get(rr->reg->hosts, rr->domain);
	if (rr->mirror >= 0 && !rr->spec.push && h->mirrors[rr->mirror] != NULL)
		return h->mirrors[rr->mirror];
	return rr->domain;
}

static void
reset_response(struct registry_request *rr)
{
	free(rr->resp.content_type);
	free(rr->resp.docker_digest);
	free(rr->resp.location);
	free(rr->www_authenticate);
	free(rr->content_range);
	rr->resp.content_type = rr->resp.docker_digest = rr->resp.location = NULL;
	rr->www_authenticate = rr->content_range = NULL;
	rr->resp.content_length = -1;
	rr->errlen = 0;
}

static void
keep_header(char **slot, const char *value, size_t len)
{
	free(*slot);
	*slot = xstrndup(value, len > HEADER_VALUE_MAX ? HEADER_VALUE_MAX : len);
}

/* Each response in a redirect chain starts with a status line: forget the
 * headers of the one before. */
static size_t
on_header(char *line, size_t size, size_t n, void *arg)
{
	struct registry_request *rr = arg;
	size_t len = size * n;
	if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		reset_response(rr);
		return len;
	}
	char *colon = memchr(line, ':', len);
	if (colon == NULL)
		return len;
	size_t nlen = (size_t)(colon - line);
	const char *v = colon + 1;
	while (v < line + len && (*v == ' ' || *v == '\t'))
		v++;
	size_t vlen = (size_t)(line + len - v);
	while (vlen > 0 && isspace((unsigned char)v[vlen - 1]))
		vlen--;
	static const struct { const char *name; size_t off; } wanted[] = {
		{ "www-authenticate", offsetof(struct registry_request, www_authenticate) },
		{ "content-range", offsetof(struct registry_request, content_range) },
		{ "content-type", offsetof(struct registry_request, resp.content_type) },
		{ "docker-content-digest", offsetof(struct registry_request, resp.docker_digest) },
		{ "location", offsetof(struct registry_request, resp.location) },
	};
	for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++)
		if (strlen(wanted[i].name) == nlen && strncasecmp(line, wanted[i].name, nlen) == 0)
			keep_header((char **)((char *)rr + wanted[i].off), v, vlen);
	if (nlen == 14 && strncasecmp(line, "content-length", 14) == 0)
		rr->resp.content_length = strtoll(v, NULL, 10);
	return len;
}

static bool
status_is_success(long status)
{
	return status >= 200 && status < 300;
}

/* A 200 carries the whole body: to a Range request, or after an attempt
 * that was cut (documents are retried without a Range), the sink starts
 * over instead of appending the bytes again. */
static int
prepare_sink(struct registry_request *rr, long status)
{
	if (rr->body_started)
		return 0;
	rr->body_started = true;
	bool restart = (rr->sent_range || rr->sink_dirty) && status == 200;
	rr->sink_dirty = true;
	if (restart && rr->spec.restart != NULL)
		return rr->spec.restart(rr->spec.arg);
	return 0;
}

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
	struct registry_request *rr = arg;
	size_t len = size * n;
	long status = 0;
	curl_easy_getinfo(rr->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status_is_success(status) && rr->spec.sink != NULL) {
		if (prepare_sink(rr, status) < 0 || rr->spec.sink(data, len, rr->spec.arg) < 0) {
			rr->sink_failed = true;
			return 0;
		}
		return len;
	}
	if (!status_is_success(status) && rr->errlen < ERROR_BODY_MAX) {
		size_t take = len < ERROR_BODY_MAX - rr->errlen ? len : ERROR_BODY_MAX - rr->errlen;
		rr->errbody = xrealloc(rr->errbody, rr->errlen + take + 1);
		memcpy(rr->errbody + rr->errlen, data, take);
		rr->errlen += take;
		rr->errbody[rr->errlen] = '\0';
	}
	return len;
}

static size_t
on_upload_read(char *buf, size_t size, size_t n, void *arg)
{
	struct registry_request *rr = arg;
	ssize_t got = read(rr->spec.body_fd, buf, size * n);
	return got < 0 ? CURL_READFUNC_ABORT : (size_t)got;
}

static int
on_xfer(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	struct registry_request *rr = arg;
	rr->spec.upload_progress((int64_t)ulnow, rr->spec.arg);
	return 0;
}

static void add_header(struct registry_request *rr, const char *name, const char *value);

static void
add_auth_header(struct registry_request *rr, const char *domain)
{
	char *scope = request_scope(rr);
	const char *bearer = token_cache_get(rr->reg->tokens, domain, scope);
	free(scope);
	if (bearer != NULL) {
		add_header(rr, "Authorization", bearer);
	} else if (rr->creds != NULL && uses_basic(rr->reg, domain)) {
		char *basic = credentials_basic_header(rr->creds);
		add_header(rr, "Authorization", basic);
		free(basic);
	}
}

static void
add_header(struct registry_request *rr, const char *name, const char *value)
{
	char *line = xasprintf("%s: %s", name, value);
	rr->headers = curl_slist_append(rr->headers, line);
	free(line);
}

static void
set_request_headers(struct registry_request *rr, const char *domain)
{
	curl_slist_free_all(rr->headers);
	rr->headers = NULL;
	if (rr->accept)
		add_header(rr, "Accept", rr->accept);
	if (rr->content_type)
		add_header(rr, "Content-Type", rr->content_type);
	add_auth_header(rr, domain);
	rr->sent_range = false;
	int64_t offset = rr->spec.resume_offset ? rr->spec.resume_offset(rr->spec.arg) : 0;
	if (offset > 0) {
		char range[48];
		snprintf(range, sizeof(range), "bytes=%lld-", (long long)offset);
		add_header(rr, "Range", range);
		rr->sent_range = true;
	}
	/* curl would otherwise wait for a 100 Continue on large uploads. */
	add_header(rr, "Expect", "");
}

static char *
attempt_url(struct registry_request *rr, const char *domain)
{
	if (strncmp(rr->path, "http://", 7) == 0 || strncmp(rr->path, "https://", 8) == 0)
		return xstrdup(rr->path);
	const struct registry_host *h = registry_hosts_get(rr->reg->hosts, domain);
	char *base = registry_host_base_url(h, domain);
	char *url = xasprintf("%s%s", base, rr->path);
	free(base);
	return url;
}

/* libcurl makes its sockets without SOCK_CLOEXEC; kegd forks runtimes and
 * shims that outlive it, so every connection is made close-on-exec here. */
static curl_socket_t
open_cloexec_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *addr)
{
	(void)arg;
	(void)purpose;
	return socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
}

static void
set_tls(struct registry_request *rr, const char *domain)
{
	const struct registry_host *h = registry_hosts_get(rr->reg->hosts, domain);
	if (h->skip_verify) {
		curl_easy_setopt(rr->easy, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(rr->easy, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (h->ca_file)
		curl_easy_setopt(rr->easy, CURLOPT_CAINFO, h->ca_file);
}

static void
set_method(struct registry_request *rr)
{
	if (strcmp(rr->method, "HEAD") == 0) {
		curl_easy_setopt(rr->easy, CURLOPT_NOBODY, 1L);
	} else if (rr->spec.upload_from_fd) {
		lseek(rr->spec.body_fd, 0, SEEK_SET);
		curl_easy_setopt(rr->easy, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(rr->easy, CURLOPT_READFUNCTION, on_upload_read);
		curl_easy_setopt(rr->easy, CURLOPT_READDATA, rr);
		curl_easy_setopt(rr->easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)rr->spec.body_size);
		curl_easy_setopt(rr->easy, CURLOPT_CUSTOMREQUEST, rr->method);
		if (rr->spec.upload_progress != NULL) {
			curl_easy_setopt(rr->easy, CURLOPT_NOPROGRESS, 0L);
			curl_easy_setopt(rr->easy, CURLOPT_XFERINFOFUNCTION, on_xfer);
			curl_easy_setopt(rr->easy, CURLOPT_XFERINFODATA, rr);
		}
	} else if (strcmp(rr->method, "GET") != 0) {
		curl_easy_setopt(rr->easy, CURLOPT_CUSTOMREQUEST, rr->method);
		curl_easy_setopt(rr->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rr->spec.body_len);
		curl_easy_setopt(rr->easy, CURLOPT_POSTFIELDS, rr->spec.body ? rr->spec.body : "");
	}
}

static void attempt_done(CURL *easy, CURLcode result, void *arg);
static void finish(struct registry_request *rr, enum registry_failure failure,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
start_attempt(struct registry_request *rr)
{
	const char *domain = attempt_domain(rr);
	reset_response(rr);
	rr->body_started = false;
	rr->sink_failed = false;
	curl_easy_reset(rr->easy);
	char *url = attempt_url(rr, domain);
	curl_easy_setopt(rr->easy, CURLOPT_URL, url);
	free(url);
	set_request_headers(rr, domain);
	curl_easy_setopt(rr->easy, CURLOPT_HTTPHEADER, rr->headers);
	curl_easy_setopt(rr->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(rr->easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	/* Blob downloads often redirect to storage on another host; curl drops
	 * our Authorization header there (UNRESTRICTED_AUTH stays off). */
	curl_easy_setopt(rr->easy, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(rr->easy, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(rr->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(rr->easy, CURLOPT_OPENSOCKETFUNCTION, open_cloexec_socket);
	curl_easy_setopt(rr->easy, CURLOPT_CONNECTTIMEOUT, (long)rr->reg->cfg.connect_timeout_s);
	curl_easy_setopt(rr->easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(rr->easy, CURLOPT_LOW_SPEED_TIME, (long)rr->reg->cfg.stall_timeout_s);
	curl_easy_setopt(rr->easy, CURLOPT_USERAGENT, "keg/" PACKAGE_VERSION);
	curl_easy_setopt(rr->easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(rr->easy, CURLOPT_HEADERDATA, rr);
	curl_easy_setopt(rr->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(rr->easy, CURLOPT_WRITEDATA, rr);
	set_tls(rr, domain);
	set_method(rr);
	if (curlm_add(rr->reg->cm, rr->easy, attempt_done, rr) < 0)
		finish(rr, REG_UNAVAILABLE, "cannot start a transfer");
}

static void
backoff_due(evutil_socket_t fd, short what, void *arg)
{
	start_attempt(arg);
}

/* Transient failures are tried again after 250 ms, 500 ms, 1 s, …; a
 * download resumes where it stopped (Range). */
static bool
retry_later(struct registry_request *rr)
{
	if (++rr->attempt >= rr->reg->cfg.max_attempts)
		return false;
	int ms = rr->reg->cfg.backoff_ms << (rr->attempt - 1);
	if (ms > 8000)
		ms = 8000;
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	if (rr->backoff == NULL)
		rr->backoff = evtimer_new(rr->reg->base, backoff_due, rr);
	evtimer_add(rr->backoff, &tv);
	log_debug("registry: retrying %s %s in %d ms (attempt %d)", rr->method, rr->path, ms,
	    rr->attempt + 1);
	return true;
}

static void
request_free(struct registry_request *rr)
{
	reset_response(rr);
	free(rr->resp.error);
	/* Neither exists when libcurl could not be loaded. */
	if (rr->easy)
		curl_easy_cleanup(rr->easy);
	if (rr->headers)
		curl_slist_free_all(rr->headers);
	if (rr->backoff)
		event_free(rr->backoff);
	free(rr->domain);
	free(rr->repo);
	free(rr->method);
	free(rr->path);
	free(rr->accept);
	free(rr->content_type);
	free(rr->errbody);
	free(rr);
}

static void
finish(struct registry_request *rr, enum registry_failure failure, const char *fmt, ...)
{
	rr->resp.failure = failure;
	if (fmt != NULL) {
		char msg[1024];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		rr->resp.error = xstrdup(msg);
	}
	rr->spec.done(&rr->resp, rr->spec.arg);
	request_free(rr);
}

/* The registry's own words, from {"errors":[{"code","message"}]}. */
static char *
registry_message(const struct registry_request *rr)
{
	json_t *j = rr->errbody ? json_loadb(rr->errbody, rr->errlen, 0, NULL) : NULL;
	json_t *first = json_array_get(json_object_get(j, "errors"), 0);
	const char *code = json_string_value(json_object_get(first, "code"));
	const char *message = json_string_value(json_object_get(first, "message"));
	char *out = code ? xasprintf("%s: %s", code, message ? message : "") : NULL;
	json_decref(j);
	return out;
}

static void token_ready(const char *token, long expires_in, const char *err, void *arg);

/* A 401: learn the scheme, get a token or use Basic, and try once more. */
static void
handle_unauthorized(struct registry_request *rr, const char *domain)
{
	struct auth_challenge ch;
	if (rr->auth_tried || rr->www_authenticate == NULL ||
	    auth_challenge_parse(rr->www_authenticate, &ch) < 0) {
		char *msg = registry_message(rr);
		finish(rr, REG_UNAUTHORIZED, "%s: authentication required%s%s", domain,
		    msg ? ": " : "", msg ? msg : "");
		free(msg);
		return;
	}
	rr->auth_tried = true;
	if (ch.scheme == AUTH_BASIC) {
		auth_challenge_free(&ch);
		if (rr->creds == NULL) {
			finish(rr, REG_UNAUTHORIZED, "%s requires credentials", domain);
			return;
		}
		remember_basic(rr->reg, domain);
		start_attempt(rr);
		return;
	}
	char *scope = request_scope(rr);
	rr->token = token_fetch_start(rr->reg->cm, &ch, scope, rr->creds,
	    rr->reg->cfg.connect_timeout_s, token_ready, rr);
	free(scope);
	auth_challenge_free(&ch);
	if (rr->token == NULL)
		finish(rr, REG_UNAVAILABLE, "cannot start the token request");
}

static void
token_ready(const char *token, long expires_in, const char *err, void *arg)
{
	struct registry_request *rr = arg;
	rr->token = NULL;
	if (token == NULL) {
		finish(rr, REG_UNAUTHORIZED, "%s: %s", rr->domain, err);
		return;
	}
	char *scope = request_scope(rr);
	token_cache_put(rr->reg->tokens, attempt_domain(rr), scope, token, expires_in);
	free(scope);
	start_attempt(rr);
}

static bool
next_mirror(struct registry_request *rr)
{
	const struct registry_host *h = registry_hosts_get(rr->reg->hosts, rr->domain);
	if (rr->mirror < 0 || rr->spec.push)
		return false;
	rr->mirror = h->mirrors[rr->mirror] && h->mirrors[rr->mirror + 1] ? rr->mirror + 1 : -1;
	rr->auth_tried = false;
	rr->attempt = 0;
	if (rr->spec.restart)
		rr->spec.restart(rr->spec.arg);
	rr->sink_dirty = false;
	start_attempt(rr);
	return true;
}

static void
handle_status(struct registry_request *rr, long status)
{
	const char *domain = attempt_domain(rr);
	rr->resp.status = status;
	if (status_is_success(status) || (status >= 300 && status < 400)) {
		finish(rr, REG_OK, NULL);
		return;
	}
	if (status == 401) {
		handle_unauthorized(rr, domain);
		return;
	}
	if ((status == 429 || status >= 500) && retry_later(rr))
		return;
	if (next_mirror(rr))
		return;
	char *msg = registry_message(rr);
	enum registry_failure f = status == 404 ? REG_NOT_FOUND :
	    status == 403 ? REG_UNAUTHORIZED : status >= 500 || status == 429 ? REG_UNAVAILABLE :
	    REG_INVALID;
	finish(rr, f, "%s %s: HTTP %ld%s%s", rr->method, rr->path, status, msg ? ": " : "",
	    msg ? msg : "");
	free(msg);
}

static void
attempt_done(CURL *easy, CURLcode result, void *arg)
{
	struct registry_request *rr = arg;
	long status = 0;
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	if (rr->sink_failed) {
		finish(rr, REG_SINK, NULL);
		return;
	}
	if (result != CURLE_OK) {
		log_debug("registry: %s %s: %s", rr->method, rr->path, curl_easy_strerror(result));
		if (retry_later(rr) || next_mirror(rr))
			return;
		finish(rr, REG_UNAVAILABLE, "%s %s: %s", rr->method, rr->path,
		    curl_easy_strerror(result));
		return;
	}
	handle_status(rr, status);
}

/* libcurl could not be loaded (curlm_prepare): the request fails as a
 * transport failure would, from the loop, as its done callback expects. */
static void
load_failed(evutil_socket_t fd, short what, void *arg)
{
	finish(arg, REG_UNAVAILABLE, NULL);
}

struct registry_request *
registry_request_start(struct registry *reg, const struct registry_request_spec *spec)
{
	struct registry_request *rr = xcalloc(1, sizeof(*rr));
	rr->reg = reg;
	rr->spec = *spec;
	rr->domain = xstrdup(spec->domain);
	rr->repo = xstrdup(spec->repo);
	rr->method = xstrdup(spec->method ? spec->method : "GET");
	rr->path = xstrdup(spec->path);
	rr->accept = spec->accept ? xstrdup(spec->accept) : NULL;
	rr->content_type = spec->content_type ? xstrdup(spec->content_type) : NULL;
	rr->creds = spec->creds ? spec->creds : credential_store_find(reg->creds, spec->domain);
	const struct registry_host *h = registry_hosts_get(reg->hosts, spec->domain);
	rr->mirror = h->mirrors[0] != NULL && !spec->push ? 0 : -1;
	char err[512];
	if (curlm_prepare(reg->cm, err, sizeof(err)) < 0) {
		log_error("registry: %s", err);
		rr->resp.error = xasprintf("%s %s: %s", rr->method, rr->path, err);
		struct timeval now = { 0, 0 };
		rr->backoff = evtimer_new(reg->base, load_failed, rr);
		evtimer_add(rr->backoff, &now);
		return rr;
	}
	rr->easy = curl_easy_init();
	start_attempt(rr);
	return rr;
}

void
registry_request_cancel(struct registry_request *rr)
{
	if (rr == NULL)
		return;
	token_fetch_cancel(rr->token);
	if (rr->easy)
		curlm_remove(rr->reg->cm, rr->easy);
	request_free(rr);
}
