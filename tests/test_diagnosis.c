/*
 * Trace-level scenarios: packets a router, a destination or a NAT would send,
 * run through the pipeline, the trace builder and the diagnosis, checking the
 * hop list, the verdict and the findings. Addresses are documentation ranges.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analyzer/correlate.h"
#include "analyzer/diagnose.h"
#include "analyzer/duplicates.h"
#include "analyzer/pairing.h"
#include "analyzer/pipeline.h"
#include "analyzer/traces.h"
#include "dissectors/dissect.h"
#include "support.h"
#include "support_model.h"
#include "support_packets.h"

/* Capture 0 is the guest's; capture 1, the host's, is used by the two-sided scenarios. */
struct scenario {
	struct case_model cm;
	struct pairing_index ix[2];
	uint64_t frame[2];
	int64_t ts;
};

static int setup(void **state)
{
	struct scenario *s = test_calloc(1, sizeof *s);
	case_init(&s->cm);
	s->cm.n_captures = 1;
	s->cm.captures[0].name = NULL;
	s->cm.captures[1].side = SIDE_HOST;
	if (pairing_init(&s->ix[0]) != 0 || pairing_init(&s->ix[1]) != 0)
		return -1;
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	struct scenario *s = *state;
	pairing_free(&s->ix[0]);
	pairing_free(&s->ix[1]);
	case_free(&s->cm);
	test_free(s);
	return 0;
}

/* The packet of n bytes, of which the capture kept the first caplen. */
static void feed_cut(struct scenario *s, uint32_t capture, const uint8_t *b, size_t n, size_t caplen)
{
	struct packet p;
	p.frame = ++s->frame[capture];
	s->ts += 1000000; /* 1 ms apart */
	p.ts_ns = s->ts;
	p.wirelen = (uint32_t)n;
	dissect_frame(&p, LINKTYPE_RAW, b, (uint32_t)(caplen < n ? caplen : n));
	s->cm.captures[capture].packets++;
	assert_true(pipeline_take_packet(&s->cm, capture, &p, &s->ix[capture]) >= 0);
}

static void feed_to(struct scenario *s, uint32_t capture, const uint8_t *b, size_t n)
{
	feed_cut(s, capture, b, n, n);
}

static void feed(struct scenario *s, const uint8_t *b, size_t n)
{
	feed_to(s, 0, b, n);
}

/* The same, behind an Ethernet header from `from` to `to`. */
static void feed_ethernet(struct scenario *s, const uint8_t from[6], const uint8_t to[6],
			  const uint8_t *ip, size_t n)
{
	uint8_t frame[256];
	memcpy(frame, to, 6);
	memcpy(frame + 6, from, 6);
	frame[12] = 0x08;
	frame[13] = 0x00;
	memcpy(frame + 14, ip, n);
	struct packet p;
	p.frame = ++s->frame[0];
	s->ts += 1000000;
	p.ts_ns = s->ts;
	p.wirelen = (uint32_t)(n + 14);
	dissect_frame(&p, LINKTYPE_ETHERNET, frame, (uint32_t)(n + 14));
	s->cm.captures[0].packets++;
	assert_true(pipeline_take_packet(&s->cm, 0, &p, &s->ix[0]) >= 0);
}

/* An ARP reply: `ip` is at `mac`, told to `to`. */
static void feed_arp_reply(struct scenario *s, const uint8_t mac[6], const char *ip, const uint8_t to[6])
{
	uint8_t frame[42] = { 0 };
	memcpy(frame, to, 6);
	memcpy(frame + 6, mac, 6);
	static const uint8_t arp_head[] = { 0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x02 };
	memcpy(frame + 12, arp_head, sizeof arp_head);
	memcpy(frame + 22, mac, 6);
	struct ip_addr a;
	assert_true(ip_addr_parse(ip, &a));
	memcpy(frame + 28, a.b, 4);
	memcpy(frame + 32, to, 6);
	struct packet p;
	p.frame = ++s->frame[0];
	s->ts += 1000000;
	p.ts_ns = s->ts;
	p.wirelen = sizeof frame;
	dissect_frame(&p, LINKTYPE_ETHERNET, frame, sizeof frame);
	s->cm.captures[0].packets++;
	assert_true(pipeline_take_packet(&s->cm, 0, &p, &s->ix[0]) >= 0);
}

static void probe(struct scenario *s, const struct probe_spec *p)
{
	uint8_t b[128];
	feed(s, b, build_probe(p, b, sizeof b));
}

/* A probe stamped ts_ns, whatever came before it. */
static void probe_at(struct scenario *s, const struct probe_spec *p, int64_t ts_ns)
{
	s->ts = ts_ns - 1000000;
	probe(s, p);
}

static void router_says(struct scenario *s, const struct probe_spec *p, const char *router, uint8_t ttl,
			uint8_t code)
{
	uint8_t b[128];
	feed(s, b, build_icmp_error(p, router, ttl, 11, code, 1, b, sizeof b));
}

static void destination_answers(struct scenario *s, const struct probe_spec *p, uint8_t ttl)
{
	uint8_t b[128];
	feed(s, b, build_answer(p, ttl, b, sizeof b));
}

static void diagnose(struct scenario *s)
{
	assert_int_equal(pipeline_finish_capture(&s->cm, 0, &s->ix[0]), 0);
	assert_int_equal(traces_build(&s->cm, 0), 0);
	assert_int_equal(traces_rebuild_from_replies(&s->cm, 0), 0);
	assert_int_equal(diagnose_case(&s->cm, 0, -1), 0);
}

/* As analyze_captures does it with a host capture. */
static void diagnose_with_host(struct scenario *s)
{
	s->cm.n_captures = 2;
	assert_int_equal(pipeline_finish_capture(&s->cm, 0, &s->ix[0]), 0);
	assert_int_equal(pipeline_finish_capture(&s->cm, 1, &s->ix[1]), 0);
	assert_int_equal(traces_build(&s->cm, 0), 0);
	assert_int_equal(traces_rebuild_from_replies(&s->cm, 0), 0);
	assert_int_equal(duplicates_mark(&s->cm, 1, true), 0);
	assert_int_equal(correlate_captures(&s->cm, 0, 1), 0);
	assert_int_equal(diagnose_case(&s->cm, 0, 1), 0);
}

static struct probe_spec tcp_probe(uint8_t ttl)
{
	struct probe_spec p = { "192.0.2.10", "203.0.113.10", ttl, (uint16_t)(0x1000 + ttl),
				(uint16_t)(40000 + ttl), 80, 0x10000000u + ttl, 6 };
	return p;
}

/* A TCP trace from src: the gateway answers TTL 1, the destination every TTL up to max_ttl. */
static void gateway_then_destination(struct scenario *s, const char *src, const char *dst, const char *gateway,
				     uint8_t answer_ttl, uint8_t max_ttl)
{
	for (uint8_t ttl = 1; ttl <= max_ttl; ttl++) {
		struct probe_spec p = tcp_probe(ttl);
		p.src = src;
		p.dst = dst;
		probe(s, &p);
		if (ttl == 1)
			router_says(s, &p, gateway, 64, 0);
		else
			destination_answers(s, &p, answer_ttl);
	}
}

static void assert_hops(const struct trace *t, const char *want)
{
	char got[512];
	assert_string_equal(hops_text(t, got, sizeof got), want);
}

static bool has_finding(const struct case_model *cm, enum finding_kind kind)
{
	for (size_t i = 0; i < cm->findings.len; i++)
		if (cm->findings.items[i].kind == kind)
			return true;
	return false;
}

/*
 * Two UDP traces whose first probes carry one timestamp (a coarse clock):
 * reported in file order, whatever order the grouping put them in (by
 * destination, so 203.0.113.10 before 203.0.113.20) and however qsort
 * treats equals.
 */
static void traces_starting_together_keep_file_order(void **state)
{
	struct scenario *s = *state;
	for (uint8_t ttl = 1; ttl <= 2; ttl++) {
		struct probe_spec far = { "192.0.2.10", "203.0.113.20", ttl, (uint16_t)(0x100 + ttl),
					  45000, (uint16_t)(33434 + ttl), 0, 17 };
		struct probe_spec near = far;
		near.dst = "203.0.113.10";
		near.sport = 45001;
		probe_at(s, &far, 1000000000 + ttl * 10000000);
		probe_at(s, &near, 1000000000 + ttl * 10000000);
	}
	diagnose(s);
	assert_int_equal(s->cm.traces.len, 2);
	char a[64];
	ip_addr_format(&s->cm.traces.items[0].dst, a, sizeof a);
	assert_string_equal(a, "203.0.113.20");
	ip_addr_format(&s->cm.traces.items[1].dst, a, sizeof a);
	assert_string_equal(a, "203.0.113.10");
	/* Requests follow their trace through the renumbering. */
	assert_int_equal(s->cm.requests.items[0].trace, 0);
	assert_int_equal(s->cm.requests.items[1].trace, 1);
}

