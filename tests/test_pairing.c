/*
 * Pairing replies with their probes, through the same entry point the pipeline
 * uses, on real frames from the committed samples and on crafted echo probes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analyzer/pairing.h"
#include "analyzer/pipeline.h"
#include "analyzer/traces.h"
#include "dissectors/dissect.h"
#include "support.h"
#include "support_packets.h"

struct fixture {
	struct case_model cm;
	struct pairing_index ix;
};

static int setup(void **state)
{
	struct fixture *f = test_calloc(1, sizeof *f);
	case_init(&f->cm);
	f->cm.n_captures = 1;
	if (pairing_init(&f->ix) != 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	pairing_free(&f->ix);
	case_free(&f->cm);
	test_free(f);
	return 0;
}

static int take(struct fixture *f, int linktype, const char *hex, uint64_t frame, int64_t ts_ns)
{
	uint8_t b[512];
	size_t n = hex_to_bytes(hex, b, sizeof b);
	struct packet p;
	p.frame = frame;
	p.ts_ns = ts_ns;
	p.wirelen = (uint32_t)n;
	dissect_frame(&p, linktype, b, (uint32_t)n);
	return pipeline_take_packet(&f->cm, 0, &p, &f->ix);
}

/* Raw IP bytes built by support_packets, as frame `frame` at ts_ns. */
static int take_bytes(struct fixture *f, const uint8_t *b, size_t n, uint64_t frame, int64_t ts_ns)
{
	struct packet p;
	p.frame = frame;
	p.ts_ns = ts_ns;
	p.wirelen = (uint32_t)n;
	dissect_frame(&p, LINKTYPE_RAW, b, (uint32_t)n);
	return pipeline_take_packet(&f->cm, 0, &p, &f->ix);
}

static void take_probe(struct fixture *f, const struct probe_spec *p, uint64_t frame, int64_t ts_ns)
{
	uint8_t b[128];
	assert_int_equal(take_bytes(f, b, build_probe(p, b, sizeof b), frame, ts_ns), 1);
}

/* A router's time exceeded for p (outer TTL 64) quoting quote_len bytes of it with quoted_ttl. */
static void take_time_exceeded(struct fixture *f, const struct probe_spec *p, uint8_t quoted_ttl,
			       size_t quote_len, uint64_t frame, int64_t ts_ns)
{
	uint8_t b[128];
	size_t n = build_icmp_error_quoting(p, "198.51.100.1", 64, 11, 0, quoted_ttl, quote_len, b,
					    sizeof b);
	assert_int_equal(take_bytes(f, b, n, frame, ts_ns), 1);
}

/* samples/routed/guest.pcap frames 9 (SYN, TTL 2) and 10 (time exceeded from r1 quoting it). */
static void time_exceeded_pairs_by_quote(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(take(f, LINKTYPE_ETHERNET,
			      "92a470c2c7c5563a949adad308004500003c42e50000020677c2c000020acb00710a8a55005012ef6591"
			      "00000000a00216d04eae0000020405b40402080a2b51b5fa0000000001030302",
			      9, 561000),
			 1);
	assert_int_equal(take(f, LINKTYPE_ETHERNET,
			      "563a949adad392a470c2c7c5080045c0005820a800003f01d11ec6120102c000020a0b00f343000000"
			      "004500003c42e50000010678c2c000020acb00710a8a55005012ef659100000000a00216d04eae0000"
			      "020405b40402080a2b51b5fa0000000001030302",
			      10, 671000),
			 1);
	assert_int_equal(f->cm.requests.len, 1);
	assert_int_equal(f->cm.replies.len, 1);
	const struct reply *r = &f->cm.replies.items[0];
	assert_int_equal(r->kind, REPLY_TIME_EXCEEDED);
	assert_int_equal(r->request, 0);
	assert_int_equal(r->method, MATCH_QUOTE_EXACT);
	assert_int_equal(r->rtt_ns, 110000);
	assert_int_equal(r->quoted_ttl, 1);
	assert_int_equal(r->ttl, 63);
	assert_int_equal(f->cm.requests.items[0].reply, 0);
	assert_int_equal(f->cm.requests.items[0].ttl, 2);
}

/* samples/slirp/guest.pcap frames 3, 4 (two SYNs) and 50 (the SYN-ACK slirp forged for frame 3). */
static void syn_ack_pairs_by_ack(void **state)
{
	struct fixture *f = *state;
	take(f, LINKTYPE_ETHERNET,
	     "52550a000202b6f178cc396908004500003c1dff00000106534f0a000264cb00710a91810050ef92dbdf"
	     "00000000a00216d015800000020405b40402080a1eff57030000000001030302",
	     3, 108000);
	take(f, LINKTYPE_ETHERNET,
	     "52550a000202b6f178cc396908004500003c1e0000000106534e0a000264cb00710ad81b0050582a85fc"
	     "00000000a00216d0bc310000020405b40402080a1eff57030000000001030302",
	     4, 113000);
	take(f, LINKTYPE_ETHERNET,
	     "b6f178cc396952550a00020208004508002c000f000040063247cb00710a0a00026400509181000fa001"
	     "ef92dbe06012ffff52520000020405b4",
	     50, 1954000);
	assert_int_equal(f->cm.replies.len, 1);
	const struct reply *r = &f->cm.replies.items[0];
	assert_int_equal(r->kind, REPLY_SYN_ACK);
	assert_int_equal(r->ttl, 64);
	assert_int_equal(r->request, 0);
	assert_int_equal(r->method, MATCH_TCP_ACK);
	assert_false(f->cm.requests.items[1].answered);
}

