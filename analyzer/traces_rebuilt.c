/*
 * Traces rebuilt from answers whose probes are not in the capture: the
 * capture started late, a filter kept only ICMP, or it was taken where only
 * the answers pass. Each ICMP error quotes its probe, so source, destination,
 * protocol and port are known; the TTL the probe was sent with is not, and is
 * estimated from how far the answer travelled (its TTL below the nearest usual
 * initial TTL) plus, for an answer from the destination, how much TTL the
 * probe still had when it arrived (the quoted TTL). An estimate must be one a
 * path trace can give: when the answers' TTLs say nothing credible, the
 * routers are numbered in the order they answered (path traces probe TTL by
 * TTL), and a destination whose answers do not tell its TTL is drawn right
 * after the last router, never behind a row of invented silent hops. Such
 * traces are flagged, and how their TTLs were found is said. The
 * destination's own SYN-ACKs, RSTs and echo replies to the same flow join the
 * trace: they say where it ends.
 *
 * Every step sorts or searches: a capture of nothing but errors can hold a
 * million of them.
 */
#include <stdlib.h>
#include <string.h>

#include "analyzer/diagnose.h"
#include "analyzer/traces.h"

/* One answer of a trace to rebuild, with the probe's flow as its quote names it. */
struct member {
	int32_t reply;
	struct ip_addr src, dst;
	struct ip_addr responder; /* who sent the answer */
	enum trace_protocol proto;
	uint16_t dport; /* TCP only: UDP traceroute changes it at every probe */
	int64_t ts_ns;
	uint64_t frame;
	bool error;   /* an ICMP error; else the destination's own SYN-ACK, RST or echo reply */
	unsigned ttl; /* estimated TTL of the probe */
};

static int compare_addr(const struct ip_addr *a, const struct ip_addr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->b, b->b, 16);
}

static int compare_flow(const struct member *x, const struct member *y)
{
	int c = compare_addr(&x->src, &y->src);
	if (!c)
		c = compare_addr(&x->dst, &y->dst);
	if (!c && x->proto != y->proto)
		c = x->proto < y->proto ? -1 : 1;
	if (!c && x->dport != y->dport)
		c = x->dport < y->dport ? -1 : 1;
	return c;
}

static int compare_time(const struct member *x, const struct member *y)
{
	if (x->ts_ns != y->ts_ns)
		return x->ts_ns < y->ts_ns ? -1 : 1;
	return (x->frame > y->frame) - (x->frame < y->frame);
}

/* By flow, then in the order the answers came. */
static int compare_for_grouping(const void *a, const void *b)
{
	int c = compare_flow(a, b);
	return c ? c : compare_time(a, b);
}

/* By estimated TTL, then by who answered, then in the order they came. */
static int compare_for_hops(const void *a, const void *b)
{
	const struct member *x = a, *y = b;
	if (x->ttl != y->ttl)
		return x->ttl < y->ttl ? -1 : 1;
	int c = compare_addr(&x->responder, &y->responder);
	return c ? c : compare_time(x, y);
}

static bool protocol_of(uint8_t quoted_proto, enum trace_protocol *out)
{
	switch (quoted_proto) {
	case IPPROTO_NUM_TCP:
		*out = PROTO_TCP;
		return true;
	case IPPROTO_NUM_UDP:
		*out = PROTO_UDP;
		return true;
	case IPPROTO_NUM_ICMP:
	case IPPROTO_NUM_ICMPV6:
		*out = PROTO_ICMP;
		return true;
	default:
		return false;
	}
}

static bool orphan_answer(const struct reply *r, uint32_t capture)
{
	enum trace_protocol proto = PROTO_UDP;
	return r->capture == capture && r->request < 0 && r->quoted &&
	       (r->kind == REPLY_TIME_EXCEEDED || r->kind == REPLY_UNREACHABLE) &&
	       reply_answers_hop(r->kind, r->icmp_code) &&
	       r->quoted_dst.family && protocol_of(r->quoted_proto, &proto);
}

/* A SYN-ACK, RST or echo reply that answers no probe of the capture: perhaps the end of a rebuilt trace. */
static bool orphan_destination_answer(const struct reply *r, uint32_t capture)
{
	return r->capture == capture && r->request < 0 &&
	       (r->kind == REPLY_SYN_ACK || r->kind == REPLY_RST || r->kind == REPLY_ECHO_REPLY);
}

