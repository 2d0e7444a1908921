noinst_LIBRARIES += libkeghttp.a
libkeghttp_a_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(JANSSON_CFLAGS)
libkeghttp_a_SOURCES = \
	src/http/parser.c src/http/parser.h \
	src/http/request.c src/http/request.h \
	src/http/conn.c src/http/conn.h \
	src/http/server.c src/http/server.h \
	src/http/response.c src/http/response.h \
	src/http/router.c src/http/router.h \
	src/http/sse.c src/http/sse.h \
	src/http/hijack.c src/http/hijack.h
