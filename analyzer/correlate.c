#include <stdlib.h>
#include <string.h>

#include "analyzer/correlate.h"

/* The host copy of a probe leaves within this time of the guest's original... */
#define MATCH_WINDOW_NS ((int64_t)1000 * 1000 * 1000)
/* ...and not much before it, once the clocks are lined up. */
#define EARLY_SLACK_NS ((int64_t)20 * 1000 * 1000)
/* Clocks of a guest and its host may differ by a time zone (UTC-12 to UTC+14)
 * when one of them keeps local time in its clock: a day and a bit covers it. */
#define OFFSET_SEARCH_NS ((int64_t)26 * 3600 * 1000 * 1000 * 1000)
/* Offsets closer than this count as the same offset. */
#define OFFSET_BIN_NS ((int64_t)20 * 1000 * 1000)

enum { MAX_OFFSET_SAMPLES = 1 << 20 };

/* Host requests sorted by what survives a NAT (protocol, destination, port), then time. */
struct host_index {
	int32_t *items;
	size_t n;
	const struct request *requests;
};

static int compare_target(const struct request *x, const struct request *y)
{
	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if (x->dst.family != y->dst.family)
		return x->dst.family < y->dst.family ? -1 : 1;
	int c = memcmp(x->dst.b, y->dst.b, 16);
	if (c)
		return c;
	/* ICMP ids are rewritten by ping sockets; TCP and UDP destination ports survive a NAT. */
	if (x->proto != PROTO_ICMP && x->dport != y->dport)
		return x->dport < y->dport ? -1 : 1;
	return 0;
}

static const struct request *sort_requests;

static int compare_host(const void *a, const void *b)
{
	const struct request *x = &sort_requests[*(const int32_t *)a];
	const struct request *y = &sort_requests[*(const int32_t *)b];
	int c = compare_target(x, y);
	if (!c && x->ts_ns != y->ts_ns)
		c = x->ts_ns < y->ts_ns ? -1 : 1;
	if (!c)
		c = (x->frame > y->frame) - (x->frame < y->frame);
	return c;
}

static int build_index(struct host_index *ix, const struct case_model *cm, uint32_t host)
{
	ix->requests = cm->requests.items;
	ix->n = 0;
	for (size_t i = 0; i < cm->requests.len; i++)
		ix->n += cm->requests.items[i].capture == host && cm->requests.items[i].same_as < 0;
	ix->items = malloc((ix->n ? ix->n : 1) * sizeof *ix->items);
	if (!ix->items)
		return -1;
	size_t k = 0;
	for (size_t i = 0; i < cm->requests.len; i++)
		if (cm->requests.items[i].capture == host && cm->requests.items[i].same_as < 0)
			ix->items[k++] = (int32_t)i;
	sort_requests = cm->requests.items;
	qsort(ix->items, ix->n, sizeof *ix->items, compare_host);
	return 0;
}

