#include <stdlib.h>
#include <string.h>

#include "analyzer/pairing.h"

enum {
	INITIAL_BUCKETS = 1024,
	INITIAL_PLACES = 64,
	/* A hostile capture can send a million requests with one tuple; a reply
	 * looks at the newest ones only. Real tools never reuse a tuple this often. */
	MAX_CANDIDATES = 256,
};

/* What identifies a request and what a reply quotes or mirrors of it. */
struct flow_key {
	uint8_t family, proto;
	uint8_t src[16], dst[16];
	uint16_t a, b; /* ports, or echo id and sequence */
};

static uint64_t hash_key(const struct flow_key *k)
{
	/* FNV-1a over the fields; enough to spread tuples that differ in a port. */
	uint64_t h = 1469598103934665603ull;
	const uint8_t *bytes[] = { &k->family, &k->proto, k->src, k->dst };
	const size_t lens[] = { 1, 1, 16, 16 };
	for (int f = 0; f < 4; f++)
		for (size_t i = 0; i < lens[f]; i++)
			h = (h ^ bytes[f][i]) * 1099511628211ull;
	uint16_t ports[2] = { k->a, k->b };
	for (int i = 0; i < 2; i++) {
		h = (h ^ (ports[i] & 0xff)) * 1099511628211ull;
		h = (h ^ (uint8_t)(ports[i] >> 8)) * 1099511628211ull;
	}
	return h ^ (h >> 29);
}

static bool key_equal(const struct flow_key *x, const struct flow_key *y)
{
	return memcmp(x, y, sizeof *x) == 0;
}

static uint8_t proto_number(enum trace_protocol p, uint8_t family)
{
	switch (p) {
	case PROTO_TCP:
		return IPPROTO_NUM_TCP;
	case PROTO_UDP:
		return IPPROTO_NUM_UDP;
	case PROTO_ICMP:
		break;
	}
	return family == 6 ? IPPROTO_NUM_ICMPV6 : IPPROTO_NUM_ICMP;
}

static struct flow_key make_key(const struct ip_addr *src, const struct ip_addr *dst, uint8_t proto,
				uint16_t a, uint16_t b)
{
	struct flow_key k;
	memset(&k, 0, sizeof k);
	k.family = src->family;
	k.proto = proto;
	memcpy(k.src, src->b, 16);
	memcpy(k.dst, dst->b, 16);
	k.a = a;
	k.b = b;
	return k;
}

static struct flow_key request_key(const struct request *q)
{
	uint8_t proto = proto_number(q->proto, q->src.family);
	if (q->proto == PROTO_ICMP)
		return make_key(&q->src, &q->dst, proto, q->echo_id, q->echo_seq);
	return make_key(&q->src, &q->dst, proto, q->sport, q->dport);
}

static int rebuild(struct pairing_index *ix, const struct case_model *cm, size_t buckets)
{
	int32_t *heads = malloc(buckets * sizeof *heads);
	if (!heads)
		return -1;
	for (size_t i = 0; i < buckets; i++)
		heads[i] = -1;
	free(ix->heads);
	ix->heads = heads;
	ix->mask = buckets - 1;
	/* Re-chain oldest first so that each bucket again lists the newest first. */
	for (size_t i = 0; i < ix->next_cap; i++) {
		if (ix->next[i] == -2)
			continue; /* not indexed (another capture's request) */
		struct flow_key k = request_key(&cm->requests.items[i]);
		size_t b = hash_key(&k) & ix->mask;
		ix->next[i] = ix->heads[b];
		ix->heads[b] = (int32_t)i;
	}
	return 0;
}

static size_t place_slot(const struct ip_addr *places, size_t mask, const struct ip_addr *addr)
{
	uint64_t h = 1469598103934665603ull;
	h = (h ^ addr->family) * 1099511628211ull;
	for (int i = 0; i < 16; i++)
		h = (h ^ addr->b[i]) * 1099511628211ull;
	size_t i = (size_t)(h ^ (h >> 29)) & mask;
	while (places[i].family && !ip_addr_equal(&places[i], addr))
		i = (i + 1) & mask;
	return i;
}

