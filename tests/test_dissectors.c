/*
 * Dissector tests on real packet bytes from samples/routed/guest.pcap (the
 * routed lab of samples/README.md), and on headers rewrapped around them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dissectors/dissect.h"
#include "support.h"

/* Frame 10: r1 (198.18.1.2) says time exceeded for the TCP SYN of frame 9 (sent with TTL 2,
 * quoted with the TTL 1 it reached r1 with; port 35413 → 80). */
static const char time_exceeded_hex[] =
	"563a949adad392a470c2c7c5080045c0005820a800003f01d11ec6120102c000020a0b00f343000000"
	"004500003c42e50000010678c2c000020acb00710a8a55005012ef659100000000a00216d04eae0000"
	"020405b40402080a2b51b5fa0000000001030302";

/* Frame 9: the probe itself, TTL 2. */
static const char syn_probe_hex[] =
	"92a470c2c7c5563a949adad308004500003c42e50000020677c2c000020acb00710a8a55005012ef6591"
	"00000000a00216d04eae0000020405b40402080a2b51b5fa0000000001030302";

enum { ETH = 14, IP = 20, ICMP_HDR = 8, QUOTE_IP = 20 };

static size_t load(const char *hex, uint8_t *buf, size_t size)
{
	return hex_to_bytes(hex, buf, size);
}

static void dissect_len(struct packet *p, int linktype, const uint8_t *b, size_t caplen, size_t wirelen)
{
	memset(p, 0, sizeof *p);
	p->frame = 1;
	p->wirelen = (uint32_t)wirelen;
	dissect_frame(p, linktype, b, (uint32_t)caplen);
}

static void assert_addr(const struct ip_addr *a, const char *text)
{
	char got[64];
	ip_addr_format(a, got, sizeof got);
	assert_string_equal(got, text);
}

static void assert_quote_of_frame9(const struct packet *p)
{
	assert_true(p->quote.present);
	assert_int_equal(p->quote.quoted_len, 60);
	assert_int_equal(p->quote.ip.version, 4);
	assert_int_equal(p->quote.ip.ttl, 1);
	assert_int_equal(p->quote.ip.ip_id, 0x42e5);
	assert_int_equal(p->quote.ip.proto, IPPROTO_NUM_TCP);
	assert_true(p->quote.ip.checksum_ok);
	assert_addr(&p->quote.ip.src, "192.0.2.10");
	assert_addr(&p->quote.ip.dst, "203.0.113.10");
	assert_int_equal(p->quote.l4.kind, L4_TCP);
	assert_int_equal(p->quote.l4.sport, 35413);
	assert_int_equal(p->quote.l4.dport, 80);
	assert_int_equal(p->quote.l4.seq, 0x12ef6591);
	assert_int_equal(p->quote.l4.tcp_flags, TCP_SYN);
	/* What the router saw, as the probe (frame 9) was sent: tshark's tcp.checksum */
	assert_true(p->quote.l4.checksum_present);
	assert_int_equal(p->quote.l4.checksum, 0x4eae);
}

static void time_exceeded_full(void **state)
{
	(void)state;
	uint8_t b[256];
	size_t n = load(time_exceeded_hex, b, sizeof b);
	struct packet p;
	dissect_len(&p, LINKTYPE_ETHERNET, b, n, n);
	assert_int_equal(n, 102);
	assert_int_equal(p.anomalies, 0);
	assert_true(p.has_mac);
	assert_int_equal(p.ip.version, 4);
	assert_int_equal(p.ip.ttl, 63);
	assert_int_equal(p.ip.total_len, 88);
	assert_addr(&p.ip.src, "198.18.1.2");
	assert_addr(&p.ip.dst, "192.0.2.10");
	assert_int_equal(p.l4.kind, L4_ICMP);
	assert_int_equal(p.l4.icmp_type, 11);
	assert_int_equal(p.l4.icmp_code, 0);
	assert_true(p.l4.checksum_present);
	assert_int_equal(p.l4.checksum, 0xf343);
	assert_true(packet_is_time_exceeded(&p));
	assert_quote_of_frame9(&p);
}

