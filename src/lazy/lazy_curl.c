/* The libcurl functions kegd calls, forwarded to a libcurl opened with
 * dlopen() on the first transfer (lazylib.h). Linked, Debian's libcurl
 * brings OpenSSL, GnuTLS, krb5, LDAP, ssh2, nghttp2 and more (30 libraries)
 * into every daemon, which may never talk to a registry; with libarchive
 * (lazy_archive.c) that was ~8 of an idle kegd's 13 MB resident
 * (bench/LEAD.md, "Idle memory"). The prototypes come from <curl/curl.h>, so
 * the compiler checks each definition here against libcurl's own. A
 * function kegd starts to use needs a line here (the link fails until then).
 * The client, keg, links libcurl as usual. */
#include "config.h"

/* With GCC, curl.h defines curl_easy_setopt and curl_easy_getinfo as
 * type-checking macros, which would swallow the definitions below. */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "lazy/lazy_curl.h"
#include "lazy/lazylib.h"

#define CURL_FUNCTIONS(X) \
	X(curl_easy_init) X(curl_easy_cleanup) X(curl_easy_reset) \
	X(curl_easy_setopt) X(curl_easy_getinfo) X(curl_easy_strerror) \
	X(curl_easy_escape) X(curl_free) \
	X(curl_slist_append) X(curl_slist_free_all) \
	X(curl_multi_init) X(curl_multi_cleanup) X(curl_multi_setopt) \
	X(curl_multi_add_handle) X(curl_multi_remove_handle) \
	X(curl_multi_socket_action) X(curl_multi_assign) X(curl_multi_info_read)

enum { CURL_FUNCTIONS(LAZYLIB_INDEX) N_CURL_FUNCTIONS };
static const char *const names[] = { CURL_FUNCTIONS(LAZYLIB_NAME) };
static void *syms[N_CURL_FUNCTIONS];
/* KEG_LIBCURL_SONAME: what kegd would have linked, found by configure. */
static struct lazylib curl_lib = { KEG_LIBCURL_SONAME, names, syms, N_CURL_FUNCTIONS, false };

#define REAL(fn) LAZYLIB_REAL(&curl_lib, fn)

int
lazy_curl_load(char *err, size_t errlen)
{
	return lazylib_load(&curl_lib, err, errlen);
}

/* ---- the variadic ones ----------------------------------------------------
 * A va_list cannot be handed on, and reading an argument as another type
 * than the caller passed is undefined: each value is read as the type the
 * option's number says (curl.h's CURLOPTTYPE_* ranges, CURLINFO_* type
 * bits) and passed on as that type, which is also the type libcurl reads
 * it as. Object pointers are read as void * (libcurl reads its data
 * pointers so, and a char * is interchangeable with void * here), string
 * lists as struct curl_slist *. A callback must be read as its own
 * function type, so each callback option kegd sets is listed; another one
 * aborts, naming itself, until it is added. */

static bool
is_slist_option(CURLoption option)
{
	switch (option) {
	case CURLOPT_HTTPHEADER: case CURLOPT_PROXYHEADER: case CURLOPT_QUOTE:
	case CURLOPT_POSTQUOTE: case CURLOPT_PREQUOTE: case CURLOPT_TELNETOPTIONS:
	case CURLOPT_HTTP200ALIASES: case CURLOPT_MAIL_RCPT: case CURLOPT_RESOLVE:
	case CURLOPT_CONNECT_TO:
		return true;
	default:
		return false;
	}
}

static void __attribute__((noreturn))
unknown_callback(const char *fn, int option)
{
	fprintf(stderr, "BUG: %s: callback option %d is not listed in src/lazy/lazy_curl.c\n",
	    fn, option);
	abort();
}

static CURLcode
easy_set_callback(CURL *curl, CURLoption option, va_list ap)
{
	switch (option) {
	case CURLOPT_WRITEFUNCTION:
	case CURLOPT_HEADERFUNCTION:
		return REAL(curl_easy_setopt)(curl, option, va_arg(ap, curl_write_callback));
	case CURLOPT_READFUNCTION:
		return REAL(curl_easy_setopt)(curl, option, va_arg(ap, curl_read_callback));
	case CURLOPT_XFERINFOFUNCTION:
		return REAL(curl_easy_setopt)(curl, option, va_arg(ap, curl_xferinfo_callback));
	case CURLOPT_OPENSOCKETFUNCTION:
		return REAL(curl_easy_setopt)(curl, option, va_arg(ap, curl_opensocket_callback));
	default:
		unknown_callback("curl_easy_setopt", (int)option);
	}
}

CURLcode
curl_easy_setopt(CURL *curl, CURLoption option, ...)
{
	va_list ap;
	CURLcode rc;
	va_start(ap, option);
	if (option < CURLOPTTYPE_OBJECTPOINT)
		rc = REAL(curl_easy_setopt)(curl, option, va_arg(ap, long));
	else if (option < CURLOPTTYPE_FUNCTIONPOINT && is_slist_option(option))
		rc = REAL(curl_easy_setopt)(curl, option, va_arg(ap, struct curl_slist *));
	else if (option < CURLOPTTYPE_FUNCTIONPOINT)
		rc = REAL(curl_easy_setopt)(curl, option, va_arg(ap, void *));
	else if (option < CURLOPTTYPE_OFF_T)
		rc = easy_set_callback(curl, option, ap);
	else if (option < CURLOPTTYPE_BLOB)
		rc = REAL(curl_easy_setopt)(curl, option, va_arg(ap, curl_off_t));
	else if (option < CURLOPTTYPE_BLOB + 10000)
		rc = REAL(curl_easy_setopt)(curl, option, va_arg(ap, struct curl_blob *));
	else
		rc = CURLE_UNKNOWN_OPTION;	/* as libcurl answers, the value unread */
	va_end(ap);
	return rc;
}

