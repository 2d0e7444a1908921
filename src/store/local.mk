noinst_LIBRARIES += libkegstore.a
libkegstore_a_CFLAGS = $(AM_CFLAGS) $(SQLITE3_CFLAGS) $(JANSSON_CFLAGS)
libkegstore_a_SOURCES = \
	src/store/db.c src/store/db.h \
	src/store/schema.c src/store/schema.h \
	src/store/namespaces.c src/store/namespaces.h \
	src/store/labels.c src/store/labels.h \
	src/store/content.c src/store/content.h \
	src/store/images.c src/store/images.h \
	src/store/containers.c src/store/containers.h \
	src/store/tasks.c src/store/tasks.h
