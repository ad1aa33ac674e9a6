/*
 * Path traces, modelled on Linux traceroute (Butskoy 2.1, as recorded in
 * samples/): three probes per TTL, sixteen in flight, the TTL rising until the
 * destination answers (plus what the window had already sent).
 *
 *   TCP  (-T)  SYN to a fixed port, a new source port and a random sequence
 *              number per probe, options mss,sackOK,TS,nop,wscale;
 *   UDP        fixed source port, destination port 33434 + probe index;
 *   ICMP (-I)  echo requests with one identifier, sequence 1, 2, 3...
 *
 * Healthy path to a destination at TTL N: the router at TTL k < N answers
 * with a time exceeded (outer TTL = its initial TTL - (k-1), quoted TTL 1,
 * a quote of 8 bytes or of the whole probe), the destination answers from
 * TTL N on (SYN-ACK or RST, port unreachable, echo reply; outer TTL
 * 64 - (N-1)). A few routers never answer ("*") and a few answers are lost.
 *
 * Through a slirp-like NAT (what libslirp 4.7 does, see samples/README.md):
 * TCP probes become the NAT's own connections, so every probe is answered
 * by a SYN-ACK made by the NAT with TTL 64 from TTL 1 on, and no time
 * exceeded at all; ICMP echo likewise, with replies of TTL 255. UDP keeps
 * its TTL: the NAT's gateway answers TTL 1 itself and relays the routers'
 * errors, all with TTL 255 and quoting the probe as the guest sent it.
 *
 * Every detail of a probe or an answer is a pure function of the trace's
 * seed and the probe's index, so the ground truth is known when the trace
 * starts and the answer can quote a probe sent long before.
 */
#include <stdlib.h>
#include <string.h>

#include "gencap.h"

enum trace_proto { TRACE_TCP, TRACE_UDP, TRACE_ICMP, TRACE_PROTOS };

static const char *const proto_names[TRACE_PROTOS] = { "tcp", "udp", "icmp" };

enum answer { ANSWER_NONE, ANSWER_ROUTER, ANSWER_DEST };

enum {
	PROBES_PER_TTL = 3,
	WINDOW = 16,             /* traceroute's probes in flight (-N 16) */
	MAX_PROBES = 3 * 30,     /* traceroute's default maximum TTL is 30 */
	UDP_FIRST_PORT = 33434,
	PROBE_PAYLOAD = 32,      /* 60-byte probes, as traceroute sends by default */
	LOSS_PERCENT = 2,
	CLOSED_PORT_PERCENT = 10,
	PAIR_TRIES = 16,
	TAG_TRACE = 0x7472,
};

#define PROBE_SPACING_NS ((int64_t)50 * 1000)
#define HOP_RTT_NS ((int64_t)700 * 1000)
/* The lab ran its protocols 2 s apart; closer here, so that a session ends soon after it
 * starts and the end of the file is not a pile of traces with nothing around them. */
#define SESSION_GAP_NS ((int64_t)100 * 1000 * 1000)

/* Fields of the hashes a trace draws from its seed. */
enum field {
	F_JITTER = 1,
	F_RTT,
	F_LOSS,
	F_SPORT,
	F_SEQ,
	F_TSVAL,
	F_DEST_ISN,
	F_IP_ID,
	F_RST_DELAY,
};

struct trace {
	uint64_t number, seed;
	enum trace_proto proto;
	struct addr guest, gateway, dest;
	unsigned site, dest_index;
	uint8_t path_ttl; /* the TTL that reaches the destination */
	bool nat, closed_port, in_use;
	uint16_t dport, udp_sport, icmp_id, ip_id_base, probes;
	int64_t start_ns, window_wait_ns;
	uint32_t pending, answers;
	uint64_t first_frame, last_frame;
};

struct traces {
	const struct plan *plan;
	struct rng rng;
	FILE *truth;
	struct trace *slots;
	uint32_t *free_slots;
	size_t n_slots, cap_slots, n_free, active;
	uint64_t next_number;
	uint64_t *pairs; /* open-addressing set of guest/destination pairs already traced (key + 1) */
	size_t pairs_len, pairs_cap;
};

/* ---- One trace's probes, as pure functions ---- */

static uint64_t field(const struct trace *t, enum field f, unsigned i)
{
	return hash3(t->seed, f, i);
}

