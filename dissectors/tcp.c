/* TCP: ports, sequence numbers, flags and checksum; a quote may hold only the first 8 bytes. */
#include "dissectors/dissect.h"

enum { TCP_MIN_HEADER = 20 };

void dissect_tcp(const struct layer_target *t, struct cursor c)
{
	struct transport *l4 = t->l4;
	uint16_t offset_flags, window, urgent;

	l4->kind = L4_TCP;
	l4->bytes = (uint16_t)(c.left > 0xffff ? 0xffff : c.left);
	if (!cursor_be16(&c, &l4->sport) || !cursor_be16(&c, &l4->dport))
		goto truncated;
	l4->ports_present = true;
	if (!cursor_be32(&c, &l4->seq))
		goto truncated;
	if (!cursor_be32(&c, &l4->ack) || !cursor_be16(&c, &offset_flags) ||
	    !cursor_be16(&c, &window) || !cursor_be16(&c, &l4->checksum))
		goto truncated;
	l4->checksum_present = true;
	if (!cursor_be16(&c, &urgent))
		goto truncated;
	l4->tcp_flags = (uint8_t)(offset_flags & 0xff);
	if ((offset_flags >> 12) * 4 < TCP_MIN_HEADER) {
		layer_malformed(t, ANOMALY_TCP_BAD_DATA_OFFSET);
		return;
	}
	l4->complete = true;
	return;
truncated:
	/* A quote is allowed to stop after 8 bytes (RFC 792): ports and sequence number. */
	if (t->outer || l4->bytes < 8)
		layer_truncated(t, ANOMALY_TCP_TRUNCATED);
}
