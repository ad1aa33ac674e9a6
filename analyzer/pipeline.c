#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyzer/capture.h"
#include "analyzer/progress.h"
#include "analyzer/pipeline.h"
#include "dissectors/dissect.h"

enum {
	/* Probes of a path trace start at TTL 1 and rarely go past 30 (the default
	 * maximum of traceroute and mtr); ordinary traffic leaves with 64 or more. */
	PROBE_TTL_MAX = 32,
	/* Classic UDP traceroute's port range: 33434 plus hops times probes. */
	TRACEROUTE_PORT_FIRST = 33434,
	TRACEROUTE_PORT_LAST = 33434 + 255 * 6,
};

static bool traceroute_port(uint16_t port)
{
	return port >= TRACEROUTE_PORT_FIRST && port <= TRACEROUTE_PORT_LAST;
}

/* The index of a program name, adding it the first time; 0 when there is none or no room. */
static uint16_t intern_process(struct case_model *cm, const char *name)
{
	if (!name[0])
		return 0;
	for (size_t i = 0; i < cm->processes.len; i++)
		if (!strcmp(cm->processes.items[i].name, name))
			return (uint16_t)(i + 1);
	struct process_name *p = VEC_PUSH(&cm->processes);
	if (!p)
		return 0;
	snprintf(p->name, sizeof p->name, "%s", name);
	return (uint16_t)cm->processes.len;
}

/*
 * Whether the transport checksum a request was captured with is the one it
 * went out with. A capture on the sending host sees TCP and UDP before a NIC
 * with checksum offload fills the checksum in: the field then holds the sum of
 * the pseudo header alone (Linux, and the offload contract of most NICs), as in
 * AlexHff_minirouter/tracert.pcapng's interface 0, while interface 1 holds the
 * real one of the same packets. A real checksum equal to that sum is a 1 in
 * 65536 chance, and costs only the evidence.
 */
static bool checksum_known(const struct packet *p)
{
	const struct transport *l4 = &p->l4;
	if (!l4->checksum_present)
		return false;
	if (l4->kind != L4_TCP && l4->kind != L4_UDP)
		return true;
	if (l4->kind == L4_UDP && p->ip.version == 4 && l4->checksum == 0)
		return false;
	uint32_t length = p->ip.total_len > p->ip.header_len
				  ? (uint32_t)(p->ip.total_len - p->ip.header_len)
				  : 0;
	uint32_t pseudo =
		ip_addr_word_sum(&p->ip.src) + ip_addr_word_sum(&p->ip.dst) + p->ip.proto + length;
	return l4->checksum % 0xffffu != pseudo % 0xffffu;
}

static struct request *new_request(struct case_model *cm, uint32_t capture, const struct packet *p,
				   enum trace_protocol proto)
{
	struct request *q = VEC_PUSH(&cm->requests);
	if (!q)
		return NULL;
	q->capture = capture;
	q->interface = p->interface;
	q->frame = p->frame;
	q->ts_ns = p->ts_ns;
	q->src = p->ip.src;
	q->dst = p->ip.dst;
	q->proto = proto;
	q->ttl = p->ip.ttl;
	q->ip_id = p->ip.ip_id;
	q->ip_len = p->ip.total_len;
	q->checksum = p->l4.checksum;
	q->checksum_known = checksum_known(p);
	q->trace = q->reply = q->counterpart = q->same_as = -1;
	q->process = intern_process(cm, p->process);
	if (p->has_mac) {
		q->has_mac = true;
		memcpy(q->src_mac, p->src_mac, 6);
		memcpy(q->dst_mac, p->dst_mac, 6);
	}
	return q;
}

static struct reply *new_reply(struct case_model *cm, uint32_t capture, const struct packet *p,
			       enum reply_kind kind)
{
	struct reply *r = VEC_PUSH(&cm->replies);
	if (!r)
		return NULL;
	r->capture = capture;
	r->interface = p->interface;
	r->frame = p->frame;
	r->ts_ns = p->ts_ns;
	r->src = p->ip.src;
	r->dst = p->ip.dst;
	r->ttl = p->ip.ttl;
	r->kind = kind;
	r->icmp_type = p->l4.icmp_type;
	r->icmp_code = p->l4.icmp_code;
	r->request = r->counterpart = -1;
	r->anomalies = p->anomalies;
	return r;
}

