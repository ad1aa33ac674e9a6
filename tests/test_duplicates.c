/*
 * The duplicate filter (analyzer/duplicates.c) on packets built here: probes
 * that differ only in what Paris traceroute varies (the UDP checksum, through
 * the payload) or in the source port, with IP ID 0, stay apart; the same
 * packet seen twice (a second interface with its own clock and checksum
 * offload on the sender's, a NAT's copy in a host's `tcpdump -i any`) is
 * counted once. Run through the pipeline and the trace builder, as
 * analyze_captures does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analyzer/duplicates.h"
#include "analyzer/pairing.h"
#include "analyzer/pipeline.h"
#include "analyzer/traces.h"
#include "dissectors/dissect.h"
#include "support.h"
#include "support_model.h"
#include "support_packets.h"

#define MS ((int64_t)1000 * 1000)

struct scenario {
	struct case_model cm;
	struct pairing_index ix;
	uint64_t frame;
};

static int setup(void **state)
{
	struct scenario *s = test_calloc(1, sizeof *s);
	case_init(&s->cm);
	s->cm.n_captures = 1;
	if (pairing_init(&s->ix) != 0)
		return -1;
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	struct scenario *s = *state;
	pairing_free(&s->ix);
	case_free(&s->cm);
	test_free(s);
	return 0;
}

/* The raw IP packet as the next frame of capture 0, on that pcapng interface, at ts_ns. */
static void sight(struct scenario *s, const uint8_t *b, size_t n, uint32_t interface, int64_t ts_ns)
{
	struct packet p;
	p.frame = ++s->frame;
	p.ts_ns = ts_ns;
	p.wirelen = (uint32_t)n;
	p.interface = interface;
	dissect_frame(&p, LINKTYPE_RAW, b, (uint32_t)n);
	assert_int_equal(pipeline_take_packet(&s->cm, 0, &p, &s->ix), 1);
}

static void probe(struct scenario *s, const struct probe_spec *p, const struct probe_options *o,
		  uint32_t interface, int64_t ts_ns)
{
	uint8_t b[128];
	sight(s, b, build_probe_with(p, o, b, sizeof b), interface, ts_ns);
}

/* The router at the probe's TTL (hop `ttl`) answers it, quoting the transport header. */
static void router_answers(struct scenario *s, const struct probe_spec *p, const struct probe_options *o,
			   const char *router, int64_t ts_ns)
{
	uint8_t q[128], b[256];
	size_t qn = build_probe_with(p, o, q, sizeof q);
	size_t n = build_icmp_error_for(q, qn, router, 64, 11, 0, 1, qn, b, sizeof b);
	sight(s, b, n, 0, ts_ns);
}

static const struct trace *one_trace(struct scenario *s)
{
	assert_int_equal(traces_build(&s->cm, 0), 0);
	assert_int_equal(s->cm.traces.len, 1);
	return &s->cm.traces.items[0];
}

static void assert_hops(const struct trace *t, const char *want)
{
	char got[512];
	assert_string_equal(hops_text(t, got, sizeof got), want);
}

static const char *const routers4[] = { "10.0.0.1", "198.51.100.1", "198.51.100.2", "198.51.100.3" };
static const char *const routers6[] = { "2001:db8:1::1", "2001:db8:ff::1", "2001:db8:ff::2",
					"2001:db8:ff::3" };

/*
 * A UDP Paris traceroute from Linux: ports fixed (the flow id), DF with IP ID
 * 0, three probes per TTL 1 ms apart; only the payload, and with it the UDP
 * checksum, tells the probes apart. Routers answer hops 1-4.
 */
