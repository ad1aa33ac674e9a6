/*
 * Traces rebuilt from answers whose probes are not in the capture: the
 * capture started late, a filter kept only ICMP, or it was taken where only
 * the answers pass. Each ICMP error quotes its probe, so source, destination,
 * protocol and port are known; the TTL the probe was sent with is not, and is
 * estimated from how far the answer travelled (its TTL below the nearest usual
 * initial TTL) plus, for an answer from the destination, how much TTL the
 * probe still had when it arrived (the quoted TTL). Such traces are flagged.
 */
#include <stdlib.h>
#include <string.h>

#include "analyzer/diagnose.h"
#include "analyzer/traces.h"

static const struct reply *sort_replies;

static int compare_addr(const struct ip_addr *a, const struct ip_addr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->b, b->b, 16);
}

static int compare_group(const struct reply *x, const struct reply *y)
{
	int c = compare_addr(&x->quoted_src, &y->quoted_src);
	if (!c)
		c = compare_addr(&x->quoted_dst, &y->quoted_dst);
	if (!c && x->quoted_proto != y->quoted_proto)
		c = x->quoted_proto < y->quoted_proto ? -1 : 1;
	if (!c && x->quoted_proto == IPPROTO_NUM_TCP && x->quoted_dport != y->quoted_dport)
		c = x->quoted_dport < y->quoted_dport ? -1 : 1;
	return c;
}

static int compare_for_grouping(const void *a, const void *b)
{
	const struct reply *x = &sort_replies[*(const int32_t *)a];
	const struct reply *y = &sort_replies[*(const int32_t *)b];
	int c = compare_group(x, y);
	if (!c && x->ts_ns != y->ts_ns)
		c = x->ts_ns < y->ts_ns ? -1 : 1;
	if (!c)
		c = (x->frame > y->frame) - (x->frame < y->frame);
	return c;
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

static unsigned estimated_probe_ttl(const struct reply *r, const struct trace *t)
{
	int hops_back = initial_ttl_guess(r->ttl) - r->ttl;
	int ttl = hops_back + 1;
	if (reply_from_destination(t, r) && r->quoted_ttl > 1)
		ttl += r->quoted_ttl - 1;
	return ttl < 1 ? 1u : ttl > 255 ? 255u : (unsigned)ttl;
}

/* A trace with probes to the same place already exists: its orphans are strays, not a trace. */
static bool already_traced(const struct case_model *cm, size_t before, const struct reply *r)
{
	enum trace_protocol proto = PROTO_UDP;
	protocol_of(r->quoted_proto, &proto);
	for (size_t i = 0; i < before; i++) {
		const struct trace *t = &cm->traces.items[i];
		if (t->capture == r->capture && t->proto == proto && ip_addr_equal(&t->src, &r->quoted_src) &&
		    ip_addr_equal(&t->dst, &r->quoted_dst))
			return true;
	}
	return false;
}

static void fill_hop(const struct case_model *cm, const struct trace *t, struct hop *h,
		     const int32_t *members, size_t n)
{
	h->request = h->reply = -1;
	h->rtt_ns = -1;
	uint32_t best_count = 0;
	for (size_t i = 0; i < n; i++) {
		const struct reply *r = &cm->replies.items[members[i]];
		if (estimated_probe_ttl(r, t) != h->ttl)
			continue;
		h->answers++;
		uint32_t count = 0;
		for (size_t k = 0; k < n; k++) {
			const struct reply *o = &cm->replies.items[members[k]];
			count += estimated_probe_ttl(o, t) == h->ttl && ip_addr_equal(&o->src, &r->src);
		}
		if (h->reply >= 0 && !ip_addr_equal(&cm->replies.items[h->reply].src, &r->src))
			h->several_addresses = true;
		if (count > best_count) {
			best_count = count;
			h->reply = members[i];
			h->addr = r->src;
			h->kind = r->kind;
			h->reply_ttl = r->ttl;
			h->quoted_ttl = r->quoted_ttl;
			h->reply_frame = r->frame;
			h->is_destination = reply_from_destination(t, r);
		}
	}
}

static int add_trace(struct case_model *cm, const int32_t *members, size_t n)
{
	const struct reply *first = &cm->replies.items[members[0]];
	struct trace *t = VEC_PUSH(&cm->traces);
	if (!t)
		return -1;
	t->capture = first->capture;
	protocol_of(first->quoted_proto, &t->proto);
	t->src = first->quoted_src;
	t->dst = first->quoted_dst;
	t->dport = t->proto == PROTO_TCP ? first->quoted_dport : 0;
	t->first_ts_ns = first->ts_ns;
	t->last_ts_ns = cm->replies.items[members[n - 1]].ts_ns;
	t->rebuilt_from_replies = true;
	t->answered = (uint32_t)n;
	t->reset_ttl = t->egress_ttl = t->ingress_ttl = t->true_distance = -1;
	t->confidence = "";
	for (size_t i = 0; i < n; i++) {
		const struct reply *r = &cm->replies.items[members[i]];
		unsigned ttl = estimated_probe_ttl(r, t);
		if (ttl > t->max_ttl)
			t->max_ttl = (uint8_t)ttl;
		if (reply_from_destination(t, r) && (!t->reached_ttl || ttl < t->reached_ttl))
			t->reached_ttl = (uint8_t)ttl;
	}
	unsigned last = t->reached_ttl ? t->reached_ttl : t->max_ttl;
	VEC_INIT(&t->hops, 256);
	for (unsigned ttl = 1; ttl <= last; ttl++) {
		struct hop *h = VEC_PUSH(&t->hops);
		if (!h)
			return -1;
		h->ttl = (uint8_t)ttl;
		fill_hop(cm, t, h, members, n);
	}
	return 0;
}

int traces_rebuild_from_replies(struct case_model *cm, uint32_t capture)
{
	size_t n = 0, before = cm->traces.len;
	for (size_t i = 0; i < cm->replies.len; i++)
		n += orphan_answer(&cm->replies.items[i], capture) &&
		     !already_traced(cm, before, &cm->replies.items[i]);
	if (n == 0)
		return 0;
	int32_t *order = malloc(n * sizeof *order);
	if (!order)
		return -1;
	size_t k = 0;
	for (size_t i = 0; i < cm->replies.len; i++)
		if (orphan_answer(&cm->replies.items[i], capture) &&
		    !already_traced(cm, before, &cm->replies.items[i]))
			order[k++] = (int32_t)i;
	sort_replies = cm->replies.items;
	qsort(order, n, sizeof *order, compare_for_grouping);

	int rc = 0;
	size_t start = 0;
	for (size_t i = 1; i <= n && rc == 0; i++) {
		const struct reply *prev = &cm->replies.items[order[i - 1]];
		bool split = i == n;
		if (!split) {
			const struct reply *r = &cm->replies.items[order[i]];
			split = compare_group(prev, r) != 0 || r->ts_ns - prev->ts_ns > TRACE_GAP_NS;
		}
		if (split) {
			rc = add_trace(cm, order + start, i - start);
			start = i;
		}
	}
	free(order);
	return rc;
}