static enum reply_kind error_kind(const struct packet *p)
{
	if (packet_is_time_exceeded(p))
		return REPLY_TIME_EXCEEDED;
	/* "Fragmentation needed" (tracepath's path MTU probing; IPv6's "packet too big")
	 * comes from the router before the link too narrow, whatever the probe's TTL: no
	 * answer of the hop at that TTL. */
	if ((p->l4.kind == L4_ICMP && p->l4.icmp_type == 3 && p->l4.icmp_code == 4) ||
	    (p->l4.kind == L4_ICMPV6 && p->l4.icmp_type == 2))
		return REPLY_OTHER_ERROR;
	bool unreachable = (p->l4.kind == L4_ICMP && p->l4.icmp_type == 3) ||
			   (p->l4.kind == L4_ICMPV6 && p->l4.icmp_type == 1);
	return unreachable ? REPLY_UNREACHABLE : REPLY_OTHER_ERROR;
}

static int copy_quote(struct case_model *cm, struct reply *r, const struct quote *q)
{
	r->mpls_first = (uint32_t)cm->mpls.len;
	for (uint8_t i = 0; i < q->mpls_count; i++) {
		struct mpls_entry *m = VEC_PUSH(&cm->mpls);
		if (!m)
			return -1;
		*m = q->mpls[i];
		r->mpls_count++;
	}
	r->quoted = true;
	r->quoted_ttl = q->ip.ttl;
	r->quoted_len = q->quoted_len;
	r->quoted_ip_id = q->ip.ip_id;
	r->quoted_ip_len = q->ip.total_len;
	r->quoted_src = q->ip.src;
	r->quoted_dst = q->ip.dst;
	r->quoted_proto = q->ip.proto;
	if (q->l4.kind == L4_TCP || q->l4.kind == L4_UDP) {
		r->quoted_sport = q->l4.sport;
		r->quoted_dport = q->l4.dport;
		r->quoted_ports_known = q->l4.ports_present;
		r->quoted_seq = q->l4.seq;
		r->quoted_seq_known = q->l4.kind == L4_TCP && q->l4.bytes >= 8;
	} else {
		r->quoted_echo_id = q->l4.icmp_id;
		r->quoted_echo_seq = q->l4.icmp_seq;
		r->quoted_echo_known = q->l4.complete;
	}
	r->quoted_checksum = q->l4.checksum;
	r->quoted_checksum_known = q->l4.checksum_present &&
				   !(q->l4.kind == L4_UDP && q->ip.version == 4 && q->l4.checksum == 0);
	return 0;
}

/* A quote is usable for pairing once it names both addresses and the transport's identifiers. */
static bool quote_usable(const struct quote *q)
{
	if (!q->present || q->ip.dst.family == 0)
		return false;
	switch (q->l4.kind) {
	case L4_TCP:
	case L4_UDP:
		return q->l4.ports_present;
	case L4_ICMP:
	case L4_ICMPV6:
		return q->l4.complete;
	case L4_NONE:
		break;
	}
	return false;
}

static bool is_echo_request(const struct packet *p)
{
	return (p->l4.kind == L4_ICMP && p->l4.icmp_type == 8) ||
	       (p->l4.kind == L4_ICMPV6 && p->l4.icmp_type == 128);
}

static bool is_echo_reply(const struct packet *p)
{
	return (p->l4.kind == L4_ICMP && p->l4.icmp_type == 0) ||
	       (p->l4.kind == L4_ICMPV6 && p->l4.icmp_type == 129);
}

static int compare_target(const struct target_key *x, const struct target_key *y)
{
	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if (x->dst.family != y->dst.family)
		return x->dst.family < y->dst.family ? -1 : 1;
	int c = memcmp(x->dst.b, y->dst.b, 16);
	if (c || x->proto != PROTO_TCP)
		return c;
	return (x->dport > y->dport) - (x->dport < y->dport);
}

static int compare_target_void(const void *a, const void *b)
{
	return compare_target(a, b);
}

static bool wanted_request(const struct interest *interest, const struct packet *p,
			   enum trace_protocol proto)
{
	if (p->ip.ttl <= PROBE_TTL_MAX)
		return true;
	/* Without targets to go by, ordinary UDP (DNS, QUIC) is told from probes by the port. */
	if (!interest)
		return proto != PROTO_UDP || traceroute_port(p->l4.dport);
	/* A host copy may carry any TTL and, for UDP, any port (traceroute -U uses 53,
	 * tracepath 44444 up, -p any): its destination is what says it is a copy. */
	struct target_key key = { proto, p->ip.dst, proto == PROTO_TCP ? p->l4.dport : 0 };
	return interest->n_targets &&
	       bsearch(&key, interest->targets, interest->n_targets, sizeof key, compare_target_void);
}

int pipeline_finish_capture(struct case_model *cm, uint32_t capture, const struct pairing_index *ix)
{
	pairing_match_late(ix, cm, capture);
	return pairing_match_leftover_errors(cm, capture);
}

int pipeline_take_packet(struct case_model *cm, uint32_t capture, const struct packet *p,
			 struct pairing_index *ix)
{
	return pipeline_take_packet_of_interest(cm, capture, p, ix, NULL);
}

