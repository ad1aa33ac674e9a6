#include <stdarg.h>
#include <stdio.h>

#include "analyzer/errors.h"

int error_set(struct error *err, enum exit_code code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof err->message, fmt, ap);
	va_end(ap);
	err->code = code;
	return (int)code;
}