static void paris_probes_differing_in_checksum_stay_apart(void **state)
{
	struct scenario *s = *state;
	int64_t ts = 1000 * MS;
	for (uint8_t ttl = 1; ttl <= 4; ttl++) {
		for (uint16_t q = 0; q < 3; q++) {
			struct probe_spec p = { "10.0.0.5", "203.0.113.50", ttl, 0, 33000, 33435, 0, 17 };
			struct probe_options o = { (uint16_t)(ttl * 3 + q), CHECKSUM_REAL };
			probe(s, &p, &o, 0, ts);
			router_answers(s, &p, &o, routers4[ttl - 1], ts + MS / 2);
			ts += MS;
		}
	}
	assert_int_equal(duplicates_mark(&s->cm, 0, false), 0);
	assert_int_equal(s->cm.captures[0].seen_twice, 0);
	for (size_t i = 0; i < s->cm.requests.len; i++)
		assert_int_equal(s->cm.requests.items[i].same_as, -1);
	const struct trace *t = one_trace(s);
	assert_int_equal(t->probes, 12);
	assert_hops(t, "10.0.0.1,198.51.100.1,198.51.100.2,198.51.100.3");
	assert_int_equal(t->hops.items[0].probes, 3);
}

/* DF probes with IP ID 0, one destination port, the source port rising: each its own packet. */
static void probes_differing_in_source_port_stay_apart(void **state)
{
	struct scenario *s = *state;
	int64_t ts = 1000 * MS;
	uint16_t sport = 40000;
	for (uint8_t ttl = 1; ttl <= 4; ttl++) {
		for (int q = 0; q < 3; q++) {
			struct probe_spec p = { "10.0.0.5", "203.0.113.50", ttl, 0, sport++, 33435, 0, 17 };
			probe(s, &p, NULL, 0, ts);
			router_answers(s, &p, NULL, routers4[ttl - 1], ts + MS / 2);
			ts += 3 * MS;
		}
	}
	assert_int_equal(duplicates_mark(&s->cm, 0, false), 0);
	assert_int_equal(s->cm.captures[0].seen_twice, 0);
	const struct trace *t = one_trace(s);
	assert_int_equal(t->probes, 12);
	assert_hops(t, "10.0.0.1,198.51.100.1,198.51.100.2,198.51.100.3");
}

/* IPv6 (no IP ID), ports fixed, three probes per hop back to back, all sent before any answer. */
static void ipv6_probes_of_one_hop_stay_apart(void **state)
{
	struct scenario *s = *state;
	int64_t ts = 1000 * MS;
	for (uint8_t ttl = 1; ttl <= 4; ttl++) {
		struct probe_spec p = { "2001:db8:1::5", "2001:db8:50::50", ttl, 0, 33000, 33435, 0, 17 };
		for (uint16_t q = 0; q < 3; q++) {
			struct probe_options o = { (uint16_t)(ttl * 3 + q), CHECKSUM_REAL };
			probe(s, &p, &o, 0, ts + q * MS / 10);
		}
		for (uint16_t q = 0; q < 3; q++) {
			struct probe_options o = { (uint16_t)(ttl * 3 + q), CHECKSUM_REAL };
			router_answers(s, &p, &o, routers6[ttl - 1], ts + MS + q * MS / 10);
		}
		ts += 3 * MS;
	}
	assert_int_equal(duplicates_mark(&s->cm, 0, false), 0);
	assert_int_equal(s->cm.captures[0].seen_twice, 0);
	const struct trace *t = one_trace(s);
	assert_int_equal(t->probes, 12);
	assert_int_equal(t->answered, 12);
	assert_hops(t, "2001:db8:1::1,2001:db8:ff::1,2001:db8:ff::2,2001:db8:ff::3");
}

/*
 * AlexHff_minirouter/tracert.pcapng's layout: the sender's own interface (0)
 * holds the offloaded checksum (the pseudo-header sum), interface 1 the real
 * one, 100 ms later by its own clock, with the same TTL. One packet each, with
 * a nonzero IP ID; and with IP ID 0 too, when the copy comes within 50 ms.
 */
