#define _GNU_SOURCE /* fopencookie */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "analyzer/file_hash.h"
#include "analyzer/source.h"

enum {
	RAW_BUFFER = 256 * 1024,
	STREAM_BUFFER = 256 * 1024,
	/* Bytes for the reader, read ahead: a pcapng block costs a copy instead of two
	 * system calls (1M small blocks took 2M reads, 0.9 s, against 0.2 s as pcap). */
	READ_AHEAD = 256 * 1024,
	PEEK_MAX = 16,
};

struct byte_source {
	int fd;
	struct file_hash *hash;
	uint64_t file_bytes;
	uint64_t file_offset; /* raw bytes read from the file */
	uint64_t offset;      /* bytes handed to the reader */
	bool eof, failed;
	bool read_error; /* the file itself could not be read (not just damaged gzip data) */
	bool member_open; /* inside a gzip member: its end marker not yet seen */
	char problem[160];

	/* gzip */
	bool compressed;
	z_stream z;
	uint8_t *raw; /* compressed input buffer */

	/* bytes for the reader (decompressed), read ahead: ahead[start..end) is next */
	uint8_t *ahead;
	size_t ahead_start, ahead_end;
};

/* Reads raw file bytes, hashing them on the way. */
static ssize_t read_file(struct byte_source *s, void *buf, size_t n)
{
	ssize_t got;
	do
		got = read(s->fd, buf, n);
	while (got < 0 && errno == EINTR);
	if (got < 0) {
		s->failed = s->read_error = true;
		snprintf(s->problem, sizeof s->problem, "read error at byte %llu: %s",
			 (unsigned long long)s->file_offset, strerror(errno));
		return -1;
	}
	if (got > 0) {
		file_hash_feed(s->hash, buf, (size_t)got);
		s->file_offset += (uint64_t)got;
	}
	return got;
}

static ssize_t read_inflated(struct byte_source *s, uint8_t *buf, size_t n)
{
	s->z.next_out = buf;
	s->z.avail_out = (uInt)(n > UINT32_MAX ? UINT32_MAX : n);
	while (s->z.avail_out > 0) {
		if (s->z.avail_in == 0) {
			ssize_t got = read_file(s, s->raw, RAW_BUFFER);
			if (got == 0 && s->member_open) {
				/* Without this, a cut .gz would read as a capture cut at some
				 * offset of the decompressed data, hiding where the damage is. */
				s->failed = true;
				snprintf(s->problem, sizeof s->problem,
					 "the gzip data stops before its end marker (the compressed file "
					 "was cut at byte %llu)",
					 (unsigned long long)s->file_offset);
			}
			if (got <= 0)
				break;
			s->z.next_in = s->raw;
			s->z.avail_in = (uInt)got;
		}
		int rc = inflate(&s->z, Z_NO_FLUSH);
		s->member_open = rc == Z_OK || rc == Z_BUF_ERROR;
		if (rc == Z_STREAM_END) {
			/* Concatenated gzip members (as `cat a.gz b.gz` makes) form one stream. */
			if (inflateReset(&s->z) != Z_OK)
				break;
			continue;
		}
		if (rc != Z_OK && rc != Z_BUF_ERROR) {
			s->failed = true;
			snprintf(s->problem, sizeof s->problem,
				 "corrupt gzip data near compressed byte %llu (%s)",
				 (unsigned long long)(s->file_offset - s->z.avail_in),
				 s->z.msg ? s->z.msg : "inflate failed");
			/* What came out before the damage is still good data. */
			break;
		}
		if (rc == Z_BUF_ERROR && s->z.avail_in > 0)
			break;
	}
	size_t produced = n - s->z.avail_out;
	return produced == 0 && s->failed ? -1 : (ssize_t)produced;
}

static ssize_t read_payload(struct byte_source *s, uint8_t *buf, size_t n)
{
	if (s->failed)
		return -1;
	if (s->eof || n == 0)
		return 0;
	ssize_t got = s->compressed ? read_inflated(s, buf, n) : read_file(s, buf, n);
	if (got == 0)
		s->eof = true;
	return got;
}

ssize_t source_read(struct byte_source *s, void *buf, size_t n)
{
	size_t have = s->ahead_end - s->ahead_start;
	if (have == 0 && n >= READ_AHEAD) {
		/* A large read (libpcap's stream buffer) goes straight to its buffer: no copy. */
		ssize_t got = read_payload(s, buf, n);
		if (got > 0)
			s->offset += (uint64_t)got;
		return got;
	}
	if (have == 0 && n > 0) {
		s->ahead_start = s->ahead_end = 0;
		ssize_t got = read_payload(s, s->ahead, READ_AHEAD);
		if (got <= 0)
			return got;
		s->ahead_end = (size_t)got;
		have = (size_t)got;
	}
	size_t take = n < have ? n : have;
	if (take)
		memcpy(buf, s->ahead + s->ahead_start, take);
	s->ahead_start += take;
	s->offset += take;
	return (ssize_t)take;
}

