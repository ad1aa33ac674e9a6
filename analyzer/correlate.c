#include <stdlib.h>
#include <string.h>

#include "analyzer/clock_offset.h"
#include "analyzer/copy_keys.h"
#include "analyzer/correlate.h"
#include "analyzer/order_match.h"

/* The host copy of a probe leaves within this time of the guest's original... */
#define MATCH_WINDOW_NS ((int64_t)1000 * 1000 * 1000)
/* ...and not much before it, once the clocks are lined up. */
#define EARLY_SLACK_NS ((int64_t)20 * 1000 * 1000)

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

/* How many entries of k share e's key and fall in [from, to]; 2 means "more than one". */
static size_t count_up_to_two(const struct copy_keys *k, const struct copy_entry *e, int64_t from, int64_t to,
			      size_t *first)
{
	size_t end;
	copy_keys_range(k, e->group, from, to, first, &end);
	return end - *first > 2 ? 2 : end - *first;
}

/*
 * Pairs by a field the NAT kept, when it names one packet on each side: the
 * only host request with the probe's value near its time, of which the probe
 * is the only guest one. A field shared by several probes (a fixed source
 * port) pairs nothing; the order does (below).
 */
static void match_by_identity(struct case_model *cm, const struct copy_keys *gk, const struct copy_keys *hk,
			      const struct clock_estimate *e, bool *trace_has_identity)
{
	for (int kind = KEY_TARGET + 1; kind < KEY_COUNT; kind++) {
		if (!e->kept[kind])
			continue;
		size_t first, end;
		copy_keys_kind(gk, (enum copy_key)kind, &first, &end);
		for (size_t p = first; p < end; p++) {
			const struct copy_entry *g = &gk->items[p];
			if (cm->requests.items[g->request].counterpart >= 0)
				continue;
			int64_t expected = copy_time_add(g->ts_ns, e->offset_ns);
			size_t at;
			if (count_up_to_two(hk, g, copy_time_add(expected, -EARLY_SLACK_NS),
					    copy_time_add(expected, MATCH_WINDOW_NS), &at) != 1)
				continue;
			const struct copy_entry *h = &hk->items[at];
			if (cm->requests.items[h->request].counterpart >= 0)
				continue;
			int64_t sent = copy_time_add(h->ts_ns, -e->offset_ns);
			size_t mine;
			if (count_up_to_two(gk, h, copy_time_add(sent, -MATCH_WINDOW_NS),
					    copy_time_add(sent, EARLY_SLACK_NS), &mine) != 1)
				continue;
			link_pair(cm, g->request, h->request);
			trace_has_identity[cm->requests.items[g->request].trace] = true;
		}
	}
}

/*
 * The probes of traces no field paired, target by target, by time and order
 * (order_match.h). Traces that kept a field are left alone: a probe of theirs
 * without a copy expired at the NAT, and the order must not fill its place.
 */
static int match_in_order(struct case_model *cm, const struct copy_keys *gk, const struct copy_keys *hk,
			  int64_t offset, const bool *trace_has_identity)
{
	size_t gf, ge, hf, he;
	copy_keys_kind(gk, KEY_TARGET, &gf, &ge);
	copy_keys_kind(hk, KEY_TARGET, &hf, &he);
	size_t ng = ge - gf, nh = he - hf;
	int64_t *g_ts = malloc((ng ? ng : 1) * sizeof *g_ts);
	int32_t *g_req = malloc((ng ? ng : 1) * sizeof *g_req);
	int32_t *match = malloc((ng ? ng : 1) * sizeof *match);
	int64_t *h_ts = malloc((nh ? nh : 1) * sizeof *h_ts);
	int32_t *h_req = malloc((nh ? nh : 1) * sizeof *h_req);
	int rc = g_ts && g_req && match && h_ts && h_req ? 0 : -1;
	for (size_t p = gf; p < ge && rc == 0;) {
		uint64_t target = gk->items[p].group;
		size_t n = 0, m = 0;
		for (; p < ge && gk->items[p].group == target; p++) {
			const struct request *q = &cm->requests.items[gk->items[p].request];
			if (q->counterpart < 0 && !trace_has_identity[q->trace]) {
				g_ts[n] = gk->items[p].ts_ns;
				g_req[n++] = gk->items[p].request;
			}
		}
		for (size_t k = copy_keys_lower_bound(hk, target, INT64_MIN);
		     k < he && hk->items[k].group == target; k++)
			if (cm->requests.items[hk->items[k].request].counterpart < 0) {
				h_ts[m] = hk->items[k].ts_ns;
				h_req[m++] = hk->items[k].request;
			}
		if (n == 0 || m == 0)
			continue;
		rc = order_match(g_ts, n, h_ts, m, offset, EARLY_SLACK_NS, MATCH_WINDOW_NS, match);
		for (size_t i = 0; i < n && rc == 0; i++)
			if (match[i] >= 0)
				link_pair(cm, g_req[i], h_req[match[i]]);
	}
	free(g_ts);
	free(g_req);
	free(match);
	free(h_ts);
	free(h_req);
	return rc;
}

int correlate_captures(struct case_model *cm, uint32_t guest, uint32_t host)
{
	struct copy_keys gk, hk;
	if (copy_keys_build(cm, guest, host, &gk, &hk) != 0)
		return -1;
	struct clock_estimate e;
	int found = clock_offset_estimate(&gk, &hk, &e);
	bool *trace_has_identity = found > 0 ? calloc(cm->traces.len + 1, sizeof *trace_has_identity) : NULL;
	int rc = found < 0 || (found > 0 && !trace_has_identity) ? -1 : 0;
	if (rc == 0 && found > 0) {
		cm->clock_offset_ns = e.offset_ns;
		cm->correlated = true;
		match_by_identity(cm, &gk, &hk, &e, trace_has_identity);
		rc = match_in_order(cm, &gk, &hk, e.offset_ns, trace_has_identity);
	}
	free(trace_has_identity);
	copy_keys_free(&gk);
	copy_keys_free(&hk);
	return rc;
}
