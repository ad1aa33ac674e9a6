#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "analyzer/file_hash.h"

enum { CHUNK = 1024 * 1024 };

struct file_hash {
	EVP_MD_CTX *sha;
	int fd;
	bool threaded, failed;
	atomic_bool stop, done;
	_Atomic uint64_t hashed; /* for progress */
	pthread_t thread;
};

static void *hash_whole_file(void *arg)
{
	struct file_hash *h = arg;
	uint8_t *buf = malloc(CHUNK);
	if (!buf) {
		h->failed = true;
		return NULL;
	}
	off_t offset = 0;
	while (!atomic_load(&h->stop)) {
		ssize_t got = pread(h->fd, buf, CHUNK, offset);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			h->failed = true;
			break;
		}
		if (got == 0)
			break;
		EVP_DigestUpdate(h->sha, buf, (size_t)got);
		offset += got;
		atomic_store_explicit(&h->hashed, (uint64_t)offset, memory_order_relaxed);
	}
	free(buf);
	atomic_store(&h->done, true);
	return NULL;
}

struct file_hash *file_hash_start(int fd, bool regular)
{
	struct file_hash *h = calloc(1, sizeof *h);
	if (!h)
		return NULL;
	h->fd = fd;
	atomic_init(&h->stop, false);
	atomic_init(&h->done, false);
	atomic_init(&h->hashed, 0);
	h->sha = EVP_MD_CTX_new();
	if (!h->sha || EVP_DigestInit_ex(h->sha, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(h->sha);
		free(h);
		return NULL;
	}
	/* Without a thread (none to be had), the bytes come inline like from a pipe. */
	h->threaded = regular && pthread_create(&h->thread, NULL, hash_whole_file, h) == 0;
	return h;
}

bool file_hash_wants_bytes(const struct file_hash *h)
{
	return !h->threaded;
}

bool file_hash_pending(const struct file_hash *h, uint64_t *hashed)
{
	if (!h->threaded)
		return false;
	*hashed = atomic_load_explicit(&((struct file_hash *)h)->hashed, memory_order_relaxed);
	return !atomic_load(&((struct file_hash *)h)->done);
}

void file_hash_feed(struct file_hash *h, const void *buf, size_t n)
{
	if (!h->threaded && n)
		EVP_DigestUpdate(h->sha, buf, n);
}

void file_hash_finish(struct file_hash *h, char hex[65], bool wanted)
{
	if (!h)
		return;
	if (h->threaded) {
		if (!wanted)
			atomic_store(&h->stop, true);
		pthread_join(h->thread, NULL);
	}
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	if (hex)
		hex[0] = '\0';
	if (wanted && hex && !h->failed && EVP_DigestFinal_ex(h->sha, digest, &len) == 1 && len == 32)
		for (unsigned i = 0; i < len; i++)
			snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	EVP_MD_CTX_free(h->sha);
	free(h);
}
