#include <stdlib.h>
#include <string.h>

#include "analyzer/traces.h"

/* qsort has no context argument in C11; one sort runs at a time. */
static const struct request *sort_requests;

static int compare_addr(const struct ip_addr *a, const struct ip_addr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->b, b->b, 16);
}

/* The key a trace is grouped by: UDP traceroute changes the port at every probe, TCP keeps it. */
static int compare_group(const struct request *x, const struct request *y)
{
	int c = compare_addr(&x->src, &y->src);
	if (!c)
		c = compare_addr(&x->dst, &y->dst);
	if (!c && x->proto != y->proto)
		c = x->proto < y->proto ? -1 : 1;
	if (!c && x->proto == PROTO_TCP && x->dport != y->dport)
		c = x->dport < y->dport ? -1 : 1;
	/* Each run of an ICMP tool has its own echo identifier: two runs, two traces. */
	if (!c && x->proto == PROTO_ICMP && x->echo_id != y->echo_id)
		c = x->echo_id < y->echo_id ? -1 : 1;
	return c;
}

static bool is_multicast_or_broadcast(const struct ip_addr *a)
{
	if (a->family == 4)
		return (a->b[0] & 0xf0) == 0xe0 || (a->b[0] == 255 && a->b[1] == 255 && a->b[2] == 255 &&
						     a->b[3] == 255);
	return a->b[0] == 0xff;
}

/* A probe of a path trace: low TTL, but not 0 (never sent), to one host (not mDNS and the like). */
static bool is_probe(const struct request *q, uint32_t capture)
{
	return q->capture == capture && q->same_as < 0 && q->ttl >= 1 && q->ttl <= TRACE_TTL_MAX &&
	       !is_multicast_or_broadcast(&q->dst);
}

static int compare_for_grouping(const void *a, const void *b)
{
	const struct request *x = &sort_requests[*(const int32_t *)a];
	const struct request *y = &sort_requests[*(const int32_t *)b];
	int c = compare_group(x, y);
	if (!c && x->ts_ns != y->ts_ns)
		c = x->ts_ns < y->ts_ns ? -1 : 1;
	if (!c)
		c = x->frame < y->frame ? -1 : (x->frame > y->frame);
	return c;
}

const struct hop *trace_hop_at(const struct trace *t, unsigned ttl)
{
	size_t lo = 0, hi = t->hops.len;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->hops.items[mid].ttl < ttl)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < t->hops.len && t->hops.items[lo].ttl == ttl ? &t->hops.items[lo] : NULL;
}

bool reply_from_destination(const struct trace *t, const struct reply *r)
{
	switch (r->kind) {
	case REPLY_SYN_ACK:
	case REPLY_RST:
	case REPLY_ECHO_REPLY:
		return true;
	case REPLY_UNREACHABLE:
		return ip_addr_equal(&r->src, &t->dst);
	case REPLY_TIME_EXCEEDED:
	case REPLY_OTHER_ERROR:
		break;
	}
	return false;
}

static bool answers_the_hop(const struct reply *r)
{
	return reply_answers_hop(r->kind, r->icmp_code);
}

enum { MAX_RESPONDERS = 8 };

struct responder {
	const struct reply *reply;
	int32_t request, reply_index;
	uint32_t count;
};

