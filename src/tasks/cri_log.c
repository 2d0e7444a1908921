/* CRI log lines and timestamps, parsed without libc's time zone machinery
 * (timegm is not C11 and mktime depends on TZ): days since the epoch come
 * from the civil-date formula. */
#include "tasks/cri_log.h"

#include <string.h>

#include "tasks/logs.h"

#define NS_PER_SEC 1000000000LL

/* n decimal digits at s; -1 when any is not a digit. */
static int
digits(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Howard Hinnant's days_from_civil: exact for the proleptic Gregorian
 * calendar, no table, no overflow for years 0..9999. */
static int64_t
days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static bool
leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
month_days(int y, int m)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return m == 2 && leap(y) ? 29 : mdays[m - 1];
}

/* The "YYYY-MM-DDTHH:MM:SS" head (19 bytes) → seconds since the epoch. */
static int
parse_datetime(const char *s, int64_t *secs)
{
	int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
	int h = digits(s + 11, 2), mi = digits(s + 14, 2), se = digits(s + 17, 2);
	if (s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
	    s[13] != ':' || s[16] != ':')
		return -1;
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 ||
	    mi < 0 || mi > 59 || se < 0 || se > 60 || d > month_days(y, mo))
		return -1;
	*secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
	return 0;
}

/* ".123456789" (1 to 9 digits) → ns; *used is how many bytes it took. */
static int
parse_fraction(const char *s, size_t len, int64_t *ns, size_t *used)
{
	*ns = 0;
	*used = 0;
	if (len == 0 || s[0] != '.')
		return 0;
	size_t i = 1;
	int64_t scale = NS_PER_SEC;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		if (i > 9)
			return -1;
		scale /= 10;
		*ns += (s[i] - '0') * scale;
	}
	if (i == 1)
		return -1;
	*used = i;
	return 0;
}

/* "Z" or "+hh:mm"/"-hh:mm" → seconds east of UTC; the whole rest. */
static int
parse_zone(const char *s, size_t len, int64_t *offset)
{
	*offset = 0;
	if (len == 1 && (s[0] == 'Z' || s[0] == 'z'))
		return 0;
	if (len != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':')
		return -1;
	int h = digits(s + 1, 2), m = digits(s + 4, 2);
	if (h < 0 || h > 23 || m < 0 || m > 59)
		return -1;
	*offset = (s[0] == '-' ? -1 : 1) * (int64_t)(h * 3600 + m * 60);
	return 0;
}

int
cri_parse_time(const char *s, size_t len, int64_t *ns)
{
	int64_t secs, frac, offset;
	size_t used;
	if (len < 20 || parse_datetime(s, &secs) < 0 ||
	    parse_fraction(s + 19, len - 19, &frac, &used) < 0 ||
	    parse_zone(s + 19 + used, len - 19 - used, &offset) < 0)
		return -1;
	secs -= offset;
	/* int64 ns run out in 2262; refuse rather than wrap. */
	if (secs < 0 || secs > INT64_MAX / NS_PER_SEC - 1)
		return -1;
	*ns = secs * NS_PER_SEC + frac;
	return 0;
}

/* The next space-separated field from *p (end e); -1 when there is none. */
static int
next_field(const char **p, const char *e, const char **f, size_t *flen)
{
	const char *sp = memchr(*p, ' ', (size_t)(e - *p));
	if (sp == NULL || sp == *p)
		return -1;
	*f = *p;
	*flen = (size_t)(sp - *p);
	*p = sp + 1;
	return 0;
}

int
cri_parse_line(const char *line, size_t len, struct cri_line *out)
{
	const char *p = line, *e = line + len, *stream, *tag;
	size_t slen, tlen;
	memset(out, 0, sizeof(*out));
	if (next_field(&p, e, &out->time, &out->time_len) < 0 ||
	    cri_parse_time(out->time, out->time_len, &out->time_ns) < 0 ||
	    next_field(&p, e, &stream, &slen) < 0)
		return -1;
	if (slen == 6 && memcmp(stream, "stdout", 6) == 0)
		out->stream = LOG_STREAM_STDOUT;
	else if (slen == 6 && memcmp(stream, "stderr", 6) == 0)
		out->stream = LOG_STREAM_STDERR;
	else
		return -1;
	/* The tag is the third field; an empty full line ends right after it
	 * ("... stdout F" without the separating space is what some writers
	 * produce for an empty line), so accept both. */
	tag = p;
	tlen = 0;
	while (p + tlen < e && p[tlen] != ' ')
		tlen++;
	if (tlen != 1 || (tag[0] != 'F' && tag[0] != 'P'))
		return -1;
	out->partial = tag[0] == 'P';
	p += tlen < (size_t)(e - p) ? 2 : 1;
	out->text = p > e ? e : p;
	out->text_len = (size_t)(e - out->text);
	return 0;
}

/* Decimal unix seconds with an optional fraction. */
static int
parse_unix_seconds(const char *s, int64_t *ns)
{
	int64_t secs = 0, frac = 0;
	size_t i = 0, used;
	for (; s[i] >= '0' && s[i] <= '9'; i++) {
		if (secs > (INT64_MAX / NS_PER_SEC - 10) / 10)
			return -1;
		secs = secs * 10 + (s[i] - '0');
	}
	if (i == 0 || parse_fraction(s + i, strlen(s + i), &frac, &used) < 0 ||
	    s[i + used] != '\0')
		return -1;
	*ns = secs * NS_PER_SEC + frac;
	return 0;
}

int
log_parse_since(const char *s, int64_t *ns)
{
	if (s == NULL || *s == '\0')
		return -1;
	if (strchr(s, 'T') != NULL || strchr(s, 't') != NULL)
		return cri_parse_time(s, strlen(s), ns);
	return parse_unix_seconds(s, ns);
}
