#include <stdlib.h>
#include <string.h>

#include "analyzer/radix_sort.h"

static uint64_t key_at(const unsigned char *item)
{
	uint64_t k;
	memcpy(&k, item, sizeof k);
	return k;
}

/* Copies of a size the compiler knows are inlined: the sizes sorted here get one. */
static void move(unsigned char *to, const unsigned char *from, size_t size)
{
	switch (size) {
	case 8:
		memcpy(to, from, 8);
		break;
	case 16:
		memcpy(to, from, 16);
		break;
	case 32:
		memcpy(to, from, 32);
		break;
	case 24:
		memcpy(to, from, 24);
		break;
	default:
		memcpy(to, from, size);
	}
}

/* Least significant byte first, each pass stable; a byte every item shares needs no pass. */
int radix_sort_by_key(void *items, size_t n, size_t size)
{
	if (n < 2)
		return 0;
	unsigned char *from = items, *to = malloc(n * size);
	if (!to)
		return -1;
	unsigned char *spare = to;
	for (unsigned shift = 0; shift < 64; shift += 8) {
		size_t count[256] = { 0 };
		for (size_t i = 0; i < n; i++)
			count[key_at(from + i * size) >> shift & 0xff]++;
		if (count[key_at(from) >> shift & 0xff] == n)
			continue;
		size_t at = 0;
		for (int d = 0; d < 256; d++) {
			size_t c = count[d];
			count[d] = at;
			at += c;
		}
		for (size_t i = 0; i < n; i++)
			move(to + count[key_at(from + i * size) >> shift & 0xff]++ * size, from + i * size, size);
		unsigned char *t = from;
		from = to;
		to = t;
	}
	if (from != items)
		memcpy(items, from, n * size);
	free(spare);
	return 0;
}

int radix_sort_i64(int64_t *v, size_t n)
{
	/* Flipping the sign bit orders signed values as unsigned ones. */
	const uint64_t sign = (uint64_t)1 << 63;
	uint64_t *u = (uint64_t *)(void *)v;
	for (size_t i = 0; i < n; i++)
		u[i] ^= sign;
	int rc = radix_sort_by_key(u, n, sizeof *u);
	for (size_t i = 0; i < n; i++)
		u[i] ^= sign;
	return rc;
}