static int note_place(struct pairing_index *ix, const struct ip_addr *addr)
{
	if (ix->places_count + 1 > (ix->places_mask + 1) / 2) {
		size_t cap = (ix->places_mask + 1) * 2;
		struct ip_addr *grown = calloc(cap, sizeof *grown);
		if (!grown)
			return -1;
		for (size_t i = 0; i <= ix->places_mask; i++)
			if (ix->places[i].family)
				grown[place_slot(grown, cap - 1, &ix->places[i])] = ix->places[i];
		free(ix->places);
		ix->places = grown;
		ix->places_mask = cap - 1;
	}
	size_t i = place_slot(ix->places, ix->places_mask, addr);
	if (!ix->places[i].family) {
		ix->places[i] = *addr;
		ix->places_count++;
	}
	return 0;
}

bool pairing_place_seen(const struct pairing_index *ix, const struct ip_addr *addr)
{
	return addr->family && ix->places[place_slot(ix->places, ix->places_mask, addr)].family;
}

int pairing_init(struct pairing_index *ix)
{
	memset(ix, 0, sizeof *ix);
	ix->heads = malloc(INITIAL_BUCKETS * sizeof *ix->heads);
	if (!ix->heads)
		return -1;
	for (size_t i = 0; i < INITIAL_BUCKETS; i++)
		ix->heads[i] = -1;
	ix->mask = INITIAL_BUCKETS - 1;
	ix->places = calloc(INITIAL_PLACES, sizeof *ix->places);
	if (!ix->places) {
		free(ix->heads);
		return -1;
	}
	ix->places_mask = INITIAL_PLACES - 1;
	return 0;
}

void pairing_free(struct pairing_index *ix)
{
	free(ix->heads);
	free(ix->next);
	free(ix->places);
	memset(ix, 0, sizeof *ix);
}

int pairing_add(struct pairing_index *ix, const struct case_model *cm, int32_t request)
{
	size_t want = (size_t)request + 1;
	if (want > ix->next_cap) {
		size_t cap = ix->next_cap ? ix->next_cap : 1024;
		while (cap < want)
			cap *= 2;
		int32_t *next = realloc(ix->next, cap * sizeof *next);
		if (!next)
			return -1;
		for (size_t i = ix->next_cap; i < cap; i++)
			next[i] = -2;
		ix->next = next;
		ix->next_cap = cap;
	}
	if (ix->count + 1 > (ix->mask + 1) / 4 * 3) {
		if (rebuild(ix, cm, (ix->mask + 1) * 2) != 0)
			return -1;
	}
	struct flow_key k = request_key(&cm->requests.items[request]);
	size_t b = hash_key(&k) & ix->mask;
	ix->next[request] = ix->heads[b];
	ix->heads[b] = request;
	ix->count++;
	return note_place(ix, &cm->requests.items[request].dst);
}

/* How well a candidate request fits the reply; higher is better, negative is no match. */
typedef int (*fit_fn)(const struct request *q, const struct reply *r, enum match_method *method);

static uint16_t swap16(uint32_t v)
{
	return (uint16_t)((v & 0xff) << 8 | (v >> 8 & 0xff));
}

/*
 * The VirtualBox NAT has been seen quoting the IP ID (and total length) with
 * its bytes swapped: still the same probe, and the swap is evidence of the NAT.
 */
static bool ip_id_byte_swapped(const struct request *q, const struct reply *r)
{
	return q->src.family == 4 && q->ip_id != r->quoted_ip_id && q->ip_id == swap16(r->quoted_ip_id);
}

/*
 * The quote holds the transport checksum the probe was sent with. Paris
 * traceroute's probes share their ports (and, from Linux, IP ID 0) and differ
 * in it alone; among probes that fit a quote equally, one with another
 * checksum is another probe. One whose checksum is not known (offloaded, on
 * the sender's own interface) is not: AlexHff_minirouter/tracert.pcapng holds
 * each probe so and again with its checksum on a second interface, and each
 * sighting keeps the answer seen on its own interface, with its own clock.
 */
