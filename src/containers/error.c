#include "containers/containers.h"

#include <stdarg.h>
#include <stdio.h>

void
container_error_set(struct container_error *err, enum errcode code, const char *fmt, ...)
{
	va_list ap;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}
