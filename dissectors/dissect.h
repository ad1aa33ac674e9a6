/*
 * The dissector pipeline: one entry point per frame, and the hand-offs between
 * layers. Each layer lives in its own file and reads only through its cursor.
 */
#ifndef TTLSLEUTH_DISSECT_H
#define TTLSLEUTH_DISSECT_H

#include <stdbool.h>

#include "dissectors/packet.h"

/*
 * Fills *pkt from a frame of the given link type. The frame number, timestamp
 * and lengths are the caller's; everything else is reset here. Never fails:
 * whatever could not be read is recorded in pkt->anomalies.
 */
void dissect_frame(struct packet *pkt, int linktype, const uint8_t *data, uint32_t caplen);

/* Whether dissect_frame understands this link type; also maps libpcap DLT values. */
bool dissect_link_supported(int linktype);
int dissect_linktype_from_dlt(int dlt);
const char *dissect_linktype_name(int linktype);

/*
 * Where a layer puts its results. A quoted datagram inside an ICMP error is
 * dissected with the same code into the packet's quote, one level deep only.
 */
struct layer_target {
	struct ip_layer *ip;
	struct transport *l4;
	anomaly_set *anomalies;
	struct packet *outer; /* where an ICMP error stores its quote; NULL inside a quote */
};

/*
 * Inside a quote, running out of bytes or meeting nonsense is one anomaly of
 * the quote's; outside, each layer names its own.
 */
static inline void layer_truncated(const struct layer_target *t, enum anomaly outer_name)
{
	anomaly_add(t->anomalies, t->outer ? outer_name : ANOMALY_QUOTE_TRUNCATED);
}

static inline void layer_malformed(const struct layer_target *t, enum anomaly outer_name)
{
	anomaly_add(t->anomalies, t->outer ? outer_name : ANOMALY_QUOTE_MALFORMED);
}

/* Layer hand-offs (internal to dissectors/). */
void dissect_ethertype(struct packet *pkt, uint16_t ethertype, struct cursor c);
void dissect_ip(const struct layer_target *t, struct cursor c);
void dissect_ipv4(const struct layer_target *t, struct cursor c);
void dissect_ipv6(const struct layer_target *t, struct cursor c);
void dissect_transport(const struct layer_target *t, uint8_t proto, struct cursor c);
void dissect_tcp(const struct layer_target *t, struct cursor c);
void dissect_udp(const struct layer_target *t, struct cursor c);
void dissect_icmp(const struct layer_target *t, struct cursor c);
void dissect_icmpv6(const struct layer_target *t, struct cursor c);
void dissect_quote(const struct layer_target *t, struct cursor c, size_t length_attribute_bytes);

/* How many bytes after the ICMP header are the quote; reads any RFC 4884 extensions into q. */
size_t icmp_quote_length(const struct layer_target *t, struct cursor after_header,
			 size_t length_attribute_bytes, struct quote *q);

/* ARP (ethertype 0x0806): the sender, as a neighbour on the link. */
void dissect_arp(struct packet *pkt, struct cursor c);

/* MPLS label stack (ethertype 0x8847/0x8848) in front of IP. */
void dissect_mpls(struct packet *pkt, struct cursor c);

/* Link layers. */
void dissect_ethernet(struct packet *pkt, struct cursor c);
void dissect_linux_sll(struct packet *pkt, struct cursor c);
void dissect_linux_sll2(struct packet *pkt, struct cursor c);
void dissect_null(struct packet *pkt, struct cursor c);
void dissect_raw_ip(struct packet *pkt, struct cursor c);
void dissect_ppp(struct packet *pkt, struct cursor c);
void dissect_c_hdlc(struct packet *pkt, struct cursor c);
void dissect_pktap(struct packet *pkt, struct cursor c);

/* The dissector of a link type, for encapsulations that carry one (PKTAP). */
void dissect_link(struct packet *pkt, int linktype, struct cursor c);

#endif
