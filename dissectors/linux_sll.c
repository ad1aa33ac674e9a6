/*
 * Linux cooked captures (tcpdump -i any): SLL (16-byte header, protocol last)
 * and SLL2 (20-byte header, protocol first). Source MAC when the address is 6 bytes.
 */
#include "dissectors/dissect.h"

enum { ARPHRD_ETHER = 1 };

static void keep_mac(struct packet *pkt, uint16_t hatype, uint8_t halen, const uint8_t addr[8])
{
	if (hatype == ARPHRD_ETHER && halen == 6) {
		for (int i = 0; i < 6; i++)
			pkt->src_mac[i] = addr[i];
		pkt->has_mac = true;
	}
}

void dissect_linux_sll(struct packet *pkt, struct cursor c)
{
	uint16_t pkttype, hatype, halen, proto;
	uint8_t addr[8];
	if (!cursor_be16(&c, &pkttype) || !cursor_be16(&c, &hatype) || !cursor_be16(&c, &halen) ||
	    !cursor_copy(&c, addr, 8) || !cursor_be16(&c, &proto)) {
		anomaly_add(&pkt->anomalies, ANOMALY_LINK_TRUNCATED);
		return;
	}
	keep_mac(pkt, hatype, (uint8_t)(halen > 8 ? 8 : halen), addr);
	dissect_ethertype(pkt, proto, c);
}

void dissect_linux_sll2(struct packet *pkt, struct cursor c)
{
	uint16_t proto, reserved, hatype;
	uint32_t ifindex;
	uint8_t pkttype, halen, addr[8];
	if (!cursor_be16(&c, &proto) || !cursor_be16(&c, &reserved) || !cursor_be32(&c, &ifindex) ||
	    !cursor_be16(&c, &hatype) || !cursor_u8(&c, &pkttype) || !cursor_u8(&c, &halen) ||
	    !cursor_copy(&c, addr, 8)) {
		anomaly_add(&pkt->anomalies, ANOMALY_LINK_TRUNCATED);
		return;
	}
	keep_mac(pkt, hatype, halen, addr);
	dissect_ethertype(pkt, proto, c);
}