static uint8_t probe_ttl(unsigned i)
{
	return (uint8_t)(1 + i / PROBES_PER_TTL);
}

static int64_t probe_time(const struct trace *t, unsigned i)
{
	int64_t at = t->start_ns + (int64_t)i * PROBE_SPACING_NS +
		     hash_below(field(t, F_JITTER, i), 20000);
	/* Past the first window, traceroute waits for answers before sending more. */
	return i >= WINDOW ? at + t->window_wait_ns : at;
}

static uint16_t probe_sport(const struct trace *t, unsigned i)
{
	return (uint16_t)(32768 + hash_below(field(t, F_SPORT, i), 28232));
}

static uint32_t probe_seq(const struct trace *t, unsigned i)
{
	return (uint32_t)field(t, F_SEQ, i);
}

static uint32_t probe_tsval(const struct trace *t, unsigned i)
{
	return (uint32_t)field(t, F_TSVAL, 0) + (uint32_t)(probe_time(t, i) / 1000000);
}

static bool through_nat_reset(const struct trace *t)
{
	return t->nat && t->proto != TRACE_UDP;
}

static enum answer probe_answer(const struct traces *tc, const struct trace *t, unsigned i)
{
	uint8_t ttl = probe_ttl(i);
	if (through_nat_reset(t) || ttl >= t->path_ttl)
		return ANSWER_DEST;
	if (plan_router_silent(tc->plan, t->site, t->dest_index, ttl))
		return ANSWER_NONE;
	if (ttl > 1 && hash_below(field(t, F_LOSS, i), 100) < LOSS_PERCENT)
		return ANSWER_NONE;
	return ANSWER_ROUTER;
}

static int64_t answer_time(const struct trace *t, unsigned i, enum answer a)
{
	int64_t jitter = hash_below(field(t, F_RTT, i), 200000);
	uint8_t hops = a == ANSWER_DEST ? t->path_ttl : probe_ttl(i);
	if (t->nat && t->proto == TRACE_UDP && probe_ttl(i) == 1)
		hops = 0; /* the NAT answers TTL 1 itself */
	return probe_time(t, i) + 300000 + hops * HOP_RTT_NS + jitter;
}

static bool guest_resets(const struct trace *t, enum answer a)
{
	/* traceroute's raw SYN has no socket: the guest's kernel answers a SYN-ACK with RST. */
	return t->proto == TRACE_TCP && a == ANSWER_DEST && !t->closed_port;
}

static int64_t rst_time(const struct trace *t, unsigned i, enum answer a)
{
	return answer_time(t, i, a) + 20000 + hash_below(field(t, F_RST_DELAY, i), 20000);
}

/* ---- Packets ---- */

static void probe_payload(uint8_t out[PROBE_PAYLOAD])
{
	for (unsigned k = 0; k < PROBE_PAYLOAD; k++)
		out[k] = (uint8_t)(0x40 + k);
}

static size_t build_probe(const struct trace *t, unsigned i, uint8_t *f)
{
	struct link l;
	plan_link_out(&t->guest, &t->gateway, &l);
	struct ip_spec ip = { .src = &t->guest, .dst = &t->dest, .ttl = probe_ttl(i),
			      .id = (uint16_t)(t->ip_id_base + i) };
	uint8_t payload[PROBE_PAYLOAD];
	probe_payload(payload);
	switch (t->proto) {
	case TRACE_TCP: {
		uint8_t opts[20];
		wire_syn_options(opts, 1460, probe_tsval(t, i), 0, 2);
		struct tcp_spec tcp = { .sport = probe_sport(t, i), .dport = t->dport,
					.seq = probe_seq(t, i), .flags = TCP_SYN, .window = 5840,
					.options = opts, .options_len = sizeof opts };
		return wire_tcp(f, &l, &ip, &tcp);
	}
	case TRACE_UDP:
		return wire_udp(f, &l, &ip, t->udp_sport, (uint16_t)(UDP_FIRST_PORT + i), payload,
				sizeof payload);
	case TRACE_ICMP:
	case TRACE_PROTOS:
		break;
	}
	uint8_t type = t->guest.family == 6 ? 128 : 8;
	return wire_icmp(f, &l, &ip, type, 0, (uint32_t)t->icmp_id << 16 | (i + 1), payload,
			 sizeof payload);
}

