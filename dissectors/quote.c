/*
 * The datagram quoted by an ICMP or ICMPv6 error, dissected with the same
 * layer code in a window of its own.
 *
 * RFC 4884 lets the error carry a length attribute (in 32-bit words for ICMP,
 * 64-bit words for ICMPv6) when extensions follow the quote; the window is cut
 * to it so that the extensions never leak into the quoted transport header. A
 * length that runs past the message is ignored and the whole rest is the quote.
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
	if (length_attribute_bytes && length_attribute_bytes <= c.left)
		cursor_limit(&c, length_attribute_bytes);
	q->present = true;
	q->quoted_len = (uint16_t)(c.left > 0xffff ? 0xffff : c.left);
	struct layer_target inner = { &q->ip, &q->l4, t->anomalies, NULL };
	dissect_ip(&inner, c);
}
