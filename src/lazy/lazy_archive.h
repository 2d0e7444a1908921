/* libarchive, opened in the forked workers that read and write archives
 * (the unpack worker, the import worker, the export child), never in the
 * daemon itself (lazy_archive.c says why and how). Each worker calls
 * lazy_archive_load() before it confines itself: after a chroot the
 * library's files are out of reach, and under seccomp mmap of new code is. */
#ifndef KEG_LAZY_LAZY_ARCHIVE_H
#define KEG_LAZY_LAZY_ARCHIVE_H

#include <stddef.h>

/* 0 once libarchive is loaded; -1 with a message in err. */
int lazy_archive_load(char *err, size_t errlen);

#endif