static void syn_probe(void **state)
{
	(void)state;
	uint8_t b[256];
	size_t n = load(syn_probe_hex, b, sizeof b);
	struct packet p;
	dissect_len(&p, LINKTYPE_ETHERNET, b, n, n);
	assert_int_equal(p.anomalies, 0);
	assert_int_equal(p.ip.ttl, 2);
	assert_int_equal(p.l4.kind, L4_TCP);
	assert_true(p.l4.complete);
	assert_int_equal(p.l4.tcp_flags, TCP_SYN);
	assert_int_equal(p.l4.seq, 0x12ef6591);
	assert_true(p.l4.checksum_present);
	assert_int_equal(p.l4.checksum, 0x4eae);
	assert_false(p.quote.present);
}

/*
 * Every cut of the time-exceeded frame: what is before the cut is kept, the cut
 * is named by the layer it falls in, and nothing reads past it (ASan watches).
 */
static void time_exceeded_every_truncation(void **state)
{
	(void)state;
	uint8_t full[256];
	size_t n = load(time_exceeded_hex, full, sizeof full);
	const size_t quote_start = ETH + IP + ICMP_HDR;
	for (size_t cut = 0; cut <= n; cut++) {
		/* A fresh allocation of exactly `cut` bytes so ASan sees any overread. */
		uint8_t *b = test_malloc(cut ? cut : 1);
		memcpy(b, full, cut);
		struct packet p;
		dissect_len(&p, LINKTYPE_ETHERNET, b, cut, n);
		if (cut < n)
			assert_true(anomaly_has(p.anomalies, ANOMALY_FRAME_TRUNCATED_BY_SNAPLEN));
		if (cut < ETH) {
			assert_true(anomaly_has(p.anomalies, ANOMALY_LINK_TRUNCATED));
			assert_int_equal(p.ip.version, 0);
		} else if (cut < ETH + IP) {
			assert_true(anomaly_has(p.anomalies, ANOMALY_IPV4_TRUNCATED));
			assert_int_equal(p.l4.kind, L4_NONE);
		} else if (cut < ETH + IP + ICMP_HDR) {
			assert_addr(&p.ip.src, "198.18.1.2");
			assert_true(anomaly_has(p.anomalies, ANOMALY_ICMP_TRUNCATED));
			assert_false(p.quote.present);
		} else if (cut < quote_start + QUOTE_IP) {
			assert_true(p.quote.present);
			assert_int_equal(p.quote.quoted_len, cut - quote_start);
			assert_true(anomaly_has(p.anomalies, ANOMALY_QUOTE_TRUNCATED));
			assert_int_equal(p.quote.l4.kind, L4_NONE);
		} else if (cut < quote_start + QUOTE_IP + 8) {
			/* The quoted IP header is whole; the transport part is under RFC 792's 8 bytes. */
			assert_int_equal(p.quote.ip.ttl, 1);
			assert_addr(&p.quote.ip.dst, "203.0.113.10");
			assert_true(anomaly_has(p.anomalies, ANOMALY_QUOTE_TRUNCATED));
			assert_int_equal(p.quote.l4.ports_present, cut >= quote_start + QUOTE_IP + 4);
		} else {
			/* 8 bytes of TCP or more: ports and sequence, and no anomaly of the quote. */
			assert_false(anomaly_has(p.anomalies, ANOMALY_QUOTE_TRUNCATED));
			assert_int_equal(p.quote.l4.sport, 35413);
			assert_int_equal(p.quote.l4.seq, 0x12ef6591);
			assert_int_equal(p.quote.l4.complete, cut >= quote_start + QUOTE_IP + 20);
			/* The checksum is bytes 16-17 of the TCP header. */
			assert_int_equal(p.quote.l4.checksum_present, cut >= quote_start + QUOTE_IP + 18);
			if (cut == n)
				assert_quote_of_frame9(&p);
		}
		test_free(b);
	}
}