/* An ICMP error about probe i: the probe quoted with quoted_ttl, whole or IP header + 8 bytes. */
static size_t build_error(const struct trace *t, unsigned i, const struct addr *from, uint8_t ttl,
			  uint8_t type, uint8_t code, uint8_t quoted_ttl, bool quote_8, uint8_t *f)
{
	uint8_t probe[FRAME_MAX];
	build_probe(t, i, probe);
	size_t ip_len;
	const uint8_t *ip_packet = wire_ip_packet(probe, &ip_len);
	uint8_t quote[FRAME_MAX];
	memcpy(quote, ip_packet, ip_len);
	wire_set_ttl(quote, quoted_ttl);
	size_t quote_len = quote_8 ? 20 + 8 : ip_len;

	struct link l;
	plan_link_in(&t->guest, &t->gateway, &l);
	struct ip_spec ip = { .src = from, .dst = &t->guest, .ttl = ttl, .tos = 0xc0,
			      .id = (uint16_t)field(t, F_IP_ID, i) };
	return wire_icmp(f, &l, &ip, type, code, 0, quote, quote_len);
}

static size_t build_router_answer(const struct traces *tc, const struct trace *t, unsigned i,
				  uint8_t *f)
{
	uint8_t ttl = probe_ttl(i);
	struct addr router;
	plan_router(tc->plan, t->site, t->dest_index, ttl, t->guest.family, &router);
	uint8_t type = t->guest.family == 6 ? 3 : 11;
	if (t->nat) /* relayed or made by the NAT: TTL 255, the probe quoted as the guest sent it */
		return build_error(t, i, &router, 255, type, 0, ttl, false, f);
	uint8_t outer = (uint8_t)(plan_router_initial_ttl(&router) - (ttl - 1));
	return build_error(t, i, &router, outer, type, 0, 1, plan_router_quotes_8(&router), f);
}

static size_t build_syn_ack(const struct trace *t, unsigned i, uint8_t ttl, uint8_t *f)
{
	struct link l;
	plan_link_in(&t->guest, &t->gateway, &l);
	struct ip_spec ip = { .src = &t->dest, .dst = &t->guest, .ttl = ttl };
	struct tcp_spec tcp = { .sport = t->dport, .dport = probe_sport(t, i),
				.ack = probe_seq(t, i) + 1 };
	uint8_t opts[20];
	if (t->nat) {
		/* slirp's own SYN-ACK: ToS 0x08, IP id counting up, ISNs 64001, 128001, ..., MSS only */
		ip.tos = 0x08;
		ip.id = (uint16_t)i;
		const uint8_t mss[] = { 2, 4, 0x05, 0xb4 };
		memcpy(opts, mss, sizeof mss);
		tcp.seq = 64001u + 64000u * i;
		tcp.flags = TCP_SYN | TCP_ACK;
		tcp.window = 65535;
		tcp.options = opts;
		tcp.options_len = sizeof mss;
	} else if (t->closed_port) {
		ip.df = true;
		tcp.flags = TCP_RST | TCP_ACK;
	} else {
		ip.df = true;
		wire_syn_options(opts, 1460, (uint32_t)field(t, F_DEST_ISN, 0) + i, probe_tsval(t, i), 7);
		tcp.seq = (uint32_t)field(t, F_DEST_ISN, i);
		tcp.flags = TCP_SYN | TCP_ACK;
		tcp.window = 65160;
		tcp.options = opts;
		tcp.options_len = sizeof opts;
	}
	return wire_tcp(f, &l, &ip, &tcp);
}

static size_t build_echo_reply(const struct trace *t, unsigned i, uint8_t ttl, uint8_t *f)
{
	struct link l;
	plan_link_in(&t->guest, &t->gateway, &l);
	struct ip_spec ip = { .src = &t->dest, .dst = &t->guest, .ttl = ttl,
			      .id = (uint16_t)field(t, F_IP_ID, i) };
	uint8_t payload[PROBE_PAYLOAD];
	probe_payload(payload);
	uint8_t type = t->guest.family == 6 ? 129 : 0;
	return wire_icmp(f, &l, &ip, type, 0, (uint32_t)t->icmp_id << 16 | (i + 1), payload,
			 sizeof payload);
}

