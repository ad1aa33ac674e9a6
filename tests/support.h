/* Helpers shared by the cmocka tests. */
#ifndef TTLSLEUTH_TEST_SUPPORT_H
#define TTLSLEUTH_TEST_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

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

#endif
