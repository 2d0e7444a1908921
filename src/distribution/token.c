#include "config.h"
#include "distribution/token.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "distribution/challenge.h"
#include "distribution/credentials.h"
#include "distribution/curlm.h"

#define TOKEN_RESPONSE_MAX (64 * 1024)
#define TOKEN_DEFAULT_LIFETIME 60	/* the distribution spec's default */
#define TOKEN_EXPIRY_MARGIN 10

struct cached_token {
	char *domain;
	char *scope;
	char *header;
	time_t expires;
};

struct token_cache {
	struct cached_token *tokens;
	size_t n;
};

struct token_cache *
token_cache_new(void)
{
	return xcalloc(1, sizeof(struct token_cache));
}

static void
cached_token_free(struct cached_token *t)
{
	free(t->domain);
	free(t->scope);
	free(t->header);
}

void
token_cache_free(struct token_cache *tc)
{
	if (tc == NULL)
		return;
	for (size_t i = 0; i < tc->n; i++)
		cached_token_free(&tc->tokens[i]);
	free(tc->tokens);
	free(tc);
}

static struct cached_token *
find(struct token_cache *tc, const char *domain, const char *scope)
{
	for (size_t i = 0; i < tc->n; i++)
		if (strcmp(tc->tokens[i].domain, domain) == 0 &&
		    strcmp(tc->tokens[i].scope, scope) == 0)
			return &tc->tokens[i];
	return NULL;
}

const char *
token_cache_get(struct token_cache *tc, const char *domain, const char *scope)
{
	struct cached_token *t = find(tc, domain, scope);
	return t != NULL && t->expires > time(NULL) ? t->header : NULL;
}

void
token_cache_put(struct token_cache *tc, const char *domain, const char *scope,
    const char *token, long expires_in)
{
	struct cached_token *t = find(tc, domain, scope);
	if (t == NULL) {
		tc->tokens = xrealloc(tc->tokens, (tc->n + 1) * sizeof(*tc->tokens));
		t = &tc->tokens[tc->n++];
		t->domain = xstrdup(domain);
		t->scope = xstrdup(scope);
	} else {
		free(t->header);
	}
	t->header = xasprintf("Bearer %s", token);
	if (expires_in <= 0)
		expires_in = TOKEN_DEFAULT_LIFETIME;
	t->expires = time(NULL) + expires_in -
	    (expires_in > 2 * TOKEN_EXPIRY_MARGIN ? TOKEN_EXPIRY_MARGIN : 0);
}

struct token_fetch {
	struct curlm *cm;
	CURL *easy;
	struct curl_slist *headers;
	char *body;
	size_t len;
	bool too_big;
	token_done_fn done;
	void *arg;
};

static size_t
collect(char *data, size_t size, size_t n, void *arg)
{
	struct token_fetch *tf = arg;
	size_t len = size * n;
	if (tf->len + len > TOKEN_RESPONSE_MAX) {
		tf->too_big = true;
		return 0;
	}
	tf->body = xrealloc(tf->body, tf->len + len + 1);
	memcpy(tf->body + tf->len, data, len);
	tf->len += len;
	tf->body[tf->len] = '\0';
	return len;
}

static void
token_fetch_free(struct token_fetch *tf)
{
	curl_easy_cleanup(tf->easy);
	curl_slist_free_all(tf->headers);
	free(tf->body);
	free(tf);
}

/* Both "token" and "access_token" are in use; either will do. */
static void
finish(struct token_fetch *tf, long status, CURLcode result)
{
	char err[256] = "";
	json_t *j = NULL;
	const char *token = NULL;
	if (result != CURLE_OK)
		snprintf(err, sizeof(err), "token server: %s",
		    tf->too_big ? "response too large" : curl_easy_strerror(result));
	else if (status == 401 || status == 403)
		snprintf(err, sizeof(err), "token server refused the credentials (HTTP %ld)", status);
	else if (status != 200)
		snprintf(err, sizeof(err), "token server answered HTTP %ld", status);
	else if ((j = json_loadb(tf->body ? tf->body : "", tf->len, 0, NULL)) == NULL ||
	    ((token = json_string_value(json_object_get(j, "token"))) == NULL &&
	    (token = json_string_value(json_object_get(j, "access_token"))) == NULL))
		snprintf(err, sizeof(err), "token server sent no token");
	long expires = j ? (long)json_integer_value(json_object_get(j, "expires_in")) : 0;
	tf->done(err[0] ? NULL : token, expires, err[0] ? err : NULL, tf->arg);
	json_decref(j);
}

static void
fetch_done(CURL *easy, CURLcode result, void *arg)
{
	struct token_fetch *tf = arg;
	long status = 0;
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	finish(tf, status, result);
	token_fetch_free(tf);
}

static char *
token_url(CURL *easy, const struct auth_challenge *ch, const char *scope)
{
	char *service = ch->service ? curl_easy_escape(easy, ch->service, 0) : NULL;
	char *esc_scope = curl_easy_escape(easy, scope, 0);
	char *url = xasprintf("%s%s%s%s&scope=%s", ch->realm, strchr(ch->realm, '?') ? "&" : "?",
	    service ? "service=" : "", service ? service : "", esc_scope);
	curl_free(service);
	curl_free(esc_scope);
	return url;
}

struct token_fetch *
token_fetch_start(struct curlm *cm, const struct auth_challenge *ch, const char *scope,
    const struct credentials *creds, int connect_timeout_s, token_done_fn done, void *arg)
{
	char err[256];
	if (curlm_prepare(cm, err, sizeof(err)) < 0)
		return NULL;
	struct token_fetch *tf = xcalloc(1, sizeof(*tf));
	tf->cm = cm;
	tf->done = done;
	tf->arg = arg;
	tf->easy = curl_easy_init();
	char *url = token_url(tf->easy, ch, scope);
	curl_easy_setopt(tf->easy, CURLOPT_URL, url);
	free(url);
	if (creds != NULL) {
		char *basic = credentials_basic_header(creds);
		char *line = xasprintf("Authorization: %s", basic);
		tf->headers = curl_slist_append(NULL, line);
		free(line);
		free(basic);
		curl_easy_setopt(tf->easy, CURLOPT_HTTPHEADER, tf->headers);
	}
	curl_easy_setopt(tf->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(tf->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(tf->easy, CURLOPT_CONNECTTIMEOUT, (long)connect_timeout_s);
	curl_easy_setopt(tf->easy, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(tf->easy, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(tf->easy, CURLOPT_WRITEDATA, tf);
	curl_easy_setopt(tf->easy, CURLOPT_USERAGENT, "keg/" PACKAGE_VERSION);
	if (curlm_add(cm, tf->easy, fetch_done, tf) < 0) {
		token_fetch_free(tf);
		return NULL;
	}
	return tf;
}

void
token_fetch_cancel(struct token_fetch *tf)
{
	if (tf == NULL)
		return;
	curlm_remove(tf->cm, tf->easy);
	token_fetch_free(tf);
}