/* Rewraps the IP part of a frame behind another link header. */
static size_t rewrap(const uint8_t *eth_frame, size_t n, const uint8_t *header, size_t header_len,
		     uint8_t *out)
{
	if (header_len)
		memcpy(out, header, header_len);
	memcpy(out + header_len, eth_frame + ETH, n - ETH);
	return header_len + n - ETH;
}

static void check_same_packet(int linktype, const uint8_t *frame, size_t n)
{
	struct packet p;
	dissect_len(&p, linktype, frame, n, n);
	assert_int_equal(p.anomalies, 0);
	assert_int_equal(p.ip.ttl, 63);
	assert_quote_of_frame9(&p);
}

static void vlan_tags(void **state)
{
	(void)state;
	uint8_t full[256], b[300];
	size_t n = load(time_exceeded_hex, full, sizeof full);
	/* 802.1ad outer tag, 802.1Q inner tag. */
	uint8_t header[22];
	memcpy(header, full, 12);
	const uint8_t tags[] = { 0x88, 0xa8, 0x00, 0x64, 0x81, 0x00, 0x00, 0x0a, 0x08, 0x00 };
	memcpy(header + 12, tags, sizeof tags);
	size_t m = rewrap(full, n, header, sizeof header, b);
	check_same_packet(LINKTYPE_ETHERNET, b, m);
	struct packet p;
	dissect_len(&p, LINKTYPE_ETHERNET, b, m, m);
	assert_int_equal(p.vlan_depth, 2);

	/* Five stacked tags: more than any real network uses. */
	uint8_t deep[12 + 5 * 4 + 2];
	memcpy(deep, full, 12);
	for (int i = 0; i < 5; i++) {
		const uint8_t tag[] = { 0x81, 0x00, 0x00, 0x01 };
		memcpy(deep + 12 + 4 * i, tag, 4);
	}
	deep[32] = 0x08;
	deep[33] = 0x00;
	m = rewrap(full, n, deep, sizeof deep, b);
	dissect_len(&p, LINKTYPE_ETHERNET, b, m, m);
	assert_true(anomaly_has(p.anomalies, ANOMALY_VLAN_TOO_DEEP));
	assert_int_equal(p.ip.version, 0);
}

static void linux_cooked(void **state)
{
	(void)state;
	uint8_t full[256], b[300];
	size_t n = load(time_exceeded_hex, full, sizeof full);
	const uint8_t sll[16] = { 0x00, 0x00, 0x00, 0x01, 0x00, 0x06, 0x56, 0x3a,
				  0x94, 0x9a, 0xda, 0xd3, 0x00, 0x00, 0x08, 0x00 };
	size_t m = rewrap(full, n, sll, sizeof sll, b);
	check_same_packet(LINKTYPE_LINUX_SLL, b, m);

	const uint8_t sll2[20] = { 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01,
				   0x00, 0x06, 0x56, 0x3a, 0x94, 0x9a, 0xda, 0xd3, 0x00, 0x00 };
	m = rewrap(full, n, sll2, sizeof sll2, b);
	check_same_packet(LINKTYPE_LINUX_SLL2, b, m);
	struct packet p;
	dissect_len(&p, LINKTYPE_LINUX_SLL2, b, m, m);
	assert_true(p.has_mac);
	assert_int_equal(p.src_mac[0], 0x56);

	/* An SLL2 header cut in the middle. */
	dissect_len(&p, LINKTYPE_LINUX_SLL2, b, 11, m);
	assert_true(anomaly_has(p.anomalies, ANOMALY_LINK_TRUNCATED));
}

