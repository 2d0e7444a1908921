#include "lazy/lazylib.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

int
lazylib_load(struct lazylib *lib, char *err, size_t errlen)
{
	if (lib->loaded)
		return 0;
	/* RTLD_NOW: every symbol of the library and its dependencies is bound
	 * here, while the caller can still open files and map memory; a worker
	 * is chrooted and under seccomp when it first calls into them.
	 * RTLD_LOCAL: nothing of theirs joins the global namespace, where it
	 * could interpose on another library. */
	void *h = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		snprintf(err, errlen, "cannot load %s: %s", lib->soname, dlerror());
		return -1;
	}
	for (size_t i = 0; i < lib->n; i++) {
		/* dlsym() gives the default version of a versioned symbol
		 * (libcurl's CURL_OPENSSL_4), the one linking would bind. */
		if ((lib->syms[i] = dlsym(h, lib->names[i])) == NULL) {
			snprintf(err, errlen, "%s has no %s (too old?)", lib->soname,
			    lib->names[i]);
			dlclose(h);
			return -1;
		}
	}
	lib->loaded = true;
	return 0;
}

void
lazylib_not_loaded(const struct lazylib *lib, size_t i)
{
	fprintf(stderr, "BUG: %s called before %s was loaded (lazylib_load missing "
	    "on this path)\n", lib->names[i], lib->soname);
	abort();
}