/*
 * traceroute -f 3: TTLs 1 and 2 were never probed, so they are no hops (a
 * silent hop is a TTL probed without answer); TTL 5 was skipped too. The
 * destination, at TTL 6, is still found.
 */
static void hops_only_for_ttls_probed(void **state)
{
	struct scenario *s = *state;
	const char *routers[] = { "", "", "198.51.100.3", "198.51.100.4" };
	for (uint8_t ttl = 3; ttl <= 6; ttl++) {
		if (ttl == 5)
			continue;
		struct probe_spec p = tcp_probe(ttl);
		probe(s, &p);
		if (ttl < 5)
			router_says(s, &p, routers[ttl - 1], (uint8_t)(65 - ttl), 0);
		else
			destination_answers(s, &p, 59);
	}
	diagnose(s);
	const struct trace *t = &s->cm.traces.items[0];
	assert_hops(t, "198.51.100.3,198.51.100.4,203.0.113.10");
	assert_int_equal(t->hops.items[0].ttl, 3);
	assert_int_equal(t->hops.items[2].ttl, 6);
	assert_int_equal(t->reached_ttl, 6);
	assert_null(trace_hop_at(t, 5));
	assert_ptr_equal(trace_hop_at(t, 6), &t->hops.items[2]);
	assert_int_equal(t->verdict, VERDICT_NO_TTL_RESET);
	assert_false(has_finding(&s->cm, FINDING_DESTINATION_NOT_REACHED));
}

static void healthy_path(void **state)
{
	struct scenario *s = *state;
	struct probe_spec p1 = tcp_probe(1), p2 = tcp_probe(2), p3 = tcp_probe(3);
	probe(s, &p1);
	router_says(s, &p1, "192.0.2.1", 64, 0);
	probe(s, &p2);
	router_says(s, &p2, "198.51.100.1", 254, 0);
	probe(s, &p3);
	destination_answers(s, &p3, 62);
	diagnose(s);
	assert_int_equal(s->cm.traces.len, 1);
	const struct trace *t = &s->cm.traces.items[0];
	assert_hops(t, "192.0.2.1,198.51.100.1,203.0.113.10");
	assert_int_equal(t->verdict, VERDICT_NO_TTL_RESET);
	assert_int_equal(t->reset_ttl, -1);
	assert_int_equal(s->cm.verdict, VERDICT_NO_TTL_RESET);
	assert_true(has_finding(&s->cm, FINDING_PATH_VISIBLE));
	assert_non_null(strstr(s->cm.summary, "show the real path, with routers answering hop by hop."));
}

/* VirtualBox "NAT" mode: TTL 1 expires at the gateway, every later probe reaches the destination. */
static void nat_mode_pattern(void **state)
{
	struct scenario *s = *state;
	gateway_then_destination(s, "10.0.2.15", "203.0.113.10", "10.0.2.2", 64, 3);
	diagnose(s);
	const struct trace *t = &s->cm.traces.items[0];
	assert_hops(t, "10.0.2.2,203.0.113.10");
	assert_int_equal(t->verdict, VERDICT_TTL_RESET);
	assert_string_equal(t->confidence, "probable");
	assert_int_equal(t->ingress_ttl, 64);
	assert_true(has_finding(&s->cm, FINDING_SINGLE_GATEWAY_THEN_DESTINATION));
}

/*
 * "NAT Network": an off-link destination answers the very first probe, with
 * TTL 255. The probes were re-originated on the way out, and an answer from
 * off the link still carrying its initial TTL was re-originated on the way in.
 */
static void nat_network_pattern(void **state)
{
	struct scenario *s = *state;
	for (uint8_t ttl = 1; ttl <= 3; ttl++) {
		struct probe_spec p = tcp_probe(ttl);
		p.src = "10.0.2.15";
		probe(s, &p);
		destination_answers(s, &p, 255);
	}
	diagnose(s);
	const struct trace *t = &s->cm.traces.items[0];
	assert_hops(t, "203.0.113.10");
	assert_int_equal(t->verdict, VERDICT_TTL_RESET);
	assert_string_equal(t->confidence, "probable");
	assert_int_equal(t->direction, DIRECTION_BOTH);
	assert_int_equal(t->ingress_ttl, 255);
	assert_int_equal(t->reset_ttl, -1);
}

/*
 * A destination in another /24 of the guest's /16 answers TTL 1 with TTL 64.
 * The capture holds its ARP reply and the probes went to that MAC: it is on
 * the link, the one-hop path is right. Probes sent to the gateway's MAC while
 * the destination's ARP is there prove nothing: still the off-link guess.
 */
