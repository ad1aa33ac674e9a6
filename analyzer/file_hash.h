/*
 * The SHA-256 of a whole capture file, the evidence that ties a report to the
 * exact file the customer sent. Hashing runs at about 1.4 GB/s here, slower
 * than reading and dissecting, so for a regular file it runs on a thread of
 * its own that reads the file a second time (from the page cache) with pread:
 * the analysis does not wait for it until the very end. Anything else (a pipe)
 * is hashed inline from the bytes the reader reads.
 */
#ifndef TTLSLEUTH_FILE_HASH_H
#define TTLSLEUTH_FILE_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct file_hash;

/* Starts hashing fd; regular: the file can be read again at any offset. NULL when out of memory. */
struct file_hash *file_hash_start(int fd, bool regular);

/* Whether the reader must hand over what it reads (the inline case). */
bool file_hash_wants_bytes(const struct file_hash *h);

/* Whether the thread is still hashing, and how far it has got (for progress). */
bool file_hash_pending(const struct file_hash *h, uint64_t *hashed);

void file_hash_feed(struct file_hash *h, const void *buf, size_t n);

/*
 * Finishes (waiting for the thread) and writes the hex digest into hex, or ""
 * when it failed. wanted false: the digest is not needed (a refused file), stop early.
 */
void file_hash_finish(struct file_hash *h, char hex[65], bool wanted);

#endif