static void member_of(const struct case_model *cm, int32_t reply, struct member *m)
{
	const struct reply *r = &cm->replies.items[reply];
	memset(m, 0, sizeof *m);
	m->reply = reply;
	m->responder = r->src;
	m->ts_ns = r->ts_ns;
	m->frame = r->frame;
	m->error = reply_kind_is_error(r->kind);
	if (m->error) {
		m->src = r->quoted_src;
		m->dst = r->quoted_dst;
		protocol_of(r->quoted_proto, &m->proto);
		m->dport = m->proto == PROTO_TCP ? r->quoted_dport : 0;
		return;
	}
	/* The destination answers the probe's flow reversed: for TCP, from the port traced. */
	m->src = r->dst;
	m->dst = r->src;
	m->proto = r->kind == REPLY_ECHO_REPLY ? PROTO_ICMP : PROTO_TCP;
	m->dport = m->proto == PROTO_TCP ? r->sport : 0;
}

static int compare_u16(const void *a, const void *b)
{
	uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;
	return (x > y) - (x < y);
}

/*
 * Keeps, in order, the members of one flow that belong to a rebuilt trace:
 * every error, and the destination's answers, when at least one error shows
 * that a path trace ran: a time exceeded (a TTL ran out), or an error quoting
 * a TTL a path trace sends. Port unreachables quoting 64 or 128 answer
 * ordinary traffic to a closed port, and a SYN-ACK alone is a connection. An
 * echo reply must carry an identifier the errors quote, when they quote one:
 * another program's ping to the same host is not the trace's. Returns how
 * many were kept.
 */
static size_t keep_trace_members(const struct case_model *cm, struct member *m, size_t n,
				 uint16_t *ids)
{
	size_t n_ids = 0, traced = 0;
	for (size_t i = 0; i < n; i++) {
		const struct reply *r = &cm->replies.items[m[i].reply];
		if (!m[i].error)
			continue;
		traced += r->kind == REPLY_TIME_EXCEEDED || r->quoted_ttl <= TRACE_TTL_MAX;
		if (r->quoted_echo_known)
			ids[n_ids++] = r->quoted_echo_id;
	}
	if (traced == 0)
		return 0;
	qsort(ids, n_ids, sizeof *ids, compare_u16);
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		const struct reply *r = &cm->replies.items[m[i].reply];
		if (!m[i].error && r->kind == REPLY_ECHO_REPLY && n_ids &&
		    !bsearch(&r->echo_id, ids, n_ids, sizeof *ids, compare_u16))
			continue;
		m[kept++] = m[i];
	}
	return kept;
}

/*
 * How many routers an answer crossed on its way back, from its TTL below the
 * usual initial TTL it was sent with; -1 when its TTL is 32 or less: routers
 * and hosts send with 64, 128 or 255, and one arriving with 6 left would have
 * crossed 58 of them.
 */
static int hops_back(const struct reply *r)
{
	return r->ttl > TRACE_TTL_MAX ? initial_ttl_guess(r->ttl) - r->ttl : -1;
}

/* The TTL the probe was sent with, as far as the answer tells it; 0 when it does not. */
static unsigned estimated_probe_ttl(const struct reply *r, const struct trace *t)
{
	int back = hops_back(r);
	int ttl = back < 0 ? 0 : back + 1;
	if (reply_from_destination(t, r)) {
		/* It arrived with the quoted TTL left: sent with that much more than it needed. */
		if (ttl && r->quoted && r->quoted_ttl > 1)
			ttl += r->quoted_ttl - 1;
	} else if (r->kind == REPLY_TIME_EXCEEDED && r->quoted_ttl > 1 && r->quoted_ttl > ttl) {
		/* No time exceeded quotes more than was sent; slirp's quote the whole TTL. */
		ttl = r->quoted_ttl;
	}
	/* Anything higher is no path trace's TTL (a quote of 60: the probe was re-originated). */
	return ttl <= TRACE_TTL_MAX ? (unsigned)ttl : 0u;
}

/* The capture's traces with probes, by (protocol, source, destination), for bsearch. */
static const struct trace *sort_traces;

static int compare_trace_place(const struct trace *t, enum trace_protocol proto,
			       const struct ip_addr *src, const struct ip_addr *dst)
{
	if (t->proto != proto)
		return t->proto < proto ? -1 : 1;
	int c = compare_addr(&t->src, src);
	return c ? c : compare_addr(&t->dst, dst);
}

