/*
 * Fuzz target: a whole capture file through the path `ttlsleuth analyze` takes
 * with a guest capture: format detection, decompression, the pcap and pcapng
 * readers, every frame dissected and kept or not, then traces and diagnosis.
 *
 * The input is the file. It goes into an anonymous memory file (memfd) that
 * analyze_captures opens by its /proc/self/fd path like any other file, so
 * whatever reader or analysis stage is added there is fuzzed without changing
 * this target.
 *
 * Besides what the sanitizers see, the target checks what the README promises
 * of bad input: the exit code is one of the documented ones, a refusal names
 * the file, a capture cut short says so, and no file descriptor is left open.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create */
#endif
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz/fuzz_targets.h"

#include "analyzer/analyze.h"
#include "analyzer/errors.h"
#include "analyzer/model.h"

/* A few descriptors may appear once (a library opening something for good); one per input is a leak. */
enum { FD_LEAK_SLACK = 16 };

static int write_memfd(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz-capture", MFD_CLOEXEC);
	if (fd < 0)
		fuzz_fail("memfd_create: %s", strerror(errno));
	while (size > 0) {
		ssize_t n = write(fd, data, size);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			fuzz_fail("writing the memfd: %s", strerror(errno));
		data += n;
		size -= (size_t)n;
	}
	return fd;
}

/* One case through analyze_captures, with the checks of a refusal; returns its exit code. */
static int analyze_once(const char *path, const char *host_path)
{
	struct case_model cm;
	case_init(&cm);
	struct analyze_options opt = { .guest_path = path, .host_path = host_path };
	struct stage_times times = { 0 };
	struct error err = { 0 };
	int rc = analyze_captures(&cm, &opt, &times, &err);
	if (rc != 0 && rc != EXIT_BAD_INPUT && rc != EXIT_INTERNAL)
		fuzz_fail("analyze_captures returned %d: %s", rc, err.message);
	if (rc == EXIT_BAD_INPUT &&
	    (strncmp(err.message, path, strlen(path)) != 0 || err.message[strlen(path)] != ':'))
		fuzz_fail("refusal does not start with the file name: \"%s\"", err.message);
	for (uint32_t i = 0; i < cm.n_captures && rc == 0; i++) {
		const struct capture *c = &cm.captures[i];
		if (c->cut_short && c->warning[0] == '\0')
			fuzz_fail("capture %u cut short without a warning", i);
		if (c->ip_packets > c->packets)
			fuzz_fail("%llu IP packets in %llu frames", (unsigned long long)c->ip_packets,
				  (unsigned long long)c->packets);
	}
	case_free(&cm);
	return rc;
}

int fuzz_capture_reader(const uint8_t *data, size_t size)
{
	static int first_fd = -1;
	int fd = write_memfd(data, size);
	if (first_fd < 0)
		first_fd = fd;
	else if (fd > first_fd + FD_LEAK_SLACK)
		fuzz_fail("file descriptors leak: the memfd is %d, it was %d at the first input", fd,
			  first_fd);
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);

	/* The file as a guest capture; then, when it reads, as the host side of the same
	 * case too, which takes it through correlation (every probe meets its own copy).
	 * The host copy gets one byte more: the very same bytes are refused as a host capture. */
	if (analyze_once(path, NULL) == 0) {
		int host_fd = write_memfd(data, size);
		if (write(host_fd, "", 1) != 1)
			fuzz_fail("writing the memfd: %s", strerror(errno));
		char host_path[64];
		snprintf(host_path, sizeof host_path, "/proc/self/fd/%d", host_fd);
		analyze_once(path, host_path);
		close(host_fd);
	}
	close(fd);
	return 0;
}

#ifndef FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_capture_reader(data, size);
}
#endif
