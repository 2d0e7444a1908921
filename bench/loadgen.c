/* loadgen: keeps N keep-alive HTTP/1.1 connections to a Unix socket busy
 * with one GET each, back to back, for a fixed time, and prints one JSON line:
 *
 *   loadgen SOCK PATH CONNS SECONDS [HEADER...]
 *   {"path":"/v1/version","conns":4,"seconds":3.000,"requests":N,"rps":R,
 *    "errors":E,"p50_us":..,"p99_us":..}
 *
 * One thread per connection, blocking I/O: each sends a request, reads the
 * whole response (Content-Length or chunked), records its latency, repeats.
 * A response other than 2xx counts as an error (and stops that connection).
 * Built by bench/run with: gcc -O2 -pthread -o loadgen loadgen.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAXLAT (1 << 22)

static const char *sock_path;
static char request[8192];
static size_t request_len;
static volatile int stop;
static double deadline;

struct worker {
	pthread_t thread;
	long requests, errors;
	uint32_t *lat; /* microseconds */
	long nlat;
	char err[256];
};

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct conn {
	int fd;
	char buf[1 << 16];
	size_t off, len;
};

static int
fill(struct conn *c)
{
	if (c->off > 0 && c->off == c->len)
		c->off = c->len = 0;
	if (c->len == sizeof(c->buf)) {
		memmove(c->buf, c->buf + c->off, c->len - c->off);
		c->len -= c->off;
		c->off = 0;
	}
	ssize_t n;
	do
		n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return -1;
	c->len += (size_t)n;
	return 0;
}

/* One line (without CRLF) into out; -1 at EOF. */
static int
read_line(struct conn *c, char *out, size_t cap)
{
	for (;;) {
		char *nl = memchr(c->buf + c->off, '\n', c->len - c->off);
		if (nl != NULL) {
			size_t n = (size_t)(nl - (c->buf + c->off));
			size_t m = n > 0 && c->buf[c->off + n - 1] == '\r' ? n - 1 : n;
			if (m >= cap)
				m = cap - 1;
			memcpy(out, c->buf + c->off, m);
			out[m] = '\0';
			c->off += n + 1;
			return 0;
		}
		if (c->off > 0) {
			memmove(c->buf, c->buf + c->off, c->len - c->off);
			c->len -= c->off;
			c->off = 0;
		}
		if (fill(c) < 0)
			return -1;
	}
}

static int
skip(struct conn *c, long n)
{
	while (n > 0) {
		if (c->off == c->len && fill(c) < 0)
			return -1;
		long avail = (long)(c->len - c->off);
		long take = avail < n ? avail : n;
		c->off += (size_t)take;
		n -= take;
	}
	return 0;
}

/* Reads one response; returns its status or -1. */
static int
read_response(struct conn *c)
{
	char line[4096];
	if (read_line(c, line, sizeof line) < 0)
		return -1;
	int status = 0;
	if (sscanf(line, "HTTP/1.%*d %d", &status) != 1)
		return -1;
	long clen = -1;
	int chunked = 0;
	for (;;) {
		if (read_line(c, line, sizeof line) < 0)
			return -1;
		if (line[0] == '\0')
			break;
		if (strncasecmp(line, "Content-Length:", 15) == 0)
			clen = strtol(line + 15, NULL, 10);
		else if (strncasecmp(line, "Transfer-Encoding:", 18) == 0 &&
		    strcasestr(line, "chunked") != NULL)
			chunked = 1;
	}
	if (chunked) {
		for (;;) {
			if (read_line(c, line, sizeof line) < 0)
				return -1;
			long n = strtol(line, NULL, 16);
			if (n == 0) {
				do
					if (read_line(c, line, sizeof line) < 0)
						return -1;
				while (line[0] != '\0');
				break;
			}
			if (skip(c, n) < 0 || read_line(c, line, sizeof line) < 0)
				return -1;
		}
	} else if (clen > 0 && skip(c, clen) < 0)
		return -1;
	return status;
}

static int
connect_unix(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	strncpy(sa.sun_path, sock_path, sizeof(sa.sun_path) - 1);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void *
run(void *arg)
{
	struct worker *w = arg;
	struct conn *c = calloc(1, sizeof *c);
	c->fd = connect_unix();
	if (c->fd < 0) {
		snprintf(w->err, sizeof w->err, "connect: %s", strerror(errno));
		w->errors++;
		free(c);
		return NULL;
	}
	while (!stop) {
		double t0 = now();
		if (t0 >= deadline)
			break;
		size_t off = 0;
		while (off < request_len) {
			ssize_t n = write(c->fd, request + off, request_len - off);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				goto fail;
			off += (size_t)n;
		}
		int status = read_response(c);
		if (status < 200 || status > 299) {
			snprintf(w->err, sizeof w->err, "status %d", status);
			goto fail;
		}
		double t1 = now();
		w->requests++;
		if (w->nlat < MAXLAT)
			w->lat[w->nlat++] = (uint32_t)((t1 - t0) * 1e6);
	}
	close(c->fd);
	free(c);
	return NULL;
fail:
	if (w->err[0] == '\0')
		snprintf(w->err, sizeof w->err, "connection lost");
	w->errors++;
	close(c->fd);
	free(c);
	return NULL;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: loadgen SOCK PATH CONNS SECONDS [HEADER...]\n");
		return 2;
	}
	sock_path = argv[1];
	const char *path = argv[2];
	int conns = atoi(argv[3]);
	double seconds = atof(argv[4]);
	if (conns < 1 || conns > 4096 || seconds <= 0) {
		fprintf(stderr, "loadgen: bad CONNS or SECONDS\n");
		return 2;
	}
	int n = snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: localhost\r\n", path);
	for (int i = 5; i < argc; i++)
		n += snprintf(request + n, sizeof request - (size_t)n, "%s\r\n", argv[i]);
	n += snprintf(request + n, sizeof request - (size_t)n, "\r\n");
	request_len = (size_t)n;

	struct worker *ws = calloc((size_t)conns, sizeof *ws);
	double start = now();
	deadline = start + seconds;
	for (int i = 0; i < conns; i++) {
		ws[i].lat = malloc(sizeof(uint32_t) * MAXLAT / (size_t)conns + 4);
		pthread_create(&ws[i].thread, NULL, run, &ws[i]);
	}
	long total = 0, errors = 0, nlat = 0;
	const char *err = "";
	for (int i = 0; i < conns; i++) {
		pthread_join(ws[i].thread, NULL);
		total += ws[i].requests;
		errors += ws[i].errors;
		nlat += ws[i].nlat;
		if (ws[i].err[0])
			err = ws[i].err;
	}
	double elapsed = now() - start;
	uint32_t *all = malloc(sizeof(uint32_t) * (size_t)(nlat + 1));
	long k = 0;
	for (int i = 0; i < conns; i++)
		for (long j = 0; j < ws[i].nlat; j++)
			all[k++] = ws[i].lat[j];
	qsort(all, (size_t)k, sizeof *all, cmp_u32);
	printf("{\"path\":\"%s\",\"conns\":%d,\"seconds\":%.3f,\"requests\":%ld,"
	       "\"rps\":%.1f,\"errors\":%ld,\"error\":\"%s\",\"p50_us\":%u,\"p99_us\":%u}\n",
	    path, conns, elapsed, total, total / elapsed, errors, err,
	    k ? all[k / 2] : 0, k ? all[k * 99 / 100] : 0);
	return total > 0 ? 0 : 1;
}
