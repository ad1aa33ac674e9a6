#include <stdlib.h>

#include "analyzer/clock_offset.h"
#include "analyzer/radix_sort.h"

/* Clocks of a guest and its host may differ by a time zone (UTC-12 to UTC+14)
 * when one of them keeps local time in its clock: a day and a bit covers it,
 * the bit being a minute for a clock that drifted and for the NAT's delay. */
#define OFFSET_SEARCH_NS ((int64_t)(26 * 3600 + 60) * 1000 * 1000 * 1000)
/* Offsets closer than this count as the same offset: a NAT's delay varies that much. */
#define OFFSET_BIN_NS ((int64_t)20 * 1000 * 1000)
/* Within that, the copies of probes sent a millisecond or two apart are told apart. */
#define OFFSET_FINE_NS ((int64_t)1000 * 1000)

enum {
	/* A field value seen on more host requests than this within the search
	 * (a fixed source port, IP IDs wrapping in a long capture) names none of them. */
	IDENTITY_CANDIDATES = 16,
	/* Up to this many guest/host pairs to one target, all of them vote... */
	EXACT_PAIRS = 1 << 18,
	/* ...beyond, each probe votes for this many host requests nearest it in time
	 * (clocks that agree) and as many nearest its place in the order (a NAT
	 * forwards in order; clocks hours apart), which keeps the work linear. */
	NEAREST_CANDIDATES = 8,
};

struct votes {
	int64_t *v;
	size_t n, cap;
};

static int vote(struct votes *s, int64_t offset)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 1024;
		int64_t *v = realloc(s->v, cap * sizeof *v);
		if (!v)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = offset;
	return 0;
}

/* The first of the fullest windows of `width` over sorted v[0..n): the earliest of equals. */
static void densest(const int64_t *v, size_t n, int64_t width, size_t *first, size_t *count)
{
	size_t start = 0;
	*first = *count = 0;
	for (size_t end = 0; end < n; end++) {
		while (v[end] - v[start] > width)
			start++;
		if (end - start + 1 > *count) {
			*count = end - start + 1;
			*first = start;
		}
	}
}

/*
 * Votes of one key kind: each guest probe for the few host requests to its
 * target with the same value of the field. *voters counts the probes that
 * found any.
 */
static int identity_votes(const struct copy_keys *guest, const struct copy_keys *host, enum copy_key kind,
			  struct votes *s, size_t *voters)
{
	size_t first, end;
	copy_keys_kind(guest, kind, &first, &end);
	*voters = 0;
	for (size_t p = first; p < end; p++) {
		const struct copy_entry *g = &guest->items[p];
		size_t hf, he;
		copy_keys_range(host, g->group, copy_time_add(g->ts_ns, -OFFSET_SEARCH_NS),
				copy_time_add(g->ts_ns, OFFSET_SEARCH_NS), &hf, &he);
		if (he == hf || he - hf > IDENTITY_CANDIDATES)
			continue;
		++*voters;
		for (size_t q = hf; q < he; q++)
			if (vote(s, host->items[q].ts_ns - g->ts_ns) != 0)
				return -1;
	}
	return 0;
}

static int vote_range(struct votes *s, const struct copy_keys *host, const struct copy_entry *g, size_t first,
		      size_t end)
{
	for (size_t q = first; q < end; q++)
		if (vote(s, host->items[q].ts_ns - g->ts_ns) != 0)
			return -1;
	return 0;
}

