#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/clock_offset.h"
#include "analyzer/copy_keys.h"
#include "analyzer/copy_pairs.h"
#include "analyzer/correlate.h"
#include "analyzer/order_match.h"

/* The host copy of a probe leaves within this time of the guest's original... */
#define MATCH_WINDOW_NS ((int64_t)1000 * 1000 * 1000)
/* ...and not much before it, once the clocks are lined up. */
#define EARLY_SLACK_NS ((int64_t)20 * 1000 * 1000)
/* A curve that changes no more than this over the probes is one offset: no pairing again along it. */
#define FLAT_NS ((int64_t)1000 * 1000)
/*
 * A real clock offset is usually small (NTP keeps most clocks within
 * milliseconds): of two candidates the evidence rates alike, the one nearer
 * zero. Each tenfold of the offset beyond a second costs this much, in pairs
 * of copies: an hour away about one pair that fits well, a day 1.4.
 */
#define FAR_OFFSET_COST 0.28

enum {
	/* Offsets tried when only the times can tell, and how often the best is refitted to drift. */
	TIMING_CANDIDATES = 8,
	REFITS = 3,
};

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

struct pairs {
	struct copy_pair *items;
	size_t n, cap;
};

static int add_pair(struct pairs *p, int32_t guest, int32_t host)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 256;
		struct copy_pair *items = realloc(p->items, cap * sizeof *items);
		if (!items)
			return -1;
		p->items = items;
		p->cap = cap;
	}
	p->items[p->n++] = (struct copy_pair){ 0, guest, host };
	return 0;
}

/*
 * Pairs by a field the NAT kept, when it names one packet on each side: the
 * only host request with the probe's value near the time the curve gives it,
 * of which the probe is the only guest one. A field shared by several probes
 * (a fixed source port) pairs nothing; the order does (below).
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
			int64_t expected = copy_time_add(g->ts_ns, clock_curve_at(&e->curve, g->ts_ns));
			size_t at;
			if (count_up_to_two(hk, g, copy_time_add(expected, -EARLY_SLACK_NS),
					    copy_time_add(expected, MATCH_WINDOW_NS), &at) != 1)
				continue;
			const struct copy_entry *h = &hk->items[at];
			if (cm->requests.items[h->request].counterpart >= 0)
				continue;
			int64_t sent = clock_curve_guest_time(&e->curve, h->ts_ns);
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
 * around the curve (order_match.h), into out. Traces that kept a field are
 * left alone: a probe of theirs without a copy expired at the NAT, and the
 * order must not fill its place.
 */
static int pair_in_order(const struct case_model *cm, const struct copy_keys *gk, const struct copy_keys *hk,
			 const struct clock_curve *curve, const bool *trace_has_identity, struct pairs *out)
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
			if (q->counterpart < 0 && !(trace_has_identity && trace_has_identity[q->trace])) {
				/* Where the copy is due: in time order still, the curve being far less steep than time. */
				int64_t t = gk->items[p].ts_ns;
				g_ts[n] = copy_time_add(t, clock_curve_at(curve, t));
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
		rc = order_match(g_ts, n, h_ts, m, 0, EARLY_SLACK_NS, MATCH_WINDOW_NS, match);
		for (size_t i = 0; i < n && rc == 0; i++)
			if (match[i] >= 0)
				rc = add_pair(out, g_req[i], h_req[match[i]]);
	}
	free(g_ts);
	free(g_req);
	free(match);
	free(h_ts);
	free(h_req);
	return rc;
}

/* The straight line of the pairs' delays over time (clock_curve_fit_line); -1 when out of memory. */
static int fit_pairs(const struct case_model *cm, const struct pairs *p, struct clock_curve *c)
{
	struct clock_point *points = malloc((p->n ? p->n : 1) * sizeof *points);
	if (!points) {
		*c = clock_curve_constant(0);
		return -1;
	}
	for (size_t i = 0; i < p->n; i++) {
		const struct request *g = &cm->requests.items[p->items[i].guest];
		const struct request *h = &cm->requests.items[p->items[i].host];
		/* Both within a day and a bit of each other (the votes' search): no overflow. */
		points[i] = (struct clock_point){ clock_point_key(g->ts_ns), h->ts_ns - g->ts_ns };
	}
	int rc = clock_curve_fit_line(c, points, p->n);
	free(points);
	return rc;
}

