/*
 * ARP (RFC 826) for IPv4 over Ethernet: who the frame shows on the link. Any
 * ARP packet names its sender's address and MAC, and only a host on the
 * capture's own link sends ARP there, so a destination that sent one is one
 * hop away for real; a TTL-1 answer from it is no sign of a NAT.
 */
#include "dissectors/dissect.h"

enum {
	ARP_HARDWARE_ETHERNET = 1,
	ARP_PROTOCOL_IPV4 = 0x0800,
};

void dissect_arp(struct packet *pkt, struct cursor c)
{
	uint16_t hardware, protocol, op;
	uint8_t hlen, plen, sender_mac[6], sender_ip[4];
	if (!cursor_be16(&c, &hardware) || !cursor_be16(&c, &protocol) || !cursor_u8(&c, &hlen) ||
	    !cursor_u8(&c, &plen) || !cursor_be16(&c, &op)) {
		anomaly_add(&pkt->anomalies, ANOMALY_ARP_TRUNCATED);
		return;
	}
	/* Other hardware or protocol types are legitimate and say nothing about IPv4 neighbours. */
	if (hardware != ARP_HARDWARE_ETHERNET || protocol != ARP_PROTOCOL_IPV4 || hlen != 6 || plen != 4)
		return;
	if (!cursor_copy(&c, sender_mac, 6) || !cursor_copy(&c, sender_ip, 4)) {
		anomaly_add(&pkt->anomalies, ANOMALY_ARP_TRUNCATED);
		return;
	}
	/* 0.0.0.0 is a probe for a duplicate address (RFC 5227): the sender has none yet. */
	if (!(sender_ip[0] | sender_ip[1] | sender_ip[2] | sender_ip[3]))
		return;
	pkt->neighbor.present = true;
	pkt->neighbor.addr.family = 4;
	for (int i = 0; i < 4; i++)
		pkt->neighbor.addr.b[i] = sender_ip[i];
	for (int i = 0; i < 6; i++)
		pkt->neighbor.mac[i] = sender_mac[i];
	pkt->neighbor.mac_known = true;
}
