#include <stdint.h>
#include <string.h>

#include "analyzer/vec.h"

bool vec_reserve_one(void **items, size_t *cap, size_t len, size_t max, size_t elem_size)
{
	if (len < *cap)
		return true;
	if (len >= max)
		return false;
	size_t want = *cap ? *cap * 2 : 64;
	if (want > max)
		want = max;
	if (want > SIZE_MAX / elem_size)
		return false;
	void *grown = realloc(*items, want * elem_size);
	if (!grown)
		return false;
	*items = grown;
	*cap = want;
	return true;
}
