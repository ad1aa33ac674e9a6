/* Link-type dispatch: one table from link type to the dissector of its header. */
#include <pcap/pcap.h>
#include <string.h>

#include "dissectors/dissect.h"

static const struct link_entry {
	int linktype;
	const char *name;
	void (*dissect)(struct packet *, struct cursor);
} link_table[] = {
	{ LINKTYPE_ETHERNET, "Ethernet", dissect_ethernet },
	{ LINKTYPE_LINUX_SLL, "Linux cooked (SLL)", dissect_linux_sll },
	{ LINKTYPE_LINUX_SLL2, "Linux cooked v2 (SLL2)", dissect_linux_sll2 },
	{ LINKTYPE_RAW, "raw IP", dissect_raw_ip },
	{ LINKTYPE_IPV4, "raw IPv4", dissect_raw_ip },
	{ LINKTYPE_IPV6, "raw IPv6", dissect_raw_ip },
	{ LINKTYPE_PPP, "PPP", dissect_ppp },
	{ LINKTYPE_PPP_HDLC, "PPP in HDLC framing", dissect_ppp },
	{ LINKTYPE_C_HDLC, "Cisco HDLC", dissect_c_hdlc },
	{ LINKTYPE_PKTAP, "Apple PKTAP", dissect_pktap },
	{ LINKTYPE_NULL, "BSD loopback (NULL)", dissect_null },
	{ LINKTYPE_LOOP, "OpenBSD loopback (LOOP)", dissect_null },
};

static const struct link_entry *link_find(int linktype)
{
	for (size_t i = 0; i < sizeof link_table / sizeof link_table[0]; i++)
		if (link_table[i].linktype == linktype)
			return &link_table[i];
	return NULL;
}

bool dissect_link_supported(int linktype)
{
	return link_find(linktype) != NULL;
}

const char *dissect_linktype_name(int linktype)
{
	const struct link_entry *e = link_find(linktype);
	return e ? e->name : "unsupported";
}

/*
 * libpcap hands out DLT_ values, which differ from the LINKTYPE_ values in the
 * file for raw IP (DLT_RAW is 12 or 14 depending on the platform it was built for).
 */
int dissect_linktype_from_dlt(int dlt)
{
	if (dlt == DLT_RAW || dlt == 12 || dlt == 14)
		return LINKTYPE_RAW;
	return dlt;
}

void dissect_frame(struct packet *pkt, int linktype, const uint8_t *data, uint32_t caplen)
{
	uint64_t frame = pkt->frame;
	int64_t ts = pkt->ts_ns;
	uint32_t wirelen = pkt->wirelen;
	uint32_t interface = pkt->interface;

	memset(pkt, 0, sizeof *pkt);
	pkt->frame = frame;
	pkt->ts_ns = ts;
	pkt->caplen = caplen;
	pkt->wirelen = wirelen;
	pkt->linktype = linktype;
	pkt->interface = interface;
	if (wirelen > caplen)
		anomaly_add(&pkt->anomalies, ANOMALY_FRAME_TRUNCATED_BY_SNAPLEN);

	dissect_link(pkt, linktype, cursor_make(data, caplen));
}

void dissect_link(struct packet *pkt, int linktype, struct cursor c)
{
	const struct link_entry *e = link_find(linktype);
	if (e)
		e->dissect(pkt, c);
	else
		anomaly_add(&pkt->anomalies, ANOMALY_LINK_UNSUPPORTED_TYPE);
}
