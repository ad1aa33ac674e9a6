#include <stdbool.h>
#include <stdlib.h>

#include "analyzer/clock_curve.h"
#include "analyzer/copy_pairs.h"
#include "analyzer/radix_sort.h"

/* Delays this close between neighbours are the same delay: a NAT's scheduling, the timestamps' grain. */
#define TIGHT_NS ((int64_t)50 * 1000)

enum {
	/* A NAT re-originates with an initial TTL (64, 128, 255, less the hops to the capture)... */
	LOWEST_INITIAL_TTL = 32,
	/* ...or routes, the capture this many hops past it at most (-1: the captures swapped). */
	MOST_HOPS_PAST = 3,
};

/* The copy was seen arriving from the VM: the guest's TTL, address and port (or echo identifier). */
static bool is_arrival(const struct request *g, const struct request *h)
{
	if (h->ttl != g->ttl || !ip_addr_equal(&h->src, &g->src))
		return false;
	return g->proto == PROTO_ICMP ? h->echo_id == g->echo_id : h->sport == g->sport;
}

int copy_pairs_plausible(const struct case_model *cm, struct copy_pair *p, size_t n)
{
	const struct request *rq = cm->requests.items;
	for (size_t i = 0; i < n; i++)
		p[i].key = (uint32_t)rq[p[i].guest].trace;
	if (radix_sort_by_key(p, n, sizeof *p) != 0)
		return -1;
	/* Per trace: how many copies of the pairs that are not arrivals carry each TTL,
	 * and how many each guest TTL less the host's. */
	uint32_t same_ttl[256] = { 0 }, same_step[2 * MOST_HOPS_PAST + 1] = { 0 };
	size_t explained = 0;
	for (size_t first = 0, end; first < n; first = end) {
		size_t arrivals = 0, constant = 0, step = 0;
		for (end = first; end < n && p[end].key == p[first].key; end++) {
			const struct request *g = &rq[p[end].guest], *h = &rq[p[end].host];
			if (is_arrival(g, h)) {
				arrivals++;
				continue;
			}
			if (h->ttl >= LOWEST_INITIAL_TTL) {
				uint32_t c = ++same_ttl[h->ttl];
				constant = c > constant ? c : constant;
			}
			int d = g->ttl - h->ttl;
			if (d != 0 && d >= -1 && d <= MOST_HOPS_PAST) {
				uint32_t c = ++same_step[d + MOST_HOPS_PAST];
				step = c > step ? c : step;
			}
		}
		explained += arrivals + (constant > step ? constant : step);
		for (size_t i = 0; i < sizeof same_step / sizeof same_step[0]; i++)
			same_step[i] = 0;
		for (size_t i = first; i < end; i++)
			same_ttl[rq[p[i].host].ttl] = 0;
	}
	return n > 0 && 2 * explained >= n;
}

static int64_t delay(const struct request *rq, const struct copy_pair *p)
{
	int64_t h = rq[p->host].ts_ns, g = rq[p->guest].ts_ns;
	if (g < 0 && h > INT64_MAX + g)
		return INT64_MAX;
	if (g > 0 && h < INT64_MIN + g)
		return INT64_MIN;
	return h - g;
}

/* How much more two pairs' delays differ than the clocks can drift apart between them. */
static uint64_t misfit(const struct request *rq, const struct copy_pair *a, const struct copy_pair *b)
{
	int64_t da = delay(rq, a), db = delay(rq, b);
	uint64_t apart = da < db ? (uint64_t)db - (uint64_t)da : (uint64_t)da - (uint64_t)db;
	uint64_t dt = b->key - a->key; /* sorted: b is the later */
	uint64_t drift = (uint64_t)clock_max_drift(dt > INT64_MAX ? INT64_MAX : (int64_t)dt);
	return apart > drift ? apart - drift : 0;
}

/* 1 for delays that agree, falling towards 0 as they differ by more than tens of microseconds. */
static double tightness(uint64_t misfit)
{
	return (double)TIGHT_NS / ((double)TIGHT_NS + (double)misfit);
}

int copy_pairs_fit(const struct case_model *cm, struct copy_pair *p, size_t n, double *score)
{
	const struct request *rq = cm->requests.items;
	*score = 0;
	for (size_t i = 0; i < n; i++)
		p[i].key = clock_point_key(rq[p[i].guest].ts_ns);
	if (radix_sort_by_key(p, n, sizeof *p) != 0)
		return -1;
	/* Each pair by how well its delay matches its neighbours' in time: the mean over both. */
	for (size_t i = 0; i < n; i++) {
		double sum = 0;
		int neighbours = 0;
		if (i > 0) {
			sum += tightness(misfit(rq, &p[i - 1], &p[i]));
			neighbours++;
		}
		if (i + 1 < n) {
			sum += tightness(misfit(rq, &p[i], &p[i + 1]));
			neighbours++;
		}
		*score += 0.5 + 0.5 * (neighbours ? sum / neighbours : 0);
	}
	return 0;
}