static void raw_and_null(void **state)
{
	(void)state;
	uint8_t full[256], b[300];
	size_t n = load(time_exceeded_hex, full, sizeof full);
	size_t m = rewrap(full, n, NULL, 0, b);
	check_same_packet(LINKTYPE_RAW, b, m);
	check_same_packet(LINKTYPE_IPV4, b, m);
	const uint8_t null_header[4] = { 0x02, 0x00, 0x00, 0x00 }; /* AF_INET, little-endian host */
	m = rewrap(full, n, null_header, sizeof null_header, b);
	check_same_packet(LINKTYPE_NULL, b, m);
	check_same_packet(LINKTYPE_LOOP, b, m);
	assert_false(dissect_link_supported(147));
	assert_int_equal(dissect_linktype_from_dlt(12), LINKTYPE_RAW);
}

static void ipv4_header_oddities(void **state)
{
	(void)state;
	uint8_t b[256];
	size_t n = load(syn_probe_hex, b, sizeof b);
	struct packet p;

	/* Total length 0: segmentation offload on the capturing host, the payload is still read. */
	uint8_t zero[256];
	memcpy(zero, b, n);
	zero[ETH + 2] = zero[ETH + 3] = 0;
	dissect_len(&p, LINKTYPE_ETHERNET, zero, n, n);
	assert_true(anomaly_has(p.anomalies, ANOMALY_IPV4_TOTAL_LENGTH_ZERO));
	assert_int_equal(p.l4.sport, 35413);

	/* Header length 4 words: nonsense, stop at IP. */
	uint8_t bad[256];
	memcpy(bad, b, n);
	bad[ETH] = 0x44;
	dissect_len(&p, LINKTYPE_ETHERNET, bad, n, n);
	assert_true(anomaly_has(p.anomalies, ANOMALY_IPV4_BAD_HEADER_LENGTH));
	assert_int_equal(p.l4.kind, L4_NONE);

	/* A later fragment has no transport header. */
	uint8_t frag[256];
	memcpy(frag, b, n);
	frag[ETH + 6] = 0x00;
	frag[ETH + 7] = 0x10;
	dissect_len(&p, LINKTYPE_ETHERNET, frag, n, n);
	assert_true(anomaly_has(p.anomalies, ANOMALY_IPV4_FRAGMENT));
	assert_true(p.ip.later_fragment);
	assert_int_equal(p.l4.kind, L4_NONE);

	/* Options (IHL 6) are skipped: the TCP header is found after them. */
	uint8_t opt[300];
	memcpy(opt, b, ETH + IP);
	opt[ETH] = 0x46;
	opt[ETH + 3] = (uint8_t)(opt[ETH + 3] + 4);
	const uint8_t nops[4] = { 1, 1, 1, 0 };
	memcpy(opt + ETH + IP, nops, 4);
	memcpy(opt + ETH + IP + 4, b + ETH + IP, n - ETH - IP);
	dissect_len(&p, LINKTYPE_ETHERNET, opt, n + 4, n + 4);
	assert_int_equal(p.ip.header_len, 24);
	assert_int_equal(p.l4.sport, 35413);
	assert_int_equal(p.anomalies, 0);

	/* A version nibble that is neither 4 nor 6, behind a raw link type. */
	uint8_t v5[40] = { 0x55 };
	dissect_len(&p, LINKTYPE_RAW, v5, sizeof v5, sizeof v5);
	assert_true(anomaly_has(p.anomalies, ANOMALY_IP_BAD_VERSION));
}

/*
 * ICMPv6 time exceeded from 2001:db8:1::1 quoting a TCP SYN over IPv6 that
 * carried a hop-by-hop options header; built from RFC 8200/4443 layouts with
 * documentation addresses (RFC 3849).
 */
