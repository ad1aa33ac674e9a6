/*
 * Sorting big arrays by a 64-bit key in linear time. The correlation sorts
 * several entries per request of both captures, and qsort's calls through a
 * pointer made that the slowest part of it.
 */
#ifndef TTLSLEUTH_RADIX_SORT_H
#define TTLSLEUTH_RADIX_SORT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Sorts n items of `size` bytes, each starting with its uint64_t key, keeping
 * the order of items with equal keys. Returns -1 when out of memory (the
 * items are left as they were).
 */
int radix_sort_by_key(void *items, size_t n, size_t size);

/* Sorts signed values in ascending order; -1 when out of memory. */
int radix_sort_i64(int64_t *v, size_t n);

#endif
