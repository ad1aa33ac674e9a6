/* IP version and upper-protocol demultiplexing (one switch each, as in tcpdump's print-ip-demux.c). */
#include "dissectors/dissect.h"

void dissect_ip(const struct layer_target *t, struct cursor c)
{
	uint8_t first;
	if (!cursor_peek_u8(&c, 0, &first)) {
		layer_truncated(t, ANOMALY_IPV4_TRUNCATED);
		return;
	}
	switch (first >> 4) {
	case 4:
		dissect_ipv4(t, c);
		break;
	case 6:
		dissect_ipv6(t, c);
		break;
	default:
		layer_malformed(t, ANOMALY_IP_BAD_VERSION);
		break;
	}
}

void dissect_transport(const struct layer_target *t, uint8_t proto, struct cursor c)
{
	switch (proto) {
	case IPPROTO_NUM_TCP:
		dissect_tcp(t, c);
		break;
	case IPPROTO_NUM_UDP:
		dissect_udp(t, c);
		break;
	case IPPROTO_NUM_ICMP:
		dissect_icmp(t, c);
		break;
	case IPPROTO_NUM_ICMPV6:
		dissect_icmpv6(t, c);
		break;
	default:
		break;
	}
}
