/*
 * What the dissectors make of one captured frame.
 *
 * Only the header fields a path-trace diagnosis needs are kept; payloads are
 * not copied. The struct is filled in place, layer by layer, and every layer
 * says how far it got: a frame cut short still yields whatever came before the
 * cut, with the cut recorded as a named anomaly.
 */
#ifndef TTLSLEUTH_PACKET_H
#define TTLSLEUTH_PACKET_H

#include <stdbool.h>
#include <stdint.h>

#include "dissectors/anomaly.h"
#include "dissectors/cursor.h"

/* Link types by their LINKTYPE_ numbers (the values written into files). */
enum {
	LINKTYPE_NULL = 0,
	LINKTYPE_ETHERNET = 1,
	LINKTYPE_PPP = 9,
	LINKTYPE_PPP_HDLC = 50,
	LINKTYPE_C_HDLC = 104,
	LINKTYPE_RAW = 101,
	LINKTYPE_LOOP = 108,
	LINKTYPE_LINUX_SLL = 113,
	LINKTYPE_IPV4 = 228,
	LINKTYPE_IPV6 = 229,
	LINKTYPE_PKTAP = 258,
	LINKTYPE_LINUX_SLL2 = 276,
};

enum { IPPROTO_NUM_ICMP = 1, IPPROTO_NUM_TCP = 6, IPPROTO_NUM_UDP = 17, IPPROTO_NUM_ICMPV6 = 58 };

enum {
	TCP_FIN = 0x01,
	TCP_SYN = 0x02,
	TCP_RST = 0x04,
	TCP_PSH = 0x08,
	TCP_ACK = 0x10,
};

/* An IPv4 address uses b[0..3]; family 0 means "no address". */
struct ip_addr {
	uint8_t family; /* 4 or 6 */
	uint8_t b[16];
};

struct ip_layer {
	struct ip_addr src, dst;
	uint8_t version;      /* 4 or 6; 0 when there is no IP layer */
	uint8_t ttl;          /* IPv6: hop limit */
	uint8_t proto;        /* the upper-layer protocol after any IPv6 extension headers */
	uint16_t header_len;  /* including IPv4 options or IPv6 extension headers */
	uint16_t total_len;   /* as the header claims it (IPv6: 40 + payload length) */
	uint32_t ip_id;       /* IPv4 identification; IPv6 fragment identification if any */
	uint16_t checksum;    /* IPv4 header checksum as found */
	bool checksum_ok;     /* IPv4: the header checksum verifies */
	bool df;              /* IPv4 don't-fragment */
	bool fragment;        /* part of a fragmented datagram */
	bool later_fragment;  /* not the first fragment: no transport header in it */
	bool header_complete; /* the fixed header and its options/extensions are all present */
};

enum transport_kind { L4_NONE, L4_TCP, L4_UDP, L4_ICMP, L4_ICMPV6 };

struct transport {
	enum transport_kind kind;
	uint16_t bytes;        /* transport bytes present (a quote may hold only 8) */
	bool ports_present;    /* TCP/UDP: the first 4 bytes are there */
	bool complete;         /* the whole fixed header is there */
	uint16_t sport, dport; /* TCP/UDP */
	uint32_t seq, ack;     /* TCP */
	uint8_t tcp_flags;     /* TCP */
	uint8_t icmp_type, icmp_code;
	uint16_t icmp_id, icmp_seq; /* echo request/reply */
	/* The checksum field as found (not verified): in a quote it shows what the router saw */
	uint16_t checksum;
	bool checksum_present;
};

/* One MPLS label stack entry (RFC 3032), as carried by RFC 4950 ICMP extensions. */
struct mpls_entry {
	uint32_t label;
	uint8_t tc, bottom, ttl;
};

enum { MAX_QUOTED_MPLS = 8 };

/* The original datagram quoted by an ICMP or ICMPv6 error. */
struct quote {
	bool present;
	uint16_t quoted_len; /* bytes of the original datagram in the message */
	struct ip_layer ip;
	struct transport l4;
	bool extensions;     /* an RFC 4884 extension structure followed the quote */
	uint8_t mpls_count;  /* RFC 4950 label stack entries found in it */
	struct mpls_entry mpls[MAX_QUOTED_MPLS];
};

/* A host the frame shows on the capture's own link: the sender of an ARP packet, or of an
 * IPv6 neighbour solicitation or advertisement. */
struct neighbor {
	bool present;
	struct ip_addr addr;
	bool mac_known;
	uint8_t mac[6];
};

struct packet {
	uint64_t frame; /* 1-based, as Wireshark counts */
	int64_t ts_ns;
	uint32_t caplen, wirelen;
	int linktype;
	uint32_t interface; /* pcapng interface id */
	char process[21];   /* the sending or receiving program, when the capture says (PKTAP) */

	bool has_mac;
	uint8_t src_mac[6], dst_mac[6];
	uint8_t vlan_depth;

	struct ip_layer ip; /* ip.version == 0: no IP layer */
	struct transport l4;
	struct quote quote;
	struct neighbor neighbor;

	anomaly_set anomalies;
};

bool ip_addr_equal(const struct ip_addr *a, const struct ip_addr *b);
/* A total order (family, then bytes) for sorting; 0 exactly when ip_addr_equal. */
int ip_addr_compare(const struct ip_addr *a, const struct ip_addr *b);
/* ip_addr_compare for qsort and bsearch over arrays of struct ip_addr. */
int ip_addr_compare_items(const void *a, const void *b);
/* Its 16-bit words added up, as the Internet checksum's pseudo header adds them (not folded). */
uint32_t ip_addr_word_sum(const struct ip_addr *a);
/* Writes the usual text form into out (at least 46 bytes); "" for no address. */
void ip_addr_format(const struct ip_addr *a, char *out, unsigned long out_size);
bool ip_addr_parse(const char *text, struct ip_addr *out);

/* Time exceeded and unreachable; for IPv6 also packet too big, which IPv4 says as an
 * unreachable (fragmentation needed). */
static inline bool packet_is_icmp_error(const struct packet *p)
{
	if (p->l4.kind == L4_ICMP)
		return p->l4.icmp_type == 11 || p->l4.icmp_type == 3;
	if (p->l4.kind == L4_ICMPV6)
		return p->l4.icmp_type == 3 || p->l4.icmp_type == 1 || p->l4.icmp_type == 2;
	return false;
}

static inline bool packet_is_time_exceeded(const struct packet *p)
{
	return (p->l4.kind == L4_ICMP && p->l4.icmp_type == 11) ||
	       (p->l4.kind == L4_ICMPV6 && p->l4.icmp_type == 3);
}

#endif
