/* A shared library kegd opens with dlopen() when it first needs it instead
 * of linking it, so an idle daemon does not map it (and everything it pulls
 * in). A trampoline file per library (lazy_curl.c, lazy_archive.c) defines
 * the library's functions that kegd calls, with their real prototypes, and
 * forwards each call through a pointer lazylib_load() resolved; call sites
 * stay as they were. Not thread-safe: kegd and its workers are single-
 * threaded. */
#ifndef KEG_LAZY_LAZYLIB_H
#define KEG_LAZY_LAZYLIB_H

#include <stdbool.h>
#include <stddef.h>

struct lazylib {
	const char *soname;		/* what dlopen() opens, e.g. "libcurl.so.4" */
	const char *const *names;	/* the n functions to resolve */
	void **syms;			/* their addresses, set by lazylib_load() */
	size_t n;
	bool loaded;
};

/* For the trampoline files' lists of functions (an X macro each): an enum
 * of indexes and the matching array of names. */
#define LAZYLIB_INDEX(fn) LAZYLIB_SYM_##fn,
#define LAZYLIB_NAME(fn) #fn,

/* Opens the library and resolves every name; 0, or -1 with a message in
 * err (nothing stays loaded then, and a later call tries again). Once it
 * succeeded, further calls return 0 at once: the library stays for good. */
int lazylib_load(struct lazylib *lib, char *err, size_t errlen);

/* Aborts the process: a trampoline ran before its library was loaded,
 * which is a bug in the caller (the load call is missing on that path). */
void lazylib_not_loaded(const struct lazylib *lib, size_t i) __attribute__((noreturn));

/* The address of function i, for the trampoline files' calls. */
static inline void *
lazylib_sym(const struct lazylib *lib, size_t i)
{
	if (!lib->loaded)
		lazylib_not_loaded(lib, i);
	return lib->syms[i];
}

/* In a trampoline file: the real function fn, with fn's own type. The
 * conversion from dlsym()'s void * is the one POSIX guarantees. */
#define LAZYLIB_REAL(lib, fn) ((__typeof__(fn) *)lazylib_sym((lib), LAZYLIB_SYM_##fn))

#endif
