/*
 * Building packets for scenario tests: probes and the answers a router, a
 * destination or a NAT would send, with correct lengths and checksums, as raw
 * IP (LINKTYPE_RAW). Addresses are text ("192.0.2.10"); an IPv6 source
 * ("2001:db8::10") makes the probe IPv6 (no IP ID; ICMP echo is ICMPv6's).
 */
#ifndef TTLSLEUTH_TEST_SUPPORT_PACKETS_H
#define TTLSLEUTH_TEST_SUPPORT_PACKETS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct probe_spec {
	const char *src, *dst;
	uint8_t ttl;
	uint16_t ip_id;
	uint16_t sport, dport; /* TCP SYN when seq_or_echo is used as a sequence */
	uint32_t seq;
	int proto;             /* 6 TCP SYN, 17 UDP, 1 ICMP echo (sport = id, dport = seq) */
};

/* How the probe's transport checksum is captured. */
enum probe_checksum {
	CHECKSUM_REAL,      /* as it went out */
	CHECKSUM_OFFLOADED, /* TCP/UDP: the pseudo-header sum a sender with checksum offload
			       leaves for its NIC (captured on the sending host) */
	CHECKSUM_NONE,      /* UDP over IPv4: 0 */
};

struct probe_options {
	uint16_t payload; /* nonzero: two bytes of payload with this value (Paris traceroute
			     varies them to steer the checksum) */
	enum probe_checksum checksum;
};

/* The probe with those options (NULL: none) into buf; returns its length. */
size_t build_probe_with(const struct probe_spec *p, const struct probe_options *o, uint8_t *buf,
			size_t size);

/* Writes the probe into buf; returns its length. */
size_t build_probe(const struct probe_spec *p, uint8_t *buf, size_t size);

/* ICMP error (type, code) from `from` with outer TTL, quoting the probe as it arrived (quoted_ttl).
 * For an IPv6 probe, the ICMPv6 error of that meaning: 11 becomes 3, 3/3 (port) becomes 1/4. */
size_t build_icmp_error(const struct probe_spec *p, const char *from, uint8_t ttl, uint8_t type,
			uint8_t code, uint8_t quoted_ttl, uint8_t *buf, size_t size);

/* The same, quoting only the first quote_len bytes of the probe (20: the IP header alone). */
size_t build_icmp_error_quoting(const struct probe_spec *p, const char *from, uint8_t ttl,
				uint8_t type, uint8_t code, uint8_t quoted_ttl, size_t quote_len,
				uint8_t *buf, size_t size);

/*
 * The ICMP error quoting the first quote_len bytes of the given probe (IPv4
 * or IPv6, as built above, and perhaps altered since) with its TTL set to
 * quoted_ttl, sent from `from` to the probe's source; types as above.
 */
size_t build_icmp_error_for(const uint8_t *probe, size_t probe_len, const char *from, uint8_t ttl,
			    uint8_t type, uint8_t code, uint8_t quoted_ttl, size_t quote_len,
			    uint8_t *buf, size_t size);

/* The destination's SYN-ACK (TCP probe) or echo reply (ICMP probe), with the given TTL. */
size_t build_answer(const struct probe_spec *p, uint8_t ttl, uint8_t *buf, size_t size);

/* A raw-IP pcap file (nanosecond timestamps) put together packet by packet. */
struct pcap_file {
	FILE *f;
};

/* Creates path with the pcap header; aborts when it cannot. */
void pcap_file_open(struct pcap_file *pf, const char *path);
void pcap_file_add(struct pcap_file *pf, int64_t ts_ns, const uint8_t *packet, size_t n);
void pcap_file_close(struct pcap_file *pf);

#endif
