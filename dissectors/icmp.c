/* ICMP for IPv4: echo identifiers, and the quote inside error messages. */
#include "dissectors/dissect.h"

enum {
	ICMP_ECHO_REPLY = 0,
	ICMP_UNREACHABLE = 3,
	ICMP_SOURCE_QUENCH = 4,
	ICMP_REDIRECT = 5,
	ICMP_ECHO_REQUEST = 8,
	ICMP_TIME_EXCEEDED = 11,
	ICMP_PARAMETER_PROBLEM = 12,
};

static bool carries_quote(uint8_t type)
{
	return type == ICMP_UNREACHABLE || type == ICMP_SOURCE_QUENCH || type == ICMP_REDIRECT ||
	       type == ICMP_TIME_EXCEEDED || type == ICMP_PARAMETER_PROBLEM;
}

/* Only these carry the RFC 4884 length attribute, in the second byte after the checksum. */
static bool has_length_attribute(uint8_t type)
{
	return type == ICMP_UNREACHABLE || type == ICMP_TIME_EXCEEDED ||
	       type == ICMP_PARAMETER_PROBLEM;
}

void dissect_icmp(const struct layer_target *t, struct cursor c)
{
	struct transport *l4 = t->l4;
	uint8_t rest[4];

	l4->kind = L4_ICMP;
	l4->bytes = (uint16_t)(c.left > 0xffff ? 0xffff : c.left);
	if (!cursor_u8(&c, &l4->icmp_type) || !cursor_u8(&c, &l4->icmp_code) ||
	    !cursor_be16(&c, &l4->checksum) || !cursor_copy(&c, rest, 4)) {
		layer_truncated(t, ANOMALY_ICMP_TRUNCATED);
		return;
	}
	l4->checksum_present = true;
	l4->complete = true;
	if (l4->icmp_type == ICMP_ECHO_REQUEST || l4->icmp_type == ICMP_ECHO_REPLY) {
		l4->icmp_id = (uint16_t)(rest[0] << 8 | rest[1]);
		l4->icmp_seq = (uint16_t)(rest[2] << 8 | rest[3]);
	} else if (carries_quote(l4->icmp_type)) {
		size_t length = has_length_attribute(l4->icmp_type) ? (size_t)rest[1] * 4 : 0;
		dissect_quote(t, c, length);
	}
}
