#include <stdlib.h>
#include <string.h>

#include "analyzer/duplicates.h"

/* Two sightings of one packet are this close; a retransmission is much later. */
#define SIGHTING_WINDOW_NS ((int64_t)50 * 1000 * 1000)
/* On two interfaces of one pcapng file, each stamped by its own capture (and
 * clock), sightings have been seen 100 ms apart; a nonzero IPv4 ID in the key
 * still tells a retransmission apart. */
#define OTHER_INTERFACE_WINDOW_NS ((int64_t)1000 * 1000 * 1000)
/* Of the earlier sightings with its key, a sighting is compared with this many
 * at most (newest first): a run of identical keys (IP ID 0, one port pair) is
 * a path trace's few dozen probes, never a reason to go quadratic. */
enum { LOOK_BACK = 64 };

static const struct request *sort_items;

/*
 * What no capture point, router or NAT changes: destination, protocol,
 * destination port, TCP sequence or echo sequence, IPv4 identification and
 * length. The rest (source address and port, echo identifier, checksum, TTL)
 * is compared pair by pair in same_packet.
 */
static int compare_packet(const struct request *x, const struct request *y)
{
	int c = ip_addr_compare(&x->dst, &y->dst);
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
	if (x->ip_id != y->ip_id)
		return x->ip_id < y->ip_id ? -1 : 1;
	if (x->ip_len != y->ip_len)
		return x->ip_len < y->ip_len ? -1 : 1;
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
 * Arithmetic of the Internet checksum (RFC 1071), mod 0xffff so that its two
 * zeros (0x0000, 0xffff) are one value.
 */
static uint32_t sum_sub(uint32_t a, uint32_t b)
{
	return (a % 0xffffu + 0xffffu - b % 0xffffu) % 0xffffu;
}

/*
 * The sum the checksum covers, less what a NAT rewrites: the source address
 * (in the pseudo header of TCP, UDP and ICMPv6; ICMP for IPv4 has none) and
 * the source port or echo identifier. A NAT that rewrites those updates the
 * checksum by their difference (RFC 1624), so this is one value on both sides
 * of it; two probes that differ in their payload (Paris traceroute steers the
 * UDP checksum that way) have two.
 */
static uint32_t checksum_without_source(const struct request *q)
{
	uint32_t covered = sum_sub(0xffffu, q->checksum); /* ~checksum */
	bool pseudo_header = q->proto != PROTO_ICMP || q->src.family == 6;
	if (pseudo_header)
		covered = sum_sub(covered, ip_addr_word_sum(&q->src));
	return sum_sub(covered, q->proto == PROTO_ICMP ? q->echo_id : q->sport);
}

/* A bridge or a second tap keeps the TTL, a router takes one off, a NAT that
 * resets it sends the probe on with its own high value. */
static bool ttl_kept(uint8_t first, uint8_t then)
{
	return then == first;
}

static bool ttl_forwarded(uint8_t first, uint8_t then)
{
	return then + 1 == first || (first <= 32 && then > 32);
}

/*
 * Whether b (stamped no earlier than a, same key) is another sighting of the
 * packet a is: everything a second capture point keeps is the same, and what
 * differs is what a NAT between the two rewrites, with a checksum that says
 * so. An IPv4 ID of 0 (Linux's DF packets) tells nothing apart.
 */
static bool same_packet(const struct request *a, const struct request *b)
{
	bool other_interface = a->interface != b->interface;
	bool strong_id = a->src.family == 4 && a->ip_id != 0;
	int64_t window = other_interface && strong_id ? OTHER_INTERFACE_WINDOW_NS : SIGHTING_WINDOW_NS;
	if (b->ts_ns - a->ts_ns > window)
		return false;
	/* Two interfaces with two clocks may stamp the copy before the original. */
	bool forwarded = ttl_forwarded(a->ttl, b->ttl) ||
			 (other_interface && ttl_forwarded(b->ttl, a->ttl));
	/* TCP's sequence number (in the key) is the sender's random choice per
	 * connection, and a host may rewrite a SYN's options on the way out (MSS
	 * clamping, checksum updated): for TCP the checksum decides nothing. */
	bool checksums = a->checksum_known && b->checksum_known && a->proto != PROTO_TCP;
	if (ip_addr_equal(&a->src, &b->src)) {
		uint16_t as = a->proto == PROTO_ICMP ? a->echo_id : a->sport;
		uint16_t bs = b->proto == PROTO_ICMP ? b->echo_id : b->sport;
		return (forwarded || ttl_kept(a->ttl, b->ttl)) && as == bs &&
		       (!checksums || a->checksum % 0xffffu == b->checksum % 0xffffu);
	}
	/* A NAT between the sightings, which forwarded the packet: one host sending
	 * the same datagram from two addresses (SSDP does) keeps its TTL. Without
	 * both checksums, only an identifier the sender chose per packet says it
	 * is the same one: a nonzero IPv4 ID, or TCP's sequence number. */
	if (!forwarded)
		return false;
	if (checksums)
		return checksum_without_source(a) == checksum_without_source(b);
	return strong_id || a->proto == PROTO_TCP;
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

/*
 * One run of sightings with one key, order[start..end): each sighting joins
 * the group of the newest earlier one it is another sighting of (group[i] is
 * the position of the group's first sighting, last[] of its last), and each
 * group keeps one.
 */
static void mark_run(struct case_model *cm, const int32_t *order, int32_t *group, int32_t *last,
		     size_t start, size_t end, bool keep_last)
{
	const struct request *items = cm->requests.items;
	for (size_t i = start; i < end; i++) {
		const struct request *b = &items[order[i]];
		group[i] = (int32_t)i;
		size_t stop = i - start > LOOK_BACK ? i - LOOK_BACK : start;
		for (size_t j = i; j > stop; j--) {
			const struct request *a = &items[order[j - 1]];
			if (b->ts_ns - a->ts_ns > OTHER_INTERFACE_WINDOW_NS)
				break;
			if (same_packet(a, b)) {
				group[i] = group[j - 1];
				break;
			}
		}
		last[group[i]] = (int32_t)i;
	}
	for (size_t i = start; i < end; i++) {
		int32_t first = group[i];
		int32_t kept = keep_last ? last[first] : first;
		if ((int32_t)i != kept)
			link_sighting(cm, order[kept], order[i]);
	}
}

int duplicates_mark(struct case_model *cm, uint32_t capture, bool keep_last)
{
	size_t n = 0;
	for (size_t i = 0; i < cm->requests.len; i++)
		n += cm->requests.items[i].capture == capture;
	if (n < 2)
		return 0;
	int32_t *order = malloc(n * sizeof *order);
	int32_t *group = malloc(n * sizeof *group);
	int32_t *last = malloc(n * sizeof *last);
	if (!order || !group || !last) {
		free(order);
		free(group);
		free(last);
		return -1;
	}
	size_t k = 0;
	for (size_t i = 0; i < cm->requests.len; i++)
		if (cm->requests.items[i].capture == capture)
			order[k++] = (int32_t)i;
	sort_items = cm->requests.items;
	qsort(order, n, sizeof *order, compare_for_sort);

	size_t start = 0;
	for (size_t i = 1; i <= n; i++) {
		if (i < n && compare_packet(&cm->requests.items[order[i - 1]],
					    &cm->requests.items[order[i]]) == 0)
			continue;
		if (i - start > 1)
			mark_run(cm, order, group, last, start, i, keep_last);
		start = i;
	}
	free(order);
	free(group);
	free(last);
	return 0;
}