/*
 * The first sighting of each neighbour. ARP repeats itself (requests every few
 * seconds, the same few hosts), so looking back a little finds nearly every
 * repeat; a full array drops later hints, never the run.
 */
static void note_neighbor(struct case_model *cm, uint32_t capture, const struct packet *p)
{
	const struct neighbor *n = &p->neighbor;
	size_t look_back = cm->neighbors.len < 8 ? cm->neighbors.len : 8;
	for (size_t i = cm->neighbors.len - look_back; i < cm->neighbors.len; i++) {
		const struct neighbor_sighting *o = &cm->neighbors.items[i];
		if (o->capture == capture && ip_addr_equal(&o->addr, &n->addr) &&
		    o->mac_known == n->mac_known && !memcmp(o->mac, n->mac, 6))
			return;
	}
	struct neighbor_sighting *s = VEC_PUSH(&cm->neighbors);
	if (!s)
		return;
	s->capture = capture;
	s->frame = p->frame;
	s->addr = n->addr;
	s->mac_known = n->mac_known;
	memcpy(s->mac, n->mac, 6);
}

int pipeline_take_packet_of_interest(struct case_model *cm, uint32_t capture, const struct packet *p,
				     struct pairing_index *ix, const struct interest *interest)
{
	if (p->neighbor.present)
		note_neighbor(cm, capture, p);
	if (p->ip.version == 0 || p->ip.dst.family == 0 || p->ip.later_fragment)
		return 0;
	const struct transport *l4 = &p->l4;
	struct request *q = NULL;
	struct reply *r = NULL;
	bool pairable = true;

	if (l4->kind == L4_TCP && l4->complete) {
		uint8_t f = l4->tcp_flags;
		if ((f & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN) {
			if (!wanted_request(interest, p, PROTO_TCP))
				return 0;
			if (!(q = new_request(cm, capture, p, PROTO_TCP)))
				return -1;
			q->sport = l4->sport;
			q->dport = l4->dport;
			q->seq = l4->seq;
		} else if ((f & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK) || (f & TCP_RST)) {
			if (!(r = new_reply(cm, capture, p, (f & TCP_RST) ? REPLY_RST : REPLY_SYN_ACK)))
				return -1;
			r->sport = l4->sport;
			r->dport = l4->dport;
			r->ack = l4->ack;
		} else {
			return 0;
		}
	} else if (l4->kind == L4_UDP && l4->ports_present) {
		if (!wanted_request(interest, p, PROTO_UDP))
			return 0;
		if (!(q = new_request(cm, capture, p, PROTO_UDP)))
			return -1;
		q->sport = l4->sport;
		q->dport = l4->dport;
	} else if ((l4->kind == L4_ICMP || l4->kind == L4_ICMPV6) && l4->bytes >= 1) {
		if (packet_is_icmp_error(p)) {
			/* Every error is kept, even one whose quote was cut too short to pair:
			 * it still counts as an answer seen, and its truncation is evidence. */
			if (!(r = new_reply(cm, capture, p, error_kind(p))))
				return -1;
			if (p->quote.present && p->quote.ip.dst.family && copy_quote(cm, r, &p->quote) != 0)
				return -1;
			pairable = quote_usable(&p->quote);
		} else if (!l4->complete) {
			return 0;
		} else if (is_echo_request(p)) {
			if (!wanted_request(interest, p, PROTO_ICMP))
				return 0;
			if (!(q = new_request(cm, capture, p, PROTO_ICMP)))
				return -1;
			q->echo_id = l4->icmp_id;
			q->echo_seq = l4->icmp_seq;
		} else if (is_echo_reply(p)) {
			if (!(r = new_reply(cm, capture, p, REPLY_ECHO_REPLY)))
				return -1;
			r->echo_id = l4->icmp_id;
			r->echo_seq = l4->icmp_seq;
		} else {
			return 0;
		}
	} else {
		return 0;
	}

	if (q && pairing_add(ix, cm, (int32_t)(cm->requests.len - 1)) != 0)
		return -1;
	if (r && pairable && pairing_match(ix, cm, (int32_t)(cm->replies.len - 1)) != 0)
		return -1;
	/* A SYN-ACK, RST or echo reply that answers nothing kept is ordinary traffic,
	 * unless the guest traced its source: its probe may come later in the file
	 * or be missing from it. (ICMP errors stay: an error is worth seeing even
	 * when its probe is not there.) */
	if (r && interest && r->request < 0 && !reply_kind_is_error(r->kind) &&
	    !(cm->captures[capture].side == SIDE_GUEST && pairing_place_seen(ix, &r->src))) {
		cm->replies.len--;
		return 0;
	}
	return 1;
}

/* The destinations the guest's traces probe, for the host capture's interest. */
static struct target_key *guest_targets(const struct case_model *cm, size_t *count)
{
	struct target_key *keys = malloc((cm->traces.len ? cm->traces.len : 1) * sizeof *keys);
	if (!keys)
		return NULL;
	size_t n = 0;
	for (size_t i = 0; i < cm->traces.len; i++) {
		const struct trace *t = &cm->traces.items[i];
		if (cm->captures[t->capture].side != SIDE_GUEST)
			continue;
		memset(&keys[n], 0, sizeof keys[n]);
		keys[n].proto = t->proto;
		keys[n].dst = t->dst;
		keys[n].dport = t->proto == PROTO_TCP ? t->dport : 0;
		n++;
	}
	qsort(keys, n, sizeof *keys, compare_target_void);
	*count = n;
	return keys;
}

static void show_progress(struct progress *progress, const struct capture_reader *reader,
			  uint64_t packets)
{
	bool hash_pending;
	progress_tick(progress, capture_bytes_done(reader, &hash_pending), packets);
}

/* The hash may still be running when the reading is done (it is slower): keep the line alive. */
static void wait_for_hash_showing_progress(struct progress *progress,
					   const struct capture_reader *reader, uint64_t packets)
{
	if (!progress->out)
		return; /* capture_close waits without polling */
	bool hash_pending = true;
	while (hash_pending) {
		progress_tick(progress, capture_bytes_done(reader, &hash_pending), packets);
		if (hash_pending)
			nanosleep(&(struct timespec){ .tv_nsec = 20 * 1000 * 1000 }, NULL);
	}
}

static void count_anomalies(struct capture *c, anomaly_set set)
{
	if (!set)
		return;
	c->anomalous_packets++;
	for (int a = 0; a < ANOMALY_COUNT; a++)
		if (anomaly_has(set, (enum anomaly)a))
			c->anomaly_counts[a]++;
}

int pipeline_read_capture(struct case_model *cm, const char *path, enum capture_side side,
			  struct error *err)
{
	return pipeline_read_capture_showing_progress(cm, path, side, NULL, err);
}

int pipeline_read_capture_showing_progress(struct case_model *cm, const char *path,
					   enum capture_side side, FILE *progress_to, struct error *err)
{
	if (cm->n_captures == sizeof cm->captures / sizeof cm->captures[0])
		return error_set(err, EXIT_USAGE, "%s: too many captures for one case", path);
	uint32_t index = cm->n_captures++;
	struct capture *c = &cm->captures[index];
	c->side = side;

