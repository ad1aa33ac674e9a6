/*
 * The bodies of the fuzz targets, one per parser, callable without libFuzzer.
 *
 * Each fuzz_*.c defines its body and, unless FUZZ_NO_MAIN is defined, the
 * LLVMFuzzerTestOneInput that calls it. tests/test_fuzz_regressions.c defines
 * FUZZ_NO_MAIN and includes the three files, so every input saved in
 * fuzz/regressions/ is replayed by ctest through exactly the code that found
 * it (the test build has no clang and no libFuzzer).
 *
 * A body returns 0. A broken invariant that the sanitizers cannot see (an
 * error message that does not name the file, a quote longer than its frame)
 * is reported on stderr and aborts, which libFuzzer records as a crash.
 */
#ifndef TTLSLEUTH_FUZZ_TARGETS_H
#define TTLSLEUTH_FUZZ_TARGETS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/diagnose.h"
#include "analyzer/duplicates.h"
#include "analyzer/model.h"
#include "analyzer/traces.h"

int fuzz_dissect_frame(const uint8_t *data, size_t size);
int fuzz_icmp_quote(const uint8_t *data, size_t size);
int fuzz_capture_reader(const uint8_t *data, size_t size);

/*
 * In fuzz_dissect_frame's input, frames after the first follow this marker, so
 * that one input can hold a probe and its answer and reach the pairing code.
 * An input without it is a single frame.
 */
#define FUZZ_FRAME_SEPARATOR "@@frame@@"

static inline void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static inline void fuzz_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("fuzz invariant broken: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/*
 * A heap copy of exactly n bytes: a read one byte past a frame then lands in a
 * redzone and AddressSanitizer reports it, where a read into the next frame of
 * the fuzzer's buffer would go unnoticed. Never NULL (n == 0 gets 1 byte).
 */
static inline uint8_t *fuzz_exact_copy(const uint8_t *data, size_t n)
{
	uint8_t *copy = malloc(n ? n : 1);
	if (!copy)
		abort();
	if (n)
		memcpy(copy, data, n);
	return copy;
}

/*
 * What analyze_captures() does with a guest capture once it is read, for the
 * targets that feed frames straight into the pipeline (fuzz_capture_reader
 * calls analyze_captures itself). Keep it in step with analyzer/analyze.c.
 */
static inline void fuzz_analyze_guest(struct case_model *cm)
{
	if (duplicates_mark(cm, 0, false) != 0 || traces_build(cm, 0) != 0 ||
	    traces_rebuild_from_replies(cm, 0) != 0 || diagnose_case(cm, 0, -1) != 0)
		fuzz_fail("out of memory while analysing %zu requests and %zu replies",
			  cm->requests.len, cm->replies.len);
}

#endif