static size_t clamp(size_t v, size_t lo, size_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Votes of the times alone: every guest probe for the host requests to its target. */
static int timing_votes(const struct copy_keys *guest, const struct copy_keys *host, struct votes *s)
{
	size_t first, end;
	copy_keys_kind(guest, KEY_TARGET, &first, &end);
	uint64_t pairs = 0;
	for (size_t p = first; p < end; p++) {
		const struct copy_entry *g = &guest->items[p];
		size_t hf, he;
		copy_keys_range(host, g->group, copy_time_add(g->ts_ns, -OFFSET_SEARCH_NS),
				copy_time_add(g->ts_ns, OFFSET_SEARCH_NS), &hf, &he);
		pairs += he - hf;
	}
	bool all = pairs <= EXACT_PAIRS;
	/* The probes of one target, and the host requests to it, as the order goes. */
	size_t group = first, group_end = first, host_group = 0, host_group_end = 0;
	for (size_t p = first; p < end; p++) {
		const struct copy_entry *g = &guest->items[p];
		if (p == group_end) {
			uint64_t next = copy_group(KEY_TARGET, copy_target(g) + 1, 0);
			group = p;
			group_end = copy_keys_lower_bound(guest, next, INT64_MIN);
			copy_keys_span(host, g->group, next, &host_group, &host_group_end);
		}
		size_t hf, he;
		copy_keys_range(host, g->group, copy_time_add(g->ts_ns, -OFFSET_SEARCH_NS),
				copy_time_add(g->ts_ns, OFFSET_SEARCH_NS), &hf, &he);
		if (he == hf)
			continue;
		if (all) {
			if (vote_range(s, host, g, hf, he) != 0)
				return -1;
			continue;
		}
		size_t half = NEAREST_CANDIDATES / 2;
		size_t at = copy_keys_lower_bound(host, g->group, g->ts_ns);
		size_t a0 = clamp(at > half ? at - half : 0, hf, he), a1 = clamp(at + half, hf, he);
		uint64_t rank = p - group, n_group = group_end - group, n_host = host_group_end - host_group;
		size_t in_order = host_group + (size_t)(rank * n_host / n_group);
		size_t b0 = clamp(in_order > half ? in_order - half : 0, hf, he);
		size_t b1 = clamp(in_order + half, hf, he);
		/* Where the two windows overlap, a pair votes once. */
		if (b0 < a1 && a0 < b1) {
			a0 = a0 < b0 ? a0 : b0;
			a1 = a1 > b1 ? a1 : b1;
			b0 = b1 = a1;
		}
		if (vote_range(s, host, g, a0, a1) != 0 || vote_range(s, host, g, b0, b1) != 0)
			return -1;
	}
	return 0;
}

/*
 * The offset the copies of the probes pile up at. Ties go to the smaller
 * offset: when the first probes of each trace never reached the host, lining
 * the others up one or more probes early fits as many pairs, with a delay
 * larger by the probes' spacing.
 */
static int64_t timing_offset(const int64_t *v, size_t n)
{
	size_t first, count, fine_first, fine_count;
	densest(v, n, OFFSET_BIN_NS, &first, &count);
	densest(v + first, count, OFFSET_FINE_NS, &fine_first, &fine_count);
	return v[first + fine_first + fine_count / 2];
}

int clock_offset_estimate(const struct copy_keys *guest, const struct copy_keys *host,
			  struct clock_estimate *e)
{
	struct votes s = { NULL, 0, 0 };
	int64_t offset[KEY_COUNT] = { 0 };
	size_t support[KEY_COUNT] = { 0 };
	int best = -1;
	for (int kind = KEY_TARGET + 1; kind < KEY_COUNT; kind++) {
		e->kept[kind] = false;
		size_t voters;
		s.n = 0;
		if (identity_votes(guest, host, (enum copy_key)kind, &s, &voters) != 0) {
			free(s.v);
			return -1;
		}
		if (s.n == 0)
			continue;
		if (radix_sort_i64(s.v, s.n) != 0) {
			free(s.v);
			return -1;
		}
		size_t first, count;
		densest(s.v, s.n, OFFSET_BIN_NS, &first, &count);
		offset[kind] = s.v[first + count / 2];
		support[kind] = count;
		/* Kept: most probes that found the value again found it at one offset.
		 * One pair alone may be chance (16-bit fields repeat). */
		e->kept[kind] = count >= 2 && 2 * count >= voters;
		if (e->kept[kind] && (best < 0 || count > support[best]))
			best = kind;
	}
	e->kept[KEY_TARGET] = false;
	if (best >= 0) {
		e->offset_ns = offset[best];
		/* A field that agrees at another offset is not what pairs these copies. */
		for (int kind = KEY_TARGET + 1; kind < KEY_COUNT; kind++)
			if (e->kept[kind] && llabs(offset[kind] - e->offset_ns) > OFFSET_BIN_NS)
				e->kept[kind] = false;
		free(s.v);
		return 1;
	}
	s.n = 0;
	if (timing_votes(guest, host, &s) != 0 || radix_sort_i64(s.v, s.n) != 0) {
		free(s.v);
		return -1;
	}
	int found = s.n > 0;
	if (found)
		e->offset_ns = timing_offset(s.v, s.n);
	free(s.v);
	return found;
}