static void ipv6_time_exceeded_with_extension(void **state)
{
	(void)state;
	static const char hex[] =
		/* IPv6: payload 8+40+8+20 = 76, next header ICMPv6, hop limit 62 */
		"6000000000" "4c" "3a" "3e"
		"20010db8000100000000000000000001" /* src router */
		"20010db8000a00000000000000000064" /* dst guest */
		/* ICMPv6 time exceeded, code 0, checksum, unused */
		"03000000" "00000000"
		/* quoted IPv6: payload 8+20, next header hop-by-hop, hop limit 1 */
		"6000000000" "1c" "00" "01"
		"20010db8000a00000000000000000064"
		"20010db8000200000000000000000010"
		/* hop-by-hop: next TCP, length 0 (8 bytes), PadN */
		"0600" "010400000000"
		/* TCP SYN 40000 → 443, seq 0x01020304 */
		"9c4001bb01020304000000005002faf000000000";
	uint8_t b[256];
	size_t n = hex_to_bytes(hex, b, sizeof b);
	struct packet p;
	dissect_len(&p, LINKTYPE_RAW, b, n, n);
	assert_int_equal(p.anomalies, 0);
	assert_int_equal(p.ip.version, 6);
	assert_int_equal(p.ip.ttl, 62);
	assert_true(packet_is_time_exceeded(&p));
	assert_true(p.quote.present);
	assert_int_equal(p.quote.ip.ttl, 1);
	assert_int_equal(p.quote.ip.proto, IPPROTO_NUM_TCP);
	assert_int_equal(p.quote.ip.header_len, 48);
	assert_addr(&p.quote.ip.dst, "2001:db8:2::10");
	assert_int_equal(p.quote.l4.sport, 40000);
	assert_int_equal(p.quote.l4.dport, 443);
	assert_int_equal(p.quote.l4.seq, 0x01020304);

	/* Cut inside the quoted hop-by-hop header. */
	dissect_len(&p, LINKTYPE_RAW, b, 40 + 8 + 40 + 4, n);
	assert_true(anomaly_has(p.anomalies, ANOMALY_QUOTE_TRUNCATED));
	assert_int_equal(p.quote.l4.kind, L4_NONE);
}

/*
 * samples/routed/guest.pcap frame 2: "192.0.2.1 is at 92:a4:70:c2:c7:c5". The
 * sender is a neighbour on the link; every cut of the frame is named, never read past.
 */
static void arp_names_a_neighbour(void **state)
{
	(void)state;
	static const char hex[] = "563a949adad392a470c2c7c508060001080006040002"
				  "92a470c2c7c5c0000201563a949adad3c000020a";
	uint8_t b[64];
	size_t n = hex_to_bytes(hex, b, sizeof b);
	struct packet p;
	dissect_len(&p, LINKTYPE_ETHERNET, b, n, n);
	assert_true(p.neighbor.present);
	assert_addr(&p.neighbor.addr, "192.0.2.1");
	assert_true(p.neighbor.mac_known);
	assert_memory_equal(p.neighbor.mac, b + 6, 6);
	assert_int_equal(p.ip.version, 0);
	assert_int_equal(p.anomalies, 0);
	/* The sender's MAC and address end at byte 32; the target's fields are not needed. */
	for (size_t cut = 0; cut < 32; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1);
		memcpy(copy, b, cut);
		dissect_len(&p, LINKTYPE_ETHERNET, copy, cut, n);
		free(copy);
		assert_false(p.neighbor.present);
		assert_true(anomaly_has(p.anomalies, cut < 14 ? ANOMALY_LINK_TRUNCATED : ANOMALY_ARP_TRUNCATED));
	}
	/* A probe for a duplicate address (sender 0.0.0.0) names nobody. */
	memset(b + 28, 0, 4);
	dissect_len(&p, LINKTYPE_ETHERNET, b, n, n);
	assert_false(p.neighbor.present);
}

/*
 * samples/lab/nat-classic-v6/traceroute-tcp/guest.pcap frames 1 and 2: the
 * guest solicits fd00:2::2, which advertises itself at 12:a1:06:71:cd:31.
 */
