/* ICMPv6: echo identifiers, the quote inside error messages, and neighbour discovery. */
#include <string.h>

#include "dissectors/dissect.h"

enum {
	ICMPV6_UNREACHABLE = 1,
	ICMPV6_PACKET_TOO_BIG = 2,
	ICMPV6_TIME_EXCEEDED = 3,
	ICMPV6_PARAMETER_PROBLEM = 4,
	ICMPV6_ECHO_REQUEST = 128,
	ICMPV6_ECHO_REPLY = 129,
	ICMPV6_NEIGHBOR_SOLICITATION = 135,
	ICMPV6_NEIGHBOR_ADVERTISEMENT = 136,
	NDP_OPTION_SOURCE_MAC = 1,
	NDP_OPTION_TARGET_MAC = 2,
	MAX_NDP_OPTIONS = 16,
};

/* The link-layer address option of the given type (RFC 4861 4.6.1), if any. */
static bool ndp_mac_option(struct cursor c, uint8_t wanted, uint8_t mac[6])
{
	for (int i = 0; i < MAX_NDP_OPTIONS; i++) {
		uint8_t type, units;
		if (!cursor_u8(&c, &type) || !cursor_u8(&c, &units) || units == 0)
			return false;
		size_t body = (size_t)units * 8 - 2;
		if (type == wanted && units == 1)
			return cursor_copy(&c, mac, 6);
		if (!cursor_skip(&c, body))
			return false;
	}
	return false;
}

/*
 * A neighbour advertisement names its target, a solicitation its sender (when
 * it has an address yet): both are on the capture's link (RFC 4861 says hop
 * limit 255, so no router forwarded them). Only the outer packet, never a quote.
 */
static void neighbor_discovery(const struct layer_target *t, uint8_t type, struct cursor c)
{
	if (!t->outer || t->ip->ttl != 255)
		return;
	struct neighbor *n = &t->outer->neighbor;
	struct ip_addr target = { .family = 6 };
	if (!cursor_copy(&c, target.b, 16)) {
		anomaly_add(t->anomalies, ANOMALY_ICMPV6_TRUNCATED);
		return;
	}
	static const uint8_t unspecified[16];
	if (type == ICMPV6_NEIGHBOR_ADVERTISEMENT) {
		n->addr = target;
		n->mac_known = ndp_mac_option(c, NDP_OPTION_TARGET_MAC, n->mac);
	} else {
		if (!memcmp(t->ip->src.b, unspecified, 16))
			return;
		n->addr = t->ip->src;
		n->mac_known = ndp_mac_option(c, NDP_OPTION_SOURCE_MAC, n->mac);
	}
	if (!n->mac_known && t->outer->has_mac) {
		memcpy(n->mac, t->outer->src_mac, 6);
		n->mac_known = true;
	}
	n->present = true;
}

void dissect_icmpv6(const struct layer_target *t, struct cursor c)
{
	struct transport *l4 = t->l4;
	uint8_t rest[4];

	l4->kind = L4_ICMPV6;
	l4->bytes = (uint16_t)(c.left > 0xffff ? 0xffff : c.left);
	if (!cursor_u8(&c, &l4->icmp_type) || !cursor_u8(&c, &l4->icmp_code) ||
	    !cursor_be16(&c, &l4->checksum) || !cursor_copy(&c, rest, 4)) {
		layer_truncated(t, ANOMALY_ICMPV6_TRUNCATED);
		return;
	}
	l4->checksum_present = true;
	l4->complete = true;
	switch (l4->icmp_type) {
	case ICMPV6_ECHO_REQUEST:
	case ICMPV6_ECHO_REPLY:
		l4->icmp_id = (uint16_t)(rest[0] << 8 | rest[1]);
		l4->icmp_seq = (uint16_t)(rest[2] << 8 | rest[3]);
		break;
	case ICMPV6_UNREACHABLE:
	case ICMPV6_TIME_EXCEEDED:
		/* RFC 4884: the length attribute is the first byte, in 64-bit words. */
		dissect_quote(t, c, (size_t)rest[0] * 8);
		break;
	case ICMPV6_PACKET_TOO_BIG:
	case ICMPV6_PARAMETER_PROBLEM:
		dissect_quote(t, c, 0);
		break;
	case ICMPV6_NEIGHBOR_SOLICITATION:
	case ICMPV6_NEIGHBOR_ADVERTISEMENT:
		neighbor_discovery(t, l4->icmp_type, c);
		break;
	default:
		break;
	}
}