static CURLMcode
multi_set_callback(CURLM *multi, CURLMoption option, va_list ap)
{
	switch (option) {
	case CURLMOPT_SOCKETFUNCTION:
		return REAL(curl_multi_setopt)(multi, option, va_arg(ap, curl_socket_callback));
	case CURLMOPT_TIMERFUNCTION:
		return REAL(curl_multi_setopt)(multi, option, va_arg(ap, curl_multi_timer_callback));
	default:
		unknown_callback("curl_multi_setopt", (int)option);
	}
}

CURLMcode
curl_multi_setopt(CURLM *multi, CURLMoption option, ...)
{
	va_list ap;
	CURLMcode rc;
	va_start(ap, option);
	if (option < CURLOPTTYPE_OBJECTPOINT)
		rc = REAL(curl_multi_setopt)(multi, option, va_arg(ap, long));
	else if (option < CURLOPTTYPE_FUNCTIONPOINT)
		rc = REAL(curl_multi_setopt)(multi, option, va_arg(ap, void *));
	else if (option < CURLOPTTYPE_OFF_T)
		rc = multi_set_callback(multi, option, ap);
	else if (option < CURLOPTTYPE_BLOB)
		rc = REAL(curl_multi_setopt)(multi, option, va_arg(ap, curl_off_t));
	else
		rc = CURLM_UNKNOWN_OPTION;
	va_end(ap);
	return rc;
}

/* The argument is where the answer goes, a pointer to the info's type. */
CURLcode
curl_easy_getinfo(CURL *curl, CURLINFO info, ...)
{
	va_list ap;
	CURLcode rc;
	va_start(ap, info);
	switch (info & CURLINFO_TYPEMASK) {
	case CURLINFO_STRING:
		rc = REAL(curl_easy_getinfo)(curl, info, va_arg(ap, char **));
		break;
	case CURLINFO_LONG:
		rc = REAL(curl_easy_getinfo)(curl, info, va_arg(ap, long *));
		break;
	case CURLINFO_DOUBLE:
		rc = REAL(curl_easy_getinfo)(curl, info, va_arg(ap, double *));
		break;
	case CURLINFO_SLIST:	/* also CURLINFO_PTR: libcurl reads both so */
		rc = REAL(curl_easy_getinfo)(curl, info, va_arg(ap, struct curl_slist **));
		break;
	case CURLINFO_SOCKET:
		rc = REAL(curl_easy_getinfo)(curl, info, va_arg(ap, curl_socket_t *));
		break;
	case CURLINFO_OFF_T:
		rc = REAL(curl_easy_getinfo)(curl, info, va_arg(ap, curl_off_t *));
		break;
	default:
		rc = CURLE_UNKNOWN_OPTION;
		break;
	}
	va_end(ap);
	return rc;
}

/* ---- the others: straight calls ------------------------------------------- */

CURL *
curl_easy_init(void)
{
	return REAL(curl_easy_init)();
}

void
curl_easy_cleanup(CURL *curl)
{
	REAL(curl_easy_cleanup)(curl);
}

void
curl_easy_reset(CURL *curl)
{
	REAL(curl_easy_reset)(curl);
}

const char *
curl_easy_strerror(CURLcode code)
{
	return REAL(curl_easy_strerror)(code);
}

char *
curl_easy_escape(CURL *curl, const char *string, int length)
{
	return REAL(curl_easy_escape)(curl, string, length);
}

void
curl_free(void *p)
{
	REAL(curl_free)(p);
}

struct curl_slist *
curl_slist_append(struct curl_slist *list, const char *string)
{
	return REAL(curl_slist_append)(list, string);
}

void
curl_slist_free_all(struct curl_slist *list)
{
	REAL(curl_slist_free_all)(list);
}

CURLM *
curl_multi_init(void)
{
	return REAL(curl_multi_init)();
}

CURLMcode
curl_multi_cleanup(CURLM *multi)
{
	return REAL(curl_multi_cleanup)(multi);
}

CURLMcode
curl_multi_add_handle(CURLM *multi, CURL *curl)
{
	return REAL(curl_multi_add_handle)(multi, curl);
}

CURLMcode
curl_multi_remove_handle(CURLM *multi, CURL *curl)
{
	return REAL(curl_multi_remove_handle)(multi, curl);
}

CURLMcode
curl_multi_socket_action(CURLM *multi, curl_socket_t s, int ev_bitmask, int *running)
{
	return REAL(curl_multi_socket_action)(multi, s, ev_bitmask, running);
}

CURLMcode
curl_multi_assign(CURLM *multi, curl_socket_t sockfd, void *sockp)
{
	return REAL(curl_multi_assign)(multi, sockfd, sockp);
}

CURLMsg *
curl_multi_info_read(CURLM *multi, int *msgs_in_queue)
{
	return REAL(curl_multi_info_read)(multi, msgs_in_queue);
}