static void neighbour_discovery_names_a_neighbour(void **state)
{
	(void)state;
	static const char solicitation[] =
		"3333ff000002f6e06ddd588486dd6000000000203afffd000002000000000000000000000015"
		"ff0200000000000000000001ff000002" "8700c23d00000000fd000002000000000000000000000002"
		"0101f6e06ddd5884";
	static const char advertisement[] =
		"f6e06ddd588412a10671cd3186dd6000000000203afffd000002000000000000000000000002"
		"fd000002000000000000000000000015" "8800b83de0000000fd000002000000000000000000000002"
		"020112a10671cd31";
	uint8_t b[128];
	struct packet p;
	size_t n = hex_to_bytes(advertisement, b, sizeof b);
	dissect_len(&p, LINKTYPE_ETHERNET, b, n, n);
	assert_true(p.neighbor.present);
	assert_addr(&p.neighbor.addr, "fd00:2::2");
	assert_true(p.neighbor.mac_known);
	assert_memory_equal(p.neighbor.mac, b + 6, 6);
	/* Cut before the option: still the target, its MAC from the Ethernet header. */
	dissect_len(&p, LINKTYPE_ETHERNET, b, n - 8, n);
	assert_true(p.neighbor.present);
	assert_memory_equal(p.neighbor.mac, b + 6, 6);
	/* Cut inside the target address: nobody, and the cut is named. */
	dissect_len(&p, LINKTYPE_ETHERNET, b, 14 + 40 + 8 + 10, n);
	assert_false(p.neighbor.present);
	assert_true(anomaly_has(p.anomalies, ANOMALY_ICMPV6_TRUNCATED));
	/* Forwarded by a router (hop limit below 255): not neighbour discovery (RFC 4861 7.1.2). */
	b[14 + 7] = 254;
	dissect_len(&p, LINKTYPE_ETHERNET, b, n, n);
	assert_false(p.neighbor.present);

	n = hex_to_bytes(solicitation, b, sizeof b);
	dissect_len(&p, LINKTYPE_ETHERNET, b, n, n);
	assert_true(p.neighbor.present);
	assert_addr(&p.neighbor.addr, "fd00:2::15");
	assert_memory_equal(p.neighbor.mac, b + 6, 6);
}

/* An ICMP error quoting an ICMP error: one level only, named. */
static void nested_error_is_bounded(void **state)
{
	(void)state;
	static const char hex[] =
		"4500003800010000400100000a0000010a000002" /* outer IPv4, ICMP */
		"0b000000" "00000000"                       /* time exceeded */
		"4500001c00020000010100000a0000020a000003" /* quoted IPv4, ICMP */
		"0b000000" "00000000";                      /* a quoted time exceeded */
	uint8_t b[128];
	size_t n = hex_to_bytes(hex, b, sizeof b);
	struct packet p;
	dissect_len(&p, LINKTYPE_RAW, b, n, n);
	assert_true(p.quote.present);
	assert_int_equal(p.quote.l4.kind, L4_ICMP);
	assert_true(anomaly_has(p.anomalies, ANOMALY_QUOTE_NESTED_ERROR));
}

/*
 * the-tcpdump-group/tcpdump tests/mpls-traceroute.pcap frame 2 (PPP): a time
 * exceeded from 10.5.0.1 with its quote padded to 128 bytes and an RFC 4950
 * MPLS object after it; the length attribute is 0 (RFC 4884's compatibility
 * layout).
 */
static const char mpls_time_exceeded_hex[] =
	"ff030021450000a813964000ff014db10a0500010c0404040b00cd040000000045000028a54c00000111f76f"
	"0c0404040c010101a54b829b0014000000000000000000000000000000000000000000000000000000000000"
	"0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	"000000000000000000000000000000000000000000000000000000002000c55f0008010118960101";

enum { PPP_HEADER = 4, ICMP_LENGTH_ATTRIBUTE = PPP_HEADER + IP + 5 };

