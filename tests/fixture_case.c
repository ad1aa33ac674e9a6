#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture_case.h"

/* 2024-03-14T09:26:53.123456789Z: when the guest capture starts. */
static const int64_t base_ns = 1710408413123456789;
static const int64_t ms = 1000000;

enum { TCP_PROBES = 15, ICMP_PROBES = 15, PROBES_PER_TTL = 3 };

static void *must(void *p)
{
	if (!p)
		abort();
	return p;
}

static struct ip_addr addr(const char *text)
{
	struct ip_addr a;
	if (!ip_addr_parse(text, &a))
		abort();
	return a;
}

static void set_text(char *dst, size_t size, const char *text)
{
	snprintf(dst, size, "%s", text);
}

static void add_captures(struct case_model *cm)
{
	struct capture *guest = &cm->captures[0];
	guest->path = must(strdup("/srv/cases/INC-4711/guest.pcap"));
	guest->name = must(strdup("guest.pcap"));
	guest->side = SIDE_GUEST;
	set_text(guest->sha256_hex, sizeof guest->sha256_hex,
		 "5f0c6a1e8b2d47a9c3e1f6b8d0a2c4e6f8a0b2c4d6e8f0a1b3c5d7e9f1a3b5c7");
	guest->file_bytes = 9312;
	guest->format = "pcap";
	guest->linktype = LINKTYPE_ETHERNET;
	guest->snaplen = 262144;
	guest->packets = 64;
	guest->ip_packets = 60;
	guest->interesting = 57;
	guest->first_ts_ns = base_ns;
	guest->last_ts_ns = base_ns + 4180 * ms + 987;

	struct capture *host = &cm->captures[1];
	host->path = must(strdup("/srv/cases/INC-4711/host.pcapng"));
	host->name = must(strdup("host.pcapng"));
	host->side = SIDE_HOST;
	set_text(host->sha256_hex, sizeof host->sha256_hex,
		 "a9d8c7b6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8");
	host->file_bytes = 7424;
	host->format = "pcapng";
	host->linktype = LINKTYPE_LINUX_SLL;
	host->snaplen = 96;
	host->packets = 40;
	host->ip_packets = 40;
	host->interesting = 30;
	host->first_ts_ns = base_ns - 2 * ms;
	host->last_ts_ns = base_ns + 1502 * ms;
	host->cut_short = true;
	set_text(host->warning, sizeof host->warning,
		 "truncated dump file; tried to read 74 captured bytes, only got 30");
	host->anomaly_counts[ANOMALY_FRAME_TRUNCATED_BY_SNAPLEN] = 2;
	host->anomaly_counts[ANOMALY_TCP_TRUNCATED] = 1;
	host->anomalous_packets = 2;

	cm->n_captures = 2;
}

static struct request *add_request(struct case_model *cm, uint32_t capture, uint64_t frame,
				   int64_t ts_ns, enum trace_protocol proto, uint8_t ttl,
				   int32_t trace)
{
	struct request *r = must(VEC_PUSH(&cm->requests));
	r->capture = capture;
	r->frame = frame;
	r->ts_ns = ts_ns;
	r->src = addr("10.0.2.100");
	r->dst = addr("203.0.113.10");
	r->proto = proto;
	r->ttl = ttl;
	r->trace = trace;
	r->reply = -1;
	r->counterpart = -1;
	return r;
}

static struct reply *add_reply(struct case_model *cm, uint32_t capture, uint64_t frame,
			       int64_t ts_ns, const char *from, uint8_t ttl, enum reply_kind kind,
			       int32_t request)
{
	struct reply *r = must(VEC_PUSH(&cm->replies));
	r->capture = capture;
	r->frame = frame;
	r->ts_ns = ts_ns;
	r->src = addr(from);
	r->dst = addr("10.0.2.100");
	r->ttl = ttl;
	r->kind = kind;
	r->request = request;
	r->counterpart = -1;
	return r;
}

