/* libcurl, opened on kegd's first registry transfer (lazy_curl.c says why
 * and how). Every path that calls a curl_* function first calls
 * lazy_curl_load() and gives up cleanly when it fails. */
#ifndef KEG_LAZY_LAZY_CURL_H
#define KEG_LAZY_LAZY_CURL_H

#include <stddef.h>

/* 0 once libcurl is loaded (later calls return 0 at once); -1 with a
 * message in err, and a later call tries again. */
int lazy_curl_load(char *err, size_t errlen);

#endif