/* Crafted: echo request/reply and time exceeded built around a given id, seq and IP ID. */
static void echo_hex(char *out, size_t size, uint16_t ip_id, uint8_t ttl, uint16_t id, uint16_t seq)
{
	snprintf(out, size,
		 "45000054%04x0000%02x010000c0000264cb00710a" "08000000%04x%04x"
		 "0000000000000000000000000000000000000000000000000000000000000000"
		 "0000000000000000000000000000000000000000000000000000000000000000",
		 ip_id, ttl, id, seq);
}

static void time_exceeded_for_echo(char *out, size_t size, uint16_t ip_id, uint16_t id, uint16_t seq)
{
	snprintf(out, size,
		 "4500003800000000fe0100000a0000010a000264" "0b000000" "00000000"
		 "45000054%04x00000101" "0000c0000264cb00710a" "08000000%04x%04x",
		 ip_id, id, seq);
}

static void echo_reply_pairs_by_id_and_sequence(void **state)
{
	struct fixture *f = *state;
	char hex[512];
	echo_hex(hex, sizeof hex, 0x1000, 1, 0x4242, 1);
	take(f, LINKTYPE_RAW, hex, 1, 1000);
	echo_hex(hex, sizeof hex, 0x1001, 2, 0x4242, 2);
	take(f, LINKTYPE_RAW, hex, 2, 2000);
	/* Echo reply from the target for seq 2: swap addresses, type 0. */
	take(f, LINKTYPE_RAW,
	     "45000054abcd00003c010000cb00710ac0000264" "00000000" "42420002"
	     "0000000000000000000000000000000000000000000000000000000000000000"
	     "0000000000000000000000000000000000000000000000000000000000000000",
	     3, 5000);
	const struct reply *r = &f->cm.replies.items[0];
	assert_int_equal(r->kind, REPLY_ECHO_REPLY);
	assert_int_equal(r->request, 1);
	assert_int_equal(r->method, MATCH_ECHO_ID_SEQ);
	assert_int_equal(r->rtt_ns, 3000);
}

/* Some tools send every echo probe with one id and sequence: the quoted IP ID decides. */
static void shared_echo_id_falls_back_to_ip_id(void **state)
{
	struct fixture *f = *state;
	char hex[512];
	for (int i = 0; i < 3; i++) {
		echo_hex(hex, sizeof hex, (uint16_t)(0x2000 + i), (uint8_t)(i + 1), 0x7777, 1);
		take(f, LINKTYPE_RAW, hex, (uint64_t)i + 1, (i + 1) * 1000);
	}
	/* The router at TTL 1 answers the first probe, last of all. */
	time_exceeded_for_echo(hex, sizeof hex, 0x2000, 0x7777, 1);
	take(f, LINKTYPE_RAW, hex, 4, 9000);
	const struct reply *r = &f->cm.replies.items[0];
	assert_int_equal(r->kind, REPLY_TIME_EXCEEDED);
	assert_int_equal(r->request, 0);
	assert_int_equal(r->method, MATCH_QUOTE_IP_ID);
	assert_int_equal(r->quoted_ttl, 1);
}

/* A reply whose probe is not in the capture stays unpaired, and nothing else is disturbed. */
static void reply_without_probe(void **state)
{
	struct fixture *f = *state;
	char hex[512];
	time_exceeded_for_echo(hex, sizeof hex, 0x3000, 0x1111, 9);
	assert_int_equal(take(f, LINKTYPE_RAW, hex, 1, 1000), 1);
	assert_int_equal(f->cm.replies.items[0].request, -1);
	assert_int_equal(f->cm.replies.items[0].method, MATCH_NONE);
}

/* Enough requests to make the index grow several times; every one must still be found. */
static void index_growth_keeps_every_request(void **state)
{
	struct fixture *f = *state;
	char hex[512];
	enum { N = 5000 };
	for (int i = 0; i < N; i++) {
		echo_hex(hex, sizeof hex, (uint16_t)i, 5, 0x5555, (uint16_t)i);
		take(f, LINKTYPE_RAW, hex, (uint64_t)i + 1, i);
	}
	for (int i = 0; i < N; i += 97) {
		time_exceeded_for_echo(hex, sizeof hex, (uint16_t)i, 0x5555, (uint16_t)i);
		take(f, LINKTYPE_RAW, hex, (uint64_t)(N + i + 1), N + i);
		const struct reply *r = &f->cm.replies.items[f->cm.replies.len - 1];
		assert_int_equal(r->request, i);
		assert_int_equal(r->method, MATCH_QUOTE_EXACT);
	}
}