/* Guest SYNs answered by slirp's SYN-ACKs, and the host's copies at TTL 64. */
static void add_tcp_packets(struct case_model *cm)
{
	for (int i = 0; i < TCP_PROBES; i++) {
		int64_t sent = base_ns + 180 * ms + i * 2 * ms;
		int64_t rtt = 23 * ms + 412000 + i * 13000;
		uint8_t ttl = (uint8_t)(1 + i / PROBES_PER_TTL);

		int32_t guest_req = (int32_t)cm->requests.len;
		struct request *syn =
			add_request(cm, 0, FIXTURE_TCP_PROBE_FRAME(i), sent, PROTO_TCP, ttl, 0);
		syn->sport = (uint16_t)(45001 + i);
		syn->dport = 80;
		syn->seq = 0x1000u * (uint32_t)(i + 1);
		syn->ip_id = (uint32_t)(31000 + i);
		syn->ip_len = 60;
		syn->answered = true;

		int32_t host_req = (int32_t)cm->requests.len;
		struct request *copy = add_request(cm, 1, FIXTURE_HOST_SYN_FRAME(i), sent - 1834512,
						   PROTO_TCP, 64, 0);
		copy->sport = (uint16_t)(52001 + i);
		copy->dport = 80;
		copy->counterpart = guest_req;
		cm->requests.items[guest_req].counterpart = host_req;

		int32_t reply = (int32_t)cm->replies.len;
		struct reply *synack = add_reply(cm, 0, FIXTURE_TCP_REPLY_FRAME(i), sent + rtt,
						 "203.0.113.10", 64, REPLY_SYN_ACK, guest_req);
		synack->sport = 80;
		synack->dport = (uint16_t)(45001 + i);
		synack->ack = 0x1000u * (uint32_t)(i + 1) + 1;
		synack->method = MATCH_TCP_ACK;
		synack->rtt_ns = rtt;
		cm->requests.items[guest_req].reply = reply;

		struct reply *host_synack = add_reply(cm, 1, FIXTURE_HOST_SYNACK_FRAME(i),
						      sent + rtt - 1834512 - 200000,
						      "203.0.113.10", 51, REPLY_SYN_ACK, host_req);
		host_synack->method = MATCH_TCP_ACK;
		host_synack->counterpart = reply;
		cm->replies.items[reply].counterpart = (int32_t)cm->replies.len - 1;
	}
}

struct icmp_hop_plan {
	const char *from; /* NULL: silent */
	enum reply_kind kind;
	uint8_t reply_ttl;
	int64_t rtt_ns;
};

static const struct icmp_hop_plan icmp_plan[5] = {
	{"192.0.2.1", REPLY_TIME_EXCEEDED, 64, 1201000},
	{"198.18.1.2", REPLY_TIME_EXCEEDED, 63, 5873000},
	{"198.18.2.2", REPLY_TIME_EXCEEDED, 62, 11042000},
	{NULL, REPLY_TIME_EXCEEDED, 0, 0},
	{"203.0.113.10", REPLY_ECHO_REPLY, 60, 23517000},
};

/* First guest frame of the ICMP probes at each TTL (frames 33..59). */
static const uint64_t icmp_first_frame[5] = {33, 39, 45, 51, 54};

static void add_icmp_packets(struct case_model *cm)
{
	for (int i = 0; i < ICMP_PROBES; i++) {
		const struct icmp_hop_plan *plan = &icmp_plan[i / PROBES_PER_TTL];
		int n = i % PROBES_PER_TTL;
		bool silent = plan->from == NULL;
		/* silent probes follow each other; answered ones alternate with their answer */
		uint64_t frame = icmp_first_frame[i / PROBES_PER_TTL] +
				 (uint64_t)(silent ? n : 2 * n);
		int64_t sent = base_ns + 2100 * ms + i * 50 * ms;

		int32_t req = (int32_t)cm->requests.len;
		struct request *echo = add_request(cm, 0, frame, sent, PROTO_ICMP,
						   (uint8_t)(1 + i / PROBES_PER_TTL), 1);
		echo->echo_id = 0x2b1c;
		echo->echo_seq = (uint16_t)(1 + i);
		echo->ip_id = (uint32_t)(41000 + i);
		echo->ip_len = 84;
		if (silent)
			continue;
		echo->answered = true;
		int64_t rtt = plan->rtt_ns + n * 37000;
		struct reply *r = add_reply(cm, 0, frame + 1, sent + rtt, plan->from,
					    plan->reply_ttl, plan->kind, req);
		r->rtt_ns = rtt;
		r->echo_id = 0x2b1c;
		r->echo_seq = (uint16_t)(1 + i);
		if (plan->kind == REPLY_TIME_EXCEEDED) {
			r->icmp_type = 11;
			r->quoted = true;
			r->quoted_ttl = 1;
			r->quoted_len = 28;
			r->quoted_src = addr("10.0.2.100");
			r->quoted_dst = addr("203.0.113.10");
			r->quoted_proto = IPPROTO_NUM_ICMP;
			r->quoted_echo_id = 0x2b1c;
			r->quoted_echo_seq = (uint16_t)(1 + i);
			r->quoted_echo_known = true;
			r->method = MATCH_QUOTE_EXACT;
		} else {
			r->method = MATCH_ECHO_ID_SEQ;
		}
		cm->requests.items[req].reply = (int32_t)cm->replies.len - 1;
	}
}