static int compare_traces(const void *a, const void *b)
{
	const struct trace *y = &sort_traces[*(const int32_t *)b];
	return compare_trace_place(&sort_traces[*(const int32_t *)a], y->proto, &y->src, &y->dst);
}

/* A trace with probes to the same place already exists: its orphans are strays, not a trace. */
static bool already_traced(const struct case_model *cm, const int32_t *traced, size_t n,
			   const struct member *m)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = compare_trace_place(&cm->traces.items[traced[mid]], m->proto, &m->src, &m->dst);
		if (!c)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/*
 * The hop at h->ttl from the members estimated there: the most frequent
 * responder stands for it, or the destination at the TTL it first answered
 * (as for traces with probes).
 */
static void fill_hop(const struct case_model *cm, const struct trace *t, struct hop *h,
		     const struct member *at, size_t n)
{
	h->request = h->reply = -1;
	h->rtt_ns = -1;
	h->answers = (uint32_t)n;
	size_t best = 0, best_count = 0;
	bool best_is_destination = false;
	for (size_t i = 0; i < n;) {
		size_t run = i + 1;
		while (run < n && ip_addr_equal(&at[run].responder, &at[i].responder))
			run++;
		bool destination = h->ttl == t->reached_ttl &&
				   reply_from_destination(t, &cm->replies.items[at[i].reply]);
		/* Equal counts: the one that answered first (each run starts with its first answer). */
		bool better = run - i > best_count ||
			      (run - i == best_count && compare_time(&at[i], &at[best]) < 0);
		if ((destination && !best_is_destination) || (destination == best_is_destination && better)) {
			best = i;
			best_count = run - i;
			best_is_destination = destination;
		}
		if (i > 0)
			h->several_addresses = true;
		i = run;
	}
	if (n == 0)
		return;
	const struct reply *r = &cm->replies.items[at[best].reply];
	h->reply = at[best].reply;
	h->addr = r->src;
	h->kind = r->kind;
	h->reply_ttl = r->ttl;
	h->quoted_ttl = r->quoted ? r->quoted_ttl : 0;
	h->reply_frame = r->frame;
	h->is_destination = reply_from_destination(t, r);
}

/* Routers numbered 1, 2, ... by their first answer; members in time order. Beyond 32, not drawn. */
static void number_in_arrival_order(const struct case_model *cm, const struct trace *t,
				    struct member *members, size_t n)
{
	struct ip_addr seen[TRACE_TTL_MAX];
	unsigned n_seen = 0;
	for (size_t i = 0; i < n; i++) {
		if (reply_from_destination(t, &cm->replies.items[members[i].reply]))
			continue;
		unsigned k = 0;
		while (k < n_seen && !ip_addr_equal(&seen[k], &members[i].responder))
			k++;
		if (k == n_seen && n_seen < TRACE_TTL_MAX)
			seen[n_seen++] = members[i].responder;
		members[i].ttl = k < n_seen ? k + 1 : 0;
	}
}

/* Estimated TTLs for every member; sets the trace's max, reached and how they were found. */
static void estimate_ttls(const struct case_model *cm, struct trace *t, struct member *members,
			  size_t n)
{
	bool routers_told = true;
	for (size_t i = 0; i < n; i++) {
		const struct reply *r = &cm->replies.items[members[i].reply];
		members[i].ttl = estimated_probe_ttl(r, t);
		if (!members[i].ttl && !reply_from_destination(t, r))
			routers_told = false;
	}
	/* One router whose distance cannot be told puts them all on another scale. */
	if (!routers_told) {
		t->rebuilt_in_arrival_order = true;
		number_in_arrival_order(cm, t, members, n);
	}
	unsigned last_router = 0, reached = 0;
	bool destination = false;
	for (size_t i = 0; i < n; i++) {
		bool from_destination = reply_from_destination(t, &cm->replies.items[members[i].reply]);
		destination = destination || from_destination;
		if (!from_destination && members[i].ttl > last_router)
			last_router = members[i].ttl;
	}
	/* The destination is beyond every router that answered; an estimate that is not is no
	 * estimate (nor one on the routers' scale when they are numbered by arrival). */
	for (size_t i = 0; i < n && !t->rebuilt_in_arrival_order; i++) {
		unsigned ttl = members[i].ttl;
		if (reply_from_destination(t, &cm->replies.items[members[i].reply]) && ttl > last_router &&
		    (!reached || ttl < reached))
			reached = ttl;
	}
	if (destination && !reached) {
		reached = last_router + 1;
		t->rebuilt_destination_placed = true;
	}
	for (size_t i = 0; i < n; i++) {
		if (reply_from_destination(t, &cm->replies.items[members[i].reply]) &&
		    (t->rebuilt_in_arrival_order || members[i].ttl <= last_router))
			members[i].ttl = reached;
		if (members[i].ttl > t->max_ttl)
			t->max_ttl = (uint8_t)members[i].ttl;
	}
	t->reached_ttl = (uint8_t)reached;
}