static void offloaded_checksum_on_one_interface_is_the_same_packet(void **state)
{
	struct scenario *s = *state;
	struct probe_options offloaded = { 0, CHECKSUM_OFFLOADED };
	for (uint8_t ttl = 1; ttl <= 3; ttl++) {
		struct probe_spec p = { "10.0.1.100", "192.168.2.2", ttl, (uint16_t)(0x1180 + ttl),
					(uint16_t)(35000 + ttl), (uint16_t)(33433 + ttl), 0, 17 };
		probe(s, &p, &offloaded, 0, ttl * 10 * MS);
		probe(s, &p, NULL, 1, ttl * 10 * MS + 100 * MS);
	}
	struct probe_spec id0 = { "10.0.1.100", "192.168.2.2", 4, 0, 35004, 33437, 0, 17 };
	probe(s, &id0, &offloaded, 0, 200 * MS);
	probe(s, &id0, NULL, 1, 220 * MS);
	assert_false(s->cm.requests.items[0].checksum_known);
	assert_true(s->cm.requests.items[1].checksum_known);

	assert_int_equal(duplicates_mark(&s->cm, 0, false), 0);
	assert_int_equal(s->cm.captures[0].seen_twice, 4);
	for (size_t i = 0; i < s->cm.requests.len; i += 2) {
		assert_int_equal(s->cm.requests.items[i].same_as, -1);
		assert_int_equal(s->cm.requests.items[i + 1].same_as, (int32_t)i);
	}
	assert_int_equal(one_trace(s)->probes, 4);
}

/*
 * A host's `tcpdump -i any` (samples/lab/nat-classic-v4 host-any.pcap): each
 * probe comes in from the guest and leaves NATed, with the host's address, a
 * new source port, a checksum updated for both, and the TTL reset to 64.
 * Paris-style probes (IP ID 0, one port pair, payloads apart): each copy is
 * the copy of its own probe, and the host keeps what left it.
 */
static void nat_copies_pair_with_their_own_probe(void **state)
{
	struct scenario *s = *state;
	int64_t ts = 1000 * MS;
	for (uint8_t ttl = 2; ttl <= 3; ttl++) {
		for (uint16_t q = 0; q < 2; q++) {
			struct probe_spec in = { "10.0.2.15", "203.0.113.10", ttl, 0, 33000, 33435, 0, 17 };
			struct probe_spec out = { "198.18.1.1", "203.0.113.10", 64, 0, 61000, 33435, 0, 17 };
			struct probe_options o = { (uint16_t)(0x100 * ttl + q), CHECKSUM_REAL };
			probe(s, &in, &o, 0, ts);
			probe(s, &out, &o, 0, ts + MS / 20);
			ts += MS / 10;
		}
	}
	/* traceroute -I through the same NAT: the echo id rewritten too (ICMP has no pseudo header). */
	struct probe_spec ping_in = { "10.0.2.15", "203.0.113.10", 2, 0x4242, 0x1234, 7, 0, 1 };
	struct probe_spec ping_out = { "198.18.1.1", "203.0.113.10", 64, 0x4242, 0x9999, 7, 0, 1 };
	probe(s, &ping_in, NULL, 0, ts);
	probe(s, &ping_out, NULL, 0, ts + MS / 20);

	assert_int_equal(duplicates_mark(&s->cm, 0, true), 0);
	assert_int_equal(s->cm.captures[0].seen_twice, 5);
	for (size_t i = 0; i < s->cm.requests.len; i += 2) {
		assert_int_equal(s->cm.requests.items[i].same_as, (int32_t)i + 1);
		assert_int_equal(s->cm.requests.items[i + 1].same_as, -1);
	}
}

/* RFC 1624: the checksum at b[at] updated for the 16-bit word at b[word] becoming v. */
static void rewrite_word(uint8_t *b, size_t word, size_t at, uint16_t v)
{
	uint32_t old = (uint32_t)(b[word] << 8 | b[word + 1]);
	uint32_t sum = (uint32_t)(~(b[at] << 8 | b[at + 1]) & 0xffff) + (~old & 0xffff) + v;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	b[word] = (uint8_t)(v >> 8);
	b[word + 1] = (uint8_t)v;
	b[at] = (uint8_t)(~sum >> 8);
	b[at + 1] = (uint8_t)~sum;
}