/* The request and reply indexes of a trace's first probe at ttl, or -1. */
static int32_t first_request(const struct case_model *cm, int32_t trace, uint8_t ttl)
{
	for (size_t i = 0; i < cm->requests.len; i++) {
		const struct request *r = &cm->requests.items[i];
		if (r->capture == 0 && r->trace == trace && r->ttl == ttl)
			return (int32_t)i;
	}
	return -1;
}

static struct hop *add_hop(struct case_model *cm, struct trace *t, int32_t trace, uint8_t ttl,
			   const char *from)
{
	struct hop *h = must(VEC_PUSH(&t->hops));
	h->ttl = ttl;
	h->probes = PROBES_PER_TTL;
	h->request = first_request(cm, trace, ttl);
	h->reply = -1;
	if (h->request >= 0)
		h->probe_frame = cm->requests.items[h->request].frame;
	if (!from)
		return h;
	h->addr = addr(from);
	h->answers = PROBES_PER_TTL;
	h->reply = cm->requests.items[h->request].reply;
	const struct reply *r = &cm->replies.items[h->reply];
	h->kind = r->kind;
	h->reply_ttl = r->ttl;
	h->quoted_ttl = r->quoted_ttl;
	h->rtt_ns = r->rtt_ns;
	h->reply_frame = r->frame;
	return h;
}

static struct trace *new_trace(struct case_model *cm, enum trace_protocol proto)
{
	struct trace *t = must(VEC_PUSH(&cm->traces));
	VEC_INIT(&t->hops, 255);
	t->capture = 0;
	t->proto = proto;
	t->src = addr("10.0.2.100");
	t->dst = addr("203.0.113.10");
	t->reset_ttl = t->egress_ttl = t->ingress_ttl = t->true_distance = -1;
	return t;
}

static void add_tcp_trace(struct case_model *cm)
{
	struct trace *t = new_trace(cm, PROTO_TCP);
	t->dport = 80;
	t->first_ts_ns = base_ns + 180 * ms;
	t->last_ts_ns = base_ns + 180 * ms + 28 * ms + 23 * ms + 594000;
	t->probes = TCP_PROBES;
	t->answered = TCP_PROBES;
	t->max_ttl = 5;
	t->reached_ttl = 1;
	struct hop *h = add_hop(cm, t, 0, 1, "203.0.113.10");
	h->is_destination = true;

	t->verdict = VERDICT_TTL_RESET;
	t->direction = DIRECTION_BOTH;
	t->reset_ttl = 64;
	t->egress_ttl = 64;
	t->ingress_ttl = 64;
	t->true_distance = 5;
	t->confidence = "certain";
	set_text(t->reason, sizeof t->reason,
		 "203.0.113.10 answered the SYN sent with TTL 1 (frame 3) with a SYN-ACK at "
		 "TTL 64, and every SYN sent with TTL 1 to 5 left the host with TTL 64.");
}

static void add_icmp_trace(struct case_model *cm)
{
	struct trace *t = new_trace(cm, PROTO_ICMP);
	t->first_ts_ns = base_ns + 2100 * ms;
	t->last_ts_ns = base_ns + 2100 * ms + 14 * 50 * ms + 23517000 + 2 * 37000;
	t->probes = ICMP_PROBES;
	t->answered = 12;
	t->max_ttl = 5;
	t->reached_ttl = 5;
	for (int i = 0; i < 5; i++) {
		struct hop *h = add_hop(cm, t, 1, (uint8_t)(i + 1), icmp_plan[i].from);
		h->is_destination = i == 4;
	}
	t->verdict = VERDICT_NO_TTL_RESET;
	t->true_distance = 5;
	t->confidence = "strong";
	set_text(t->reason, sizeof t->reason,
		 "Routers answered TTL 1 to 3 in order with time-exceeded messages quoting TTL 1, "
		 "and 203.0.113.10 answered first at TTL 5.");
}