/*
 * IPv6: a TCP SYN with a hop-by-hop header (hop limit 1), and the ICMPv6 time
 * exceeded quoting it (same bytes as test_dissectors' IPv6 case).
 */
static void icmpv6_time_exceeded_pairs_tcp_over_ipv6(void **state)
{
	struct fixture *f = *state;
	take(f, LINKTYPE_RAW,
	     "6000000000" "1c" "00" "01"
	     "20010db8000a00000000000000000064" "20010db8000200000000000000000010"
	     "0600" "010400000000"
	     "9c4001bb01020304000000005002faf000000000",
	     1, 1000);
	take(f, LINKTYPE_RAW,
	     "6000000000" "4c" "3a" "3e"
	     "20010db8000100000000000000000001" "20010db8000a00000000000000000064"
	     "03000000" "00000000"
	     "6000000000" "1c" "00" "01"
	     "20010db8000a00000000000000000064" "20010db8000200000000000000000010"
	     "0600" "010400000000"
	     "9c4001bb01020304000000005002faf000000000",
	     2, 4000);
	assert_int_equal(f->cm.requests.len, 1);
	assert_int_equal(f->cm.requests.items[0].ttl, 1);
	const struct reply *r = &f->cm.replies.items[0];
	assert_int_equal(r->kind, REPLY_TIME_EXCEEDED);
	assert_int_equal(r->request, 0);
	assert_int_equal(r->method, MATCH_QUOTE_EXACT);
	assert_int_equal(r->rtt_ns, 3000);
}

/* A quote of only 8 transport bytes (RFC 792) still pairs by ports and sequence. */
static void eight_byte_quote_pairs(void **state)
{
	struct fixture *f = *state;
	take(f, LINKTYPE_ETHERNET,
	     "92a470c2c7c5563a949adad308004500003c42e50000020677c2c000020acb00710a8a55005012ef6591"
	     "00000000a00216d04eae0000020405b40402080a2b51b5fa0000000001030302",
	     9, 561000);
	/* Frame 10 cut after the quoted IP header and 8 bytes of TCP; outer lengths adjusted. */
	take(f, LINKTYPE_ETHERNET,
	     "563a949adad392a470c2c7c5080045c0003820a800003f01d11ec6120102c000020a0b00f343000000"
	     "004500003c42e50000010678c2c000020acb00710a8a55005012ef6591",
	     10, 671000);
	const struct reply *r = &f->cm.replies.items[0];
	assert_int_equal(r->request, 0);
	assert_int_equal(r->quoted_len, 28);
	assert_true(r->quoted_seq_known);
	assert_int_equal(r->method, MATCH_QUOTE_EXACT);
}

/*
 * A quote whose IP header says it is 20 bytes long holds no ports, whatever
 * bytes follow it (as tshark reads it): the ports are unknown, not 0, and the
 * reply cannot be paired by them.
 */
static void quote_without_ports_leaves_them_unknown(void **state)
{
	struct fixture *f = *state;
	take(f, LINKTYPE_ETHERNET,
	     "92a470c2c7c5563a949adad308004500003c42e50000020677c2c000020acb00710a8a55005012ef6591"
	     "00000000a00216d04eae0000020405b40402080a2b51b5fa0000000001030302",
	     9, 561000);
	/* Frame 10 again, its quoted total length rewritten from 60 to 20. */
	take(f, LINKTYPE_ETHERNET,
	     "563a949adad392a470c2c7c5080045c0003820a800003f01d11ec6120102c000020a0b00f34300000000"
	     "4500001442e50000010678c2c000020acb00710a8a55005012ef6591",
	     10, 671000);
	assert_int_equal(f->cm.replies.len, 1);
	const struct reply *r = &f->cm.replies.items[0];
	assert_true(r->quoted);
	assert_int_equal(r->quoted_proto, 6);
	assert_false(r->quoted_ports_known);
	assert_false(r->quoted_seq_known);
	assert_int_equal(r->request, -1);

	/* After the capture: paired by addresses, protocol and IP ID (0x42e5) alone. */
	assert_int_equal(pairing_match_leftover_errors(&f->cm, 0), 0);
	r = &f->cm.replies.items[0];
	assert_int_equal(r->request, 0);
	assert_int_equal(r->method, MATCH_QUOTE_HEADER);
	assert_int_equal(r->rtt_ns, 110000);
	assert_true(f->cm.requests.items[0].answered);
}

/* The same header-only quote with another IP ID (0x42e6) names no probe of the capture. */
static void header_only_quote_needs_the_ip_id(void **state)
{
	struct fixture *f = *state;
	take(f, LINKTYPE_ETHERNET,
	     "92a470c2c7c5563a949adad308004500003c42e50000020677c2c000020acb00710a8a55005012ef6591"
	     "00000000a00216d04eae0000020405b40402080a2b51b5fa0000000001030302",
	     9, 561000);
	take(f, LINKTYPE_ETHERNET,
	     "563a949adad392a470c2c7c5080045c0003820a800003f01d11ec6120102c000020a0b00f34300000000"
	     "4500001442e60000010678c2c000020acb00710a8a55005012ef6591",
	     10, 671000);
	assert_int_equal(pairing_match_leftover_errors(&f->cm, 0), 0);
	assert_int_equal(f->cm.replies.items[0].request, -1);
	assert_false(f->cm.requests.items[0].answered);
}