static void assert_mpls_quote(const struct packet *p, size_t quoted_len)
{
	assert_true(p->quote.present);
	assert_int_equal(p->quote.quoted_len, quoted_len);
	assert_int_equal(p->quote.l4.kind, L4_UDP);
	assert_int_equal(p->quote.l4.sport, 42315);
	assert_int_equal(p->quote.l4.dport, 33435);
	/* The UDP header is whole: its checksum is there, 0 (none, as IPv4 allows) */
	assert_true(p->quote.l4.checksum_present);
	assert_int_equal(p->quote.l4.checksum, 0);
	assert_int_equal(p->quote.ip.ttl, 1);
	assert_true(p->quote.extensions);
	assert_int_equal(p->quote.mpls_count, 1);
	assert_int_equal(p->quote.mpls[0].label, 100704);
	assert_int_equal(p->quote.mpls[0].tc, 0);
	assert_int_equal(p->quote.mpls[0].bottom, 1);
	assert_int_equal(p->quote.mpls[0].ttl, 1);
}

static void icmp_extensions_with_mpls(void **state)
{
	(void)state;
	uint8_t b[256];
	size_t n = hex_to_bytes(mpls_time_exceeded_hex, b, sizeof b);
	struct packet p;

	/* As captured: no length attribute, extensions at byte 128 of the quote. */
	dissect_len(&p, LINKTYPE_PPP, b, n, n);
	assert_int_equal(p.ip.ttl, 255);
	assert_addr(&p.ip.src, "10.5.0.1");
	assert_int_equal(p.anomalies, 0);
	assert_mpls_quote(&p, 128);

	/* Compliant: the attribute says 32 words. (The ICMP checksum is not checked.) */
	b[ICMP_LENGTH_ATTRIBUTE] = 32;
	dissect_len(&p, LINKTYPE_PPP, b, n, n);
	assert_int_equal(p.anomalies, 0);
	assert_mpls_quote(&p, 128);

	/* Non-compliant: 17 words claimed, the structure still at 128; the quote ends at 68. */
	b[ICMP_LENGTH_ATTRIBUTE] = 17;
	dissect_len(&p, LINKTYPE_PPP, b, n, n);
	assert_mpls_quote(&p, 68);

	/* An attribute far beyond the message: extensions ignored, the probe still identifiable. */
	b[ICMP_LENGTH_ATTRIBUTE] = 200;
	dissect_len(&p, LINKTYPE_PPP, b, n, n);
	assert_true(anomaly_has(p.anomalies, ANOMALY_ICMP_LENGTH_BEYOND_MESSAGE));
	assert_false(p.quote.extensions);
	assert_int_equal(p.quote.mpls_count, 0);
	assert_int_equal(p.quote.l4.dport, 33435);
	assert_int_equal(p.quote.quoted_len, n - PPP_HEADER - IP - ICMP_HDR);

	/* A structure whose checksum fails is not believed: it stays part of the quote. */
	b[ICMP_LENGTH_ATTRIBUTE] = 0;
	b[n - 10] ^= 0xff;
	dissect_len(&p, LINKTYPE_PPP, b, n, n);
	assert_false(p.quote.extensions);
	assert_int_equal(p.quote.quoted_len, n - PPP_HEADER - IP - ICMP_HDR);
	assert_int_equal(p.quote.l4.dport, 33435);

	/* Every cut of the frame: no overread, and the quote's ports survive while present. */
	b[n - 10] ^= 0xff;
	for (size_t cut = 0; cut <= n; cut++) {
		uint8_t *copy = test_malloc(cut ? cut : 1);
		memcpy(copy, b, cut);
		dissect_len(&p, LINKTYPE_PPP, copy, cut, n);
		if (cut >= PPP_HEADER + IP + ICMP_HDR + IP + 4)
			assert_int_equal(p.quote.l4.dport, 33435);
		test_free(copy);
	}
}

