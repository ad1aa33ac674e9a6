#include <stdlib.h>

#include "analyzer/clock_offset.h"
#include "analyzer/copy_pairs.h"
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
	/* Piles of identity votes tried before the times alone are: the densest first. */
	IDENTITY_TRIES = 4,
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

/* Votes for host requests [first, end): their offsets, or with a curve how far off it they are when near. */
static int vote_range(struct votes *s, const struct copy_keys *host, const struct copy_entry *g, size_t first,
		      size_t end, const struct clock_curve *curve)
{
	int64_t at = curve ? clock_curve_at(curve, g->ts_ns) : 0;
	for (size_t q = first; q < end; q++) {
		int64_t v = host->items[q].ts_ns - g->ts_ns;
		if (curve) {
			/* Both within OFFSET_SEARCH_NS, the curve as the offsets it was fitted to. */
			if (v < at - OFFSET_BIN_NS || v > at + OFFSET_BIN_NS)
				continue;
			v -= at;
		}
		if (vote(s, v) != 0)
			return -1;
	}
	return 0;
}

static size_t clamp(size_t v, size_t lo, size_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Votes of the times alone: every guest probe for the host requests to its target. */
static int timing_votes(const struct copy_keys *guest, const struct copy_keys *host, const struct clock_curve *curve,
			struct votes *s)
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
			if (vote_range(s, host, g, hf, he, curve) != 0)
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
		if (vote_range(s, host, g, a0, a1, curve) != 0 || vote_range(s, host, g, b0, b1, curve) != 0)
			return -1;
	}
	return 0;
}


/* How long the guest's probes went on: over it the clocks may drift apart by MAX_DRIFT_PPM. */
static int64_t probes_span(const struct copy_keys *guest)
{
	size_t first, end;
	copy_keys_kind(guest, KEY_TARGET, &first, &end);
	int64_t lo = INT64_MAX, hi = INT64_MIN;
	for (size_t p = first; p < end; p++) {
		lo = guest->items[p].ts_ns < lo ? guest->items[p].ts_ns : lo;
		hi = guest->items[p].ts_ns > hi ? guest->items[p].ts_ns : hi;
	}
	if (first == end)
		return 0;
	return (uint64_t)hi - (uint64_t)lo < (uint64_t)OFFSET_SEARCH_NS ? hi - lo : OFFSET_SEARCH_NS;
}

/*
 * The densest window as wide as the clocks can drift apart over the probes
 * (a run lined up right gathers its votes there, however they drift), within
 * it the densest OFFSET_BIN_NS and within that the densest OFFSET_FINE_NS;
 * again and again, each time without the votes near the candidates taken.
 * Drift spreads the votes of the right alignment over more than those of
 * rounds of probes lined up one round off, so the fine windows alone would
 * pick one of those.
 */
int clock_offset_candidates(const struct copy_keys *guest, const struct copy_keys *host, int64_t *out,
			    size_t max)
{
	struct votes s = { NULL, 0, 0 };
	if (timing_votes(guest, host, NULL, &s) != 0 || radix_sort_i64(s.v, s.n) != 0) {
		free(s.v);
		return -1;
	}
	int64_t wide = OFFSET_BIN_NS + clock_max_drift(probes_span(guest));
	size_t found = 0;
	while (found < max && s.n > 0) {
		/* Ties go to the smaller offset: when the first probes of each trace never
		 * reached the host, lining the others up one or more probes early fits as
		 * many pairs, with a delay larger by the probes' spacing. */
		size_t first, count, bin_first, bin_count, fine_first, fine_count;
		densest(s.v, s.n, wide, &first, &count);
		densest(s.v + first, count, OFFSET_BIN_NS, &bin_first, &bin_count);
		first += bin_first;
		densest(s.v + first, bin_count, OFFSET_FINE_NS, &fine_first, &fine_count);
		int64_t c = s.v[first + fine_first + fine_count / 2];
		out[found++] = c;
		size_t lo = first, hi = first + bin_count;
		while (lo > 0 && s.v[lo - 1] >= c - CANDIDATE_SEPARATION_NS)
			lo--;
		while (hi < s.n && s.v[hi] <= c + CANDIDATE_SEPARATION_NS)
			hi++;
		for (size_t i = hi; i < s.n; i++)
			s.v[lo + i - hi] = s.v[i];
		s.n -= hi - lo;
	}
	free(s.v);
	return (int)found;
}

int clock_offset_along(const struct copy_keys *guest, const struct copy_keys *host, const struct clock_curve *curve,
		       int64_t *shift)
{
	struct votes s = { NULL, 0, 0 };
	if (timing_votes(guest, host, curve, &s) != 0 || radix_sort_i64(s.v, s.n) != 0) {
		free(s.v);
		return -1;
	}
	size_t first, count;
	densest(s.v, s.n, OFFSET_FINE_NS, &first, &count);
	*shift = s.n ? s.v[first + count / 2] : 0;
	free(s.v);
	return 0;
}