/* The earliest guest probe's time (where the offset reported is taken), or the latest's. */
static int64_t probe_time(const struct copy_keys *gk, bool latest)
{
	size_t first, end;
	copy_keys_kind(gk, KEY_TARGET, &first, &end);
	int64_t t = latest ? INT64_MIN : INT64_MAX;
	for (size_t p = first; p < end; p++)
		t = (gk->items[p].ts_ns < t) != latest ? gk->items[p].ts_ns : t;
	return first < end ? t : 0;
}

/* The guest's first probe of a trace, also one that had no copy to pair (README: the offset stored). */
static int64_t first_probe_time(const struct case_model *cm, uint32_t guest)
{
	int64_t t = INT64_MAX;
	for (size_t i = 0; i < cm->requests.len; i++) {
		const struct request *q = &cm->requests.items[i];
		if (q->capture == guest && q->trace >= 0 && q->same_as < 0 && q->ts_ns < t)
			t = q->ts_ns;
	}
	return t == INT64_MAX ? 0 : t;
}

/*
 * A pair no copy can make: the probe expired at TTL 1 (a time exceeded answered it),
 * at the guest's first hop, the host, so nothing of it left, and the host request is
 * not the probe itself seen arriving. Lining the probes up one traceroute round late
 * pairs exactly these.
 */
static bool impossible_pair(const struct case_model *cm, const struct copy_pair *p)
{
	const struct request *g = &cm->requests.items[p->guest], *h = &cm->requests.items[p->host];
	bool expired = g->ttl == 1 && g->reply >= 0 && cm->replies.items[g->reply].kind == REPLY_TIME_EXCEEDED;
	return expired && !(h->ttl == g->ttl && ip_addr_equal(&h->src, &g->src));
}

/*
 * What the evidence says of pairs found by the times alone: nothing when
 * their TTLs are no NAT's (another tool's trace to the same place); else how
 * well they keep the probes' spacing, less what the impossible pairs among
 * them cost and the cost of an offset far from zero. Sets *score, or
 * -HUGE_VAL for nothing; -1 when out of memory.
 */
static int rate_pairs(const struct case_model *cm, const struct copy_keys *gk, struct pairs *p, double *score)
{
	*score = -HUGE_VAL;
	if (p->n == 0)
		return 0;
	size_t impossible = 0;
	for (size_t i = 0; i < p->n; i++)
		impossible += impossible_pair(cm, &p->items[i]);
	int plausible = copy_pairs_plausible(cm, p->items, p->n);
	if (plausible <= 0)
		return plausible;
	double fit;
	struct clock_curve c;
	if (copy_pairs_fit(cm, p->items, p->n, &fit) != 0 || fit_pairs(cm, p, &c) != 0)
		return -1;
	double far = fabs((double)clock_curve_at(&c, probe_time(gk, false))) / 1e9;
	clock_curve_free(&c);
	/* Each impossible pair takes back what it added to the fit, and as much again. */
	*score = fit - 2.0 * (double)impossible - (far > 1 ? FAR_OFFSET_COST * log10(far) : 0);
	return 0;
}

/*
 * When no field was kept: the candidate offsets of the times' votes, each
 * paired in order around it and rated (rate_pairs). The best is fitted to a
 * line and, when the clocks drift, paired along it again (moved to the
 * earliest of the alignments that fit alike, clock_offset_along) while that
 * finds more copies, or as many that keep the probes' timing no worse, so a
 * drift larger than the window around one offset is followed. Leaves the pairs in *best and their line in *curve; -1 when out
 * of memory.
 */
