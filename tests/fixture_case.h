/*
 * A hand-built case model, as the analyzer would make it from a rootless
 * podman container behind slirp4netns (guest 10.0.2.100) that traced
 * 203.0.113.10 with TCP and with ICMP, plus the host's capture of the same
 * minutes. The report tests read it; the values below are what they expect.
 *
 * Trace 0, TCP port 80: 15 SYNs at TTL 1..5, every one answered by a SYN-ACK
 * at TTL 64 (slirp forges them): verdict ttl-reset, direction both, reset to
 * 64, true distance 5 (the TTL the ICMP trace needed), hops: TTL 1 =
 * 203.0.113.10 (the destination), so 4 hops are hidden.
 * Trace 1, ICMP: routers 192.0.2.1, 198.18.1.2, 198.18.2.2, a silent TTL 4,
 * then 203.0.113.10 at TTL 5: verdict no-ttl-reset, true distance 5.
 */
#ifndef TTLSLEUTH_TEST_FIXTURE_CASE_H
#define TTLSLEUTH_TEST_FIXTURE_CASE_H

#include "analyzer/model.h"

/* Guest frame numbers of the TCP probe i (0..14) and its answer, and the host's copies. */
#define FIXTURE_TCP_PROBE_FRAME(i) (3 + 2 * (i))
#define FIXTURE_TCP_REPLY_FRAME(i) (4 + 2 * (i))
#define FIXTURE_HOST_SYN_FRAME(i) (1 + 2 * (i))
#define FIXTURE_HOST_SYNACK_FRAME(i) (2 + 2 * (i))

#define FIXTURE_SUMMARY                                                                          \
	"The VM's NAT resets the TTL of TCP probes: every SYN from 10.0.2.100 left the host "     \
	"with TTL 64 and every answer reached the guest with TTL 64, so TCP traceroute shows "    \
	"203.0.113.10 one hop away. ICMP traceroute is not affected: it shows the 4 routers "     \
	"before 203.0.113.10."
#define FIXTURE_REMEDY                                                                           \
	"Run the TCP traceroute from the host, or give the VM a bridged adapter instead of NAT; " \
	"from the VM, traceroute -I (ICMP) shows the true path."

/* The realistic case. Free it with case_free. */
void fixture_case_build(struct case_model *cm);

/*
 * The same case with hostile strings where input reaches the reports: the
 * guest capture is named FIXTURE_HOSTILE_GUEST_NAME, the host capture's name,
 * path and warning hold bytes that are not UTF-8 and control characters, and
 * the reasons and finding texts hold markup.
 */
void fixture_case_build_hostile(struct case_model *cm);

#define FIXTURE_HOSTILE_GUEST_NAME "<script>alert(1)</script>&\"'.pcap"
#define FIXTURE_HOSTILE_GUEST_NAME_ESCAPED                                                      \
	"&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;&#39;.pcap"
/* 0xFF, a lead byte cut short by '(', SOH and ESC: four replacement characters. */
#define FIXTURE_HOSTILE_HOST_NAME "host\xff\xc3(\x01\x1b[31m.pcap"
#define FIXTURE_HOSTILE_HOST_NAME_CLEAN                                                         \
	"host\xef\xbf\xbd\xef\xbf\xbd(\xef\xbf\xbd\xef\xbf\xbd[31m.pcap"
/* Valid UTF-8 (é) stays; an overlong slash (C0 AF) becomes two replacement characters. */
#define FIXTURE_HOSTILE_HOST_PATH "/cases/caf\xc3\xa9/\xc0\xaf/host.pcap"
#define FIXTURE_HOSTILE_HOST_PATH_CLEAN "/cases/caf\xc3\xa9/\xef\xbf\xbd\xef\xbf\xbd/host.pcap"
/* BEL inside, and a three-byte sequence cut short at the end: one replacement each. */
#define FIXTURE_HOSTILE_WARNING "truncated dump file;\x07 only got 30 bytes \xe2\x82"
#define FIXTURE_HOSTILE_WARNING_CLEAN                                                           \
	"truncated dump file;\xef\xbf\xbd only got 30 bytes \xef\xbf\xbd"
#define FIXTURE_HOSTILE_REASON "</svg></text><script>alert(2)</script> ]]> <!-- --> &amp;"
#define FIXTURE_HOSTILE_FINDING "<img src=x onerror=alert(3)> \xed\xa0\x80"

#endif
