/* Helpers shared by the cmocka tests. */
#ifndef TTLSLEUTH_TEST_SUPPORT_H
#define TTLSLEUTH_TEST_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pcap/pcap.h>

/* Hex text (whitespace ignored) to bytes; returns the byte count, aborts on bad hex. */
size_t hex_to_bytes(const char *hex, uint8_t *out, size_t max);

/* A fresh directory under /tmp; free it with remove_temp_dir. */
char *make_temp_dir(void);

/* Deletes the directory and everything in it, and frees the string. */
void remove_temp_dir(char *dir);

/* The whole file, NUL-terminated; NULL when unreadable. *len may be NULL. */
char *slurp_file(const char *path, size_t *len);

/* Path under the source tree, e.g. source_path("samples/slirp/guest.pcap"); static buffer per call site is not kept: caller frees. */
char *source_path(const char *relative);

/* Runs the built ttlsleuth with arguments (a shell word list), returns its exit code;
 * stdout and stderr go to the given files when not NULL. */
int run_ttlsleuth(const char *args, const char *stdout_path, const char *stderr_path);

/* What rewrite_capture does to frame `number` (1-based): change its header (the time) or its
 * bytes in place (up to REWRITE_FRAME_MAX), and return false to leave it out. */
enum { REWRITE_FRAME_MAX = 4096 };
typedef bool (*frame_edit)(unsigned number, struct pcap_pkthdr *h, uint8_t *frame, void *ctx);

/* A committed capture copied frame by frame through edit, written with libpcap into dir/name
 * (same link type and precision); returns the new path, which the caller frees. */
char *rewrite_capture(const char *sample, const char *dir, const char *name, frame_edit edit,
		      void *ctx);

#endif