/* The probes of that trace travel inside an MPLS label stack on the link. */
static void mpls_on_the_link(void **state)
{
	(void)state;
	static const char hex[] =
		"ff030281" "18960101" /* PPP, MPLS unicast; label 100704, bottom of stack, TTL 1 */
		"45000028a54c00000111f76f0c0404040c010101a54b829b00140000000000000000000000";
	uint8_t b[128];
	size_t n = hex_to_bytes(hex, b, sizeof b);
	struct packet p;
	dissect_len(&p, LINKTYPE_PPP, b, n, n);
	assert_int_equal(p.anomalies, 0);
	assert_int_equal(p.ip.ttl, 1);
	assert_int_equal(p.l4.kind, L4_UDP);
	assert_int_equal(p.l4.dport, 33435);

	/* A stack that never ends within 8 labels. */
	uint8_t deep[64] = { 0x00, 0x21 };
	deep[0] = 0x02;
	deep[1] = 0x81;
	for (int i = 0; i < 9; i++)
		memcpy(deep + 2 + 4 * i, "\x00\x01\x00\x40", 4);
	dissect_len(&p, LINKTYPE_PPP, deep, 2 + 36, 2 + 36);
	assert_true(anomaly_has(p.anomalies, ANOMALY_MPLS_TOO_DEEP));
}

/* A macOS PKTAP header (108 bytes, little-endian) naming the program, around an Ethernet frame. */
static void pktap_keeps_the_process_name(void **state)
{
	(void)state;
	uint8_t frame[256], b[400];
	size_t n = hex_to_bytes(time_exceeded_hex, frame, sizeof frame);
	memset(b, 0, 108);
	b[0] = 108;          /* header length */
	b[4] = 1;            /* a packet follows */
	b[8] = 1;            /* its DLT: Ethernet */
	memcpy(b + 12, "en0", 3);
	memcpy(b + 56, "traceroute", 10);
	memcpy(b + 108, frame, n);
	struct packet p;
	dissect_len(&p, LINKTYPE_PKTAP, b, 108 + n, 108 + n);
	assert_int_equal(p.anomalies, 0);
	assert_string_equal(p.process, "traceroute");
	assert_quote_of_frame9(&p);

	/* A header length past the frame, and one below the fixed part. */
	b[0] = 0xff;
	b[1] = 0x01;
	dissect_len(&p, LINKTYPE_PKTAP, b, 108 + n, 108 + n);
	assert_true(anomaly_has(p.anomalies, ANOMALY_LINK_TRUNCATED));
	b[0] = 20;
	b[1] = 0;
	dissect_len(&p, LINKTYPE_PKTAP, b, 108 + n, 108 + n);
	assert_true(anomaly_has(p.anomalies, ANOMALY_LINK_TRUNCATED));
	/* PKTAP inside PKTAP is refused rather than followed. */
	b[0] = 108;
	b[8] = 0x02;
	b[9] = 0x01; /* DLT 258 */
	dissect_len(&p, LINKTYPE_PKTAP, b, 108 + n, 108 + n);
	assert_true(anomaly_has(p.anomalies, ANOMALY_LINK_UNSUPPORTED_TYPE));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(time_exceeded_full),
		cmocka_unit_test(syn_probe),
		cmocka_unit_test(time_exceeded_every_truncation),
		cmocka_unit_test(vlan_tags),
		cmocka_unit_test(linux_cooked),
		cmocka_unit_test(raw_and_null),
		cmocka_unit_test(ipv4_header_oddities),
		cmocka_unit_test(ipv6_time_exceeded_with_extension),
		cmocka_unit_test(nested_error_is_bounded),
		cmocka_unit_test(arp_names_a_neighbour),
		cmocka_unit_test(neighbour_discovery_names_a_neighbour),
		cmocka_unit_test(icmp_extensions_with_mpls),
		cmocka_unit_test(mpls_on_the_link),
		cmocka_unit_test(pktap_keeps_the_process_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
