noinst_LIBRARIES += libkegdist.a
libkegdist_a_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(LIBCURL_CFLAGS) $(JANSSON_CFLAGS) $(NETTLE_CFLAGS)
libkegdist_a_SOURCES = \
	src/distribution/curlm.c src/distribution/curlm.h \
	src/distribution/challenge.c src/distribution/challenge.h \
	src/distribution/credentials.c src/distribution/credentials.h \
	src/distribution/hosts.c src/distribution/hosts.h \
	src/distribution/token.c src/distribution/token.h \
	src/distribution/registry.c src/distribution/registry.h \
	src/distribution/downloads.c src/distribution/downloads.h
