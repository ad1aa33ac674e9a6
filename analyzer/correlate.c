#include <stdlib.h>

#include "analyzer/correlate.h"

/* The host copy of a probe leaves within this time of the guest's original. */
#define MATCH_WINDOW_NS ((int64_t)1000 * 1000 * 1000)
/* Clocks of a guest and its host rarely differ by more than this. */
#define OFFSET_SEARCH_NS ((int64_t)3600 * 1000 * 1000 * 1000)
/* Offsets closer than this count as the same offset. */
#define OFFSET_BIN_NS ((int64_t)20 * 1000 * 1000)

enum { MAX_OFFSET_SAMPLES = 1 << 20 };

static bool same_target(const struct request *g, const struct request *h)
{
	if (g->proto != h->proto || !ip_addr_equal(&g->dst, &h->dst))
		return false;
	/* ICMP ids are rewritten by ping sockets; TCP and UDP destination ports survive a NAT. */
	return g->proto == PROTO_ICMP || g->dport == h->dport;
}

static int compare_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/*
 * The offset most guest/host pairs agree on: the densest window of differences,
 * its median. Unrelated pairs scatter; copies of the same probes pile up.
 */
static bool estimate_offset(const struct case_model *cm, uint32_t guest, uint32_t host, int64_t *offset)
{
	int64_t *diffs = malloc(MAX_OFFSET_SAMPLES * sizeof *diffs);
	if (!diffs)
		return false;
	size_t n = 0;
	for (size_t i = 0; i < cm->requests.len && n < MAX_OFFSET_SAMPLES; i++) {
		const struct request *g = &cm->requests.items[i];
		if (g->capture != guest || g->trace < 0)
			continue;
		for (size_t j = 0; j < cm->requests.len && n < MAX_OFFSET_SAMPLES; j++) {
			const struct request *h = &cm->requests.items[j];
			if (h->capture != host || !same_target(g, h))
				continue;
			int64_t d = h->ts_ns - g->ts_ns;
			if (d > -OFFSET_SEARCH_NS && d < OFFSET_SEARCH_NS)
				diffs[n++] = d;
		}
	}
	if (n == 0) {
		free(diffs);
		return false;
	}
	qsort(diffs, n, sizeof *diffs, compare_i64);
	size_t best_start = 0, best_count = 0, start = 0;
	for (size_t end = 0; end < n; end++) {
		while (diffs[end] - diffs[start] > OFFSET_BIN_NS)
			start++;
		if (end - start + 1 > best_count) {
			best_count = end - start + 1;
			best_start = start;
		}
	}
	*offset = diffs[best_start + best_count / 2];
	free(diffs);
	return true;
}

/* Higher is a better host copy for the guest probe; the time distance breaks ties. */
static int copy_fit(const struct request *g, const struct request *h)
{
	int score = 0;
	if (g->proto != PROTO_ICMP && g->sport == h->sport)
		score += 2;
	if (g->proto == PROTO_TCP && g->seq == h->seq)
		score += 2;
	if (g->proto == PROTO_ICMP && g->echo_id == h->echo_id && g->echo_seq == h->echo_seq)
		score += 2;
	if (h->ttl + 1 == g->ttl || h->ttl == g->ttl)
		score += 1;
	return score;
}

static int compare_by_time(const void *a, const void *b, const struct case_model *cm)
{
	const struct request *x = &cm->requests.items[*(const int32_t *)a];
	const struct request *y = &cm->requests.items[*(const int32_t *)b];
	if (x->ts_ns != y->ts_ns)
		return x->ts_ns < y->ts_ns ? -1 : 1;
	return (x->frame > y->frame) - (x->frame < y->frame);
}

static const struct case_model *sort_case;
static int compare_guest_time(const void *a, const void *b)
{
	return compare_by_time(a, b, sort_case);
}

int correlate_captures(struct case_model *cm, uint32_t guest, uint32_t host)
{
	int64_t offset;
	if (!estimate_offset(cm, guest, host, &offset))
		return 0;
	cm->clock_offset_ns = offset;
	cm->correlated = true;

	size_t n = 0;
	for (size_t i = 0; i < cm->requests.len; i++)
		if (cm->requests.items[i].capture == guest && cm->requests.items[i].trace >= 0)
			n++;
	int32_t *order = malloc((n ? n : 1) * sizeof *order);
	if (!order)
		return -1;
	n = 0;
	for (size_t i = 0; i < cm->requests.len; i++)
		if (cm->requests.items[i].capture == guest && cm->requests.items[i].trace >= 0)
			order[n++] = (int32_t)i;
	sort_case = cm;
	qsort(order, n, sizeof *order, compare_guest_time);

	for (size_t k = 0; k < n; k++) {
		struct request *g = &cm->requests.items[order[k]];
		int32_t best = -1;
		int best_score = -1;
		int64_t best_gap = 0;
		for (size_t j = 0; j < cm->requests.len; j++) {
			const struct request *h = &cm->requests.items[j];
			if (h->capture != host || h->counterpart >= 0 || !same_target(g, h))
				continue;
			int64_t gap = h->ts_ns - offset - g->ts_ns;
			if (gap < -OFFSET_BIN_NS || gap > MATCH_WINDOW_NS)
				continue;
			int score = copy_fit(g, h);
			int64_t abs_gap = gap < 0 ? -gap : gap;
			if (score > best_score || (score == best_score && abs_gap < best_gap)) {
				best = (int32_t)j;
				best_score = score;
				best_gap = abs_gap;
			}
		}
		if (best < 0)
			continue;
		struct request *h = &cm->requests.items[best];
		g->counterpart = best;
		h->counterpart = order[k];
		cm->correlated_requests++;
		if (g->reply >= 0 && h->reply >= 0) {
			cm->replies.items[g->reply].counterpart = h->reply;
			cm->replies.items[h->reply].counterpart = g->reply;
		}
	}
	free(order);
	return 0;
}