/*
 * A host that NATs a SYN and also rewrites its header on the way out (MSS
 * clamping; here the window, the checksum updated for it): the checksum no
 * longer matches the NAT's rewriting alone, but the TCP sequence number and
 * the IP ID say it is the same SYN.
 */
static void nat_copy_of_a_rewritten_syn_is_the_same_packet(void **state)
{
	struct scenario *s = *state;
	struct probe_spec in = { "10.0.2.15", "203.0.113.10", 2, 0x65e2, 58681, 80, 1271171163, 6 };
	struct probe_spec out = { "198.18.1.1", "203.0.113.10", 64, 0x65e2, 58681, 80, 1271171163, 6 };
	uint8_t b[128];
	probe(s, &in, NULL, 0, 1000 * MS);
	size_t n = build_probe(&out, b, sizeof b);
	rewrite_word(b, 20 + 14, 20 + 16, 1400);
	sight(s, b, n, 0, 1000 * MS + MS / 10);
	assert_int_equal(duplicates_mark(&s->cm, 0, true), 0);
	assert_int_equal(s->cm.captures[0].seen_twice, 1);
	assert_int_equal(s->cm.requests.items[0].same_as, 1);
}

/*
 * Not copies: one host sending a datagram from two of its addresses (SSDP
 * does; the TTL is the same, so nothing forwarded it), and two guests behind
 * one NAT whose probes match in everything but their payloads.
 */
static void other_sources_without_a_nat_between_stay_apart(void **state)
{
	struct scenario *s = *state;
	struct probe_spec a = { "192.168.152.15", "203.0.113.10", 4, 0, 49152, 33435, 0, 17 };
	struct probe_spec b = { "169.254.8.219", "203.0.113.10", 4, 0, 49152, 33435, 0, 17 };
	struct probe_options same = { 0x55, CHECKSUM_REAL };
	probe(s, &a, &same, 0, 1000 * MS);
	probe(s, &b, &same, 0, 1000 * MS + MS / 10);

	struct probe_spec guest = { "10.0.2.15", "203.0.113.10", 5, 0, 33000, 33435, 0, 17 };
	struct probe_spec nat = { "198.18.1.1", "203.0.113.10", 64, 0, 61000, 33435, 0, 17 };
	struct probe_options one = { 1, CHECKSUM_REAL }, two = { 2, CHECKSUM_REAL };
	probe(s, &guest, &one, 0, 2000 * MS);
	probe(s, &nat, &two, 0, 2000 * MS + MS / 10);
	/* Without checksums (UDP over IPv4 may send none) and with IP ID 0, nothing says it is a copy. */
	struct probe_options none = { 0, CHECKSUM_NONE };
	probe(s, &guest, &none, 0, 3000 * MS);
	probe(s, &nat, &none, 0, 3000 * MS + MS / 10);

	assert_int_equal(duplicates_mark(&s->cm, 0, true), 0);
	assert_int_equal(s->cm.captures[0].seen_twice, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(paris_probes_differing_in_checksum_stay_apart, setup,
						teardown),
		cmocka_unit_test_setup_teardown(probes_differing_in_source_port_stay_apart, setup, teardown),
		cmocka_unit_test_setup_teardown(ipv6_probes_of_one_hop_stay_apart, setup, teardown),
		cmocka_unit_test_setup_teardown(offloaded_checksum_on_one_interface_is_the_same_packet, setup,
						teardown),
		cmocka_unit_test_setup_teardown(nat_copies_pair_with_their_own_probe, setup, teardown),
		cmocka_unit_test_setup_teardown(nat_copy_of_a_rewritten_syn_is_the_same_packet, setup,
						teardown),
		cmocka_unit_test_setup_teardown(other_sources_without_a_nat_between_stay_apart, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
