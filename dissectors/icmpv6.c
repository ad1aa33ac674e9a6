/* ICMPv6: echo identifiers, and the quote inside error messages. */
#include "dissectors/dissect.h"

enum {
	ICMPV6_UNREACHABLE = 1,
	ICMPV6_PACKET_TOO_BIG = 2,
	ICMPV6_TIME_EXCEEDED = 3,
	ICMPV6_PARAMETER_PROBLEM = 4,
	ICMPV6_ECHO_REQUEST = 128,
	ICMPV6_ECHO_REPLY = 129,
};

void dissect_icmpv6(const struct layer_target *t, struct cursor c)
{
	struct transport *l4 = t->l4;
	uint16_t checksum;
	uint8_t rest[4];

	l4->kind = L4_ICMPV6;
	l4->bytes = (uint16_t)(c.left > 0xffff ? 0xffff : c.left);
	if (!cursor_u8(&c, &l4->icmp_type) || !cursor_u8(&c, &l4->icmp_code) ||
	    !cursor_be16(&c, &checksum) || !cursor_copy(&c, rest, 4)) {
		layer_truncated(t, ANOMALY_ICMPV6_TRUNCATED);
		return;
	}
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
	default:
		break;
	}
}