/*
 * DF probes often all carry IP ID 0: a TCP and an ICMP probe to one place
 * with one IP ID, each answered by a header-only quote. Each quote names its
 * protocol by number (6, 1); both must find their own probe.
 */
static void header_only_quotes_tell_protocols_apart(void **state)
{
	struct fixture *f = *state;
	struct probe_spec syn = { "192.0.2.10", "203.0.113.5", 1, 7, 40000, 80, 1000, 6 };
	struct probe_spec ping = { "192.0.2.10", "203.0.113.5", 1, 7, 0x1234, 1, 0, 1 };
	take_probe(f, &syn, 1, 1000000);
	take_probe(f, &ping, 2, 2000000);
	take_time_exceeded(f, &ping, 1, 20, 3, 11000000);
	take_time_exceeded(f, &syn, 1, 20, 4, 12000000);
	assert_int_equal(f->cm.replies.len, 2);
	assert_false(f->cm.replies.items[0].quoted_echo_known);
	assert_false(f->cm.replies.items[1].quoted_ports_known);
	assert_int_equal(pairing_match_leftover_errors(&f->cm, 0), 0);
	assert_int_equal(f->cm.replies.items[0].request, 1);
	assert_int_equal(f->cm.replies.items[0].method, MATCH_QUOTE_HEADER);
	assert_int_equal(f->cm.replies.items[1].request, 0);
	assert_int_equal(f->cm.replies.items[1].method, MATCH_QUOTE_HEADER);
	assert_true(f->cm.requests.items[0].answered);
	assert_true(f->cm.requests.items[1].answered);
}

/*
 * A reply looks at the newest 256 requests of its tuple only, also when they
 * are stamped after it (an RST timestamped before 40,000 SYNs of one tuple
 * walked all of them: quadratic). The one SYN before those 300 is not reached.
 */
static void candidate_cap_counts_requests_stamped_later(void **state)
{
	struct fixture *f = *state;
	struct probe_spec syn = { "192.0.2.10", "203.0.113.5", 5, 7, 40000, 80, 1000, 6 };
	take_probe(f, &syn, 1, 1000000000);
	for (int i = 0; i < 300; i++)
		take_probe(f, &syn, (uint64_t)i + 2, 100000000000 + i);
	uint8_t b[128];
	size_t n = build_answer(&syn, 60, b, sizeof b);
	b[20 + 13] = 0x14; /* RST, ACK */
	assert_int_equal(take_bytes(f, b, n, 302, 50000000000), 1);
	assert_int_equal(f->cm.replies.items[0].kind, REPLY_RST);
	assert_int_equal(f->cm.replies.items[0].request, -1);

	/* With fewer of them, the SYN sent before the RST is found. */
	f->cm.requests.len = 0;
	f->cm.replies.len = 0;
	pairing_free(&f->ix);
	assert_int_equal(pairing_init(&f->ix), 0);
	take_probe(f, &syn, 1, 1000000000);
	for (int i = 0; i < 100; i++)
		take_probe(f, &syn, (uint64_t)i + 2, 100000000000 + i);
	assert_int_equal(take_bytes(f, b, n, 102, 50000000000), 1);
	assert_int_equal(f->cm.replies.items[0].request, 0);
	assert_int_equal(f->cm.replies.items[0].method, MATCH_TCP_ACK);
}

/* A multi-queue capture stamped the answer 20 us before its probe: still its answer, RTT 0. */
static void answer_stamped_just_before_its_probe_pairs(void **state)
{
	struct fixture *f = *state;
	struct probe_spec udp = { "192.0.2.10", "203.0.113.5", 1, 0x100, 45000, 33434, 0, 17 };
	take_probe(f, &udp, 1, 10000000);
	take_time_exceeded(f, &udp, 1, 28, 2, 10000000 - 20000);
	const struct reply *r = &f->cm.replies.items[0];
	assert_int_equal(r->request, 0);
	assert_int_equal(r->method, MATCH_QUOTE_EXACT);
	assert_int_equal(r->rtt_ns, 0);

	/* 2 ms is no clock's disorder: the probe was sent after that answer. */
	struct probe_spec next = udp;
	next.dport++;
	take_probe(f, &next, 3, 20000000);
	take_time_exceeded(f, &next, 1, 28, 4, 20000000 - 2000000);
	assert_int_equal(f->cm.replies.items[1].request, -1);
}

