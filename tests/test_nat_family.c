/*
 * Naming the NAT family (analyzer/nat_family.c): the lab's committed captures,
 * each scenario named from what it really shows (samples/README.md says how
 * each was built), and a few guests put together packet by packet for the
 * fingerprints the lab cannot have (vendor MAC prefixes). Addresses in the
 * built ones are documentation ranges or the vendors' published defaults.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "analyzer/diagnose.h"
#include "analyzer/pairing.h"
#include "analyzer/pipeline.h"
#include "analyzer/traces.h"
#include "dissectors/dissect.h"
#include "support.h"
#include "support_packets.h"
#include "support_xml.h"

static const char shared_networks[] = "VirtualBox NAT Network or Parallels Shared Network";

/* The lab's captures, through the built ttlsleuth: the report's nat-family, nat-confidence,
 * summary and nat.family finding. */
struct named {
	char *family, *confidence, *summary, *finding, *remedy;
};

static struct named analyse(const char *guest, const char *host)
{
	char *dir = make_temp_dir();
	char rel[400], args[2400];
	snprintf(rel, sizeof rel, "samples/%s", guest);
	char *g = source_path(rel), *h = NULL;
	if (host) {
		snprintf(rel, sizeof rel, "samples/%s", host);
		h = source_path(rel);
	}
	snprintf(args, sizeof args, "analyze '%s' %s%s%s -o '%s/out' -q", g, h ? "--host '" : "",
		 h ? h : "", h ? "'" : "", dir);
	int rc = run_ttlsleuth(args, NULL, NULL);
	if (rc != 0)
		fail_msg("ttlsleuth %s: exit %d", args, rc);
	char path[700];
	snprintf(path, sizeof path, "%s/out/report.xml", dir);
	xmlDocPtr doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
	assert_non_null(doc);
	struct named n = {
		xpath_string(doc, "string(/report/diagnosis/@nat-family)"),
		xpath_string(doc, "string(/report/diagnosis/@nat-confidence)"),
		xpath_string(doc, "string(/report/diagnosis/summary)"),
		xpath_string(doc, "string(/report/findings/finding[@kind='nat.family']/text)"),
		xpath_string(doc, "string(/report/diagnosis/remedy)"),
	};
	xmlFreeDoc(doc);
	free(g);
	free(h);
	remove_temp_dir(dir);
	return n;
}

static void named_free(struct named *n)
{
	free(n->family);
	free(n->confidence);
	free(n->summary);
	free(n->finding);
	free(n->remedy);
}

static bool starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/*
 * The nat-network scenario (kernel NAT: nothing expires at the host, everything to
 * the guest set to TTL 255; veth MACs, no vendor's prefix): named from its behaviour
 * alone, so both products that behave so, and no more than "possible". A UDP trace
 * tells it from slirp and pasta in the guest capture alone (the destination's port
 * unreachable quotes TTL 61), the host capture does for any protocol (the probes
 * leave translated, from the host's own address).
 */
