noinst_LIBRARIES += libkegcontent.a
libkegcontent_a_CFLAGS = $(AM_CFLAGS) $(NETTLE_CFLAGS) $(SQLITE3_CFLAGS) $(JANSSON_CFLAGS)
libkegcontent_a_SOURCES = \
	src/content/digest.c src/content/digest.h \
	src/content/blobs.c src/content/blobs.h \
	src/content/ingest.c src/content/ingest.h