/* One guest probe's vote for one host request with the same value of a field. */
struct identity_vote {
	uint64_t key; /* the offset, as clock_point_key() makes it sortable */
	int64_t t;    /* the probe's time */
	int32_t guest, host;
	int32_t kind;
	bool inlier; /* on the curve */
	bool alone;  /* ...and the probe's only vote there of its kind: it names one copy */
};

struct identity_votes {
	struct identity_vote *v;
	size_t n, cap;
	size_t voters[KEY_COUNT]; /* probes that found their value again, by kind */
};

static int64_t vote_offset(const struct identity_vote *v)
{
	return clock_point_time(v->key);
}

static int add_identity_vote(struct identity_votes *s, const struct copy_entry *g, const struct copy_entry *h,
			     int kind)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 1024;
		struct identity_vote *v = realloc(s->v, cap * sizeof *v);
		if (!v)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	/* Both within OFFSET_SEARCH_NS of each other: no overflow. */
	s->v[s->n++] = (struct identity_vote){ clock_point_key(h->ts_ns - g->ts_ns), g->ts_ns, g->request,
					       h->request, kind, false, false };
	return 0;
}

/* Every kind's votes: each guest probe for the few host requests to its target with its value of the field. */
static int identity_votes(const struct copy_keys *guest, const struct copy_keys *host, struct identity_votes *s)
{
	for (int kind = KEY_TARGET + 1; kind < KEY_COUNT; kind++) {
		size_t first, end;
		copy_keys_kind(guest, (enum copy_key)kind, &first, &end);
		for (size_t p = first; p < end; p++) {
			const struct copy_entry *g = &guest->items[p];
			size_t hf, he;
			copy_keys_range(host, g->group, copy_time_add(g->ts_ns, -OFFSET_SEARCH_NS),
					copy_time_add(g->ts_ns, OFFSET_SEARCH_NS), &hf, &he);
			if (he == hf || he - hf > IDENTITY_CANDIDATES)
				continue;
			s->voters[kind]++;
			for (size_t q = hf; q < he; q++)
				if (add_identity_vote(s, g, &host->items[q], kind) != 0)
					return -1;
		}
	}
	return radix_sort_by_key(s->v, s->n, sizeof *s->v);
}

/* The first of the fullest windows of `width` over the votes (sorted by offset). */
static void densest_votes(const struct identity_vote *v, size_t n, int64_t width, size_t *first, size_t *count)
{
	size_t start = 0;
	*first = *count = 0;
	for (size_t end = 0; end < n; end++) {
		while (vote_offset(&v[end]) - vote_offset(&v[start]) > width)
			start++;
		if (end - start + 1 > *count) {
			*count = end - start + 1;
			*first = start;
		}
	}
}

/*
 * Fits the curve to the votes of v[0..n): all of them, the inliers, or with
 * `kinds` those alone on the curve of a kind it names. -1 when out of memory.
 */
static bool fitted(const struct identity_vote *v, bool all, const bool *kinds)
{
	return kinds ? v->alone && kinds[v->kind] : all || v->inlier;
}

static int fit_votes(const struct identity_vote *v, size_t n, bool all, const bool *kinds,
		     struct clock_curve *c)
{
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		m += fitted(&v[i], all, kinds);
	struct clock_point *p = malloc((m ? m : 1) * sizeof *p);
	if (!p) {
		*c = clock_curve_constant(0);
		return -1;
	}
	m = 0;
	for (size_t i = 0; i < n; i++)
		if (fitted(&v[i], all, kinds))
			p[m++] = (struct clock_point){ clock_point_key(v[i].t), vote_offset(&v[i]) };
	int rc = clock_curve_fit(c, p, m);
	free(p);
	return rc;
}

/* Marks the votes within OFFSET_BIN_NS of the curve. */
static void mark_inliers(struct identity_vote *v, size_t n, const struct clock_curve *c)
{
	for (size_t i = 0; i < n; i++) {
		int64_t off = clock_curve_at(c, v[i].t);
		int64_t d = vote_offset(&v[i]);
		v[i].inlier = (d > off ? (uint64_t)d - (uint64_t)off : (uint64_t)off - (uint64_t)d) <=
			      (uint64_t)OFFSET_BIN_NS;
	}
}

/*
 * Which kinds the cluster v[0..n) shows kept: most of the probes that found
 * the value again found it once on the curve (one pair alone may be chance:
 * 16-bit fields repeat; a value every probe shares, as tcptraceroute's
 * sequence number, is found on the curve again and again, a probe's spacing
 * apart, and names nothing), with TTLs a NAT gives its copies. `seen` and
 * `only` are scratch with one entry per request, `seen` never holding
 * `stamp` or above before the call.
 */