static void destination_on_the_link(void **state)
{
	struct scenario *s = *state;
	const uint8_t guest[6] = { 0x02, 0, 0, 0, 0, 0x05 };
	const uint8_t dest[6] = { 0x02, 0, 0, 0, 0, 0x04 };
	const uint8_t gateway[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	feed_arp_reply(s, dest, "203.0.113.10", guest);
	for (uint8_t ttl = 1; ttl <= 2; ttl++) {
		struct probe_spec p = tcp_probe(ttl);
		uint8_t b[128];
		feed_ethernet(s, guest, dest, b, build_probe(&p, b, sizeof b));
		feed_ethernet(s, dest, guest, b, build_answer(&p, 64, b, sizeof b));
	}
	/* The same destination on another port, traced through the gateway's MAC. */
	for (uint8_t ttl = 1; ttl <= 2; ttl++) {
		struct probe_spec p = tcp_probe(ttl);
		p.dport = 443;
		uint8_t b[128];
		feed_ethernet(s, guest, gateway, b, build_probe(&p, b, sizeof b));
		feed_ethernet(s, gateway, guest, b, build_answer(&p, 64, b, sizeof b));
	}
	diagnose(s);
	assert_int_equal(s->cm.traces.len, 2);
	const struct trace *direct = &s->cm.traces.items[0], *routed = &s->cm.traces.items[1];
	assert_int_equal(direct->dport, 80);
	assert_hops(direct, "203.0.113.10");
	assert_int_equal(direct->verdict, VERDICT_NO_TTL_RESET);
	assert_non_null(strstr(direct->reason, "on the guest's own link"));
	assert_true(has_finding(&s->cm, FINDING_DESTINATION_ON_LINK));
	assert_int_equal(routed->verdict, VERDICT_TTL_RESET);
	assert_string_equal(routed->confidence, "probable");
	for (size_t i = 0; i < s->cm.findings.len; i++)
		if (s->cm.findings.items[i].kind == FINDING_DESTINATION_ON_LINK) {
			assert_int_equal(s->cm.findings.items[i].trace, 0);
			assert_int_equal(s->cm.findings.items[i].evidence.items[0].frame, 1);
		}
}

static struct probe_spec udp_probe(uint8_t ttl)
{
	struct probe_spec p = tcp_probe(ttl);
	p.proto = 17;
	p.sport = 45000;
	p.dport = (uint16_t)(33433 + ttl);
	return p;
}

/*
 * Two NATs stacked (Docker Desktop on WSL2): two real gateways answer, then
 * the destination answers TTL 3 with a port unreachable quoting TTL 60. A TTL
 * never grows on the way: the probe was re-originated, whatever the routers show.
 */
static void quote_above_the_ttl_sent(void **state)
{
	struct scenario *s = *state;
	const char *gateways[] = { "172.17.0.1", "172.28.80.1" };
	uint8_t b[128];
	for (uint8_t ttl = 1; ttl <= 3; ttl++) {
		struct probe_spec p = udp_probe(ttl);
		probe(s, &p);
		if (ttl < 3)
			router_says(s, &p, gateways[ttl - 1], (uint8_t)(65 - ttl), 0);
		else
			feed(s, b, build_icmp_error(&p, "203.0.113.10", 60, 3, 3, 60, b, sizeof b));
	}
	diagnose(s);
	const struct trace *t = &s->cm.traces.items[0];
	assert_hops(t, "172.17.0.1,172.28.80.1,203.0.113.10");
	assert_true(has_finding(&s->cm, FINDING_QUOTED_TTL_ABOVE_SENT));
	assert_int_equal(t->verdict, VERDICT_TTL_RESET);
	assert_string_equal(t->confidence, "strong");
}

/*
 * A TCP trace cut short by a classic NAT (the gateway, then the destination at
 * TTL 2) and a healthy ICMP trace to the same destination (routers at TTL 1 to
 * 4, the echo reply at TTL 5): the ICMP trace tells the TCP trace's distance,
 * never the other way round. The healthy trace was once given the reset one's 2.
 */
static void a_shorter_trace_is_no_witness(void **state)
{
	struct scenario *s = *state;
	uint8_t b[128];
	for (uint8_t ttl = 1; ttl <= 3; ttl++) {
		struct probe_spec p = tcp_probe(ttl);
		probe(s, &p);
		if (ttl == 1)
			router_says(s, &p, "192.0.2.1", 64, 0);
		else
			destination_answers(s, &p, 64);
	}
	s->ts += 2000000000; /* the ICMP run, two seconds later */
	const char *routers[] = { "192.0.2.1", "198.51.100.1", "198.51.100.2", "198.51.100.3" };
	for (uint8_t ttl = 1; ttl <= 5; ttl++) {
		struct probe_spec p = tcp_probe(ttl);
		p.proto = 1;
		p.sport = 0x4242; /* echo identifier */
		p.dport = ttl;    /* echo sequence */
		probe(s, &p);
		if (ttl < 5)
			router_says(s, &p, routers[ttl - 1], (uint8_t)(65 - ttl), 0);
		else
			feed(s, b, build_answer(&p, 60, b, sizeof b));
	}
	diagnose(s);
	assert_int_equal(s->cm.traces.len, 2);
	const struct trace *tcp = &s->cm.traces.items[0], *icmp = &s->cm.traces.items[1];
	assert_int_equal(tcp->proto, PROTO_TCP);
	assert_int_equal(icmp->proto, PROTO_ICMP);
	assert_int_equal(tcp->verdict, VERDICT_TTL_RESET);
	assert_int_equal(tcp->true_distance, 5);
	assert_int_equal(icmp->verdict, VERDICT_NO_TTL_RESET);
	assert_int_equal(icmp->reached_ttl, 5);
	assert_true(icmp->true_distance == -1 || icmp->true_distance == 5);
}

/*
 * Time-exceeded messages quoting the probe with the TTL it was sent with: slirp
 * rebuilds them so, all with outer TTL 255. Routers that quote oddly but arrive
 * with falling outer TTLs are real routers: no rebuilt-message finding, and so
 * no slirp named from it.
 */
static void quotes_of_the_sent_ttl(struct scenario *s, bool outer_constant)
{
	const char *routers[] = { "198.51.100.1", "198.51.100.2", "198.51.100.3" };
	for (uint8_t ttl = 1; ttl <= 4; ttl++) {
		struct probe_spec p = udp_probe(ttl);
		probe(s, &p);
		uint8_t b[128];
		if (ttl < 4)
			feed(s, b, build_icmp_error(&p, routers[ttl - 1],
						    outer_constant ? 255 : (uint8_t)(65 - ttl), 11, 0, ttl, b,
						    sizeof b));
		else
			feed(s, b, build_icmp_error(&p, "203.0.113.10", 61, 3, 3, ttl, b, sizeof b));
	}
	diagnose(s);
}

static void rebuilt_time_exceeded_have_one_outer_ttl(void **state)
{
	struct scenario *s = *state;
	quotes_of_the_sent_ttl(s, true);
	assert_true(has_finding(&s->cm, FINDING_FORGED_TIME_EXCEEDED));
}

static void routers_quoting_the_sent_ttl_are_routers(void **state)
{
	struct scenario *s = *state;
	quotes_of_the_sent_ttl(s, false);
	assert_false(has_finding(&s->cm, FINDING_FORGED_TIME_EXCEEDED));
	assert_int_equal(s->cm.traces.items[0].verdict, VERDICT_NO_TTL_RESET);
}

/* Two destinations cut short alike: the summary gives one as the example and counts the other. */
static void every_reset_destination_is_counted(void **state)
{
	struct scenario *s = *state;
	const char *dsts[] = { "203.0.113.10", "198.51.100.200" };
	for (int d = 0; d < 2; d++) {
		for (uint8_t ttl = 1; ttl <= 3; ttl++) {
			struct probe_spec p = tcp_probe(ttl);
			p.dst = dsts[d];
			p.sport = (uint16_t)(p.sport + 100 * d);
			probe(s, &p);
			if (ttl == 1)
				router_says(s, &p, "192.0.2.1", 64, 0);
			else
				destination_answers(s, &p, 64);
		}
		s->ts += 2000000000;
	}
	diagnose(s);
	assert_int_equal(s->cm.verdict, VERDICT_TTL_RESET);
	assert_non_null(strstr(s->cm.summary, "so 203.0.113.10 seems to answer after only 2 hops"));
	assert_non_null(strstr(s->cm.summary, "(and the traces to 1 other destination are cut short alike)"));
}

/* IPv6 calls it the hop limit: a trace's reason and findings say so, never "TTL". */
static void ipv6_traces_are_worded_with_the_hop_limit(void **state)
{
	struct scenario *s = *state;
	gateway_then_destination(s, "2001:db8:1::15", "2001:db8:113::10", "2001:db8:1::1", 64, 3);
	diagnose(s);
	const struct trace *t = &s->cm.traces.items[0];
	assert_int_equal(t->verdict, VERDICT_TTL_RESET);
	assert_non_null(strstr(t->reason, "did not keep their hop limit"));
	assert_null(strstr(t->reason, "TTL"));
	size_t worded = 0;
	for (size_t i = 0; i < s->cm.findings.len; i++) {
		const struct finding *f = &s->cm.findings.items[i];
		if (f->trace != 0)
			continue;
		assert_null(strstr(f->text, "TTL"));
		worded += strstr(f->text, "hop limit") != NULL;
	}
	assert_true(worded > 0);
}

/*
 * traceroute -f 3 behind a NAT: every probe answered by the destination with an
 * initial TTL. The answers were re-originated (ingress), but nothing shows what the
 * probes did: inconclusive, and the reason says what is known.
 */
static void reoriginated_answers_alone_are_said_so(void **state)
{
	struct scenario *s = *state;
	for (uint8_t ttl = 3; ttl <= 5; ttl++) {
		struct probe_spec p = tcp_probe(ttl);
		p.src = "10.0.2.15";
		probe(s, &p);
		destination_answers(s, &p, 64);
	}
	diagnose(s);
	const struct trace *t = &s->cm.traces.items[0];
	assert_int_equal(t->verdict, VERDICT_INCONCLUSIVE);
	assert_int_equal(t->direction, DIRECTION_INGRESS);
	assert_true(has_finding(&s->cm, FINDING_ZERO_HOP_REPLY));
	assert_non_null(strstr(t->reason, "The answers were re-originated near the guest"));
}

/*
 * tracepath: the first TTL-3 probe is too big for the next link, and the
 * router at TTL 2 says "fragmentation needed"; the smaller TTL-3 probe then
 * expires at the router at TTL 3. The MTU message is no answer of hop 3.
 */
static void fragmentation_needed_is_no_hop_answer(void **state)
{
	struct scenario *s = *state;
	const char *routers[] = { "192.0.2.1", "198.51.100.1", "198.51.100.2", "198.51.100.3" };
	uint8_t b[128];
	for (uint8_t ttl = 1; ttl <= 5; ttl++) {
		struct probe_spec p = udp_probe(ttl);
		if (ttl == 3) {
			struct probe_spec big = p;
			big.ip_id = 0x3333;
			big.sport = 45003;
			probe(s, &big);
			feed(s, b, build_icmp_error(&big, routers[1], 63, 3, 4, 2, b, sizeof b));
		}
		probe(s, &p);
		if (ttl < 5)
			router_says(s, &p, routers[ttl - 1], (uint8_t)(65 - ttl), 0);
		else
			feed(s, b, build_icmp_error(&p, "203.0.113.10", 60, 3, 3, 1, b, sizeof b));
	}
	diagnose(s);
	const struct trace *t = &s->cm.traces.items[0];
	assert_hops(t, "192.0.2.1,198.51.100.1,198.51.100.2,198.51.100.3,203.0.113.10");
	assert_int_equal(trace_hop_at(t, 3)->several_addresses, false);
	assert_int_equal(t->verdict, VERDICT_NO_TTL_RESET);
}

/*
 * The gateway answers TTL 1, then the destination every TTL from 2 with TTL 63:
 * a destination two hops away, or a NAT like Docker Desktop's vpnkit behind a
 * bridge. Healthy is the reading, but only probable, and said so.
 */
static void one_router_then_the_destination_is_probable(void **state)
{
	struct scenario *s = *state;
	gateway_then_destination(s, "172.17.0.2", "203.0.113.10", "172.17.0.1", 63, 5);
	diagnose(s);
	const struct trace *t = &s->cm.traces.items[0];
	assert_int_equal(t->verdict, VERDICT_NO_TTL_RESET);
	assert_string_equal(t->confidence, "probable");
	assert_non_null(strstr(t->reason, "One router answered before the destination"));
	assert_non_null(strstr(s->cm.summary, "probably: only one router answered before the destination"));
}

/* Routers that quote 8 bytes, not even the probe's IP header: answers nobody can pair, said so, not left as silence. */
static void answers_quoting_too_little_are_named(void **state)
{
	struct scenario *s = *state;
	uint8_t b[128];
	for (uint8_t ttl = 1; ttl <= 4; ttl++) {
		struct probe_spec p = udp_probe(ttl);
		probe(s, &p);
		if (ttl == 1)
			router_says(s, &p, "192.0.2.1", 64, 0);
		else if (ttl < 4)
			feed(s, b, build_icmp_error_quoting(&p, "198.51.100.1", (uint8_t)(65 - ttl), 11, 0, 1, 8, b,
							    sizeof b));
		else
			feed(s, b, build_icmp_error(&p, "203.0.113.10", 60, 3, 3, 1, b, sizeof b));
	}
	diagnose(s);
	const struct finding *f = NULL;
	for (size_t i = 0; i < s->cm.findings.len; i++)
		if (s->cm.findings.items[i].kind == FINDING_ANSWERS_QUOTE_TOO_LITTLE)
			f = &s->cm.findings.items[i];
	if (!f) {
		fail_msg("no path.answers_quote_too_little finding");
		return;
	}
	assert_non_null(strstr(f->text, "2 ICMP errors in "));
	assert_int_equal(f->evidence.len, 2);
}

/*
 * tracepath -6: the same, where the router at hop limit 2 says "packet too big"
 * (ICMPv6 type 2). Kept as an ICMP error, the IPv6 form of fragmentation needed,
 * and no answer of hop 3 either (it was dropped, as if never received).
 */
static void packet_too_big_is_kept_but_no_hop_answer(void **state)
{
	struct scenario *s = *state;
	const char *routers[] = { "2001:db8:1::1", "2001:db8:51::1", "2001:db8:51::2", "2001:db8:51::3" };
	uint8_t b[160];
	for (uint8_t ttl = 1; ttl <= 5; ttl++) {
		struct probe_spec p = udp_probe(ttl);
		p.src = "2001:db8:1::15";
		p.dst = "2001:db8:113::10";
		if (ttl == 3) {
			struct probe_spec big = p;
			big.sport = 45003;
			probe(s, &big);
			feed(s, b, build_icmp_error(&big, routers[1], 63, 2, 0, 2, b, sizeof b));
		}
		probe(s, &p);
		if (ttl < 5)
			router_says(s, &p, routers[ttl - 1], (uint8_t)(65 - ttl), 0);
		else
			feed(s, b, build_icmp_error(&p, "2001:db8:113::10", 60, 3, 3, 1, b, sizeof b));
	}
	diagnose(s);
	const struct trace *t = &s->cm.traces.items[0];
	assert_hops(t, "2001:db8:1::1,2001:db8:51::1,2001:db8:51::2,2001:db8:51::3,2001:db8:113::10");
	assert_int_equal(trace_hop_at(t, 3)->several_addresses, false);
	size_t too_big = 0;
	for (size_t i = 0; i < s->cm.replies.len; i++) {
		const struct reply *r = &s->cm.replies.items[i];
		if (r->icmp_type == 2 && r->src.family == 6) {
			too_big++;
			assert_int_equal(r->kind, REPLY_OTHER_ERROR);
			assert_true(r->request >= 0);
		}
	}
	assert_int_equal(too_big, 1);
	assert_int_equal(t->verdict, VERDICT_NO_TTL_RESET);
}

/* A NAT that drops what expires at it: TTL 1 unanswered, the destination at TTL 2 with TTL 64. */
static void silent_first_hop_then_destination(void **state)
{
	struct scenario *s = *state;
	for (uint8_t ttl = 1; ttl <= 3; ttl++) {
		struct probe_spec p = tcp_probe(ttl);
		p.src = "10.0.2.15";
		probe(s, &p);
		if (ttl > 1)
			destination_answers(s, &p, 64);
	}
	diagnose(s);
	const struct trace *t = &s->cm.traces.items[0];
	assert_hops(t, "*,203.0.113.10");
	assert_int_equal(t->verdict, VERDICT_TTL_RESET);
	assert_string_equal(t->confidence, "probable");
	assert_true(has_finding(&s->cm, FINDING_SINGLE_GATEWAY_THEN_DESTINATION));
}

/* Only the gateway answers, at TTL 1, then silence to TTL 5: named, not judged. */
static void silence_after_the_gateway(void **state)
{
	struct scenario *s = *state;
	for (uint8_t ttl = 1; ttl <= 5; ttl++) {
		struct probe_spec p = udp_probe(ttl);
		probe(s, &p);
		if (ttl == 1)
			router_says(s, &p, "192.0.2.1", 64, 0);
	}
	diagnose(s);
	const struct trace *t = &s->cm.traces.items[0];
	assert_int_equal(t->verdict, VERDICT_INCONCLUSIVE);
	assert_true(has_finding(&s->cm, FINDING_SILENT_AFTER_GATEWAY));
	assert_non_null(strstr(t->reason, "Only the gateway answered"));
}

/*
 * Three TCP traces from two guests: one healthy (routers answer), two reset.
 * The summary counts the reset ones and names the guests they come from.
 */
static void summary_counts_and_names_the_guests(void **state)
{
	struct scenario *s = *state;
	for (uint8_t ttl = 1; ttl <= 3; ttl++) {
		struct probe_spec p = tcp_probe(ttl);
		probe(s, &p);
		if (ttl < 3)
			router_says(s, &p, ttl == 1 ? "192.0.2.1" : "198.51.100.1", (uint8_t)(65 - ttl), 0);
		else
			destination_answers(s, &p, 62);
	}
	for (int guest = 0; guest < 2; guest++) {
		struct probe_spec p = tcp_probe(1);
		p.src = guest ? "192.0.2.20" : "192.0.2.10";
		p.dport = 443;
		probe(s, &p);
		destination_answers(s, &p, 61);
	}
	diagnose(s);
	assert_int_equal(s->cm.traces.len, 3);
	assert_int_equal(s->cm.verdict, VERDICT_TTL_RESET);
	assert_non_null(strstr(s->cm.summary,
			       "TTL reset found: 2 of the 3 TCP path traces from 192.0.2.10 and 192.0.2.20 are wrong."));
}

/* The NAT-mode pattern on a UDP trace: the remedy must not say that UDP's TTL is kept. */
static void udp_reset_remedy(void **state)
{
	struct scenario *s = *state;
	for (uint8_t ttl = 1; ttl <= 3; ttl++) {
		struct probe_spec p = udp_probe(ttl);
		p.src = "10.0.2.15";
		probe(s, &p);
		uint8_t b[128];
		if (ttl == 1)
			router_says(s, &p, "10.0.2.2", 64, 0);
		else
			feed(s, b, build_icmp_error(&p, "203.0.113.10", 64, 3, 3, 61, b, sizeof b));
	}
	diagnose(s);
	assert_int_equal(s->cm.traces.len, 1);
	assert_int_equal(s->cm.traces.items[0].verdict, VERDICT_TTL_RESET);
	assert_non_null(strstr(s->cm.remedy, "The captures hold no TCP and ICMP path trace"));
	assert_null(strstr(s->cm.remedy, "slirp keeps UDP's"));
}

/* One router's worth hidden is said in the singular. */
static void one_hidden_hop_is_one_hop(void **state)
{
	struct scenario *s = *state;
	struct probe_spec p = tcp_probe(1);
	probe(s, &p);
	destination_answers(s, &p, 63);
	diagnose(s);
	const struct trace *t = &s->cm.traces.items[0];
	assert_int_equal(t->verdict, VERDICT_TTL_RESET);
	assert_int_equal(t->true_distance, 2);
	assert_non_null(strstr(t->reason, " 1 hop of the real path is hidden."));
}

/* The destination answers TTL 1 with an answer that crossed three routers: the probe went further. */
static void answer_ttl_betrays_the_distance(void **state)
{
	struct scenario *s = *state;
	struct probe_spec p = tcp_probe(1);
	probe(s, &p);
	destination_answers(s, &p, 61);
	diagnose(s);
	const struct trace *t = &s->cm.traces.items[0];
	assert_hops(t, "203.0.113.10");
	assert_int_equal(t->verdict, VERDICT_TTL_RESET);
	assert_string_equal(t->confidence, "strong");
	assert_int_equal(t->true_distance, 4);
	assert_int_equal(t->direction, DIRECTION_EGRESS);
	assert_true(has_finding(&s->cm, FINDING_EARLY_DESTINATION_ANSWER));
}

/*
 * The host capture shows every probe leaving with its TTL less one, routers
 * answer in order, and the destination's answer comes back over a longer way
 * (TTL 57 at the guest: 7 hops for a destination at TTL 4). The host's proof
 * is certain; the guess from the answer's TTL must not overrule it.
 */
static void host_proof_beats_an_answer_ttl_guess(void **state)
{
	struct scenario *s = *state;
	const char *routers[] = { "192.0.2.1", "198.51.100.1", "198.51.100.2" };
	uint8_t b[128];
	for (uint8_t ttl = 1; ttl <= 4; ttl++) {
		struct probe_spec p = tcp_probe(ttl), copy = tcp_probe((uint8_t)(ttl - 1));
		copy.ip_id = p.ip_id;
		copy.sport = p.sport;
		copy.seq = p.seq;
		probe(s, &p);
		if (ttl == 1) {
			router_says(s, &p, routers[0], 64, 0);
			continue;
		}
		feed_to(s, 1, b, build_probe(&copy, b, sizeof b));
		if (ttl < 4) {
			feed_to(s, 1, b, build_icmp_error(&copy, routers[ttl - 1], 250, 11, 0, 1, b, sizeof b));
			router_says(s, &p, routers[ttl - 1], 249, 0);
		} else {
			feed_to(s, 1, b, build_answer(&copy, 58, b, sizeof b));
			destination_answers(s, &p, 57);
		}
	}
	diagnose_with_host(s);
	assert_int_equal(s->cm.traces.len, 1);
	const struct trace *t = &s->cm.traces.items[0];
	assert_hops(t, "192.0.2.1,198.51.100.1,198.51.100.2,203.0.113.10");
	assert_true(has_finding(&s->cm, FINDING_EGRESS_TTL_PRESERVED));
	assert_false(has_finding(&s->cm, FINDING_EARLY_DESTINATION_ANSWER));
	assert_int_equal(t->verdict, VERDICT_NO_TTL_RESET);
	assert_string_equal(t->confidence, "certain");
	assert_int_equal(t->true_distance, 4);
	assert_int_equal(s->cm.verdict, VERDICT_NO_TTL_RESET);
}

/*
 * A routed host (no NAT: its copies keep the guest's source address) that sets
 * every forwarded TTL to 64, as `ip ttl set 64` on its uplink does: TTL 1
 * expires at it, TTL 2 already reaches the destination. Its copies are the
 * guest's packets forwarded (same IP ID, ports), not re-originated as pasta's
 * are: the host is a hop, and the destination, 4 hops from the host's uplink
 * (its answer arrives there with TTL 61), is 5 from the guest.
 */
static void routed_host_rewriting_the_ttl_is_a_hop(void **state)
{
	struct scenario *s = *state;
	uint8_t b[128];
	for (uint8_t ttl = 1; ttl <= 3; ttl++) {
		struct probe_spec p = udp_probe(ttl), copy = udp_probe(64);
		copy.ip_id = p.ip_id;
		copy.dport = p.dport;
		probe(s, &p);
		if (ttl == 1) {
			router_says(s, &p, "192.0.2.1", 64, 0);
			continue;
		}
		feed_to(s, 1, b, build_probe(&copy, b, sizeof b));
		feed_to(s, 1, b, build_icmp_error(&copy, "203.0.113.10", 61, 3, 3, 61, b, sizeof b));
		feed(s, b, build_icmp_error(&p, "203.0.113.10", 64, 3, 3, 61, b, sizeof b));
	}
	diagnose_with_host(s);
	assert_int_equal(s->cm.traces.len, 1);
	const struct trace *t = &s->cm.traces.items[0];
	assert_int_equal(t->verdict, VERDICT_TTL_RESET);
	assert_int_equal(t->true_distance, 5);
}

/*
 * pasta's shape of the same: the guest has the host's own address, and the
 * host's copies are new packets of its own sockets (another IP ID, TTL 64).
 * The host is no hop: the destination, 4 hops from the uplink, is 4 from the guest.
 */
static void pasta_host_is_no_hop(void **state)
{
	struct scenario *s = *state;
	uint8_t b[128];
	for (uint8_t ttl = 1; ttl <= 2; ttl++) {
		struct probe_spec p = tcp_probe(ttl), copy = tcp_probe(64);
		p.proto = copy.proto = 1;
		p.sport = copy.sport = 0x3cbf;
		p.dport = copy.dport = ttl;
		p.src = copy.src = "198.18.1.1";
		copy.ip_id = (uint16_t)(0x8000 + ttl);
		probe(s, &p);
		feed_to(s, 1, b, build_probe(&copy, b, sizeof b));
		feed_to(s, 1, b, build_answer(&copy, 61, b, sizeof b));
		destination_answers(s, &p, 255);
	}
	diagnose_with_host(s);
	assert_int_equal(s->cm.traces.len, 1);
	const struct trace *t = &s->cm.traces.items[0];
	assert_int_equal(t->verdict, VERDICT_TTL_RESET);
	assert_int_equal(t->true_distance, 4);
}

/*
 * A snap length of 40 bytes keeps the probes' headers but cuts the time
 * exceeded inside its quote: nothing pairs, and the remedy says to capture
 * whole packets (a tester's capture with -s 60 behind Ethernet did the same).
 */
static void answers_cut_by_the_snap_length(void **state)
{
	struct scenario *s = *state;
	s->cm.captures[0].snaplen = 40;
	s->cm.captures[0].name = strdup("cut.pcap");
	uint8_t b[128];
	for (uint8_t ttl = 1; ttl <= 3; ttl++) {
		struct probe_spec p = tcp_probe(ttl);
		feed_cut(s, 0, b, build_probe(&p, b, sizeof b), 40);
		feed_cut(s, 0, b, build_icmp_error(&p, "192.0.2.1", 64, 11, 0, 1, b, sizeof b), 40);
	}
	diagnose(s);
	assert_int_equal(s->cm.replies.len, 3);
	assert_int_equal(s->cm.replies.items[0].request, -1);
	assert_true(has_finding(&s->cm, FINDING_ANSWERS_CUT_BY_SNAPLEN));
	const struct finding *f = NULL;
	for (size_t i = 0; i < s->cm.findings.len; i++)
		if (s->cm.findings.items[i].kind == FINDING_ANSWERS_CUT_BY_SNAPLEN)
			f = &s->cm.findings.items[i];
	if (!f)
		fail();
	assert_non_null(strstr(f->text, "3 ICMP errors"));
	assert_non_null(strstr(f->text, "3 ICMP errors in cut.pcap were cut by the capture's snap length (40 bytes)"));
	assert_int_equal(f->evidence.len, 3);
	assert_int_equal(f->evidence.items[0].frame, 2);
	assert_non_null(strstr(s->cm.remedy, "tcpdump -s 0"));
}

/* Time exceeded in reassembly (code 1) says nothing about the hop. */
static void reassembly_time_exceeded_is_no_hop(void **state)
{
	struct scenario *s = *state;
	struct probe_spec p1 = tcp_probe(1), p2 = tcp_probe(2);
	probe(s, &p1);
	router_says(s, &p1, "192.0.2.1", 64, 1);
	probe(s, &p2);
	destination_answers(s, &p2, 63);
	diagnose(s);
	const struct trace *t = &s->cm.traces.items[0];
	assert_hops(t, "*,203.0.113.10");
	assert_int_equal(t->hops.items[0].answers, 0);
	assert_int_equal(t->hops.items[0].probes, 1);
}

/* ...nor, without its probe, the start of a trace rebuilt from answers. */
static void lone_reassembly_time_exceeded_rebuilds_nothing(void **state)
{
	struct scenario *s = *state;
	struct probe_spec p1 = tcp_probe(1);
	router_says(s, &p1, "192.0.2.1", 64, 1);
	diagnose(s);
	assert_int_equal(s->cm.replies.len, 1);
	assert_int_equal(s->cm.traces.len, 0);
}

/* A proxy answering for the destination at TTL 1 does not end the trace. */
static void time_exceeded_from_the_destination(void **state)
{
	struct scenario *s = *state;
	struct probe_spec p1 = tcp_probe(1), p2 = tcp_probe(2), p3 = tcp_probe(3);
	probe(s, &p1);
	router_says(s, &p1, "203.0.113.10", 64, 0);
	probe(s, &p2);
	router_says(s, &p2, "198.51.100.1", 63, 0);
	probe(s, &p3);
	destination_answers(s, &p3, 62);
	diagnose(s);
	const struct trace *t = &s->cm.traces.items[0];
	assert_int_equal(t->reached_ttl, 3);
	assert_hops(t, "203.0.113.10,198.51.100.1,203.0.113.10");
	assert_false(t->hops.items[0].is_destination);
	assert_true(t->hops.items[2].is_destination);
	assert_true(has_finding(&s->cm, FINDING_TIME_EXCEEDED_FROM_DESTINATION));
	/* The proxy is not counted among the routers. */
	for (size_t i = 0; i < s->cm.findings.len; i++)
		if (s->cm.findings.items[i].kind == FINDING_PATH_VISIBLE)
			assert_non_null(strstr(s->cm.findings.items[i].text,
					       "One router, 198.51.100.1 at TTL 2, answered the TCP probes"));
}

/* A NAT that rebuilds the quote with IP ID and length byte-swapped and a stale checksum. */
static void byte_swapped_quote_still_pairs(void **state)
{
	struct scenario *s = *state;
	struct probe_spec p1 = tcp_probe(1), p2 = tcp_probe(2);
	p1.ip_id = 0x1234;
	probe(s, &p1);
	uint8_t b[128];
	size_t n = build_icmp_error(&p1, "10.0.2.2", 255, 11, 0, 1, b, sizeof b);
	const size_t quote = 20 + 8;
	uint8_t len_hi = b[quote + 2], id_hi = b[quote + 4];
	b[quote + 2] = b[quote + 3];
	b[quote + 3] = len_hi;
	b[quote + 4] = b[quote + 5];
	b[quote + 5] = id_hi;
	feed(s, b, n);
	probe(s, &p2);
	destination_answers(s, &p2, 62);
	diagnose(s);
	const struct reply *r = &s->cm.replies.items[0];
	assert_int_equal(r->request, 0);
	assert_int_equal(r->method, MATCH_QUOTE_EXACT);
	assert_true(anomaly_has(r->anomalies, ANOMALY_QUOTE_FIELDS_BYTE_SWAPPED));
	assert_true(anomaly_has(r->anomalies, ANOMALY_QUOTE_BAD_CHECKSUM));
	assert_true(has_finding(&s->cm, FINDING_QUOTE_REBUILT_BY_NAT));
}

/* A NAT that rewrites the quoted echo identifier: still paired, and named as a rebuilt quote. */
static void rewritten_echo_id_is_named(void **state)
{
	struct scenario *s = *state;
	uint8_t b[128];
	for (uint8_t ttl = 1; ttl <= 3; ttl++) {
		struct probe_spec p = tcp_probe(ttl);
		p.proto = 1;
		p.sport = 0x1234; /* echo identifier */
		p.dport = ttl;    /* echo sequence */
		probe(s, &p);
		if (ttl < 3) {
			struct probe_spec as_quoted = p;
			as_quoted.sport = 0x4444;
			feed(s, b, build_icmp_error(&as_quoted, ttl == 1 ? "192.0.2.1" : "198.51.100.1",
						    (uint8_t)(65 - ttl), 11, 0, 1, b, sizeof b));
		} else {
			destination_answers(s, &p, 62);
		}
	}
	diagnose(s);
	const struct trace *t = &s->cm.traces.items[0];
	assert_hops(t, "192.0.2.1,198.51.100.1,203.0.113.10");
	const struct finding *f = NULL;
	for (size_t i = 0; i < s->cm.findings.len; i++)
		if (s->cm.findings.items[i].kind == FINDING_QUOTE_REBUILT_BY_NAT)
			f = &s->cm.findings.items[i];
	if (!f)
		fail();
	assert_non_null(strstr(f->text, "The answers at 2 hops quote a rebuilt copy of the probe (echo identifier rewritten)"));
	assert_null(strstr(f->text, "VirtualBox"));
}

/* A VirtualBox NAT guest: its NIC prefix, the NAT gateway's fixed MAC, the default addresses. */
static void virtualbox_nat_is_named(void **state)
{
	struct scenario *s = *state;
	const uint8_t nic[6] = { 0x08, 0x00, 0x27, 0x4e, 0x11, 0x22 };
	const uint8_t gateway[6] = { 0x52, 0x54, 0x00, 0x12, 0x35, 0x02 };
	for (uint8_t ttl = 1; ttl <= 3; ttl++) {
		struct probe_spec p = tcp_probe(ttl);
		p.src = "10.0.2.15";
		uint8_t b[128];
		feed_ethernet(s, nic, gateway, b, build_probe(&p, b, sizeof b));
		size_t n = ttl == 1 ? build_icmp_error(&p, "10.0.2.2", 64, 11, 0, 1, b, sizeof b)
				    : build_answer(&p, 64, b, sizeof b);
		feed_ethernet(s, gateway, nic, b, n);
	}
	diagnose(s);
	assert_non_null(s->cm.nat_family);
	assert_string_equal(s->cm.nat_family, "VirtualBox NAT");
	assert_string_equal(s->cm.nat_confidence, "likely");
	assert_true(has_finding(&s->cm, FINDING_NAT_FAMILY));
	assert_non_null(strstr(s->cm.summary, "VirtualBox NAT"));
}

/*
 * AlexHff/minirouter tracert.pcapng: a home-made router that forwards without
 * decrementing the TTL either way. The gateway answers TTL 1, the destination
 * answers TTL 2 with TTL 64 (zero hops) - the NAT-mode pattern - but its port
 * unreachable quotes the probe with TTL 2: it arrived with the TTL it was
 * sent with, so nothing re-originated it. The hop list is right.
 */
static void destination_quote_refutes_the_nat_mode_pattern(void **state)
{
	(void)state;
	char *path = source_path("../shared/corpus/public/AlexHff_minirouter/tracert.pcapng");
	struct case_model cm;
	case_init(&cm);
	struct error err = { 0 };
	assert_int_equal(pipeline_read_capture(&cm, path, SIDE_GUEST, &err), 0);
	assert_int_equal(duplicates_mark(&cm, 0, false), 0);
	assert_int_equal(traces_build(&cm, 0), 0);
	assert_int_equal(diagnose_case(&cm, 0, -1), 0);
	assert_int_equal(cm.traces.len, 1);
	const struct trace *t = &cm.traces.items[0];
	assert_hops(t, "10.0.1.1,192.168.2.2");
	assert_int_equal(t->verdict, VERDICT_NO_TTL_RESET);
	/* 19 probes, 9 of them seen again on interface 1 about 100 ms later (its own clock). */
	assert_int_equal(t->probes, 19);
	assert_false(has_finding(&cm, FINDING_SINGLE_GATEWAY_THEN_DESTINATION));
	assert_true(has_finding(&cm, FINDING_ZERO_HOP_REPLY));
	case_free(&cm);
	free(path);
}

/* tcpdump's mpls-traceroute.pcap: two routers report the label stack (RFC 4950), and a finding says so. */
static void mpls_labels_are_a_finding(void **state)
{
	(void)state;
	char *path = source_path("../shared/corpus/public/the-tcpdump-group_tcpdump/tests/mpls-traceroute.pcap");
	struct case_model cm;
	case_init(&cm);
	struct error err = { 0 };
	assert_int_equal(pipeline_read_capture(&cm, path, SIDE_GUEST, &err), 0);
	assert_int_equal(duplicates_mark(&cm, 0, false), 0);
	assert_int_equal(traces_build(&cm, 0), 0);
	assert_int_equal(diagnose_case(&cm, 0, -1), 0);
	const struct finding *f = NULL;
	for (size_t i = 0; i < cm.findings.len; i++)
		if (cm.findings.items[i].kind == FINDING_MPLS_LABELS)
			f = &cm.findings.items[i];
	if (!f) {
		fail_msg("no path.mpls_labels finding");
		return;
	}
	assert_non_null(strstr(f->text, "outer label 100704 at TTL 1, 102672 at TTL 2"));
	assert_int_equal(f->evidence.len, 2);
	case_free(&cm);
	free(path);
}

/* LosKeeper/rapace traceroute.pcap: 15 answers to a UDP traceroute, none of its probes. */
static void answers_without_probes(void **state)
{
	(void)state;
	char *path = source_path("../shared/corpus/public/LosKeeper_rapace/traceroute.pcap");
	struct case_model cm;
	case_init(&cm);
	struct error err = { 0 };
	assert_int_equal(pipeline_read_capture(&cm, path, SIDE_GUEST, &err), 0);
	assert_int_equal(traces_build(&cm, 0), 0);
	assert_int_equal(cm.traces.len, 0);
	assert_int_equal(traces_rebuild_from_replies(&cm, 0), 0);
	assert_int_equal(diagnose_case(&cm, 0, -1), 0);
	assert_int_equal(cm.traces.len, 1);
	const struct trace *t = &cm.traces.items[0];
	assert_true(t->rebuilt_from_replies);
	assert_int_equal(t->proto, PROTO_UDP);
	assert_int_equal(t->answered, 15);
	/* TTLs from the answers' own TTL (64, 63, 62; the destination's 61, quoting TTL 1). */
	assert_hops(t, "10.1.1.1,10.1.1.1,20.1.2.1,10.4.2.2");
	assert_int_equal(t->reached_ttl, 4);
	assert_int_equal(t->verdict, VERDICT_NO_TTL_RESET);
	assert_true(has_finding(&cm, FINDING_REBUILT_FROM_REPLIES));
	case_free(&cm);
	free(path);
}

/*
 * 20,000 time exceededs from one router, none of their probes: one trace of
 * one hop. Rebuilding used to count each hop's responders over every answer
 * for every answer (quadratic: 40,000 such errors took 18 s).
 */
static void many_answers_rebuild_one_hop(void **state)
{
	struct scenario *s = *state;
	enum { N = 20000 };
	for (int i = 0; i < N; i++) {
		struct probe_spec p = { "192.0.2.10", "203.0.113.10", 1, (uint16_t)i, 45000,
					(uint16_t)(33434 + i % 90), 0, 17 };
		router_says(s, &p, "192.0.2.1", 64, 0);
	}
	diagnose(s);
	assert_int_equal(s->cm.traces.len, 1);
	const struct trace *t = &s->cm.traces.items[0];
	assert_true(t->rebuilt_from_replies);
	assert_hops(t, "192.0.2.1");
	assert_int_equal(t->hops.items[0].answers, N);
	assert_int_equal(t->hops.items[0].reply_frame, 1);
	assert_int_equal(t->answered, N);
}

/* Two routers answer at one estimated TTL: the one that answered more stands for it. */
static void rebuilt_hop_shows_its_most_frequent_responder(void **state)
{
	struct scenario *s = *state;
	const char *from[] = { "192.0.2.1", "192.0.2.2", "192.0.2.2" };
	for (int i = 0; i < 3; i++) {
		struct probe_spec p = { "192.0.2.10", "203.0.113.10", 1, (uint16_t)i, 45000,
					(uint16_t)(33434 + i), 0, 17 };
		router_says(s, &p, from[i], 64, 0);
	}
	diagnose(s);
	const struct trace *t = &s->cm.traces.items[0];
	assert_hops(t, "192.0.2.2");
	assert_true(t->hops.items[0].several_addresses);
	assert_int_equal(t->hops.items[0].reply_frame, 2);
}

static const struct finding *finding_of(const struct case_model *cm, enum finding_kind kind,
				       int32_t trace)
{
	for (size_t i = 0; i < cm->findings.len; i++)
		if (cm->findings.items[i].kind == kind && cm->findings.items[i].trace == trace)
			return &cm->findings.items[i];
	return NULL;
}

/*
 * yu000000-creato_icmp-analyzer timeout_both.pcap: time exceededs from five
 * routers for ICMP probes, none of the probes, arriving with TTL 2 to 6 (no
 * router sends with so little; read as hops back they put the routers at
 * TTL 31 down to 27 behind 26 silent ones). They are numbered in the order
 * they answered instead, and the finding says so.
 */
static void rebuilt_routers_without_credible_distance_in_arrival_order(void **state)
{
	(void)state;
	char *path = source_path("../shared/corpus/public/yu000000-creato_icmp-analyzer/timeout_both.pcap");
	struct case_model cm;
	case_init(&cm);
	struct error err = { 0 };
	assert_int_equal(pipeline_read_capture(&cm, path, SIDE_GUEST, &err), 0);
	assert_int_equal(traces_build(&cm, 0), 0);
	assert_int_equal(traces_rebuild_from_replies(&cm, 0), 0);
	assert_int_equal(diagnose_case(&cm, 0, -1), 0);
	assert_int_equal(cm.traces.len, 2);
	const struct trace *t = &cm.traces.items[0];
	assert_int_equal(t->proto, PROTO_ICMP);
	assert_hops(t, "10.1.0.1,10.2.0.1,10.3.0.1,10.4.0.1,10.5.0.1");
	assert_int_equal(t->hops.items[4].ttl, 5);
	assert_int_equal(t->max_ttl, 5);
	assert_true(t->rebuilt_in_arrival_order);
	const struct finding *f = finding_of(&cm, FINDING_REBUILT_FROM_REPLIES, 0);
	assert_non_null(f);
	assert_non_null(strstr(f->text, "holds 5 answers to 8.8.4.4"));
	assert_non_null(strstr(f->text, "the routers numbered in the order they answered"));
	/* The TCP trace: one time exceeded from 10.0.0.1, TTL 255 on arrival, so hop 1. */
	t = &cm.traces.items[1];
	assert_hops(t, "10.0.0.1");
	assert_false(t->rebuilt_in_arrival_order);
	f = finding_of(&cm, FINDING_REBUILT_FROM_REPLIES, 1);
	assert_non_null(strstr(f->text, "holds 1 answer to 8.8.8.8"));
	f = finding_of(&cm, FINDING_QUOTE_REBUILT_BY_NAT, 1);
	assert_non_null(f);
	assert_non_null(strstr(f->text, "The answers at 1 hop quote a rebuilt copy"));
	case_free(&cm);
	free(path);
}

/*
 * Only the answers of a UDP traceroute behind a classic NAT: the gateway's
 * time exceededs for TTL 1, then port unreachables from the destination
 * quoting TTL 60 (the NAT sent the probes on with 64, 4 hops away) and
 * arriving with 64. The quote is no TTL a path trace sends: the destination
 * is drawn right after the gateway, not behind 58 silent hops, and the
 * finding says why.
 */
static void rebuilt_destination_with_implausible_quote_follows_the_last_router(void **state)
{
	struct scenario *s = *state;
	for (int i = 0; i < 9; i++) {
		struct probe_spec p = { "10.0.2.15", "203.0.113.50", 1, (uint16_t)(0x7d0 + i), 45000,
					(uint16_t)(33434 + i), 0, 17 };
		uint8_t b[128];
		size_t n = i < 3 ? build_icmp_error(&p, "10.0.2.2", 64, 11, 0, 1, b, sizeof b)
				 : build_icmp_error(&p, "203.0.113.50", 64, 3, 3, 60, b, sizeof b);
		feed(s, b, n);
	}
	diagnose(s);
	assert_int_equal(s->cm.traces.len, 1);
	const struct trace *t = &s->cm.traces.items[0];
	assert_hops(t, "10.0.2.2,203.0.113.50");
	assert_int_equal(t->reached_ttl, 2);
	assert_int_equal(t->max_ttl, 2);
	assert_true(t->hops.items[1].is_destination);
	assert_int_equal(t->hops.items[1].answers, 6);
	assert_true(t->rebuilt_destination_placed);
	assert_false(t->rebuilt_in_arrival_order);
	const struct finding *f = finding_of(&s->cm, FINDING_REBUILT_FROM_REPLIES, 0);
	assert_non_null(f);
	assert_non_null(strstr(f->text, "quote the probe with TTL 60, more than a path trace sends"));
	assert_non_null(strstr(f->text, "drawn right after the last router"));
}

/*
 * Only the answers of a TCP traceroute: time exceededs from two routers, then
 * SYN-ACKs from the destination, from the port traced to the probes' ports.
 * They end the rebuilt trace; nothing says the destination never answered.
 */
static void rebuilt_trace_ends_at_the_destinations_syn_acks(void **state)
{
	struct scenario *s = *state;
	for (uint8_t ttl = 1; ttl <= 4; ttl++) {
		struct probe_spec p = tcp_probe(ttl);
		uint8_t b[128];
		size_t n = ttl == 1 ? build_icmp_error(&p, "192.0.2.1", 255, 11, 0, 1, b, sizeof b)
			 : ttl == 2 ? build_icmp_error(&p, "198.51.100.1", 254, 11, 0, 1, b, sizeof b)
				    : build_answer(&p, 62, b, sizeof b);
		feed(s, b, n);
	}
	diagnose(s);
	assert_int_equal(s->cm.traces.len, 1);
	const struct trace *t = &s->cm.traces.items[0];
	assert_true(t->rebuilt_from_replies);
	assert_hops(t, "192.0.2.1,198.51.100.1,203.0.113.10");
	assert_int_equal(t->reached_ttl, 3);
	assert_int_equal(t->answered, 4);
	assert_int_equal(t->hops.items[2].kind, REPLY_SYN_ACK);
	assert_int_equal(t->hops.items[2].answers, 2);
	assert_true(t->hops.items[2].is_destination);
	assert_false(t->rebuilt_destination_placed);
	assert_false(has_finding(&s->cm, FINDING_DESTINATION_NOT_REACHED));
	assert_int_equal(t->verdict, VERDICT_NO_TTL_RESET);
}

/* An ICMP trace rebuilt from answers takes the echo replies with its own identifier only. */
static void rebuilt_icmp_trace_takes_only_its_own_echo_replies(void **state)
{
	struct scenario *s = *state;
	for (uint8_t ttl = 1; ttl <= 3; ttl++) {
		struct probe_spec p = { "192.0.2.10", "203.0.113.10", ttl, (uint16_t)(0x100 + ttl),
					0x1234, ttl, 0, 1 };
		uint8_t b[128];
		size_t n = ttl == 1 ? build_icmp_error(&p, "192.0.2.1", 64, 11, 0, 1, b, sizeof b)
				    : build_answer(&p, 63, b, sizeof b);
		feed(s, b, n);
	}
	/* Someone's ping of the same host, answered at the same time. */
	struct probe_spec ping = { "192.0.2.10", "203.0.113.10", 64, 0x200, 0x9999, 1, 0, 1 };
	uint8_t b[128];
	feed(s, b, build_answer(&ping, 63, b, sizeof b));
	diagnose(s);
	assert_int_equal(s->cm.traces.len, 1);
	const struct trace *t = &s->cm.traces.items[0];
	assert_hops(t, "192.0.2.1,203.0.113.10");
	assert_int_equal(t->answered, 3);
	assert_int_equal(t->hops.items[1].kind, REPLY_ECHO_REPLY);
	assert_int_equal(t->hops.items[1].answers, 2);
}

/*
 * Port unreachables quoting TTL 61 with none of their datagrams in the
 * capture: ordinary traffic to a closed port (corpus afs.pcap,
 * port_unrch.pcap), no path trace. Drawn at their quoted TTL they made 60
 * silent hops; placed at TTL 1 they would look like a TTL reset.
 */
static void errors_quoting_no_trace_ttl_rebuild_nothing(void **state)
{
	struct scenario *s = *state;
	for (int i = 0; i < 3; i++) {
		struct probe_spec p = { "192.0.2.10", "203.0.113.10", 1, (uint16_t)i, 7001, 7000, 0, 17 };
		uint8_t b[128];
		feed(s, b, build_icmp_error(&p, "203.0.113.10", 61, 3, 3, 61, b, sizeof b));
	}
	diagnose(s);
	assert_int_equal(s->cm.traces.len, 0);
	assert_int_equal(s->cm.verdict, VERDICT_INCONCLUSIVE);
	assert_non_null(strstr(s->cm.summary, "holds 3 ICMP errors but no path trace they could belong to"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(healthy_path, setup, teardown),
		cmocka_unit_test_setup_teardown(traces_starting_together_keep_file_order, setup, teardown),
		cmocka_unit_test_setup_teardown(hops_only_for_ttls_probed, setup, teardown),
		cmocka_unit_test_setup_teardown(nat_mode_pattern, setup, teardown),
		cmocka_unit_test_setup_teardown(udp_reset_remedy, setup, teardown),
		cmocka_unit_test_setup_teardown(nat_network_pattern, setup, teardown),
		cmocka_unit_test_setup_teardown(destination_on_the_link, setup, teardown),
		cmocka_unit_test_setup_teardown(quote_above_the_ttl_sent, setup, teardown),
		cmocka_unit_test_setup_teardown(summary_counts_and_names_the_guests, setup, teardown),
		cmocka_unit_test_setup_teardown(silent_first_hop_then_destination, setup, teardown),
		cmocka_unit_test_setup_teardown(silence_after_the_gateway, setup, teardown),
		cmocka_unit_test_setup_teardown(answer_ttl_betrays_the_distance, setup, teardown),
		cmocka_unit_test_setup_teardown(host_proof_beats_an_answer_ttl_guess, setup, teardown),
		cmocka_unit_test_setup_teardown(a_shorter_trace_is_no_witness, setup, teardown),
		cmocka_unit_test_setup_teardown(answers_quoting_too_little_are_named, setup, teardown),
		cmocka_unit_test(mpls_labels_are_a_finding),
		cmocka_unit_test_setup_teardown(one_hidden_hop_is_one_hop, setup, teardown),
		cmocka_unit_test_setup_teardown(one_router_then_the_destination_is_probable, setup, teardown),
		cmocka_unit_test_setup_teardown(fragmentation_needed_is_no_hop_answer, setup, teardown),
		cmocka_unit_test_setup_teardown(packet_too_big_is_kept_but_no_hop_answer, setup, teardown),
		cmocka_unit_test_setup_teardown(reoriginated_answers_alone_are_said_so, setup, teardown),
		cmocka_unit_test_setup_teardown(ipv6_traces_are_worded_with_the_hop_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(every_reset_destination_is_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(rebuilt_time_exceeded_have_one_outer_ttl, setup, teardown),
		cmocka_unit_test_setup_teardown(routers_quoting_the_sent_ttl_are_routers, setup, teardown),
		cmocka_unit_test_setup_teardown(routed_host_rewriting_the_ttl_is_a_hop, setup, teardown),
		cmocka_unit_test_setup_teardown(pasta_host_is_no_hop, setup, teardown),
		cmocka_unit_test_setup_teardown(reassembly_time_exceeded_is_no_hop, setup, teardown),
		cmocka_unit_test_setup_teardown(answers_cut_by_the_snap_length, setup, teardown),
		cmocka_unit_test_setup_teardown(lone_reassembly_time_exceeded_rebuilds_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(time_exceeded_from_the_destination, setup, teardown),
		cmocka_unit_test_setup_teardown(byte_swapped_quote_still_pairs, setup, teardown),
		cmocka_unit_test_setup_teardown(virtualbox_nat_is_named, setup, teardown),
		cmocka_unit_test_setup_teardown(rewritten_echo_id_is_named, setup, teardown),
		cmocka_unit_test(answers_without_probes),
		cmocka_unit_test_setup_teardown(many_answers_rebuild_one_hop, setup, teardown),
		cmocka_unit_test_setup_teardown(rebuilt_hop_shows_its_most_frequent_responder, setup, teardown),
		cmocka_unit_test(rebuilt_routers_without_credible_distance_in_arrival_order),
		cmocka_unit_test_setup_teardown(rebuilt_trace_ends_at_the_destinations_syn_acks, setup, teardown),
		cmocka_unit_test_setup_teardown(rebuilt_icmp_trace_takes_only_its_own_echo_replies, setup,
						teardown),
		cmocka_unit_test_setup_teardown(errors_quoting_no_trace_ttl_rebuild_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(rebuilt_destination_with_implausible_quote_follows_the_last_router,
						setup, teardown),
		cmocka_unit_test(destination_quote_refutes_the_nat_mode_pattern),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
