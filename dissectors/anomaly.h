/*
 * Named decoder anomalies.
 *
 * Each oddity a dissector meets has a stable dotted name (the names go into the
 * store and the reports, and other tools may match on them), and a packet
 * carries the set of those it showed. "truncated" means the capture ran out of
 * bytes; "malformed" names mean the bytes are there but say nonsense.
 */
#ifndef TTLSLEUTH_ANOMALY_H
#define TTLSLEUTH_ANOMALY_H

#include <stdint.h>

#define ANOMALY_LIST(X)                                                        \
	X(LINK_TRUNCATED, "link.truncated")                                    \
	X(LINK_UNSUPPORTED_TYPE, "link.unsupported_type")                      \
	X(LINK_UNKNOWN_ETHERTYPE, "link.unknown_ethertype")                    \
	X(VLAN_TOO_DEEP, "vlan.too_deep")                                      \
	X(IPV4_TRUNCATED, "ipv4.truncated")                                    \
	X(IPV4_BAD_HEADER_LENGTH, "ipv4.bad_header_length")                    \
	X(IPV4_TOTAL_LENGTH_BELOW_HEADER, "ipv4.total_length_below_header")    \
	X(IPV4_TOTAL_LENGTH_ZERO, "ipv4.total_length_zero")                    \
	X(IPV4_BAD_CHECKSUM, "ipv4.bad_checksum")                              \
	X(IPV4_FRAGMENT, "ipv4.fragment")                                      \
	X(IP_BAD_VERSION, "ip.bad_version")                                    \
	X(IPV6_TRUNCATED, "ipv6.truncated")                                    \
	X(IPV6_EXTENSION_TRUNCATED, "ipv6.extension_truncated")                \
	X(IPV6_TOO_MANY_EXTENSIONS, "ipv6.too_many_extensions")                \
	X(IPV6_FRAGMENT, "ipv6.fragment")                                      \
	X(TCP_TRUNCATED, "tcp.truncated")                                      \
	X(TCP_BAD_DATA_OFFSET, "tcp.bad_data_offset")                          \
	X(UDP_TRUNCATED, "udp.truncated")                                      \
	X(UDP_BAD_LENGTH, "udp.bad_length")                                    \
	X(ICMP_TRUNCATED, "icmp.truncated")                                    \
	X(ICMPV6_TRUNCATED, "icmpv6.truncated")                                \
	X(QUOTE_TRUNCATED, "quote.truncated")                                  \
	X(QUOTE_MALFORMED, "quote.malformed")                                  \
	X(QUOTE_NESTED_ERROR, "quote.nested_icmp_error")                       \
	X(QUOTE_FIELDS_BYTE_SWAPPED, "quote.fields_byte_swapped")              \
	X(QUOTE_BAD_CHECKSUM, "quote.bad_checksum")                            \
	X(QUOTE_ECHO_ID_REWRITTEN, "quote.echo_id_rewritten")                  \
	X(QUOTE_SOURCE_PORT_REWRITTEN, "quote.source_port_rewritten")          \
	X(ICMP_LENGTH_BEYOND_MESSAGE, "icmp.length_attribute_beyond_message")  \
	X(ICMP_EXTENSION_MALFORMED, "icmp.extension_malformed")                \
	X(MPLS_TRUNCATED, "mpls.truncated")                                    \
	X(MPLS_TOO_DEEP, "mpls.too_deep")                                      \
	X(FRAME_TRUNCATED_BY_SNAPLEN, "frame.cut_by_snaplen")                  \
	X(ARP_TRUNCATED, "arp.truncated")

enum anomaly {
#define ANOMALY_ENUM(id, name) ANOMALY_##id,
	ANOMALY_LIST(ANOMALY_ENUM)
#undef ANOMALY_ENUM
	ANOMALY_COUNT
};

typedef uint64_t anomaly_set;

_Static_assert(ANOMALY_COUNT <= 64, "anomaly_set holds 64 anomalies");

static inline void anomaly_add(anomaly_set *set, enum anomaly a)
{
	*set |= (anomaly_set)1 << a;
}

static inline int anomaly_has(anomaly_set set, enum anomaly a)
{
	return (int)((set >> a) & 1u);
}

const char *anomaly_name(enum anomaly a);

#endif
