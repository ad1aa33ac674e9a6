/* UDP: ports, length and checksum. */
#include "dissectors/dissect.h"

enum { UDP_HEADER = 8 };

void dissect_udp(const struct layer_target *t, struct cursor c)
{
	struct transport *l4 = t->l4;
	uint16_t length;

	l4->kind = L4_UDP;
	l4->bytes = (uint16_t)(c.left > 0xffff ? 0xffff : c.left);
	if (!cursor_be16(&c, &l4->sport) || !cursor_be16(&c, &l4->dport)) {
		layer_truncated(t, ANOMALY_UDP_TRUNCATED);
		return;
	}
	l4->ports_present = true;
	if (!cursor_be16(&c, &length) || !cursor_be16(&c, &l4->checksum)) {
		layer_truncated(t, ANOMALY_UDP_TRUNCATED);
		return;
	}
	l4->checksum_present = true;
	l4->complete = true;
	/* Length 0 is legal over IPv6 jumbograms; anything else below the header is not. */
	if (length != 0 && length < UDP_HEADER)
		layer_malformed(t, ANOMALY_UDP_BAD_LENGTH);
}
