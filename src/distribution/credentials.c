#include "distribution/credentials.h"

#include <errno.h>
#include <jansson.h>
#include <nettle/base64.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

#define CREDENTIAL_MAX 4096

struct credential_entry {
	char *domain;
	struct credentials creds;
};

struct credential_store {
	struct credential_entry *entries;
	size_t n;
};

/* "https://index.docker.io/v1/" → "docker.io"; "http://h:5000/x" → "h:5000". */
static char *
normalize_domain(const char *key)
{
	const char *p = strstr(key, "://");
	p = p ? p + 3 : key;
	size_t len = strcspn(p, "/");
	char *d = xstrndup(p, len);
	if (strcmp(d, "index.docker.io") == 0 || strcmp(d, "registry-1.docker.io") == 0) {
		free(d);
		d = xstrdup("docker.io");
	}
	return d;
}

static int
decode_auth(const char *b64, struct credentials *out)
{
	unsigned char buf[CREDENTIAL_MAX + 1];
	size_t len = strlen(b64), n = CREDENTIAL_MAX;
	struct base64_decode_ctx ctx;
	base64_decode_init(&ctx);
	if (BASE64_DECODE_LENGTH(len) > CREDENTIAL_MAX ||
	    !base64_decode_update(&ctx, &n, buf, len, b64) || !base64_decode_final(&ctx))
		return -1;
	buf[n] = '\0';
	if (memchr(buf, '\0', n) != NULL)
		return -1;
	return credentials_parse((const char *)buf, out);
}

static int
entry_from_json(json_t *value, struct credentials *out)
{
	const char *auth = json_string_value(json_object_get(value, "auth"));
	const char *user = json_string_value(json_object_get(value, "username"));
	const char *pass = json_string_value(json_object_get(value, "password"));
	if (auth != NULL && *auth)
		return decode_auth(auth, out);
	if (user != NULL && pass != NULL && *user && *pass) {
		out->username = xstrdup(user);
		out->password = xstrdup(pass);
		return 0;
	}
	return -1;
}

static void
add_entry(struct credential_store *cs, const char *key, struct credentials *c)
{
	cs->entries = xrealloc(cs->entries, (cs->n + 1) * sizeof(*cs->entries));
	cs->entries[cs->n].domain = normalize_domain(key);
	cs->entries[cs->n].creds = *c;
	cs->n++;
}

struct credential_store *
credential_store_load(const char *path, char **err)
{
	struct credential_store *cs = xcalloc(1, sizeof(*cs));
	if (path == NULL)
		return cs;
	json_error_t jerr;
	json_t *root = json_load_file(path, 0, &jerr);
	if (root == NULL) {
		FILE *f = fopen(path, "r");
		if (f == NULL && errno == ENOENT)
			return cs;
		if (f != NULL)
			fclose(f);
		*err = xasprintf("%s:%d: %s", path, jerr.line, jerr.text);
		credential_store_free(cs);
		return NULL;
	}
	json_t *auths = json_object_get(root, "auths");
	const char *key;
	json_t *value;
	json_object_foreach(auths, key, value) {
		struct credentials c = { 0 };
		if (json_is_object(value) && entry_from_json(value, &c) == 0)
			add_entry(cs, key, &c);
	}
	json_decref(root);
	return cs;
}

void
credential_store_free(struct credential_store *cs)
{
	if (cs == NULL)
		return;
	for (size_t i = 0; i < cs->n; i++) {
		free(cs->entries[i].domain);
		credentials_free(&cs->entries[i].creds);
	}
	free(cs->entries);
	free(cs);
}

const struct credentials *
credential_store_find(const struct credential_store *cs, const char *domain)
{
	for (size_t i = 0; cs != NULL && i < cs->n; i++)
		if (strcmp(cs->entries[i].domain, domain) == 0)
			return &cs->entries[i].creds;
	return NULL;
}

int
credentials_parse(const char *s, struct credentials *out)
{
	const char *colon = strchr(s, ':');
	if (colon == NULL || colon == s || colon[1] == '\0' || strlen(s) > CREDENTIAL_MAX)
		return -1;
	out->username = xstrndup(s, (size_t)(colon - s));
	out->password = xstrdup(colon + 1);
	return 0;
}

void
credentials_free(struct credentials *c)
{
	free(c->username);
	free(c->password);
	c->username = c->password = NULL;
}

char *
credentials_basic_header(const struct credentials *c)
{
	char *plain = xasprintf("%s:%s", c->username, c->password);
	size_t plen = strlen(plain), olen = BASE64_ENCODE_RAW_LENGTH(plen);
	char *b64 = xmalloc(olen + 1);
	base64_encode_raw(b64, plen, (const uint8_t *)plain);
	char *header = xasprintf("Basic %.*s", (int)olen, b64);
	free(b64);
	free(plain);
	return header;
}