/* First position whose request has g's target and a time at or after `from`. */
static size_t lower_bound(const struct host_index *ix, const struct request *g, int64_t from)
{
	size_t lo = 0, hi = ix->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct request *h = &ix->requests[ix->items[mid]];
		int c = compare_target(h, g);
		if (c < 0 || (c == 0 && h->ts_ns < from))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The same packet by what a plain router leaves alone: ports and sequence, or echo id and sequence. */
static bool same_identity(const struct request *g, const struct request *h)
{
	switch (g->proto) {
	case PROTO_TCP:
		return g->sport == h->sport && g->seq == h->seq;
	case PROTO_UDP:
		return g->sport == h->sport;
	case PROTO_ICMP:
		break;
	}
	return g->echo_id == h->echo_id && g->echo_seq == h->echo_seq;
}

static bool is_guest_probe(const struct request *q, uint32_t guest)
{
	return q->capture == guest && q->trace >= 0 && q->same_as < 0;
}

static int compare_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* The densest window of differences, its median: copies of the same probes pile up there. */
static int64_t densest_offset(int64_t *diffs, size_t n)
{
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
	return diffs[best_start + best_count / 2];
}

/*
 * Host time minus guest time. Pairs that are plainly the same packet (identity
 * kept) decide when there are any; otherwise every guest/host pair to the same
 * target votes.
 */
static bool estimate_offset(const struct case_model *cm, const struct host_index *ix, uint32_t guest,
			    int64_t *offset)
{
	int64_t *diffs = malloc(MAX_OFFSET_SAMPLES * sizeof *diffs);
	if (!diffs)
		return false;
	for (int identity_only = 1; identity_only >= 0; identity_only--) {
		size_t n = 0;
		for (size_t i = 0; i < cm->requests.len && n < MAX_OFFSET_SAMPLES; i++) {
			const struct request *g = &cm->requests.items[i];
			if (!is_guest_probe(g, guest))
				continue;
			for (size_t p = lower_bound(ix, g, g->ts_ns - OFFSET_SEARCH_NS);
			     p < ix->n && n < MAX_OFFSET_SAMPLES; p++) {
				const struct request *h = &ix->requests[ix->items[p]];
				if (compare_target(h, g) != 0 || h->ts_ns > g->ts_ns + OFFSET_SEARCH_NS)
					break;
				if (!identity_only || same_identity(g, h))
					diffs[n++] = h->ts_ns - g->ts_ns;
			}
		}
		if (n > 0) {
			*offset = densest_offset(diffs, n);
			free(diffs);
			return true;
		}
	}
	free(diffs);
	return false;
}

static void link_pair(struct case_model *cm, int32_t gi, int32_t hi)
{
	struct request *g = &cm->requests.items[gi];
	struct request *h = &cm->requests.items[hi];
	g->counterpart = hi;
	h->counterpart = gi;
	cm->correlated_requests++;
	if (g->reply >= 0 && h->reply >= 0) {
		cm->replies.items[g->reply].counterpart = h->reply;
		cm->replies.items[h->reply].counterpart = g->reply;
	}
}

/*
 * Finds the host copy of guest probe g. With identity, the nearest copy that
 * kept it; without, the earliest one not yet taken (NATs forward in order, so
 * the k-th probe's copy is the k-th copy), preferring a kept echo sequence.
 */
static int32_t find_copy(const struct host_index *ix, const struct request *g, int64_t offset,
			 bool by_identity)
{
	int32_t best = -1;
	int64_t best_gap = 0;
	int best_score = -1;
	for (size_t p = lower_bound(ix, g, g->ts_ns + offset - EARLY_SLACK_NS); p < ix->n; p++) {
		const struct request *h = &ix->requests[ix->items[p]];
		int64_t gap = h->ts_ns - offset - g->ts_ns;
		if (compare_target(h, g) != 0 || gap > MATCH_WINDOW_NS)
			break;
		if (h->counterpart >= 0)
			continue;
		if (by_identity) {
			int64_t abs_gap = gap < 0 ? -gap : gap;
			if (same_identity(g, h) && (best < 0 || abs_gap < best_gap)) {
				best = ix->items[p];
				best_gap = abs_gap;
			}
			continue;
		}
		int score = g->proto == PROTO_ICMP && g->echo_seq == h->echo_seq;
		if (score > best_score) {
			best = ix->items[p];
			best_score = score;
		}
	}
	return best;
}

static int32_t *guest_probes_in_time_order(const struct case_model *cm, uint32_t guest, size_t *count)
{
	size_t n = 0;
	for (size_t i = 0; i < cm->requests.len; i++)
		n += is_guest_probe(&cm->requests.items[i], guest);
	int32_t *order = malloc((n ? n : 1) * sizeof *order);
	if (!order)
		return NULL;
	n = 0;
	/* Requests are stored in capture order, which is time order for one capture. */
	for (size_t i = 0; i < cm->requests.len; i++)
		if (is_guest_probe(&cm->requests.items[i], guest))
			order[n++] = (int32_t)i;
	*count = n;
	return order;
}

int correlate_captures(struct case_model *cm, uint32_t guest, uint32_t host)
{
	struct host_index ix;
	if (build_index(&ix, cm, host) != 0)
		return -1;
	int64_t offset;
	if (!estimate_offset(cm, &ix, guest, &offset)) {
		free(ix.items);
		return 0;
	}
	cm->clock_offset_ns = offset;
	cm->correlated = true;

	size_t n;
	int32_t *order = guest_probes_in_time_order(cm, guest, &n);
	bool *trace_has_identity = calloc(cm->traces.len + 1, sizeof *trace_has_identity);
	if (!order || !trace_has_identity) {
		free(order);
		free(trace_has_identity);
		free(ix.items);
		return -1;
	}
	/* First the copies that kept their identity (a router, a kernel NAT)... */
	for (size_t k = 0; k < n; k++) {
		const struct request *g = &cm->requests.items[order[k]];
		int32_t h = find_copy(&ix, g, offset, true);
		if (h >= 0) {
			link_pair(cm, order[k], h);
			trace_has_identity[g->trace] = true;
		}
	}
	/* ...then, for traces where none did (a NAT that re-originates), by order and time. */
	for (size_t k = 0; k < n; k++) {
		const struct request *g = &cm->requests.items[order[k]];
		if (g->counterpart >= 0 || trace_has_identity[g->trace])
			continue;
		int32_t h = find_copy(&ix, g, offset, false);
		if (h >= 0)
			link_pair(cm, order[k], h);
	}
	free(trace_has_identity);
	free(order);
	free(ix.items);
	return 0;
}