static int pair_by_times(const struct case_model *cm, const struct copy_keys *gk, const struct copy_keys *hk,
			 struct pairs *best, struct clock_curve *curve)
{
	*curve = clock_curve_constant(0);
	int64_t offsets[TIMING_CANDIDATES];
	int found = clock_offset_candidates(gk, hk, offsets, TIMING_CANDIDATES);
	if (found < 0)
		return -1;
	double best_score = -HUGE_VAL;
	int64_t first = probe_time(gk, false), last = probe_time(gk, true);
	struct pairs tried = { NULL, 0, 0 };
	int rc = 0;
	for (int i = 0; i < found && rc == 0; i++) {
		struct clock_curve at = clock_curve_constant(offsets[i]);
		double score;
		tried.n = 0;
		rc = pair_in_order(cm, gk, hk, &at, NULL, &tried);
		if (rc == 0)
			rc = rate_pairs(cm, gk, &tried, &score);
		if (rc == 0 && score > best_score) {
			struct pairs t = *best;
			*best = tried;
			tried = t;
			best_score = score;
		}
	}
	for (int refit = 0; rc == 0 && best->n > 0 && refit < REFITS; refit++) {
		struct clock_curve line;
		rc = fit_pairs(cm, best, &line);
		int64_t shift = 0;
		bool drifts = rc == 0 && clock_curve_change(&line, first, last) > FLAT_NS;
		if (drifts)
			rc = clock_offset_along(gk, hk, &line, &shift);
		if (rc == 0 && drifts) {
			clock_curve_shift(&line, shift);
			tried.n = 0;
			rc = pair_in_order(cm, gk, hk, &line, NULL, &tried);
		}
		clock_curve_free(&line);
		if (rc != 0 || !drifts)
			break;
		/* More copies, or as many keeping the probes' timing as well (the earlier of
		 * alignments that fit alike): a jittery NAT's spurious slope changes nothing. */
		bool take = tried.n > best->n;
		if (tried.n == best->n) {
			double fit_best, fit_tried;
			rc = copy_pairs_fit(cm, best->items, best->n, &fit_best) == 0 &&
					     copy_pairs_fit(cm, tried.items, tried.n, &fit_tried) == 0
				     ? 0
				     : -1;
			take = rc == 0 && fit_tried >= fit_best;
		}
		if (!take)
			break;
		struct pairs t = *best;
		*best = tried;
		tried = t;
	}
	if (rc == 0 && best->n > 0)
		rc = fit_pairs(cm, best, curve);
	free(tried.items);
	return rc;
}

/* One pairing of the guest's probes with the host's requests, those left_out marks aside. */
static int correlate_once(struct case_model *cm, uint32_t guest, uint32_t host, const bool *left_out)
{
	struct copy_keys gk, hk;
	if (copy_keys_build(cm, guest, host, left_out, &gk, &hk) != 0)
		return -1;
	struct clock_estimate e;
	struct pairs by_times = { NULL, 0, 0 };
	int found = clock_offset_by_identity(cm, &gk, &hk, &e);
	int rc = found < 0 ? -1 : 0;
	if (found > 0) {
		bool *trace_has_identity = calloc(cm->traces.len + 1, sizeof *trace_has_identity);
		rc = trace_has_identity ? 0 : -1;
		if (rc == 0) {
			match_by_identity(cm, &gk, &hk, &e, trace_has_identity);
			rc = pair_in_order(cm, &gk, &hk, &e.curve, trace_has_identity, &by_times);
		}
		free(trace_has_identity);
	} else if (found == 0) {
		rc = pair_by_times(cm, &gk, &hk, &by_times, &e.curve);
	}
	for (size_t i = 0; rc == 0 && i < by_times.n; i++)
		link_pair(cm, by_times.items[i].guest, by_times.items[i].host);
	if (rc == 0 && (found > 0 || by_times.n > 0)) {
		cm->clock_offset_ns = clock_curve_at(&e.curve, first_probe_time(cm, guest));
		cm->correlated = true;
	}
	clock_curve_free(&e.curve);
	free(by_times.items);
	copy_keys_free(&gk);
	copy_keys_free(&hk);
	return rc;
}

/* Undoes every pairing of the two captures, for another try. */
static void unlink_all(struct case_model *cm, uint32_t guest, uint32_t host)
{
	for (size_t i = 0; i < cm->requests.len; i++) {
		struct request *q = &cm->requests.items[i];
		if (q->capture == guest || q->capture == host)
			q->counterpart = -1;
	}
	for (size_t i = 0; i < cm->replies.len; i++) {
		struct reply *r = &cm->replies.items[i];
		if (r->capture == guest || r->capture == host)
			r->counterpart = -1;
	}
	cm->correlated_requests = 0;
	cm->correlated = false;
	cm->clock_offset_ns = 0;
}