static struct finding *add_finding(struct case_model *cm, enum finding_kind kind, int32_t trace,
				   const char *text)
{
	struct finding *f = must(VEC_PUSH(&cm->findings));
	f->kind = kind;
	f->trace = trace;
	set_text(f->text, sizeof f->text, text);
	VEC_INIT(&f->evidence, 64);
	return f;
}

static void add_evidence(struct finding *f, uint32_t capture, uint64_t frame, const char *role)
{
	struct evidence *e = must(VEC_PUSH(&f->evidence));
	e->capture = capture;
	e->frame = frame;
	e->role = role;
}

static void add_findings(struct case_model *cm)
{
	struct finding *f = add_finding(cm, FINDING_EGRESS_TTL_CONSTANT, 0,
					"The 15 SYNs the guest sent with TTL 1 to 5 all left the "
					"host with TTL 64.");
	add_evidence(f, 0, FIXTURE_TCP_PROBE_FRAME(0), "probe");
	add_evidence(f, 1, FIXTURE_HOST_SYN_FRAME(0), "host copy");
	add_evidence(f, 0, FIXTURE_TCP_PROBE_FRAME(12), "probe");
	add_evidence(f, 1, FIXTURE_HOST_SYN_FRAME(12), "host copy");

	f = add_finding(cm, FINDING_INGRESS_TTL_REWRITTEN, -1,
			"The SYN-ACKs from 203.0.113.10 reached the host with TTL 51 and the "
			"guest with TTL 64.");
	add_evidence(f, 1, FIXTURE_HOST_SYNACK_FRAME(0), "host reply");
	add_evidence(f, 0, FIXTURE_TCP_REPLY_FRAME(0), "reply");

	f = add_finding(cm, FINDING_EARLY_DESTINATION_ANSWER, 0,
			"203.0.113.10 answered the TTL 1 SYN (frame 3) with a SYN-ACK (frame 4), "
			"although the ICMP trace shows 4 routers before it.");
	add_evidence(f, 0, FIXTURE_TCP_PROBE_FRAME(0), "probe");
	add_evidence(f, 0, FIXTURE_TCP_REPLY_FRAME(0), "reply");

	f = add_finding(cm, FINDING_PATH_VISIBLE, 1,
			"Routers 192.0.2.1, 198.18.1.2 and 198.18.2.2 answered TTL 1 to 3 in "
			"order, each quoting TTL 1; 203.0.113.10 answered at TTL 5.");
	add_evidence(f, 0, 34, "reply");
	add_evidence(f, 0, 40, "reply");
	add_evidence(f, 0, 46, "reply");
	add_evidence(f, 0, 55, "reply");
}

void fixture_case_build(struct case_model *cm)
{
	case_init(cm);
	add_captures(cm);
	add_tcp_packets(cm);
	add_icmp_packets(cm);
	add_tcp_trace(cm);
	add_icmp_trace(cm);
	add_findings(cm);

	cm->correlated = true;
	cm->clock_offset_ns = -1834512;
	cm->correlated_requests = TCP_PROBES;

	cm->verdict = VERDICT_TTL_RESET;
	set_text(cm->summary, sizeof cm->summary, FIXTURE_SUMMARY);
	set_text(cm->remedy, sizeof cm->remedy, FIXTURE_REMEDY);
}

static void replace_string(char **field, const char *text)
{
	free(*field);
	*field = must(strdup(text));
}

void fixture_case_build_hostile(struct case_model *cm)
{
	fixture_case_build(cm);
	replace_string(&cm->captures[0].name, FIXTURE_HOSTILE_GUEST_NAME);
	replace_string(&cm->captures[1].name, FIXTURE_HOSTILE_HOST_NAME);
	replace_string(&cm->captures[1].path, FIXTURE_HOSTILE_HOST_PATH);
	set_text(cm->captures[1].warning, sizeof cm->captures[1].warning, FIXTURE_HOSTILE_WARNING);
	set_text(cm->traces.items[0].reason, sizeof cm->traces.items[0].reason,
		 FIXTURE_HOSTILE_REASON);
	set_text(cm->findings.items[0].text, sizeof cm->findings.items[0].text,
		 FIXTURE_HOSTILE_FINDING);
}