static void nat_network_is_named_by_its_behaviour(void **state)
{
	(void)state;
	static const struct {
		const char *guest, *host;
	} cases[] = {
		{ "lab/nat-network-v4/traceroute-udp/guest.pcap", NULL },
		{ "lab/nat-network-v6/traceroute-udp/guest.pcap", NULL },
		{ "lab/nat-network-v4/traceroute-udp/guest.pcap", "lab/nat-network-v4/traceroute-udp/host.pcap" },
		{ "lab/nat-network-v4/traceroute-tcp/guest.pcap", "lab/nat-network-v4/traceroute-tcp/host.pcap" },
		{ "lab/nat-network-v6/traceroute-tcp/guest.pcap", "lab/nat-network-v6/traceroute-tcp/host.pcap" },
		{ "lab/nat-network-v4/traceroute-icmp/guest.pcap", "lab/nat-network-v4/traceroute-icmp/host.pcap" },
		{ "lab/nat-network-v6/mtr-icmp/guest.pcap", "lab/nat-network-v6/mtr-icmp/host.pcap" },
		{ "lab/nat-network-v4/hping3-tcp/guest.pcap", "lab/nat-network-v4/hping3-tcp/host.pcap" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct named n = analyse(cases[i].guest, cases[i].host);
		if (!starts_with(n.family, shared_networks) || strcmp(n.confidence, "possible"))
			fail_msg("%s%s: nat-family '%s' (%s), want '%s...' (possible)", cases[i].guest,
				 cases[i].host ? " with host" : "", n.family, n.confidence, shared_networks);
		if (!strstr(n.summary, "The guest's network may be VirtualBox NAT Network or Parallels Shared "
				       "Network (the behaviour matches: no time exceeded for TTL 1, answers "
				       "reach the guest with TTL 255)."))
			fail_msg("%s: summary: %s", cases[i].guest, n.summary);
		if (!strstr(n.finding, "the destination itself answers TTL 1, with TTL 255 at the guest"))
			fail_msg("%s: finding: %s", cases[i].guest, n.finding);
		named_free(&n);
	}
	/* What each sign adds, said with its values. */
	struct named udp = analyse("lab/nat-network-v4/traceroute-udp/guest.pcap",
				   "lab/nat-network-v4/traceroute-udp/host.pcap");
	assert_non_null(strstr(udp.finding, "may sit behind VirtualBox NAT Network or Parallels Shared Network"));
	assert_non_null(strstr(udp.finding, "its port unreachable quotes TTL 61, not 1"));
	assert_non_null(strstr(udp.finding, "the host sends the TTL-1 probe on with TTL 64 from another address"));
	named_free(&udp);
}

/* The family each other scenario was named before NAT Network behaviour was scored, kept
 * (nat-classic: nat_mode_is_named_by_its_behaviour):
 * in particular no NAT family for a healthy or TTL-keeping path, and none from a
 * guest capture of pasta alone, whose TCP and ICMP answers look the same at the guest. */
static void other_scenarios_keep_their_naming(void **state)
{
	(void)state;
	static const struct {
		const char *guest, *host, *family, *confidence; /* family "": none named */
		bool exact;
	} cases[] = {
		{ "lab/routed-v4/traceroute-tcp/guest.pcap", NULL, "", "", true },
		{ "lab/routed-v4/traceroute-icmp/guest.pcap", "lab/routed-v4/traceroute-icmp/host.pcap", "", "",
		  true },
		{ "lab/routed-v6/traceroute-udp/guest.pcap", "lab/routed-v6/traceroute-udp/host.pcap", "", "", true },
		{ "lab/kernel-nat-v4/traceroute-udp/guest.pcap", "lab/kernel-nat-v4/traceroute-udp/host.pcap", "",
		  "", true },
		{ "lab/kernel-nat-v6/traceroute-tcp/guest.pcap", NULL, "", "", true },
		{ "lab/pasta-v4/traceroute-tcp/guest.pcap", NULL, "", "", true },
		{ "lab/pasta-v6/traceroute-icmp/guest.pcap", NULL, "", "", true },
		{ "lab/pasta-v4/traceroute-icmp/guest.pcap", "lab/pasta-v4/traceroute-icmp/host.pcap", "pasta",
		  "likely", false },
		{ "lab/pasta-v6/traceroute-tcp/guest.pcap", "lab/pasta-v6/traceroute-tcp/host.pcap", "pasta",
		  "likely", false },
		/* slirp answers ICMP echo at TTL 1 with TTL 255 too; its fingerprints name it. */
		{ "lab/slirp-v4/traceroute-icmp/guest.pcap", NULL, "QEMU/slirp", "likely", false },
		{ "lab/slirp-v6/traceroute-tcp/guest.pcap", "lab/slirp-v6/traceroute-tcp/host.pcap", "QEMU/slirp",
		  "likely", false },
		{ "lab/slirp-noping-v4/traceroute-icmp/guest.pcap", NULL, "QEMU/slirp", "likely", false },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct named n = analyse(cases[i].guest, cases[i].host);
		bool ok = cases[i].exact ? !strcmp(n.family, cases[i].family) : starts_with(n.family, cases[i].family);
		if (!ok || strcmp(n.confidence, cases[i].confidence))
			fail_msg("%s%s: nat-family '%s' (%s), want '%s%s' (%s)", cases[i].guest,
				 cases[i].host ? " with host" : "", n.family, n.confidence, cases[i].family,
				 cases[i].exact ? "" : "...", cases[i].confidence);
		named_free(&n);
	}
}

/*
 * The classic NAT mode (TTL 1 expires at the gateway, TTL 2 reaches the destination):
 * over IPv4 the lab keeps VirtualBox's default addresses, which with the behaviour make
 * VirtualBox NAT likely; over IPv6 only the behaviour speaks, which VMware's NAT shares.
 */
static void nat_mode_is_named_by_its_behaviour(void **state)
{
	(void)state;
	static const struct {
		const char *guest, *host, *family, *confidence;
	} cases[] = {
		{ "lab/nat-classic-v4/traceroute-tcp/guest.pcap", NULL, "VirtualBox NAT", "likely" },
		{ "lab/nat-classic-v4/traceroute-udp/guest.pcap", "lab/nat-classic-v4/traceroute-udp/host.pcap",
		  "VirtualBox NAT", "likely" },
		{ "lab/nat-classic-v6/traceroute-tcp/guest.pcap", "lab/nat-classic-v6/traceroute-tcp/host.pcap",
		  "VirtualBox NAT or VMware NAT (the behaviour matches: TTL 1 expires at the gateway, TTL 2 "
		  "reaches the destination)", "possible" },
		{ "lab/nat-classic-v6/traceroute-icmp/guest.pcap", NULL,
		  "VirtualBox NAT or VMware NAT (the behaviour matches: TTL 1 expires at the gateway, TTL 2 "
		  "reaches the destination)", "possible" },
	};
	/* Both named, both products' switches told. */
	struct named both = analyse(cases[3].guest, cases[3].host);
	assert_non_null(strstr(both.remedy, "in VMware: the VM's network adapter set to \"Bridged\"."));
	named_free(&both);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct named n = analyse(cases[i].guest, cases[i].host);
		if (strcmp(n.family, cases[i].family) || strcmp(n.confidence, cases[i].confidence))
			fail_msg("%s%s: nat-family '%s' (%s), want '%s' (%s)", cases[i].guest,
				 cases[i].host ? " with host" : "", n.family, n.confidence, cases[i].family,
				 cases[i].confidence);
		named_free(&n);
	}
}