bool source_read_exact(struct byte_source *s, void *buf, size_t n, size_t *got)
{
	size_t have = 0;
	while (have < n) {
		ssize_t r = source_read(s, (uint8_t *)buf + have, n - have);
		if (r <= 0)
			break;
		have += (size_t)r;
	}
	if (got)
		*got = have;
	return have == n;
}

size_t source_peek(struct byte_source *s, void *buf, size_t n)
{
	if (n > PEEK_MAX)
		n = PEEK_MAX;
	while (s->ahead_end - s->ahead_start < n) {
		if (s->ahead_start > 0) {
			memmove(s->ahead, s->ahead + s->ahead_start, s->ahead_end - s->ahead_start);
			s->ahead_end -= s->ahead_start;
			s->ahead_start = 0;
		}
		ssize_t got = read_payload(s, s->ahead + s->ahead_end, READ_AHEAD - s->ahead_end);
		if (got <= 0)
			break;
		s->ahead_end += (size_t)got;
	}
	size_t have = s->ahead_end - s->ahead_start;
	if (have > n)
		have = n;
	memcpy(buf, s->ahead + s->ahead_start, have);
	return have;
}

static void free_source(struct byte_source *s)
{
	if (s->compressed)
		inflateEnd(&s->z);
	free(s->raw);
	free(s->ahead);
	file_hash_finish(s->hash, NULL, false);
	if (s->fd >= 0)
		close(s->fd);
	free(s);
}

struct byte_source *source_open(const char *path, struct error *err)
{
	struct byte_source *s = calloc(1, sizeof *s);
	if (!s) {
		error_set(err, EXIT_INTERNAL, "%s: out of memory", path);
		return NULL;
	}
	s->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (s->fd < 0) {
		error_set(err, EXIT_BAD_INPUT, "%s: cannot open: %s", path, strerror(errno));
		free_source(s);
		return NULL;
	}
	struct stat st;
	if (fstat(s->fd, &st) != 0 || S_ISDIR(st.st_mode)) {
		error_set(err, EXIT_BAD_INPUT, "%s: a directory, not a capture file", path);
		free_source(s);
		return NULL;
	}
	s->file_bytes = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
	s->ahead = malloc(READ_AHEAD);
	if (!s->ahead) {
		error_set(err, EXIT_INTERNAL, "%s: out of memory", path);
		free_source(s);
		return NULL;
	}
	s->hash = file_hash_start(s->fd, S_ISREG(st.st_mode));
	if (!s->hash) {
		error_set(err, EXIT_INTERNAL, "%s: cannot start SHA-256", path);
		free_source(s);
		return NULL;
	}

	uint8_t magic[2];
	ssize_t n = read_file(s, magic, sizeof magic);
	if (n <= 0) {
		error_set(err, EXIT_BAD_INPUT, "%s: empty file (0 bytes), not a capture", path);
		free_source(s);
		return NULL;
	}
	if (n == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
		s->compressed = true;
		s->raw = malloc(RAW_BUFFER);
		if (!s->raw || inflateInit2(&s->z, 15 + 16) != Z_OK) {
			s->compressed = false;
			error_set(err, EXIT_INTERNAL, "%s: cannot start gzip decompression", path);
			free_source(s);
			return NULL;
		}
		memcpy(s->raw, magic, 2);
		s->z.next_in = s->raw;
		s->z.avail_in = 2;
	} else {
		memcpy(s->ahead, magic, (size_t)n);
		s->ahead_end = (size_t)n;
	}
	return s;
}

bool source_compressed(const struct byte_source *s)
{
	return s->compressed;
}

uint64_t source_file_bytes(const struct byte_source *s)
{
	return s->file_bytes;
}

uint64_t source_offset(const struct byte_source *s)
{
	return s->offset;
}

uint64_t source_file_offset(const struct byte_source *s)
{
	return s->file_offset;
}

bool source_hash_pending(const struct byte_source *s, uint64_t *hashed)
{
	return file_hash_pending(s->hash, hashed);
}

const char *source_problem(const struct byte_source *s)
{
	return s->failed ? s->problem : NULL;
}

static ssize_t stream_read(void *cookie, char *buf, size_t size)
{
	ssize_t got = source_read(cookie, buf, size);
	return got < 0 ? -1 : got;
}

static int stream_close(void *cookie)
{
	(void)cookie;
	return 0;
}

FILE *source_stream(struct byte_source *s)
{
	cookie_io_functions_t io = { .read = stream_read, .close = stream_close };
	FILE *f = fopencookie(s, "rb", io);
	if (f)
		setvbuf(f, NULL, _IOFBF, STREAM_BUFFER);
	return f;
}

void source_close(struct byte_source *s, char sha256_hex[65])
{
	if (!s)
		return;
	/* The digest covers the whole file, also what no reader needed. */
	if (sha256_hex && file_hash_wants_bytes(s->hash)) {
		uint8_t *buf = s->raw ? s->raw : malloc(RAW_BUFFER);
		if (buf) {
			while (read_file(s, buf, RAW_BUFFER) > 0)
				;
			if (buf != s->raw)
				free(buf);
		}
	}
	file_hash_finish(s->hash, sha256_hex, sha256_hex != NULL && !s->read_error);
	s->hash = NULL;
	free_source(s);
}
