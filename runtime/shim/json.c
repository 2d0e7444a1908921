/* The little JSON the shim needs: quoting one string for the lines it
 * writes, and reading one string field of the runtime's one-level json
 * log entries ({"level":"error","msg":"…","time":"…"}). */
#include "runtime/shim/shim.h"

#include <stdio.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at p (at most n bytes), or 0. */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	size_t len;
	if (p[0] < 0x80)
		return 1;
	else if ((p[0] & 0xe0) == 0xc0 && p[0] >= 0xc2)
		len = 2;
	else if ((p[0] & 0xf0) == 0xe0)
		len = 3;
	else if ((p[0] & 0xf8) == 0xf0 && p[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

void
json_quote(char *out, size_t cap, const char *s)
{
	size_t o = 0, n = strlen(s);
	const unsigned char *p = (const unsigned char *)s;
	/* Room for the closing quote, an escape of six and the NUL. */
	out[o++] = '"';
	for (size_t i = 0; i < n && o + 8 < cap; ) {
		size_t len = utf8_len(p + i, n - i);
		if (len == 0) {
			out[o++] = '?';
			i++;
		} else if (p[i] == '"' || p[i] == '\\') {
			out[o++] = '\\';
			out[o++] = (char)p[i++];
		} else if (p[i] < 0x20) {
			o += (size_t)snprintf(out + o, cap - o, "\\u%04x", p[i++]);
		} else {
			if (o + len + 2 >= cap)
				break;
			memcpy(out + o, p + i, len);
			o += len;
			i += len;
		}
	}
	out[o++] = '"';
	out[o] = '\0';
}

/* Skips a JSON string starting at its opening quote; returns the byte
 * after the closing quote, or NULL when unterminated. */
static const char *
skip_string(const char *p)
{
	for (p++; *p != '\0'; p++) {
		if (*p == '\\' && p[1] != '\0')
			p++;
		else if (*p == '"')
			return p + 1;
	}
	return NULL;
}

/* Skips any value: a string, or everything up to the next ',' or '}' of
 * this level (numbers, literals, nested objects and arrays). */
static const char *
skip_value(const char *p)
{
	int depth = 0;
	while (*p != '\0') {
		if (*p == '"') {
			if ((p = skip_string(p)) == NULL)
				return NULL;
			continue;
		}
		if (*p == '{' || *p == '[')
			depth++;
		else if (*p == '}' || *p == ']') {
			if (depth == 0)
				return p;
			depth--;
		} else if (*p == ',' && depth == 0)
			return p;
		p++;
	}
	return p;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Unescapes the string at p (its opening quote) into out. \u escapes
 * beyond ASCII become '?': messages only need to stay readable. */
static int
unquote(const char *p, char *out, size_t cap)
{
	size_t o = 0;
	for (p++; *p != '"'; p++) {
		if (*p == '\0')
			return -1;
		char c = *p;
		if (c == '\\') {
			c = *++p;
			if (c == 'n' || c == 't' || c == 'r')
				c = ' ';
			else if (c == 'b' || c == 'f')
				c = ' ';
			else if (c == 'u') {
				int v = 0;
				for (int i = 1; i <= 4; i++) {
					int h = hexval(p[i]);
					if (h < 0)
						return -1;
					v = v * 16 + h;
				}
				p += 4;
				c = (v >= 0x20 && v < 0x7f) ? (char)v : '?';
			} else if (c == '\0')
				return -1;
		}
		if (o + 1 < cap)
			out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

int
json_get_string(const char *obj, const char *key, char *out, size_t cap)
{
	const char *p = strchr(obj, '{');
	size_t klen = strlen(key);
	if (p == NULL)
		return -1;
	for (p++; *p != '\0'; ) {
		p += strspn(p, " \t\r\n,");
		if (*p != '"')
			return -1;
		const char *k = p + 1, *after = skip_string(p);
		if (after == NULL)
			return -1;
		p = after + strspn(after, " \t\r\n");
		if (*p++ != ':')
			return -1;
		p += strspn(p, " \t\r\n");
		bool match = (size_t)(after - 1 - k) == klen && memcmp(k, key, klen) == 0;
		if (match)
			return *p == '"' ? unquote(p, out, cap) : -1;
		if ((p = skip_value(p)) == NULL || *p == '}')
			return -1;
	}
	return -1;
}