static size_t build_dest_answer(const struct trace *t, unsigned i, uint8_t *f)
{
	uint8_t hops_back = (uint8_t)(t->path_ttl - 1);
	switch (t->proto) {
	case TRACE_TCP:
		return build_syn_ack(t, i, t->nat ? 64 : (uint8_t)(64 - hops_back), f);
	case TRACE_UDP: {
		bool v6 = t->guest.family == 6;
		uint8_t type = v6 ? 1 : 3, code = v6 ? 4 : 3;
		if (t->nat)
			return build_error(t, i, &t->dest, 255, type, code, probe_ttl(i), false, f);
		return build_error(t, i, &t->dest, (uint8_t)(64 - hops_back), type, code,
				   (uint8_t)(probe_ttl(i) - hops_back), false, f);
	}
	case TRACE_ICMP:
	case TRACE_PROTOS:
		break;
	}
	return build_echo_reply(t, i, t->nat ? 255 : (uint8_t)(64 - hops_back), f);
}

static size_t build_guest_rst(const struct trace *t, unsigned i, uint8_t *f)
{
	struct link l;
	plan_link_out(&t->guest, &t->gateway, &l);
	struct ip_spec ip = { .src = &t->guest, .dst = &t->dest, .ttl = 64, .df = true };
	struct tcp_spec tcp = { .sport = probe_sport(t, i), .dport = t->dport,
				.seq = probe_seq(t, i) + 1, .flags = TCP_RST };
	return wire_tcp(f, &l, &ip, &tcp);
}

/* ---- Ground truth ---- */

static const char *expected_verdict(const struct trace *t)
{
	return through_nat_reset(t) ? "ttl-reset" : "no-ttl-reset";
}

/* The hop list a correct analysis shows: TTL 1 up to where the destination answered, "*" for silence. */
static void truth_hops(const struct traces *tc, const struct trace *t, char *out, size_t size)
{
	char text[64];
	size_t used = 0;
	out[0] = '\0';
	uint8_t last = through_nat_reset(t) ? 1 : t->path_ttl;
	for (uint8_t ttl = 1; ttl <= last; ttl++) {
		if (ttl == last) {
			addr_format(&t->dest, text, sizeof text);
		} else {
			bool answered = false;
			for (unsigned i = (unsigned)(ttl - 1) * PROBES_PER_TTL;
			     i < t->probes && probe_ttl(i) == ttl; i++)
				answered = answered || probe_answer(tc, t, i) == ANSWER_ROUTER;
			struct addr router;
			plan_router(tc->plan, t->site, t->dest_index, ttl, t->guest.family, &router);
			if (answered)
				addr_format(&router, text, sizeof text);
			else
				snprintf(text, sizeof text, "*");
		}
		int n = snprintf(out + used, size - used, "%s%s", ttl > 1 ? "," : "", text);
		if (n < 0 || (size_t)n >= size - used)
			break;
		used += (size_t)n;
	}
}

static void write_truth_header(FILE *f)
{
	fputs("trace\tprotocol\tfamily\tsource\tdestination\tdport\tnat\texpected_verdict\thops"
	      "\tprobes\tanswers\tpath_ttl\tfirst_frame\tlast_frame\n",
	      f);
}

static int write_truth(const struct traces *tc, const struct trace *t)
{
	if (!tc->truth)
		return 0;
	char src[64], dst[64], hops[2048], dport[8] = "";
	addr_format(&t->guest, src, sizeof src);
	addr_format(&t->dest, dst, sizeof dst);
	truth_hops(tc, t, hops, sizeof hops);
	if (t->proto == TRACE_TCP)
		snprintf(dport, sizeof dport, "%u", t->dport);
	fprintf(tc->truth, "%llu\t%s\tipv%u\t%s\t%s\t%s\t%s\t%s\t%s\t%u\t%u\t%u\t%llu\t%llu\n",
		(unsigned long long)t->number, proto_names[t->proto], t->guest.family, src, dst,
		dport, t->nat ? "yes" : "no", expected_verdict(t), hops, t->probes, t->answers,
		t->path_ttl, (unsigned long long)t->first_frame, (unsigned long long)t->last_frame);
	return ferror(tc->truth) ? -1 : 0;
}

/* ---- Slots and sessions ---- */

struct traces *traces_new(const struct plan *p, uint64_t seed, FILE *truth)
{
	struct traces *tc = calloc(1, sizeof *tc);
	if (!tc)
		return NULL;
	tc->plan = p;
	tc->rng.state = seed;
	tc->truth = truth;
	if (truth)
		write_truth_header(truth);
	return tc;
}