static void fill_hop(struct case_model *cm, struct trace *t, struct hop *h, const int32_t *members,
		     size_t n)
{
	struct responder seen[MAX_RESPONDERS];
	size_t n_seen = 0;
	h->request = h->reply = -1;
	for (size_t i = 0; i < n; i++) {
		const struct request *q = &cm->requests.items[members[i]];
		if (q->ttl != h->ttl)
			continue;
		h->probes++;
		if (h->request < 0) {
			h->request = members[i];
			h->probe_frame = q->frame;
		}
		if (q->reply < 0)
			continue;
		const struct reply *r = &cm->replies.items[q->reply];
		if (!answers_the_hop(r))
			continue;
		h->answers++;
		size_t k = 0;
		while (k < n_seen && !ip_addr_equal(&seen[k].reply->src, &r->src))
			k++;
		if (k == n_seen && n_seen < MAX_RESPONDERS)
			seen[n_seen++] = (struct responder){ r, members[i], q->reply, 0 };
		if (k < n_seen)
			seen[k].count++;
	}
	if (n_seen == 0)
		return;
	/* The most frequent responder stands for the hop; at the TTL where the
	 * destination first answered, the destination does (load-balanced paths
	 * reach it on one flow while another still meets a router). */
	size_t best = 0;
	for (size_t k = 1; k < n_seen; k++)
		if (seen[k].count > seen[best].count)
			best = k;
	if (h->ttl == t->reached_ttl)
		for (size_t k = 0; k < n_seen; k++)
			if (reply_from_destination(t, seen[k].reply) && answers_the_hop(seen[k].reply))
				best = k;
	const struct reply *r = seen[best].reply;
	h->several_addresses = n_seen > 1;
	h->addr = r->src;
	h->kind = r->kind;
	h->reply_ttl = r->ttl;
	h->quoted_ttl = r->quoted ? r->quoted_ttl : 0;
	h->rtt_ns = r->rtt_ns;
	h->request = seen[best].request;
	h->reply = seen[best].reply_index;
	h->probe_frame = cm->requests.items[h->request].frame;
	h->reply_frame = r->frame;
	h->is_destination = reply_from_destination(t, r);
	for (size_t i = 0; i < n; i++) {
		const struct request *q = &cm->requests.items[members[i]];
		if (q->ttl == h->ttl && q->reply >= 0 && ip_addr_equal(&cm->replies.items[q->reply].src, &r->src) &&
		    cm->replies.items[q->reply].rtt_ns < h->rtt_ns)
			h->rtt_ns = cm->replies.items[q->reply].rtt_ns;
	}
}

static int build_hops(struct case_model *cm, struct trace *t, const int32_t *members, size_t n)
{
	uint8_t reached = 0;
	for (size_t i = 0; i < n; i++) {
		const struct request *q = &cm->requests.items[members[i]];
		if (q->reply >= 0 && reply_from_destination(t, &cm->replies.items[q->reply]) &&
		    answers_the_hop(&cm->replies.items[q->reply]) && (!reached || q->ttl < reached))
			reached = q->ttl;
	}
	t->reached_ttl = reached;
	uint8_t last = reached ? reached : t->max_ttl;
	/* A TTL no probe was sent with (traceroute -f, a tool that skips some) is no
	 * silent hop: it gets no hop at all. */
	bool probed[TRACE_TTL_MAX + 1] = { false };
	for (size_t i = 0; i < n; i++)
		probed[cm->requests.items[members[i]].ttl] = true;
	VEC_INIT(&t->hops, 256);
	for (unsigned ttl = 1; ttl <= last; ttl++) {
		if (!probed[ttl])
			continue;
		struct hop *h = VEC_PUSH(&t->hops);
		if (!h)
			return -1;
		h->ttl = (uint8_t)ttl;
		fill_hop(cm, t, h, members, n);
	}
	return 0;
}

static int add_trace(struct case_model *cm, uint32_t capture, const int32_t *members, size_t n)
{
	const struct request *first = &cm->requests.items[members[0]];
	uint8_t min_ttl = 255, max_ttl = 0;
	bool several_ttls = false;
	for (size_t i = 0; i < n; i++) {
		uint8_t ttl = cm->requests.items[members[i]].ttl;
		if (i && ttl != cm->requests.items[members[0]].ttl)
			several_ttls = true;
		if (ttl < min_ttl)
			min_ttl = ttl;
		if (ttl > max_ttl)
			max_ttl = ttl;
	}
	/* A lone low-TTL packet is not a trace unless it is a TTL-1 probe. */
	if (!several_ttls && min_ttl > 1)
		return 0;

	struct trace *t = VEC_PUSH(&cm->traces);
	if (!t)
		return -1;
	int32_t id = (int32_t)(cm->traces.len - 1);
	t->capture = capture;
	t->proto = first->proto;
	t->src = first->src;
	t->dst = first->dst;
	t->dport = first->proto == PROTO_UDP ? 0 : first->dport;
	t->first_ts_ns = first->ts_ns;
	t->last_ts_ns = cm->requests.items[members[n - 1]].ts_ns;
	for (size_t i = 0; i < n && !t->process; i++)
		t->process = cm->requests.items[members[i]].process;
	t->max_ttl = max_ttl;
	t->reset_ttl = t->egress_ttl = t->ingress_ttl = t->true_distance = -1;
	t->confidence = "";
	for (size_t i = 0; i < n; i++) {
		struct request *q = &cm->requests.items[members[i]];
		q->trace = id;
		t->probes++;
		if (q->reply >= 0)
			t->answered++;
	}
	/* UDP traceroute varies the port per probe; report a port only when it stayed fixed. */
	if (first->proto == PROTO_UDP) {
		bool fixed = true;
		for (size_t i = 1; i < n && fixed; i++)
			fixed = cm->requests.items[members[i]].dport == first->dport;
		if (fixed)
			t->dport = first->dport;
	}
	return build_hops(cm, t, members, n);
}

