# Libraries kegd opens with dlopen() on first use instead of linking them
# (lazylib.h): libcurl on the first registry transfer, libarchive in the
# workers that handle archives. An idle daemon maps neither.
noinst_LIBRARIES += libkeglazy.a
libkeglazy_a_CFLAGS = $(AM_CFLAGS) $(LIBCURL_CFLAGS) $(LIBARCHIVE_CFLAGS)
libkeglazy_a_SOURCES = \
	src/lazy/lazylib.c src/lazy/lazylib.h \
	src/lazy/lazy_curl.c src/lazy/lazy_curl.h \
	src/lazy/lazy_archive.c src/lazy/lazy_archive.h