void traces_free(struct traces *tc)
{
	if (!tc)
		return;
	free(tc->slots);
	free(tc->free_slots);
	free(tc->pairs);
	free(tc);
}

size_t traces_active(const struct traces *tc)
{
	return tc->active;
}

static int32_t alloc_slot(struct traces *tc)
{
	if (tc->n_free)
		return (int32_t)tc->free_slots[--tc->n_free];
	if (tc->n_slots == tc->cap_slots) {
		size_t cap = tc->cap_slots ? 2 * tc->cap_slots : 256;
		struct trace *slots = realloc(tc->slots, cap * sizeof *slots);
		if (!slots)
			return -1;
		tc->slots = slots;
		uint32_t *free_slots = realloc(tc->free_slots, cap * sizeof *free_slots);
		if (!free_slots)
			return -1;
		tc->free_slots = free_slots;
		tc->cap_slots = cap;
	}
	return (int32_t)tc->n_slots++;
}

static int pairs_grow(struct traces *tc)
{
	size_t cap = tc->pairs_cap ? 2 * tc->pairs_cap : 1024;
	uint64_t *pairs = calloc(cap, sizeof *pairs);
	if (!pairs)
		return -1;
	for (size_t i = 0; i < tc->pairs_cap; i++) {
		if (!tc->pairs[i])
			continue;
		size_t k = mix64(tc->pairs[i]) & (cap - 1);
		while (pairs[k])
			k = (k + 1) & (cap - 1);
		pairs[k] = tc->pairs[i];
	}
	free(tc->pairs);
	tc->pairs = pairs;
	tc->pairs_cap = cap;
	return 0;
}

/* Adds the pair; 1 if it was new, 0 if already traced, -1 when out of memory. */
static int pairs_add(struct traces *tc, uint64_t key)
{
	if (2 * (tc->pairs_len + 1) > tc->pairs_cap && pairs_grow(tc) != 0)
		return -1;
	uint64_t stored = key + 1;
	size_t k = mix64(stored) & (tc->pairs_cap - 1);
	while (tc->pairs[k]) {
		if (tc->pairs[k] == stored)
			return 0;
		k = (k + 1) & (tc->pairs_cap - 1);
	}
	tc->pairs[k] = stored;
	tc->pairs_len++;
	return 1;
}

static uint16_t probe_count(const struct trace *t)
{
	if (through_nat_reset(t)) /* one window, and the 17th of the samples half the time */
		return (uint16_t)(WINDOW + (t->seed & 1));
	unsigned n = PROBES_PER_TTL * t->path_ttl + hash_below(t->seed, 10);
	if (n < WINDOW)
		n = WINDOW;
	return (uint16_t)(n > MAX_PROBES ? MAX_PROBES : n);
}

struct session {
	unsigned site, host, dest;
	uint8_t family;
	bool nat;
};

static void fill_trace(struct traces *tc, struct trace *t, const struct session *ss,
		       enum trace_proto proto, int64_t start)
{
	static const uint16_t tcp_ports[] = { 80, 80, 80, 443, 443, 22 };
	memset(t, 0, sizeof *t);
	t->in_use = true;
	t->number = ++tc->next_number;
	t->seed = hash3(tc->plan->seed, TAG_TRACE, t->number);
	t->proto = proto;
	t->site = ss->site;
	t->dest_index = ss->dest;
	t->nat = ss->nat;
	plan_guest(tc->plan, ss->site, ss->host, ss->family, &t->guest);
	plan_gateway(ss->site, ss->family, &t->gateway);
	plan_dest(ss->dest, ss->family, &t->dest);
	t->path_ttl = plan_path_ttl(tc->plan, ss->site, ss->dest);
	uint64_t h = mix64(t->seed);
	t->closed_port = proto == TRACE_TCP && !t->nat && hash_below(h, 100) < CLOSED_PORT_PERCENT;
	t->dport = proto == TRACE_TCP ? tcp_ports[hash_below(h >> 8, 6)] : 0;
	t->udp_sport = (uint16_t)(32768 + hash_below(mix64(h), 28232));
	t->icmp_id = (uint16_t)(0x8000 | (h & 0x7fff)); /* ordinary pings use ids below 0x8000 */
	t->ip_id_base = (uint16_t)(h >> 40);
	t->start_ns = start;
	t->window_wait_ns = 300000 + 2 * HOP_RTT_NS;
	t->probes = probe_count(t);
}

