/* MPLS label stacks on the link (RFC 3032): skipped down to the bottom of stack, then IP. */
#include "dissectors/dissect.h"

enum { MAX_LABELS = 8 };

void dissect_mpls(struct packet *pkt, struct cursor c)
{
	for (int depth = 0;; depth++) {
		uint32_t entry;
		if (depth == MAX_LABELS) {
			anomaly_add(&pkt->anomalies, ANOMALY_MPLS_TOO_DEEP);
			return;
		}
		if (!cursor_be32(&c, &entry)) {
			anomaly_add(&pkt->anomalies, ANOMALY_MPLS_TRUNCATED);
			return;
		}
		if (entry & 0x100)
			break;
	}
	struct layer_target t = { &pkt->ip, &pkt->l4, &pkt->anomalies, pkt };
	dissect_ip(&t, c);
}
