#include "content/digest.h"

#include <string.h>

void
digester_init(struct digester *d)
{
	sha256_init(&d->ctx);
	d->bytes = 0;
}

void
digester_update(struct digester *d, const void *buf, size_t len)
{
	sha256_update(&d->ctx, len, buf);
	d->bytes += len;
}

void
digester_final(struct digester *d, char out[DIGEST_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char sum[SHA256_DIGEST_SIZE];
	sha256_digest(&d->ctx, sizeof(sum), sum);
	memcpy(out, DIGEST_PREFIX, 7);
	for (int i = 0; i < SHA256_DIGEST_SIZE; i++) {
		out[7 + 2 * i] = hex[sum[i] >> 4];
		out[7 + 2 * i + 1] = hex[sum[i] & 15];
	}
	out[DIGEST_LEN] = '\0';
}

void
digester_free(struct digester *d)
{
	/* Nothing allocated: the context is plain memory. */
	(void)d;
}

void
digest_buffer(const void *buf, size_t len, char out[DIGEST_LEN + 1])
{
	struct digester d;
	digester_init(&d);
	digester_update(&d, buf, len);
	digester_final(&d, out);
	digester_free(&d);
}

bool
digest_valid(const char *s)
{
	if (s == NULL || strncmp(s, DIGEST_PREFIX, 7) != 0 || strlen(s) != DIGEST_LEN)
		return false;
	for (const char *p = s + 7; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

const char *
digest_hex(const char *digest)
{
	return digest + 7;
}
