/* PPP (RFC 1661, with or without the HDLC-like address and control bytes) and Cisco HDLC. */
#include "dissectors/dissect.h"

enum {
	PPP_IPV4 = 0x0021,
	PPP_IPV6 = 0x0057,
	PPP_MPLS = 0x0281,
	PPP_MPLS_MULTICAST = 0x0283,
	HDLC_ADDRESS = 0xff,
	HDLC_CONTROL = 0x03,
	CISCO_UNICAST = 0x0f,
	CISCO_MULTICAST = 0x8f,
};

static void ppp_protocol(struct packet *pkt, uint16_t protocol, struct cursor c)
{
	switch (protocol) {
	case PPP_IPV4:
		dissect_ethertype(pkt, 0x0800, c);
		break;
	case PPP_IPV6:
		dissect_ethertype(pkt, 0x86dd, c);
		break;
	case PPP_MPLS:
	case PPP_MPLS_MULTICAST:
		dissect_mpls(pkt, c);
		break;
	default:
		break; /* LCP, IPCP, CHAP...: control traffic */
	}
}

void dissect_ppp(struct packet *pkt, struct cursor c)
{
	uint8_t first, second;
	if (!cursor_peek_u8(&c, 0, &first)) {
		anomaly_add(&pkt->anomalies, ANOMALY_LINK_TRUNCATED);
		return;
	}
	if (first == CISCO_UNICAST || first == CISCO_MULTICAST) {
		dissect_c_hdlc(pkt, c);
		return;
	}
	if (first == HDLC_ADDRESS && cursor_peek_u8(&c, 1, &second) && second == HDLC_CONTROL)
		cursor_skip(&c, 2);
	/* Protocol-field compression (RFC 1661 6.5): an odd first byte is the whole field. */
	uint8_t high, low;
	if (!cursor_u8(&c, &high)) {
		anomaly_add(&pkt->anomalies, ANOMALY_LINK_TRUNCATED);
		return;
	}
	if (high & 1) {
		ppp_protocol(pkt, high, c);
		return;
	}
	if (!cursor_u8(&c, &low)) {
		anomaly_add(&pkt->anomalies, ANOMALY_LINK_TRUNCATED);
		return;
	}
	ppp_protocol(pkt, (uint16_t)(high << 8 | low), c);
}

void dissect_c_hdlc(struct packet *pkt, struct cursor c)
{
	uint16_t ethertype;
	if (!cursor_skip(&c, 2) || !cursor_be16(&c, &ethertype)) {
		anomaly_add(&pkt->anomalies, ANOMALY_LINK_TRUNCATED);
		return;
	}
	dissect_ethertype(pkt, ethertype, c);
}