static bool quoted_checksum_agrees(const struct request *q, const struct reply *r)
{
	return q->checksum_known && r->quoted_checksum_known &&
	       q->checksum % 0xffffu == r->quoted_checksum % 0xffffu;
}

static bool quoted_checksum_disagrees(const struct request *q, const struct reply *r)
{
	return q->checksum_known && r->quoted_checksum_known && !quoted_checksum_agrees(q, r);
}

static int fit_quote(const struct request *q, const struct reply *r, enum match_method *method)
{
	bool id_agrees = q->src.family == 4 ? q->ip_id == r->quoted_ip_id || ip_id_byte_swapped(q, r)
					    : true;
	bool seq_agrees = q->proto != PROTO_TCP || !r->quoted_seq_known || q->seq == r->quoted_seq;
	if (!seq_agrees)
		return -1;
	*method = id_agrees ? MATCH_QUOTE_EXACT : MATCH_QUOTE_PORTS;
	return (id_agrees ? 2 : 1) * 2 + !quoted_checksum_disagrees(q, r);
}

static int fit_tcp_ack(const struct request *q, const struct reply *r, enum match_method *method)
{
	if (r->ack != q->seq + 1u)
		return -1;
	*method = MATCH_TCP_ACK;
	return 1;
}

static int fit_echo(const struct request *q, const struct reply *r, enum match_method *method)
{
	(void)q;
	(void)r;
	*method = MATCH_ECHO_ID_SEQ;
	return 1;
}

/* Echo probes that all carry one id and sequence: only the IP ID tells them apart. */
static int fit_quoted_echo(const struct request *q, const struct reply *r, enum match_method *method)
{
	bool id_agrees = q->src.family == 4 && q->ip_id == r->quoted_ip_id;
	*method = id_agrees ? MATCH_QUOTE_EXACT : MATCH_QUOTE_PORTS;
	return (id_agrees ? 2 : 1) * 2 + !quoted_checksum_disagrees(q, r);
}

/*
 * A router's time exceeded quotes the probe with TTL 1 or 0, slirp's forged
 * one with the TTL the guest sent, the VirtualBox NAT's with one less: never
 * more than the probe was sent with, so a request sent with less is not the
 * one it answers. Other errors may quote more: a NAT that resets the TTL on
 * the way out makes the destination's port unreachable quote 61 for a probe
 * the guest sent with TTL 2 (samples/lab/nat-network-v4).
 */
static bool quotes_more_ttl_than_sent(const struct request *q, const struct reply *r)
{
	return r->kind == REPLY_TIME_EXCEEDED && r->icmp_code == 0 && r->quoted && q->ttl < r->quoted_ttl;
}

/* Stamped no later than the reply, give or take the clocks of one capture. */
static bool sent_in_time(const struct request *q, const struct reply *r)
{
	return q->ts_ns <= r->ts_ns || q->ts_ns - r->ts_ns <= PAIRING_CLOCK_SLACK_NS;
}

/*
 * Among requests that fit equally well: one not answered yet, then one
 * stamped before the reply rather than within the slack after it; the
 * newest-first walks keep the newest of those that remain.
 */
static int preference(const struct request *q, const struct reply *r)
{
	return (q->answered ? 0 : 2) + (q->ts_ns <= r->ts_ns ? 1 : 0);
}

static void link_pair(struct case_model *cm, struct request *q, int32_t reply, int32_t request,
		      enum match_method method)
{
	struct reply *r = &cm->replies.items[reply];
	r->request = request;
	r->method = method;
	/* Within the slack the reply may be stamped first: the round trip was too
	 * short for the capture's clocks to order, and 0 is the closest to it. */
	r->rtt_ns = r->ts_ns > q->ts_ns ? r->ts_ns - q->ts_ns : 0;
	if (!q->answered) {
		q->answered = true;
		q->reply = reply;
	}
}

