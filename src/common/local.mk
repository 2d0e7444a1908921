noinst_LIBRARIES += libkegcommon.a
libkegcommon_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(LIBEVENT_CFLAGS)
libkegcommon_a_SOURCES = \
	src/common/log.c src/common/log.h \
	src/common/util.c src/common/util.h \
	src/common/json_file.c src/common/json_file.h \
	src/common/timefmt.c src/common/timefmt.h \
	src/common/names.c src/common/names.h \
	src/common/errcode.c src/common/errcode.h \
	src/common/children.c src/common/children.h
