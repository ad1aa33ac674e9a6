/* Ethernet II with 802.1Q / 802.1ad VLAN tags. */
#include "dissectors/dissect.h"

enum {
	ETHERTYPE_IPV4 = 0x0800,
	ETHERTYPE_IPV6 = 0x86dd,
	ETHERTYPE_ARP = 0x0806,
	ETHERTYPE_VLAN = 0x8100,
	ETHERTYPE_QINQ = 0x88a8,
	ETHERTYPE_QINQ_OLD = 0x9100,
	ETHERTYPE_MPLS = 0x8847,
	ETHERTYPE_MPLS_MULTICAST = 0x8848,
	MAX_VLAN_TAGS = 4, /* beyond this the frame is more likely garbage than a real stack */
};

static bool is_vlan_tag(uint16_t ethertype)
{
	return ethertype == ETHERTYPE_VLAN || ethertype == ETHERTYPE_QINQ ||
	       ethertype == ETHERTYPE_QINQ_OLD;
}

void dissect_ethernet(struct packet *pkt, struct cursor c)
{
	uint16_t ethertype;
	if (!cursor_copy(&c, pkt->dst_mac, 6) || !cursor_copy(&c, pkt->src_mac, 6) ||
	    !cursor_be16(&c, &ethertype)) {
		anomaly_add(&pkt->anomalies, ANOMALY_LINK_TRUNCATED);
		return;
	}
	pkt->has_mac = true;
	while (is_vlan_tag(ethertype)) {
		if (pkt->vlan_depth == MAX_VLAN_TAGS) {
			anomaly_add(&pkt->anomalies, ANOMALY_VLAN_TOO_DEEP);
			return;
		}
		uint16_t tci;
		if (!cursor_be16(&c, &tci) || !cursor_be16(&c, &ethertype)) {
			anomaly_add(&pkt->anomalies, ANOMALY_LINK_TRUNCATED);
			return;
		}
		pkt->vlan_depth++;
	}
	dissect_ethertype(pkt, ethertype, c);
}

void dissect_ethertype(struct packet *pkt, uint16_t ethertype, struct cursor c)
{
	struct layer_target t = { &pkt->ip, &pkt->l4, &pkt->anomalies, pkt };
	switch (ethertype) {
	case ETHERTYPE_IPV4:
		dissect_ipv4(&t, c);
		break;
	case ETHERTYPE_IPV6:
		dissect_ipv6(&t, c);
		break;
	case ETHERTYPE_MPLS:
	case ETHERTYPE_MPLS_MULTICAST:
		dissect_mpls(pkt, c);
		break;
	case ETHERTYPE_ARP:
		dissect_arp(pkt, c);
		break;
	default:
		/* LLDP and the like are normal traffic, not anomalies worth a name;
		 * only an Ethernet length field (< 0x0600) with IP-looking payload would be. */
		break;
	}
}