static void link_best(const struct pairing_index *ix, struct case_model *cm, int32_t reply,
		      const struct flow_key *k, fit_fn fit)
{
	struct reply *r = &cm->replies.items[reply];
	int32_t best = -1;
	int best_score = -1;
	enum match_method best_method = MATCH_NONE;
	int seen = 0;
	for (int32_t i = ix->heads[hash_key(k) & ix->mask]; i >= 0 && seen < MAX_CANDIDATES;
	     i = ix->next[i]) {
		const struct request *q = &cm->requests.items[i];
		struct flow_key qk = request_key(q);
		if (!key_equal(&qk, k) || q->capture != r->capture)
			continue;
		/* Counted before the time test: requests stamped after the reply cost the
		 * walk as much as the others, and a capture can hold any number of them. */
		seen++;
		if (!sent_in_time(q, r) || quotes_more_ttl_than_sent(q, r))
			continue;
		enum match_method method = MATCH_NONE;
		int score = fit(q, r, &method);
		if (score < 0)
			continue;
		score = score * 4 + preference(q, r);
		if (score > best_score) {
			best = i;
			best_score = score;
			best_method = method;
		}
	}
	if (best < 0)
		return;
	if (fit == fit_quoted_echo && seen > 1 && best_method == MATCH_QUOTE_EXACT)
		best_method = MATCH_QUOTE_IP_ID;
	struct request *q = &cm->requests.items[best];
	if (ip_id_byte_swapped(q, r) ||
	    (r->quoted_ip_len != q->ip_len && r->quoted_ip_len == swap16(q->ip_len)))
		anomaly_add(&r->anomalies, ANOMALY_QUOTE_FIELDS_BYTE_SWAPPED);
	link_pair(cm, q, reply, best, best_method);
}

static void match(const struct pairing_index *ix, struct case_model *cm, int32_t reply)
{
	struct reply *r = &cm->replies.items[reply];
	struct flow_key k;
	switch (r->kind) {
	case REPLY_SYN_ACK:
	case REPLY_RST:
		k = make_key(&r->dst, &r->src, IPPROTO_NUM_TCP, r->dport, r->sport);
		link_best(ix, cm, reply, &k, fit_tcp_ack);
		break;
	case REPLY_ECHO_REPLY:
		k = make_key(&r->dst, &r->src, r->src.family == 6 ? IPPROTO_NUM_ICMPV6 : IPPROTO_NUM_ICMP,
			     r->echo_id, r->echo_seq);
		link_best(ix, cm, reply, &k, fit_echo);
		break;
	case REPLY_TIME_EXCEEDED:
	case REPLY_UNREACHABLE:
	case REPLY_OTHER_ERROR:
		if (r->quoted_proto == IPPROTO_NUM_ICMP || r->quoted_proto == IPPROTO_NUM_ICMPV6) {
			k = make_key(&r->quoted_src, &r->quoted_dst, r->quoted_proto, r->quoted_echo_id,
				     r->quoted_echo_seq);
			link_best(ix, cm, reply, &k, fit_quoted_echo);
		} else {
			k = make_key(&r->quoted_src, &r->quoted_dst, r->quoted_proto, r->quoted_sport,
				     r->quoted_dport);
			link_best(ix, cm, reply, &k, fit_quote);
		}
		break;
	}
}

int pairing_match(struct pairing_index *ix, struct case_model *cm, int32_t reply)
{
	const struct reply *r = &cm->replies.items[reply];
	if (reply_kind_is_error(r->kind) && r->quoted && r->quoted_dst.family &&
	    note_place(ix, &r->quoted_dst) != 0)
		return -1;
	match(ix, cm, reply);
	return 0;
}

/* What pairing_match can look up: any answer but an error whose quote stops before the identifiers. */
static bool pairable(const struct reply *r)
{
	return !reply_kind_is_error(r->kind) ||
	       (r->quoted && (r->quoted_ports_known || r->quoted_echo_known));
}

void pairing_match_late(const struct pairing_index *ix, struct case_model *cm, uint32_t capture)
{
	for (size_t i = 0; i < cm->replies.len; i++) {
		const struct reply *r = &cm->replies.items[i];
		if (r->capture == capture && r->request < 0 && pairable(r))
			match(ix, cm, (int32_t)i);
	}
}