/*
 * Whether h is the guest's packet g itself as it arrived at the host: what a
 * NAT or router changes on the way out (the TTL, the source address and port,
 * the IPv4 ID, the echo identifier) all still the guest's. A copy that kept
 * the TTL but left from another address is a copy.
 */
static bool is_arrival_of(const struct request *g, const struct request *h)
{
	if (g->proto != h->proto || g->ttl != h->ttl || g->ip_id != h->ip_id || !ip_addr_equal(&g->src, &h->src) ||
	    !ip_addr_equal(&g->dst, &h->dst))
		return false;
	if (g->proto == PROTO_ICMP)
		return g->echo_id == h->echo_id && g->echo_seq == h->echo_seq;
	return g->sport == h->sport && g->dport == h->dport && (g->proto != PROTO_TCP || g->seq == h->seq);
}

/*
 * Host requests that are arrivals (a guest's packet as it reached the host,
 * is_arrival_of), marked in left_out: every request from an address the
 * guest's probes came from, of the probes and of whatever else the guest sent
 * (the ping it runs beside an ICMP trace is no copy of the probes; a NAT's
 * copies leave from the host's own address). How many of the first pairing's
 * pairs took an arrival go in *arrivals (nothing is marked when none did),
 * how many pairs there were in *pairs; -1 when out of memory.
 */
static int mark_arrivals(const struct case_model *cm, uint32_t guest, uint32_t host, bool *left_out,
			 size_t *arrivals, size_t *pairs)
{
	const struct request *rq = cm->requests.items;
	size_t n = 0;
	*arrivals = *pairs = 0;
	for (size_t i = 0; i < cm->requests.len; i++) {
		n += rq[i].capture == guest && rq[i].trace >= 0;
		if (rq[i].capture != host || rq[i].counterpart < 0)
			continue;
		(*pairs)++;
		if (is_arrival_of(&rq[rq[i].counterpart], &rq[i]))
			(*arrivals)++;
	}
	if (*arrivals == 0)
		return 0;
	struct ip_addr *sources = malloc((n ? n : 1) * sizeof *sources);
	if (!sources)
		return -1;
	n = 0;
	for (size_t i = 0; i < cm->requests.len; i++)
		if (rq[i].capture == guest && rq[i].trace >= 0)
			sources[n++] = rq[i].src;
	qsort(sources, n, sizeof *sources, ip_addr_compare_items);
	for (size_t i = 0; i < cm->requests.len; i++)
		left_out[i] = rq[i].capture == host && bsearch(&rq[i].src, sources, n, sizeof *sources, ip_addr_compare_items);
	free(sources);
	return 0;
}

/*
 * tcpdump -i any on a host with the VM's interface (vmnet8, a bridge) holds each
 * probe twice: as it arrived, the guest's very packet, and as it left. The
 * duplicates filter makes them one where the NAT kept the fields; where it
 * re-originated them (new ports, IDs), the arrival wins every comparison of
 * fields and times, and the copy that shows what left the host goes unpaired.
 * So when the first pairing took arrivals, the capture is paired once more
 * without them, nor any other packet the guest sent as it arrived (a ping
 * beside an ICMP trace, TTL 64 at the guest's pace, passed for copies
 * re-originated with TTL 64), and that is kept if it pairs at least half as
 * many probes: then the capture shows the way out. Else (a capture on the
 * VM's side only) the first pairing stands, and the diagnosis says what it is.
 */
int correlate_captures(struct case_model *cm, uint32_t guest, uint32_t host)
{
	if (correlate_once(cm, guest, host, NULL) != 0)
		return -1;
	bool *left_out = calloc(cm->requests.len + 1, sizeof *left_out);
	if (!left_out)
		return -1;
	size_t arrivals, pairs;
	int rc = mark_arrivals(cm, guest, host, left_out, &arrivals, &pairs);
	if (rc == 0 && arrivals > 0) {
		unlink_all(cm, guest, host);
		rc = correlate_once(cm, guest, host, left_out);
		size_t departures = 0;
		for (size_t i = 0; rc == 0 && i < cm->requests.len; i++)
			departures += cm->requests.items[i].capture == host && cm->requests.items[i].counterpart >= 0;
		if (rc == 0 && 2 * departures < pairs) {
			unlink_all(cm, guest, host);
			rc = correlate_once(cm, guest, host, NULL);
		}
	}
	free(left_out);
	return rc;
}
