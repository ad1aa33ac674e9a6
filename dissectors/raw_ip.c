/* Link types that carry IP with no link header, or only an address family word. */
#include "dissectors/dissect.h"

void dissect_raw_ip(struct packet *pkt, struct cursor c)
{
	struct layer_target t = { &pkt->ip, &pkt->l4, &pkt->anomalies, pkt };
	dissect_ip(&t, c);
}

/*
 * BSD NULL stores the address family in the capturing host's byte order, which
 * the file does not record, and the IPv6 value differs between BSDs (24, 28,
 * 30): the version nibble of the payload decides instead, as tcpdump does.
 */
void dissect_null(struct packet *pkt, struct cursor c)
{
	if (!cursor_skip(&c, 4)) {
		anomaly_add(&pkt->anomalies, ANOMALY_LINK_TRUNCATED);
		return;
	}
	dissect_raw_ip(pkt, c);
}