	struct capture_reader *reader = capture_open(path, c, err);
	if (!reader)
		return err->code;
	struct pairing_index ix;
	if (pairing_init(&ix) != 0) {
		capture_close(reader);
		return error_set(err, EXIT_INTERNAL, "%s: out of memory", path);
	}

	struct interest interest = { NULL, 0 };
	struct target_key *targets = NULL;
	if (side == SIDE_HOST) {
		targets = guest_targets(cm, &interest.n_targets);
		if (!targets) {
			pairing_free(&ix);
			capture_close(reader);
			return error_set(err, EXIT_INTERNAL, "%s: out of memory", path);
		}
		interest.targets = targets;
	}

	struct progress progress;
	progress_start(&progress, progress_to, c->name, c->file_bytes);
	struct frame f;
	struct packet pkt;
	int rc = 0;
	while (capture_next(reader, &f) == 1) {
		if (c->packets % PROGRESS_TICK_PACKETS == 0)
			show_progress(&progress, reader, c->packets);
		pkt.frame = f.number;
		pkt.ts_ns = f.ts_ns;
		pkt.wirelen = f.wirelen;
		pkt.interface = f.interface;
		dissect_frame(&pkt, f.linktype, f.data, f.caplen);
		if (c->packets == 0)
			c->first_ts_ns = f.ts_ns;
		c->last_ts_ns = f.ts_ns;
		c->packets++;
		if (pkt.ip.version)
			c->ip_packets++;
		count_anomalies(c, pkt.anomalies);
		int kept = pipeline_take_packet_of_interest(cm, index, &pkt, &ix, &interest);
		if (kept < 0) {
			char why[120];
			case_why_full(cm, why, sizeof why);
			rc = error_set(err, EXIT_INTERNAL, "%s: frame %llu: %s", path,
				  (unsigned long long)f.number, why);
			break;
		}
		c->interesting += (uint64_t)kept;
	}
	if (rc == 0 && pipeline_finish_capture(cm, index, &ix) != 0)
		rc = error_set(err, EXIT_INTERNAL, "%s: out of memory while pairing", path);
	wait_for_hash_showing_progress(&progress, reader, c->packets);
	progress_end(&progress);
	free(targets);
	pairing_free(&ix);
	capture_close(reader);
	return rc;
}
