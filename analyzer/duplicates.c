#include <stdlib.h>
#include <string.h>

#include "analyzer/duplicates.h"

/* Two sightings of one packet are this close; a retransmission is much later. */
#define SIGHTING_WINDOW_NS ((int64_t)50 * 1000 * 1000)
/* On two interfaces of one pcapng file, each stamped by its own capture (and
 * clock), sightings have been seen 100 ms apart; the key (IPv4 ID included)
 * still tells a retransmission apart. */
#define OTHER_INTERFACE_WINDOW_NS ((int64_t)1000 * 1000 * 1000)

static const struct request *sort_items;

/*
 * What survives forwarding and NAT: destination, protocol, destination port,
 * TCP sequence or echo sequence, and the IPv4 identification. Source address,
 * source port, echo identifier and TTL may all change.
 */
static int compare_packet(const struct request *x, const struct request *y)
{
	if (x->dst.family != y->dst.family)
		return x->dst.family < y->dst.family ? -1 : 1;
	int c = memcmp(x->dst.b, y->dst.b, 16);
	if (c)
		return c;
	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if (x->proto != PROTO_ICMP && x->dport != y->dport)
		return x->dport < y->dport ? -1 : 1;
	uint32_t xs = x->proto == PROTO_ICMP ? x->echo_seq : x->seq;
	uint32_t ys = y->proto == PROTO_ICMP ? y->echo_seq : y->seq;
	if (xs != ys)
		return xs < ys ? -1 : 1;
	if (x->dst.family == 4 && x->ip_id != y->ip_id)
		return x->ip_id < y->ip_id ? -1 : 1;
	if (x->dst.family == 6 && x->proto != PROTO_ICMP && x->sport != y->sport)
		return x->sport < y->sport ? -1 : 1;
	return 0;
}

static int compare_for_sort(const void *a, const void *b)
{
	const struct request *x = &sort_items[*(const int32_t *)a];
	const struct request *y = &sort_items[*(const int32_t *)b];
	int c = compare_packet(x, y);
	if (!c && x->ts_ns != y->ts_ns)
		c = x->ts_ns < y->ts_ns ? -1 : 1;
	if (!c)
		c = (x->frame > y->frame) - (x->frame < y->frame);
	return c;
}

/*
 * IPv6 has no identification field, and some tools (scamper) send every probe
 * with one port pair and sequence: successive probes differ only in their hop
 * limit, which rises. A second sighting of one packet has the same hop limit
 * (a bridge), one less (a router) or a NAT's fixed high value.
 */
static bool later_sighting(const struct request *a, const struct request *b)
{
	if (a->dst.family == 4)
		return true; /* the IPv4 ID in the key already tells packets apart */
	return b->ttl <= a->ttl || (a->ttl <= 32 && b->ttl > 32);
}

/* Makes `kept` the one that stays, with the answer if any sighting got one. */
static void link_sighting(struct case_model *cm, int32_t kept, int32_t other)
{
	struct request *k = &cm->requests.items[kept];
	struct request *o = &cm->requests.items[other];
	o->same_as = kept;
	if (k->reply < 0 && o->reply >= 0) {
		k->reply = o->reply;
		k->answered = true;
		cm->replies.items[o->reply].request = kept;
	}
	cm->captures[k->capture].seen_twice++;
}

int duplicates_mark(struct case_model *cm, uint32_t capture, bool keep_last)
{
	size_t n = 0;
	for (size_t i = 0; i < cm->requests.len; i++)
		n += cm->requests.items[i].capture == capture;
	if (n < 2)
		return 0;
	int32_t *order = malloc(n * sizeof *order);
	if (!order)
		return -1;
	size_t k = 0;
	for (size_t i = 0; i < cm->requests.len; i++)
		if (cm->requests.items[i].capture == capture)
			order[k++] = (int32_t)i;
	sort_items = cm->requests.items;
	qsort(order, n, sizeof *order, compare_for_sort);

	/* Runs of sightings of one packet, each close to the one before. */
	size_t start = 0;
	for (size_t i = 1; i <= n; i++) {
		bool same = false;
		if (i < n) {
			const struct request *a = &cm->requests.items[order[i - 1]];
			const struct request *b = &cm->requests.items[order[i]];
			int64_t window = a->interface != b->interface && a->dst.family == 4
						 ? OTHER_INTERFACE_WINDOW_NS
						 : SIGHTING_WINDOW_NS;
			same = compare_packet(a, b) == 0 && b->ts_ns - a->ts_ns <= window &&
			       later_sighting(a, b);
		}
		if (same)
			continue;
		if (i - start > 1) {
			int32_t kept = keep_last ? order[i - 1] : order[start];
			for (size_t j = start; j < i; j++)
				if (order[j] != kept)
					link_sighting(cm, kept, order[j]);
		}
		start = i;
	}
	free(order);
	return 0;
}