/* Written in timestamp order, the answer comes first in the file: paired once the capture is read. */
static void answer_before_its_probe_in_the_file_pairs_late(void **state)
{
	struct fixture *f = *state;
	struct probe_spec udp = { "192.0.2.10", "203.0.113.5", 1, 0x100, 45000, 33434, 0, 17 };
	take_time_exceeded(f, &udp, 1, 28, 1, 10000000 - 20000);
	take_probe(f, &udp, 2, 10000000);
	assert_int_equal(f->cm.replies.items[0].request, -1);
	pairing_match_late(&f->ix, &f->cm, 0);
	const struct reply *r = &f->cm.replies.items[0];
	assert_int_equal(r->request, 0);
	assert_int_equal(r->rtt_ns, 0);
	assert_int_equal(f->cm.requests.items[0].reply, 0);
}

/* Two unanswered requests of one tuple: the one stamped before the answer, not the one just after. */
static void request_before_the_answer_is_preferred(void **state)
{
	struct fixture *f = *state;
	struct probe_spec syn = { "192.0.2.10", "203.0.113.5", 3, 7, 40000, 80, 1000, 6 };
	take_probe(f, &syn, 1, 10000000);
	take_probe(f, &syn, 2, 10500000);
	uint8_t b[128];
	assert_int_equal(take_bytes(f, b, build_answer(&syn, 61, b, sizeof b), 3, 10400000), 1);
	const struct reply *r = &f->cm.replies.items[0];
	assert_int_equal(r->request, 0);
	assert_int_equal(r->rtt_ns, 400000);
}

/*
 * Nothing quotes a TTL above the one the probe was sent with (routers quote 1
 * or 0, slirp the TTL sent). Echo probes sharing id and sequence, TTL 2 then
 * TTL 1, and a forged time exceeded quoting TTL 2 with an IP ID of neither:
 * it answers the TTL-2 probe, not the newer TTL-1 one.
 */
static void time_exceeded_never_quotes_more_ttl_than_sent(void **state)
{
	struct fixture *f = *state;
	struct probe_spec ttl2 = { "192.0.2.10", "203.0.113.5", 2, 0x20, 0x7777, 1, 0, 1 };
	struct probe_spec ttl1 = ttl2;
	ttl1.ttl = 1;
	ttl1.ip_id = 0x21;
	take_probe(f, &ttl2, 1, 1000000);
	take_probe(f, &ttl1, 2, 2000000);
	struct probe_spec quoted = ttl2;
	quoted.ip_id = 0x99;
	take_time_exceeded(f, &quoted, 2, 28, 3, 3000000);
	assert_int_equal(f->cm.replies.items[0].request, 0);

	/* A header-only quote of TTL 2 naming the TTL-1 probe's IP ID answers no probe. */
	take_time_exceeded(f, &ttl1, 2, 20, 4, 4000000);
	take_time_exceeded(f, &ttl1, 1, 20, 5, 5000000);
	assert_int_equal(pairing_match_leftover_errors(&f->cm, 0), 0);
	assert_int_equal(f->cm.replies.items[1].request, -1);
	assert_int_equal(f->cm.replies.items[2].request, 1);
}

/*
 * yu000000-creato_icmp-analyzer traceroute.pcap: echo probes with TTL 1-5,
 * time exceededs quoting only the IP header, all with the TTL-1 probe's IP ID
 * and TTL 1-5. Only the one quoting TTL 1 (frame 2) answers that probe.
 */
static void corpus_quotes_of_higher_ttls_stay_unpaired(void **state)
{
	(void)state;
	char *path = source_path("../shared/corpus/public/yu000000-creato_icmp-analyzer/traceroute.pcap");
	struct case_model cm;
	case_init(&cm);
	struct error err = { 0 };
	assert_int_equal(pipeline_read_capture(&cm, path, SIDE_GUEST, &err), 0);
	int paired = 0;
	for (size_t i = 0; i < cm.replies.len; i++) {
		const struct reply *r = &cm.replies.items[i];
		if (r->kind != REPLY_TIME_EXCEEDED || r->request < 0)
			continue;
		paired++;
		assert_int_equal(r->frame, 2);
		assert_int_equal(cm.requests.items[r->request].ttl, 1);
	}
	assert_int_equal(paired, 1);
	case_free(&cm);
	free(path);
}

/* An error from 198.51.100.1 quoting the given probe bytes (quoted TTL 1) whole. */
static void take_error_quoting(struct fixture *f, const uint8_t *probe, size_t n, uint64_t frame,
			       int64_t ts_ns)
{
	uint8_t b[256];
	size_t len = build_icmp_error_for(probe, n, "198.51.100.1", 64, 11, 0, 1, n, b, sizeof b);
	assert_int_equal(take_bytes(f, b, len, frame, ts_ns), 1);
}

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

/*
 * /tmp/trial2-caps/quoted-echoid-icmp.pcap frames 7 and 8 (an ICMP traceroute
 * behind a NAT that rewrites the quoted echo id, FIELD-NOTES): the probe has
 * IP ID 0x089b, id 0x1234, seq 4, checksum 0x6042; the time exceeded quotes IP
 * ID 0x089b, seq 4, checksum 0x6042, but id 0x4444. The probes before and after
 * it (seq 3 and 5) are there too. No request has id 0x4444: paired after the
 * capture by addresses, IP ID and sequence, with its own method and anomaly.
 */
