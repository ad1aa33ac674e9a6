/*
 * Exit codes (documented in README and --help) and the one-line error that
 * goes with them. Every refusal names the file and the problem.
 */
#ifndef TTLSLEUTH_ERRORS_H
#define TTLSLEUTH_ERRORS_H

#include <stddef.h>

enum exit_code {
	EXIT_DONE = 0,          /* analysis done, whatever the verdict */
	EXIT_USAGE = 2,         /* bad command line */
	EXIT_BAD_INPUT = 3,     /* a capture could not be read, or is no capture we understand */
	EXIT_OUTPUT_FAILED = 4, /* the output directory or a file in it could not be written */
	EXIT_INTERNAL = 5,      /* out of memory or a limit of the tool itself */
};

struct error {
	enum exit_code code;
	char message[512];
};

/* Sets the error (printf-style) and returns its code, for `return error_set(...)`. */
int error_set(struct error *err, enum exit_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
