/*
 * The bytes of a capture file on their way to a reader.
 *
 * A source reads the file once, front to back: it hashes the file's own bytes
 * (SHA-256, so the evidence is tied to exactly what the customer sent),
 * inflates them when the file is gzip-compressed (detected by its magic, not
 * its name), counts what the reader consumed (for byte offsets in messages and
 * for progress), and lets the reader peek at the first bytes to tell the
 * format. It reads ahead in blocks of 256 kB, so that a reader asking for a
 * few bytes at a time (pcapng's block headers) pays a copy, not a system call.
 * pcap files go to libpcap through a stdio stream over the source; our own
 * pcapng reader reads it directly.
 */
#ifndef TTLSLEUTH_SOURCE_H
#define TTLSLEUTH_SOURCE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "analyzer/errors.h"

struct byte_source;

/* Opens path; NULL with *err set when it cannot be read or is empty. */
struct byte_source *source_open(const char *path, struct error *err);

bool source_compressed(const struct byte_source *s);
uint64_t source_file_bytes(const struct byte_source *s);

/* Up to n bytes; 0 at the end; -1 when the file cannot be read further (see source_problem). */
ssize_t source_read(struct byte_source *s, void *buf, size_t n);

/* Reads exactly n bytes; false at the end or on an error, with *got telling how many came. */
bool source_read_exact(struct byte_source *s, void *buf, size_t n, size_t *got);

/* The next bytes without consuming them (at most 16); returns how many there are. */
size_t source_peek(struct byte_source *s, void *buf, size_t n);

/* Bytes handed to the reader so far (after decompression): the offset of the next byte. */
uint64_t source_offset(const struct byte_source *s);

/* Bytes of the file itself read so far (compressed, when it is compressed). */
uint64_t source_file_offset(const struct byte_source *s);

/* Whether the file is still being hashed on the side, and how far (see file_hash.h). */
bool source_hash_pending(const struct byte_source *s, uint64_t *hashed);

/* Why reading stopped early (corrupt gzip data, I/O error), or NULL. */
const char *source_problem(const struct byte_source *s);

/* A read-only stdio stream over the source; closing it leaves the source open. */
FILE *source_stream(struct byte_source *s);

/* Finishes the file's SHA-256 into sha256_hex (65 bytes; NULL: not needed) and frees the source. */
void source_close(struct byte_source *s, char sha256_hex[65]);

#endif