static void quoted_echo_id_rewritten_pairs_by_ip_id(void **state)
{
	struct fixture *f = *state;
	struct probe_spec before = { "192.168.122.15", "203.0.113.50", 2, 0x089a, 0x1234, 3, 0, 1 };
	struct probe_spec after = { "192.168.122.15", "203.0.113.50", 2, 0x089c, 0x1234, 5, 0, 1 };
	take_probe(f, &before, 6, 6000000);
	assert_int_equal(take(f, LINKTYPE_ETHERNET,
			      "02000000000152540012345608004500003c089b00000201393cc0a87a0fcb007132080060421234"
			      "00045858585858585858585858585858585858585858585858585858585858585858",
			      7, 7000000),
			 1);
	take_probe(f, &after, 9, 9000000);
	assert_int_equal(take(f, LINKTYPE_ETHERNET,
			      "52540012345602000000000108004500003800010000fd0158d7c6336401c0a87a0f0b0048750000"
			      "00004500003c089b000001013a3cc0a87a0fcb0071320800604244440004",
			      8, 7500000),
			 1);
	const struct reply *r = &f->cm.replies.items[0];
	assert_int_equal(r->quoted_echo_id, 0x4444);
	assert_int_equal(r->quoted_echo_seq, 4);
	assert_true(r->quoted_checksum_known);
	assert_int_equal(r->quoted_checksum, 0x6042);
	assert_int_equal(f->cm.requests.items[1].checksum, 0x6042);
	pairing_match_late(&f->ix, &f->cm, 0);
	assert_int_equal(r->request, -1);

	assert_int_equal(pairing_match_leftover_errors(&f->cm, 0), 0);
	assert_int_equal(r->request, 1);
	assert_int_equal(r->method, MATCH_QUOTE_REWRITTEN);
	assert_int_equal(r->rtt_ns, 500000);
	assert_true(anomaly_has(r->anomalies, ANOMALY_QUOTE_ECHO_ID_REWRITTEN));
	assert_false(anomaly_has(r->anomalies, ANOMALY_QUOTE_SOURCE_PORT_REWRITTEN));
	assert_int_equal(f->cm.captures[0].anomaly_counts[ANOMALY_QUOTE_ECHO_ID_REWRITTEN], 1);
	assert_int_equal(f->cm.captures[0].anomalous_packets, 1);
	assert_string_equal(match_method_name(r->method), "quote-rewritten");
	assert_string_equal(anomaly_name(ANOMALY_QUOTE_ECHO_ID_REWRITTEN), "quote.echo_id_rewritten");
	assert_true(f->cm.requests.items[1].answered);
	assert_false(f->cm.requests.items[0].answered);
	assert_false(f->cm.requests.items[2].answered);
}

/*
 * The same NAT rewriting the quoted IP ID as well: the checksum it left is
 * still the probe's own, computed over id 0x1234 (no other packet has it). A
 * quote whose checksum was updated for the new id (and IP ID 0x9005) names
 * nothing the probe chose: it stays unpaired.
 */
static void rewritten_echo_id_and_ip_id_pair_by_the_checksum_left(void **state)
{
	struct fixture *f = *state;
	struct probe_spec p4 = { "192.168.122.15", "203.0.113.50", 2, 0x089b, 0x1234, 4, 0, 1 };
	struct probe_spec p5 = { "192.168.122.15", "203.0.113.50", 2, 0x089c, 0x1234, 5, 0, 1 };
	take_probe(f, &p4, 1, 1000000);
	take_probe(f, &p5, 2, 2000000);
	uint8_t q[128];
	size_t n = build_probe(&p4, q, sizeof q);
	put16(q + 4, 0x9004);  /* IP ID */
	put16(q + 24, 0x4444); /* echo id; the checksum left */
	take_error_quoting(f, q, n, 3, 3000000);
	struct probe_spec rebuilt = p5;
	rebuilt.ip_id = 0x9005;
	rebuilt.sport = 0x4444;
	n = build_probe(&rebuilt, q, sizeof q);
	take_error_quoting(f, q, n, 4, 4000000);
	assert_int_equal(pairing_match_leftover_errors(&f->cm, 0), 0);
	assert_int_equal(f->cm.replies.items[0].request, 0);
	assert_int_equal(f->cm.replies.items[0].method, MATCH_QUOTE_REWRITTEN);
	assert_int_equal(f->cm.replies.items[1].request, -1);
	assert_false(anomaly_has(f->cm.replies.items[1].anomalies, ANOMALY_QUOTE_ECHO_ID_REWRITTEN));
	assert_int_equal(f->cm.captures[0].anomaly_counts[ANOMALY_QUOTE_ECHO_ID_REWRITTEN], 1);
}

/*
 * A NAT that translates the quote's ports back wrongly: UDP probes from
 * 33000 to 33435-33437, the answers quoting source port 61000 (the NAT's).
 * Each pairs by addresses, destination port and IP ID. With IP ID 0 and the
 * checksum updated for the port, nothing says which probe it was (another
 * guest's, or another tool's, to the same port): unpaired. A TCP quote must
 * also hold the probe's sequence number.
 */