static int judge_kinds(const struct case_model *cm, const struct identity_votes *s, struct identity_vote *v,
		       size_t n, int32_t *seen, int32_t *only, int32_t stamp, bool *kept)
{
	struct copy_pair *pairs = malloc((n ? n : 1) * sizeof *pairs);
	if (!pairs)
		return -1;
	bool any = false;
	for (int kind = KEY_TARGET + 1; kind < KEY_COUNT; kind++) {
		for (size_t i = 0; i < n; i++) {
			if (v[i].kind != kind || !v[i].inlier)
				continue;
			int32_t g = v[i].guest;
			only[g] = seen[g] == stamp + kind ? -1 : (int32_t)i;
			seen[g] = stamp + kind;
		}
		size_t support = 0;
		for (size_t i = 0; i < n; i++) {
			v[i].alone = v[i].kind == kind ? v[i].inlier && only[v[i].guest] == (int32_t)i : v[i].alone;
			if (v[i].kind == kind && v[i].alone)
				pairs[support++] = (struct copy_pair){ 0, v[i].guest, v[i].host };
		}
		kept[kind] = false;
		if (support < 2 || 2 * support < s->voters[kind])
			continue;
		int plausible = copy_pairs_plausible(cm, pairs, support);
		if (plausible < 0) {
			free(pairs);
			return -1;
		}
		kept[kind] = plausible > 0;
		any = any || kept[kind];
	}
	kept[KEY_TARGET] = false;
	free(pairs);
	return any;
}

int clock_offset_by_identity(const struct case_model *cm, const struct copy_keys *guest,
			     const struct copy_keys *host, struct clock_estimate *e)
{
	e->curve = clock_curve_constant(0);
	for (int kind = 0; kind < KEY_COUNT; kind++)
		e->kept[kind] = false;
	struct identity_votes s = { NULL, 0, 0, { 0 } };
	int32_t *seen = NULL, *only = NULL;
	int rc = identity_votes(guest, host, &s) == 0 ? 0 : -1;
	if (rc == 0 && s.n > 0) {
		seen = malloc(cm->requests.len * sizeof *seen);
		only = malloc(cm->requests.len * sizeof *only);
		rc = seen && only ? 0 : -1;
		for (size_t i = 0; rc == 0 && i < cm->requests.len; i++)
			seen[i] = -1;
	}
	/* The clocks may drift apart by MAX_DRIFT_PPM over the probes' span. */
	int64_t t_min = INT64_MAX, t_max = INT64_MIN;
	for (size_t i = 0; i < s.n; i++) {
		t_min = s.v[i].t < t_min ? s.v[i].t : t_min;
		t_max = s.v[i].t > t_max ? s.v[i].t : t_max;
	}
	int64_t span = s.n && (uint64_t)t_max - (uint64_t)t_min <= INT64_MAX ? t_max - t_min : OFFSET_SEARCH_NS;
	int64_t width = OFFSET_BIN_NS + clock_max_drift(span < OFFSET_SEARCH_NS ? span : OFFSET_SEARCH_NS);
	for (int attempt = 0; rc == 0 && attempt < IDENTITY_TRIES && s.n > 0; attempt++) {
		size_t first, count;
		densest_votes(s.v, s.n, width, &first, &count);
		struct identity_vote *cluster = s.v + first;
		struct clock_curve c;
		/* Fitted to the cluster, then again to the votes on it: chance values go. */
		if (fit_votes(cluster, count, true, NULL, &c) != 0)
			rc = -1;
		if (rc == 0) {
			mark_inliers(cluster, count, &c);
			clock_curve_free(&c);
			if (fit_votes(cluster, count, false, NULL, &c) != 0)
				rc = -1;
		}
		if (rc == 0) {
			mark_inliers(cluster, count, &c);
			clock_curve_free(&c);
			int any = judge_kinds(cm, &s, cluster, count, seen, only, attempt * KEY_COUNT, e->kept);
			if (any < 0)
				rc = -1;
			else if (any > 0) {
				rc = fit_votes(cluster, count, false, e->kept, &e->curve) == 0 ? 1 : -1;
				break;
			}
		}
		/* Another run's copies (the host's own traceroute): pass over them, and their neighbours. */
		int64_t lo_off = vote_offset(&cluster[0]), hi_off = vote_offset(&cluster[count - 1]);
		size_t lo = first, hi = first + count;
		while (lo > 0 && vote_offset(&s.v[lo - 1]) >= lo_off - CANDIDATE_SEPARATION_NS)
			lo--;
		while (hi < s.n && vote_offset(&s.v[hi]) <= hi_off + CANDIDATE_SEPARATION_NS)
			hi++;
		for (size_t i = hi; i < s.n; i++)
			s.v[lo + i - hi] = s.v[i];
		s.n -= hi - lo;
	}
	free(seen);
	free(only);
	free(s.v);
	if (rc < 0) {
		clock_curve_free(&e->curve);
		return -1;
	}
	if (rc == 0)
		for (int kind = 0; kind < KEY_COUNT; kind++)
			e->kept[kind] = false;
	return rc;
}