/* A router answers within a round trip, traceroute waits 5 s at most: a
 * quote naming its probe by less than the identifiers is not believed later. */
#define REWRITTEN_QUOTE_WINDOW_NS ((int64_t)10 * 1000 * 1000 * 1000)

/*
 * What the fallback below pairs: errors of the capture still unpaired whose
 * quote names the addresses. Either the quote stops after the IPv4 header
 * (RFC 792 asks for 8 more bytes; some routers send none), or its echo id or
 * source port names no probe: a NAT translated the quote back wrongly, or
 * not at all (FIELD-NOTES: "a NAT that rewrites the quoted echo id but not the
 * checksum").
 */
static bool leftover_error(const struct reply *r, uint32_t capture)
{
	if (r->capture != capture || r->request >= 0 || !r->quoted || !reply_kind_is_error(r->kind) ||
	    !r->quoted_dst.family || r->quoted_src.family != r->quoted_dst.family)
		return false;
	if (r->quoted_ports_known || r->quoted_echo_known)
		return true;
	return r->quoted_src.family == 4; /* header only: the IPv4 ID is all there is */
}

/*
 * Requests ordered by (family, destination, source, protocol number, time,
 * frame) for the binary searches below. The sort and the searches compare
 * through one function: a quote names the protocol by its number, so the
 * requests must be ordered by that number too.
 */
static const struct request *by_flow_requests;

/* -1, 0, 1 as the request's key is below, equal to or above the given one (time aside). */
static int compare_flow_key(const struct request *q, const struct ip_addr *dst,
			    const struct ip_addr *src, uint8_t proto)
{
	int c = ip_addr_compare(&q->dst, dst);
	if (!c)
		c = ip_addr_compare(&q->src, src);
	uint8_t own = proto_number(q->proto, q->src.family);
	if (!c && own != proto)
		c = own < proto ? -1 : 1;
	return c;
}

static int compare_by_flow(const void *a, const void *b)
{
	const struct request *x = &by_flow_requests[*(const int32_t *)a];
	const struct request *y = &by_flow_requests[*(const int32_t *)b];
	int c = compare_flow_key(x, &y->dst, &y->src, proto_number(y->proto, y->src.family));
	if (!c && x->ts_ns != y->ts_ns)
		c = x->ts_ns < y->ts_ns ? -1 : 1;
	if (!c && x->frame != y->frame)
		c = x->frame < y->frame ? -1 : 1;
	return c;
}

static int compare_to_quote(const struct request *q, const struct reply *r)
{
	return compare_flow_key(q, &r->quoted_dst, &r->quoted_src, r->quoted_proto);
}

/*
 * How strongly a leftover error names the request, or -1. A header-only quote
 * has the IPv4 ID (whatever it is) as its one identifier. A quote with a
 * rewritten echo id or source port must agree in every other identifier it
 * holds (echo sequence; destination port and TCP sequence), come within
 * REWRITTEN_QUOTE_WINDOW_NS, and hold something the sender chose for this
 * packet: a nonzero IPv4 ID, or the very checksum the probe was sent with
 * (computed over the identifier before the rewrite, which no other packet's
 * is). An IP ID of 0 (Linux's DF probes) names none, a NAT that rewrote the
 * echo id may have rewritten the IP ID too, a checksum updated for the
 * rewrite names only the payload, which a traceroute sends alike in every
 * probe (another tool's, or another guest's, to the same port), and some
 * tools send one TCP sequence number in every probe.
 */