static void quoted_source_port_rewritten_pairs_by_the_rest(void **state)
{
	struct fixture *f = *state;
	for (uint16_t i = 0; i < 3; i++) {
		struct probe_spec p = { "192.0.2.10", "203.0.113.5", 2, (uint16_t)(0x2000 + i), 33000,
					(uint16_t)(33435 + i), 0, 17 };
		take_probe(f, &p, i + 1u, (i + 1) * 1000000);
	}
	struct probe_spec seen = { "192.0.2.10", "203.0.113.5", 2, 0x2001, 61000, 33436, 0, 17 };
	take_time_exceeded(f, &seen, 1, 28, 4, 5000000);

	struct probe_spec id0 = { "192.0.2.10", "203.0.113.5", 3, 0, 33000, 33440, 0, 17 };
	take_probe(f, &id0, 5, 6000000);
	struct probe_spec id0_seen = id0;
	id0_seen.sport = 61000;
	take_time_exceeded(f, &id0_seen, 1, 28, 6, 7000000);

	struct probe_spec syn = { "192.0.2.10", "203.0.113.5", 3, 0x3000, 40001, 80, 0x5eed, 6 };
	take_probe(f, &syn, 7, 8000000);
	struct probe_spec syn_seen = syn;
	syn_seen.sport = 61001;
	take_time_exceeded(f, &syn_seen, 1, 28, 8, 9000000);
	syn_seen.seq++;
	take_time_exceeded(f, &syn_seen, 1, 28, 9, 9500000);

	assert_int_equal(pairing_match_leftover_errors(&f->cm, 0), 0);
	const struct reply *r = &f->cm.replies.items[0];
	assert_int_equal(r->request, 1);
	assert_int_equal(r->method, MATCH_QUOTE_REWRITTEN);
	assert_true(anomaly_has(r->anomalies, ANOMALY_QUOTE_SOURCE_PORT_REWRITTEN));
	assert_int_equal(f->cm.replies.items[1].request, -1);
	assert_int_equal(f->cm.replies.items[2].request, 4);
	assert_int_equal(f->cm.replies.items[2].method, MATCH_QUOTE_REWRITTEN);
	assert_int_equal(f->cm.replies.items[3].request, -1);
	assert_int_equal(f->cm.captures[0].anomaly_counts[ANOMALY_QUOTE_SOURCE_PORT_REWRITTEN], 2);
}

/* Named by fewer identifiers than usual, an answer 11 s after its probe is not believed. */
static void rewritten_quote_long_after_its_probe_stays_unpaired(void **state)
{
	struct fixture *f = *state;
	struct probe_spec p = { "192.0.2.10", "203.0.113.5", 2, 0x2001, 33000, 33436, 0, 17 };
	take_probe(f, &p, 1, 1000000);
	struct probe_spec seen = p;
	seen.sport = 61000;
	take_time_exceeded(f, &seen, 1, 28, 2, 11001000000);
	assert_int_equal(pairing_match_leftover_errors(&f->cm, 0), 0);
	assert_int_equal(f->cm.replies.items[0].request, -1);
	assert_int_equal(f->cm.captures[0].anomalous_packets, 0);
}

/*
 * Paris traceroute: three probes with one port pair and IP ID 0, apart only
 * by the payload and so the UDP checksum, sent before any answer, answered in
 * the order sent. Each quote's checksum names its probe (the newest
 * unanswered one is not it, for the first two).
 */
static void paris_answers_pair_by_the_quoted_checksum(void **state)
{
	struct fixture *f = *state;
	struct probe_spec p = { "10.0.0.5", "203.0.113.50", 1, 0, 33000, 33435, 0, 17 };
	uint8_t probes[3][128];
	size_t n[3];
	for (uint16_t i = 0; i < 3; i++) {
		struct probe_options o = { (uint16_t)(i + 1), CHECKSUM_REAL };
		n[i] = build_probe_with(&p, &o, probes[i], sizeof probes[i]);
		assert_int_equal(take_bytes(f, probes[i], n[i], i + 1u, (i + 1) * 1000000), 1);
	}
	for (int i = 0; i < 3; i++)
		take_error_quoting(f, probes[i], n[i], (uint64_t)i + 4, (10 + i) * 1000000);
	for (int i = 0; i < 3; i++) {
		const struct reply *r = &f->cm.replies.items[i];
		assert_true(r->quoted_checksum_known);
		assert_int_equal(r->request, i);
		assert_int_equal(r->method, MATCH_QUOTE_EXACT);
		assert_int_equal(r->rtt_ns, 9000000);
	}
}

/*
 * The tester's whole trace (quoted-echoid-icmp.pcap, rebuilt here): TTL 1-6,
 * three echo probes each (id 0x1234, IP ID and sequence per probe); the
 * gateway 192.168.122.1 quotes TTL 1 as sent, the routers at TTL 2-4 quote id
 * 0x4444; the destination answers TTL 5 and 6. Was "192.168.122.1 * * *
 * 203.0.113.50".
 */
