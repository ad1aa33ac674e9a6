/*
 * Growable arrays with a ceiling.
 *
 * Like curl's dynbuf, every array is made with the most elements it may ever
 * hold, so a hostile capture that makes "interesting" packets by the million
 * hits a named limit instead of eating the machine.
 */
#ifndef TTLSLEUTH_VEC_H
#define TTLSLEUTH_VEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define VEC(type)                                                              \
	struct {                                                               \
		type *items;                                                   \
		size_t len, cap, max;                                          \
	}

#define VEC_INIT(v, maximum)                                                   \
	do {                                                                   \
		(v)->items = NULL;                                             \
		(v)->len = (v)->cap = 0;                                       \
		(v)->max = (maximum);                                          \
	} while (0)

#define VEC_FREE(v)                                                            \
	do {                                                                   \
		free((v)->items);                                              \
		(v)->items = NULL;                                             \
		(v)->len = (v)->cap = 0;                                       \
	} while (0)

/* Makes room for one more element; false when full or out of memory. */
bool vec_reserve_one(void **items, size_t *cap, size_t len, size_t max, size_t elem_size);

/* Appends a zeroed element and returns it, or NULL when the array is full. */
#define VEC_PUSH(v)                                                            \
	(vec_reserve_one((void **)&(v)->items, &(v)->cap, (v)->len, (v)->max,  \
			 sizeof *(v)->items)                                   \
		 ? memset(&(v)->items[(v)->len++], 0, sizeof *(v)->items)      \
		 : NULL)

#endif