/* A guest put together packet by packet, on Ethernet, diagnosed from its capture alone. */
struct scenario {
	struct case_model cm;
	struct pairing_index ix;
	uint64_t frame;
	int64_t ts;
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

static void feed_ethernet(struct scenario *s, const uint8_t from[6], const uint8_t to[6], const uint8_t *ip,
			  size_t n)
{
	uint8_t frame[256];
	assert_true(n + 14 <= sizeof frame);
	memcpy(frame, to, 6);
	memcpy(frame + 6, from, 6);
	frame[12] = 0x08;
	frame[13] = 0x00;
	memcpy(frame + 14, ip, n);
	struct packet p;
	p.frame = ++s->frame;
	s->ts += 1000000;
	p.ts_ns = s->ts;
	p.wirelen = (uint32_t)(n + 14);
	dissect_frame(&p, LINKTYPE_ETHERNET, frame, (uint32_t)(n + 14));
	s->cm.captures[0].packets++;
	assert_true(pipeline_take_packet(&s->cm, 0, &p, &s->ix) >= 0);
}

static void diagnose(struct scenario *s)
{
	assert_int_equal(pipeline_finish_capture(&s->cm, 0, &s->ix), 0);
	assert_int_equal(traces_build(&s->cm, 0), 0);
	assert_int_equal(traces_rebuild_from_replies(&s->cm, 0), 0);
	assert_int_equal(diagnose_case(&s->cm, 0, -1), 0);
}

/* A TCP trace through a NAT Network: every SYN, TTL 1 to 3, answered by the target with TTL 255. */
static void nat_network_tcp_trace(struct scenario *s, const char *guest, const uint8_t nic[6],
				  const uint8_t gateway[6])
{
	for (uint8_t ttl = 1; ttl <= 3; ttl++) {
		struct probe_spec p = { guest,
					"203.0.113.10",
					ttl,
					(uint16_t)(0x1000 + ttl),
					(uint16_t)(40000 + ttl),
					80,
					0x10000000u + ttl,
					6 };
		uint8_t b[128];
		feed_ethernet(s, nic, gateway, b, build_probe(&p, b, sizeof b));
		feed_ethernet(s, gateway, nic, b, build_answer(&p, 255, b, sizeof b));
	}
	diagnose(s);
	assert_int_equal(s->cm.traces.len, 1);
	assert_int_equal(s->cm.traces.items[0].verdict, VERDICT_TTL_RESET);
}

/* VirtualBox's NIC prefix and its default guest address, on a NAT that behaves as a NAT
 * Network: the mode the NAT behaved like is named, not NAT mode (whose gateway 10.0.2.2,
 * with its fixed MAC, would have answered TTL 1). */
static void virtualbox_nic_behind_a_nat_network(void **state)
{
	struct scenario *s = *state;
	const uint8_t nic[6] = { 0x08, 0x00, 0x27, 0x4e, 0x11, 0x22 };
	const uint8_t gateway[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
	nat_network_tcp_trace(s, "10.0.2.15", nic, gateway);
	assert_non_null(s->cm.nat_family);
	assert_string_equal(s->cm.nat_family, "VirtualBox NAT Network");
	assert_string_equal(s->cm.nat_confidence, "possible");
	assert_non_null(strstr(s->cm.summary, "The guest's network may be VirtualBox NAT Network."));
	/* ...and what to change, in VirtualBox's own words. */
	assert_non_null(strstr(s->cm.remedy, "In VirtualBox: the VM's Settings, Network, \"Attached to: Bridged Adapter\"."));
	/* The finding names the frames the behaviour rests on: the TTL-1 SYN and its SYN-ACK. */
	const struct finding *f = NULL;
	for (size_t i = 0; i < s->cm.findings.len; i++)
		if (s->cm.findings.items[i].kind == FINDING_NAT_FAMILY)
			f = &s->cm.findings.items[i];
	if (!f) {
		fail_msg("no nat.family finding");
		return;
	}
	assert_non_null(strstr(f->text, "the guest's NIC has VirtualBox's prefix 08:00:27"));
	assert_non_null(strstr(f->text, "the destination itself answers TTL 1, with TTL 255 at the guest"));
	assert_int_equal(f->evidence.len, 3);
	assert_string_equal(f->evidence.items[1].role, "TTL-1 probe");
	assert_int_equal(f->evidence.items[1].frame, 1);
	assert_string_equal(f->evidence.items[2].role, "destination answer");
	assert_int_equal(f->evidence.items[2].frame, 2);
}

/* Parallels' prefixes and its Shared Network subnet: Parallels alone, likely. */
static void parallels_shared_network(void **state)
{
	struct scenario *s = *state;
	const uint8_t nic[6] = { 0x00, 0x1c, 0x42, 0x01, 0x02, 0x03 };
	const uint8_t gateway[6] = { 0x00, 0x1c, 0x42, 0x00, 0x00, 0x18 };
	nat_network_tcp_trace(s, "10.211.55.5", nic, gateway);
	assert_non_null(s->cm.nat_family);
	assert_string_equal(s->cm.nat_family, "Parallels Shared Network");
	assert_string_equal(s->cm.nat_confidence, "likely");
}

/* A healthy TCP trace from guest through its gateway and one more router, then the destination. */
static void routed_tcp_trace(struct scenario *s, const char *guest, const char *gateway_ip, const uint8_t nic[6],
			     const uint8_t gateway[6])
{
	for (uint8_t ttl = 1; ttl <= 3; ttl++) {
		struct probe_spec p = { guest, "203.0.113.10", ttl, (uint16_t)(0x1000 + ttl), (uint16_t)(40000 + ttl),
					80,    0x10000000u + ttl, 6 };
		uint8_t b[128];
		feed_ethernet(s, nic, gateway, b, build_probe(&p, b, sizeof b));
		size_t n = ttl < 3 ? build_icmp_error(&p, ttl == 1 ? gateway_ip : "198.51.100.1",
						      (uint8_t)(65 - ttl), 11, 0, 1, b, sizeof b)
				   : build_answer(&p, 62, b, sizeof b);
		feed_ethernet(s, gateway, nic, b, n);
	}
	diagnose(s);
}

/* VirtualBox NAT mode itself keeps its name: the NIC prefix alone says VirtualBox, and
 * without the NAT Network behaviour it stays the NAT mode it was named before. */
static void virtualbox_nic_alone_stays_nat_mode(void **state)
{
	struct scenario *s = *state;
	const uint8_t nic[6] = { 0x08, 0x00, 0x27, 0x4e, 0x11, 0x22 };
	const uint8_t gateway[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
	routed_tcp_trace(s, "192.0.2.10", "192.0.2.1", nic, gateway);
	assert_non_null(s->cm.nat_family);
	assert_string_equal(s->cm.nat_family, "VirtualBox NAT");
}

/* Every VirtualBox NAT default, yet the TCP trace kept its TTL (routers hop by hop):
 * VirtualBox NAT re-originates TCP, so it is no more than possible, and said so. */
static void kept_tcp_ttl_speaks_against_the_defaults(void **state)
{
	struct scenario *s = *state;
	const uint8_t nic[6] = { 0x08, 0x00, 0x27, 0x4e, 0x11, 0x22 };
	const uint8_t gateway[6] = { 0x52, 0x54, 0x00, 0x12, 0x35, 0x02 };
	routed_tcp_trace(s, "10.0.2.15", "10.0.2.2", nic, gateway);
	assert_int_equal(s->cm.traces.items[0].verdict, VERDICT_NO_TTL_RESET);
	assert_non_null(s->cm.nat_family);
	assert_string_equal(s->cm.nat_family, "VirtualBox NAT");
	assert_string_equal(s->cm.nat_confidence, "possible");
	bool said = false;
	for (size_t i = 0; i < s->cm.findings.len; i++)
		said |= s->cm.findings.items[i].kind == FINDING_NAT_FAMILY &&
			strstr(s->cm.findings.items[i].text, "but a TCP trace kept its TTL") != NULL;
	assert_true(said);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(nat_network_is_named_by_its_behaviour),
		cmocka_unit_test(other_scenarios_keep_their_naming),
		cmocka_unit_test(nat_mode_is_named_by_its_behaviour),
		cmocka_unit_test_setup_teardown(virtualbox_nic_behind_a_nat_network, setup, teardown),
		cmocka_unit_test_setup_teardown(kept_tcp_ttl_speaks_against_the_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(parallels_shared_network, setup, teardown),
		cmocka_unit_test_setup_teardown(virtualbox_nic_alone_stays_nat_mode, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