static void nat_rewriting_quoted_echo_ids_keeps_the_hops(void **state)
{
	(void)state;
	char *dir = make_temp_dir();
	char path[512];
	snprintf(path, sizeof path, "%s/quoted-echoid.pcap", dir);
	static const char *const routers[] = { "192.168.122.1", "198.51.100.1", "198.51.100.2",
					       "198.51.100.3" };
	struct pcap_file pf;
	pcap_file_open(&pf, path);
	int64_t ts = 1000000000;
	uint16_t n = 0;
	for (uint8_t ttl = 1; ttl <= 6; ttl++) {
		for (int q = 0; q < 3; q++, n++, ts += 3000000) {
			struct probe_spec p = { "192.168.122.15", "203.0.113.50", ttl, (uint16_t)(0x0897 + n),
						0x1234, n, 0, 1 };
			uint8_t b[128], a[256];
			size_t len = build_probe(&p, b, sizeof b);
			pcap_file_add(&pf, ts, b, len);
			size_t alen;
			if (ttl <= 4) {
				if (ttl > 1)
					put16(b + 24, 0x4444);
				alen = build_icmp_error_for(b, len, routers[ttl - 1], (uint8_t)(255 - ttl), 11,
							    0, 1, len, a, sizeof a);
			} else {
				alen = build_answer(&p, 59, a, sizeof a);
			}
			pcap_file_add(&pf, ts + 500000, a, alen);
		}
	}
	pcap_file_close(&pf);

	struct case_model cm;
	case_init(&cm);
	struct error err = { 0 };
	assert_int_equal(pipeline_read_capture(&cm, path, SIDE_GUEST, &err), 0);
	assert_int_equal(traces_build(&cm, 0), 0);
	assert_int_equal(cm.traces.len, 1);
	const struct trace *t = &cm.traces.items[0];
	char got[512] = "";
	for (size_t i = 0; i < t->hops.len; i++) {
		char a[64];
		ip_addr_format(&t->hops.items[i].addr, a, sizeof a);
		strcat(got, i ? "," : "");
		strcat(got, a[0] ? a : "*");
	}
	assert_string_equal(got, "192.168.122.1,198.51.100.1,198.51.100.2,198.51.100.3,203.0.113.50");
	assert_int_equal(t->answered, 18);
	int rewritten = 0;
	for (size_t i = 0; i < cm.replies.len; i++)
		rewritten += cm.replies.items[i].method == MATCH_QUOTE_REWRITTEN;
	assert_int_equal(rewritten, 9);
	assert_int_equal(cm.captures[0].anomaly_counts[ANOMALY_QUOTE_ECHO_ID_REWRITTEN], 9);
	case_free(&cm);
	remove_temp_dir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(time_exceeded_pairs_by_quote, setup, teardown),
		cmocka_unit_test_setup_teardown(syn_ack_pairs_by_ack, setup, teardown),
		cmocka_unit_test_setup_teardown(echo_reply_pairs_by_id_and_sequence, setup, teardown),
		cmocka_unit_test_setup_teardown(shared_echo_id_falls_back_to_ip_id, setup, teardown),
		cmocka_unit_test_setup_teardown(reply_without_probe, setup, teardown),
		cmocka_unit_test_setup_teardown(index_growth_keeps_every_request, setup, teardown),
		cmocka_unit_test_setup_teardown(icmpv6_time_exceeded_pairs_tcp_over_ipv6, setup, teardown),
		cmocka_unit_test_setup_teardown(eight_byte_quote_pairs, setup, teardown),
		cmocka_unit_test_setup_teardown(quote_without_ports_leaves_them_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(header_only_quote_needs_the_ip_id, setup, teardown),
		cmocka_unit_test_setup_teardown(header_only_quotes_tell_protocols_apart, setup, teardown),
		cmocka_unit_test_setup_teardown(candidate_cap_counts_requests_stamped_later, setup, teardown),
		cmocka_unit_test_setup_teardown(answer_stamped_just_before_its_probe_pairs, setup, teardown),
		cmocka_unit_test_setup_teardown(answer_before_its_probe_in_the_file_pairs_late, setup, teardown),
		cmocka_unit_test_setup_teardown(request_before_the_answer_is_preferred, setup, teardown),
		cmocka_unit_test_setup_teardown(time_exceeded_never_quotes_more_ttl_than_sent, setup, teardown),
		cmocka_unit_test(corpus_quotes_of_higher_ttls_stay_unpaired),
		cmocka_unit_test_setup_teardown(quoted_echo_id_rewritten_pairs_by_ip_id, setup, teardown),
		cmocka_unit_test_setup_teardown(rewritten_echo_id_and_ip_id_pair_by_the_checksum_left, setup,
						teardown),
		cmocka_unit_test_setup_teardown(quoted_source_port_rewritten_pairs_by_the_rest, setup,
						teardown),
		cmocka_unit_test_setup_teardown(rewritten_quote_long_after_its_probe_stays_unpaired, setup,
						teardown),
		cmocka_unit_test_setup_teardown(paris_answers_pair_by_the_quoted_checksum, setup, teardown),
		cmocka_unit_test(nat_rewriting_quoted_echo_ids_keeps_the_hops),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
