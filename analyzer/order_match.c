#include <stdlib.h>

#include "analyzer/copy_keys.h"
#include "analyzer/order_match.h"

/* Host requests a probe may pair with, the nearest to its expected time: a
 * burst of traceroute's 16 probes at once, spread by a busy NAT, fits. */
enum { CANDIDATES = 64 };

/* Pairs made, then the sum of |delay - offset| over them: more pairs first, then less. */
struct score {
	int64_t pairs, cost;
	int32_t link; /* the last pair of the chain that scores this, -1 for none */
};

static bool better(const struct score *a, const struct score *b)
{
	return a->pairs > b->pairs || (a->pairs == b->pairs && a->cost < b->cost);
}

/* A chain of pairs, each linked to the pair before it. */
struct link {
	int32_t guest, host, before;
};

struct chains {
	struct link *items;
	size_t n, cap;
};

static int32_t add_link(struct chains *c, int32_t guest, int32_t host, int32_t before)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 256;
		struct link *items = realloc(c->items, cap * sizeof *items);
		if (!items)
			return -1;
		c->items = items;
		c->cap = cap;
	}
	c->items[c->n] = (struct link){ guest, host, before };
	return (int32_t)c->n++;
}

/* Fenwick tree of the best score over host positions [0, p), updated upwards only. */
static struct score best_before(const struct score *tree, size_t p)
{
	struct score s = { 0, 0, -1 };
	for (; p > 0; p &= p - 1)
		if (better(&tree[p], &s))
			s = tree[p];
	return s;
}

static void raise_at(struct score *tree, size_t m, size_t pos, struct score s)
{
	for (size_t p = pos + 1; p <= m; p += p & (~p + 1))
		if (better(&s, &tree[p]))
			tree[p] = s;
}

static int64_t gap(int64_t a, int64_t b)
{
	return a > b ? a - b : b - a;
}

/* The candidates of one probe: [lo, hi) when it is small, else the CANDIDATES nearest to `at`. */
static size_t nearest(const int64_t *h, size_t lo, size_t hi, int64_t at, size_t *out)
{
	size_t n = 0;
	if (hi - lo <= CANDIDATES) {
		for (size_t j = lo; j < hi; j++)
			out[n++] = j;
		return n;
	}
	size_t a = lo, b = hi;
	while (a < b) {
		size_t mid = a + (b - a) / 2;
		if (h[mid] < at)
			a = mid + 1;
		else
			b = mid;
	}
	size_t left = a, right = a; /* [left, right) taken so far */
	while (n < CANDIDATES) {
		bool take_left = left > lo && (right == hi || gap(h[left - 1], at) <= gap(h[right], at));
		out[n++] = take_left ? --left : right++;
	}
	return n;
}

int order_match(const int64_t *g, size_t n, const int64_t *h, size_t m, int64_t offset, int64_t early,
		int64_t late, int32_t *match)
{
	for (size_t i = 0; i < n; i++)
		match[i] = -1;
	if (n == 0 || m == 0)
		return 0;
	struct score *tree = calloc(m + 1, sizeof *tree);
	struct score *at_host = calloc(m, sizeof *at_host); /* best chain ending at each host request */
	struct chains chains = { NULL, 0, 0 };
	if (!tree || !at_host) {
		free(tree);
		free(at_host);
		return -1;
	}
	for (size_t p = 0; p <= m; p++)
		tree[p].link = -1;
	size_t lo = 0, hi = 0;
	size_t cand[CANDIDATES];
	struct score row[CANDIDATES];
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		int64_t expected = copy_time_add(g[i], offset);
		while (lo < m && h[lo] < copy_time_add(expected, -early))
			lo++;
		if (hi < lo)
			hi = lo;
		while (hi < m && h[hi] <= copy_time_add(expected, late))
			hi++;
		size_t k = nearest(h, lo, hi, expected, cand);
		/* Every candidate extends what the earlier probes made; then they count. */
		for (size_t c = 0; c < k; c++) {
			row[c] = best_before(tree, cand[c]);
			row[c].pairs++;
			row[c].cost += gap(h[cand[c]], expected);
		}
		for (size_t c = 0; c < k && rc == 0; c++) {
			if (!better(&row[c], &at_host[cand[c]]))
				continue;
			int32_t l = add_link(&chains, (int32_t)i, (int32_t)cand[c], row[c].link);
			if (l < 0) {
				rc = -1;
				break;
			}
			row[c].link = l;
			at_host[cand[c]] = row[c];
			raise_at(tree, m, cand[c], row[c]);
		}
	}
	if (rc == 0)
		for (int32_t l = best_before(tree, m).link; l >= 0; l = chains.items[l].before)
			match[chains.items[l].guest] = chains.items[l].host;
	free(chains.items);
	free(at_host);
	free(tree);
	return rc;
}