static int fit_leftover(const struct request *q, const struct reply *r, enum match_method *method,
			enum anomaly *rewritten)
{
	if (!r->quoted_ports_known && !r->quoted_echo_known) {
		if (q->ip_id != r->quoted_ip_id)
			return -1;
		*method = MATCH_QUOTE_HEADER;
		return 1;
	}
	if (r->ts_ns - q->ts_ns > REWRITTEN_QUOTE_WINDOW_NS)
		return -1;
	uint16_t sent, quoted;
	int strength = 0;
	if (r->quoted_echo_known) {
		if (q->proto != PROTO_ICMP || q->echo_seq != r->quoted_echo_seq)
			return -1;
		sent = q->echo_id;
		quoted = r->quoted_echo_id;
		*rewritten = ANOMALY_QUOTE_ECHO_ID_REWRITTEN;
	} else {
		if (q->proto == PROTO_ICMP || q->dport != r->quoted_dport)
			return -1;
		if (q->proto == PROTO_TCP && r->quoted_seq_known && q->seq != r->quoted_seq)
			return -1;
		sent = q->sport;
		quoted = r->quoted_sport;
		*rewritten = ANOMALY_QUOTE_SOURCE_PORT_REWRITTEN;
	}
	if (sent == quoted)
		return -1; /* not rewritten: the lookup by identifiers turned it down */
	if (q->src.family == 4 && q->ip_id != 0 && q->ip_id == r->quoted_ip_id)
		strength += 2;
	if (quoted_checksum_agrees(q, r))
		strength += 2;
	if (strength == 0)
		return -1;
	*method = MATCH_QUOTE_REWRITTEN;
	return strength;
}

int pairing_match_leftover_errors(struct case_model *cm, uint32_t capture)
{
	size_t pending = 0, n = 0;
	for (size_t i = 0; i < cm->replies.len; i++)
		pending += leftover_error(&cm->replies.items[i], capture);
	if (pending == 0)
		return 0;
	for (size_t i = 0; i < cm->requests.len; i++)
		n += cm->requests.items[i].capture == capture;
	if (n == 0)
		return 0;
	int32_t *order = malloc(n * sizeof *order);
	if (!order)
		return -1;
	size_t k = 0;
	for (size_t i = 0; i < cm->requests.len; i++)
		if (cm->requests.items[i].capture == capture)
			order[k++] = (int32_t)i;
	by_flow_requests = cm->requests.items;
	qsort(order, n, sizeof *order, compare_by_flow);

	for (size_t i = 0; i < cm->replies.len; i++) {
		struct reply *r = &cm->replies.items[i];
		if (!leftover_error(r, capture))
			continue;
		/* The requests with the quote's key, up to the last one stamped in time for the reply. */
		size_t lo = 0, hi = n;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (compare_to_quote(&cm->requests.items[order[mid]], r) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		size_t end = n;
		for (size_t a = lo; a < end;) {
			size_t mid = a + (end - a) / 2;
			const struct request *q = &cm->requests.items[order[mid]];
			if (compare_to_quote(q, r) == 0 && sent_in_time(q, r))
				a = mid + 1;
			else
				end = mid;
		}
		int32_t best = -1;
		int best_score = -1;
		enum match_method best_method = MATCH_NONE;
		enum anomaly best_anomaly = ANOMALY_COUNT;
		for (size_t p = end, seen = 0; p > lo && seen < MAX_CANDIDATES; p--, seen++) {
			const struct request *q = &cm->requests.items[order[p - 1]];
			if (quotes_more_ttl_than_sent(q, r))
				continue;
			enum match_method method = MATCH_NONE;
			enum anomaly rewritten = ANOMALY_COUNT;
			int score = fit_leftover(q, r, &method, &rewritten);
			if (score < 0)
				continue;
			score = score * 4 + preference(q, r);
			if (score > best_score) {
				best = order[p - 1];
				best_score = score;
				best_method = method;
				best_anomaly = rewritten;
			}
		}
		if (best < 0)
			continue;
		if (best_method == MATCH_QUOTE_REWRITTEN) {
			anomaly_add(&r->anomalies, best_anomaly);
			struct capture *c = &cm->captures[capture];
			if (r->anomalies == ((anomaly_set)1 << best_anomaly))
				c->anomalous_packets++; /* the frame showed no other anomaly */
			c->anomaly_counts[best_anomaly]++;
		}
		link_pair(cm, &cm->requests.items[best], (int32_t)i, best, best_method);
	}
	free(order);
	return 0;
}