/* Frame of each new trace's first probe, by the index it had before the sort below. */
static const uint64_t *sort_first_frames;

static int compare_trace_start(const void *a, const void *b)
{
	const struct trace *x = a, *y = b;
	if (x->first_ts_ns != y->first_ts_ns)
		return x->first_ts_ns < y->first_ts_ns ? -1 : 1;
	if (x->proto != y->proto)
		return (int)x->proto - (int)y->proto;
	/* Started together (a coarse clock, or tools run in parallel): in file order. */
	uint64_t fx = sort_first_frames[x->true_distance], fy = sort_first_frames[y->true_distance];
	return (fx > fy) - (fx < fy);
}

int traces_build(struct case_model *cm, uint32_t capture)
{
	size_t n = 0;
	for (size_t i = 0; i < cm->requests.len; i++)
		n += is_probe(&cm->requests.items[i], capture);
	if (n == 0)
		return 0;
	int32_t *order = malloc(n * sizeof *order);
	if (!order)
		return -1;
	size_t k = 0;
	for (size_t i = 0; i < cm->requests.len; i++)
		if (is_probe(&cm->requests.items[i], capture))
			order[k++] = (int32_t)i;
	sort_requests = cm->requests.items;
	qsort(order, n, sizeof *order, compare_for_grouping);

	size_t first_trace = cm->traces.len;
	/* At most one trace per probe; a trace's first probe is the first of its group. */
	uint64_t *first_frames = malloc(n * sizeof *first_frames);
	if (!first_frames) {
		free(order);
		return -1;
	}
	int rc = 0;
	size_t start = 0;
	for (size_t i = 1; i <= n && rc == 0; i++) {
		const struct request *prev = &cm->requests.items[order[i - 1]];
		bool split = i == n;
		if (!split) {
			const struct request *q = &cm->requests.items[order[i]];
			split = compare_group(prev, q) != 0 || q->ts_ns - prev->ts_ns > TRACE_GAP_NS;
		}
		if (split) {
			size_t before = cm->traces.len;
			rc = add_trace(cm, capture, order + start, i - start);
			if (cm->traces.len > before)
				first_frames[before - first_trace] = cm->requests.items[order[start]].frame;
			start = i;
		}
	}
	free(order);
	if (rc != 0) {
		free(first_frames);
		return rc;
	}

	/* Report traces in the order they started; requests point at traces by index, so renumber. */
	size_t count = cm->traces.len - first_trace;
	if (count == 0) { /* every group was set aside (see add_trace): nothing to renumber */
		free(first_frames);
		return 0;
	}
	struct trace *ts = cm->traces.items + first_trace;
	int32_t *old_index = malloc(count * sizeof *old_index);
	if (!old_index) {
		free(first_frames);
		return -1;
	}
	for (size_t i = 0; i < count; i++)
		ts[i].true_distance = (int)i; /* temporarily carries the old index through the sort */
	sort_first_frames = first_frames;
	qsort(ts, count, sizeof *ts, compare_trace_start);
	free(first_frames);
	for (size_t i = 0; i < count; i++) {
		old_index[ts[i].true_distance] = (int32_t)(first_trace + i);
		ts[i].true_distance = -1;
	}
	for (size_t i = 0; i < cm->requests.len; i++) {
		struct request *q = &cm->requests.items[i];
		if (q->capture == capture && q->trace >= (int32_t)first_trace)
			q->trace = old_index[(size_t)q->trace - first_trace];
	}
	free(old_index);
	return 0;
}