static int add_trace(struct case_model *cm, struct member *members, size_t n)
{
	const struct reply *first = &cm->replies.items[members[0].reply];
	struct trace *t = VEC_PUSH(&cm->traces);
	if (!t)
		return -1;
	t->capture = first->capture;
	t->proto = members[0].proto;
	t->src = members[0].src;
	t->dst = members[0].dst;
	t->dport = members[0].dport;
	t->first_ts_ns = members[0].ts_ns;
	t->last_ts_ns = members[n - 1].ts_ns;
	t->rebuilt_from_replies = true;
	t->answered = (uint32_t)n;
	t->reset_ttl = t->egress_ttl = t->ingress_ttl = t->true_distance = -1;
	t->confidence = "";
	estimate_ttls(cm, t, members, n);
	unsigned last = t->reached_ttl ? t->reached_ttl : t->max_ttl;
	qsort(members, n, sizeof *members, compare_for_hops);
	VEC_INIT(&t->hops, 256);
	size_t i = 0;
	while (i < n && members[i].ttl == 0) /* no TTL a path trace could have sent */
		i++;
	for (unsigned ttl = 1; ttl <= last; ttl++) {
		struct hop *h = VEC_PUSH(&t->hops);
		if (!h)
			return -1;
		h->ttl = (uint8_t)ttl;
		size_t start = i;
		while (i < n && members[i].ttl == ttl)
			i++;
		fill_hop(cm, t, h, members + start, i - start);
	}
	return 0;
}

int traces_rebuild_from_replies(struct case_model *cm, uint32_t capture)
{
	size_t n = 0, errors = 0, before = cm->traces.len;
	for (size_t i = 0; i < cm->replies.len; i++) {
		const struct reply *r = &cm->replies.items[i];
		errors += orphan_answer(r, capture);
		n += orphan_answer(r, capture) || orphan_destination_answer(r, capture);
	}
	if (errors == 0)
		return 0;
	struct member *members = malloc(n * sizeof *members);
	uint16_t *ids = malloc(n * sizeof *ids);
	int32_t *traced = malloc((before ? before : 1) * sizeof *traced);
	if (!members || !ids || !traced) {
		free(members);
		free(ids);
		free(traced);
		return -1;
	}
	size_t k = 0, n_traced = 0;
	for (size_t i = 0; i < cm->replies.len; i++)
		if (orphan_answer(&cm->replies.items[i], capture) ||
		    orphan_destination_answer(&cm->replies.items[i], capture))
			member_of(cm, (int32_t)i, &members[k++]);
	qsort(members, n, sizeof *members, compare_for_grouping);
	for (size_t i = 0; i < before; i++)
		if (cm->traces.items[i].capture == capture)
			traced[n_traced++] = (int32_t)i;
	sort_traces = cm->traces.items;
	qsort(traced, n_traced, sizeof *traced, compare_traces);

	int rc = 0;
	size_t start = 0;
	for (size_t i = 1; i <= n && rc == 0; i++) {
		bool split = i == n || compare_flow(&members[i - 1], &members[i]) != 0 ||
			     members[i].ts_ns - members[i - 1].ts_ns > TRACE_GAP_NS;
		if (!split)
			continue;
		if (!already_traced(cm, traced, n_traced, &members[start])) {
			size_t kept = keep_trace_members(cm, members + start, i - start, ids);
			if (kept)
				rc = add_trace(cm, members + start, kept);
		}
		start = i;
	}
	free(members);
	free(ids);
	free(traced);
	return rc;
}