/* Schedules every packet of the trace; returns the time of its last one, or -1. */
static int64_t schedule_trace(struct traces *tc, struct sim *s, uint32_t slot)
{
	struct trace *t = &tc->slots[slot];
	int64_t last = t->start_ns;
	for (unsigned i = 0; i < t->probes; i++) {
		uint64_t param = (uint64_t)slot << 32 | i;
		if (sim_schedule(s, probe_time(t, i), EVENT_TRACE_PROBE, param) != 0)
			return -1;
		t->pending++;
		enum answer a = probe_answer(tc, t, i);
		if (a == ANSWER_NONE)
			continue;
		int64_t at = answer_time(t, i, a);
		if (sim_schedule(s, at, EVENT_TRACE_ANSWER, param) != 0)
			return -1;
		t->pending++;
		last = at > last ? at : last;
		if (guest_resets(t, a)) {
			at = rst_time(t, i, a);
			if (sim_schedule(s, at, EVENT_TRACE_GUEST_RST, param) != 0)
				return -1;
			t->pending++;
			last = at > last ? at : last;
		}
	}
	return last;
}

/* Picks a guest and a destination never traced together before, so every trace is told apart. */
static int pick_session(struct traces *tc, struct session *ss)
{
	const struct plan *p = tc->plan;
	for (int attempt = 0; attempt < PAIR_TRIES; attempt++) {
		ss->site = rng_below(&tc->rng, p->sites);
		ss->host = rng_below(&tc->rng, p->hosts_per_site);
		ss->dest = rng_below(&tc->rng, p->dests);
		int added = pairs_add(tc, (uint64_t)ss->site << 40 | (uint64_t)ss->host << 24 | ss->dest);
		if (added != 0)
			return added;
	}
	return 0;
}

long traces_start_session(struct traces *tc, struct sim *s, int64_t now)
{
	struct session ss;
	int picked = pick_session(tc, &ss);
	if (picked <= 0)
		return picked;
	ss.nat = plan_site_is_nat(tc->plan, ss.site);
	/* slirp's IPv6 is left out: the NAT sites trace over IPv4 only. */
	ss.family = !ss.nat && rng_percent(&tc->rng, tc->plan->v6_percent) ? 6 : 4;
	unsigned count = 1 + rng_below(&tc->rng, 3);
	unsigned first = rng_below(&tc->rng, TRACE_PROTOS);
	int64_t start = now + 1000;
	uint64_t before = s->next_order;
	for (unsigned k = 0; k < count; k++) {
		int32_t slot = alloc_slot(tc);
		if (slot < 0)
			return -1;
		fill_trace(tc, &tc->slots[slot], &ss, (enum trace_proto)((first + k) % TRACE_PROTOS), start);
		int64_t last = schedule_trace(tc, s, (uint32_t)slot);
		if (last < 0)
			return -1;
		tc->active++;
		s->n.traces++;
		s->n.nat_traces += ss.nat;
		s->n.v6_traces += ss.family == 6;
		/* the next protocol's trace follows a little later, as when a person runs them */
		start = last + SESSION_GAP_NS + rng_below(&tc->rng, 200 * 1000 * 1000);
	}
	return (long)(s->next_order - before);
}

int traces_emit(struct traces *tc, struct sim *s, const struct event *e)
{
	uint32_t slot = (uint32_t)(e->param >> 32);
	unsigned i = (unsigned)(e->param & 0xffffffffu);
	struct trace *t = &tc->slots[slot];
	uint8_t *f = writer_frame(s->out);
	size_t len;
	if (e->kind == EVENT_TRACE_PROBE) {
		len = build_probe(t, i, f);
		s->n.probes++;
	} else if (e->kind == EVENT_TRACE_ANSWER) {
		len = probe_answer(tc, t, i) == ANSWER_DEST ? build_dest_answer(t, i, f)
							   : build_router_answer(tc, t, i, f);
		s->n.answers++;
		t->answers++;
	} else {
		len = build_guest_rst(t, i, f);
	}
	uint64_t frame = writer_commit(s->out, e->time_ns, len);
	s->n.trace_packets++;
	if (!t->first_frame)
		t->first_frame = frame;
	t->last_frame = frame;
	if (--t->pending)
		return 0;
	int rc = write_truth(tc, t);
	t->in_use = false;
	tc->free_slots[tc->n_free++] = slot;
	tc->active--;
	return rc;
}
