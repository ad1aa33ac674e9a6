/*
 * The datagram quoted by an ICMP or ICMPv6 error, dissected with the same
 * layer code in a window of its own.
 *
 * RFC 4884 lets the error carry a length attribute (in 32-bit words for ICMP,
 * 64-bit words for ICMPv6) when extensions follow the quote; the window is cut
 * where the quote ends (icmp_extensions.c decides where) so that extensions
 * never leak into the quoted transport header.
 */
#include "dissectors/dissect.h"

void dissect_quote(const struct layer_target *t, struct cursor c, size_t length_attribute_bytes)
{
	if (!t->outer) {
		/* An error quoting an error: one level is all a diagnosis needs. */
		anomaly_add(t->anomalies, ANOMALY_QUOTE_NESTED_ERROR);
		return;
	}
	struct quote *q = &t->outer->quote;
	cursor_limit(&c, icmp_quote_length(t, c, length_attribute_bytes, q));
	q->present = true;
	q->quoted_len = (uint16_t)(c.left > 0xffff ? 0xffff : c.left);
	struct layer_target inner = { &q->ip, &q->l4, t->anomalies, NULL };
	dissect_ip(&inner, c);
	/* Routers quote what they received, checksum and all; a wrong one means
	 * something rebuilt the header on the way (a user-space NAT does). */
	if (q->ip.version == 4 && q->ip.header_complete && !q->ip.checksum_ok)
		anomaly_add(t->anomalies, ANOMALY_QUOTE_BAD_CHECKSUM);
}
