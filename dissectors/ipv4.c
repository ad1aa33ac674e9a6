/* IPv4: options skipped, fragments flagged, the payload window cut to the total length. */
#include "dissectors/dissect.h"

enum { IPV4_MIN_HEADER = 20, IPV4_MF = 0x2000, IPV4_DF = 0x4000, IPV4_OFFSET_MASK = 0x1fff };

/* RFC 1071 sum over the header bytes; 0 when the stored checksum is right. */
static uint16_t header_checksum(struct cursor header)
{
	uint32_t sum = 0;
	uint16_t word;
	while (cursor_be16(&header, &word))
		sum += word;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

void dissect_ipv4(const struct layer_target *t, struct cursor c)
{
	struct ip_layer *ip = t->ip;
	struct cursor start = c;
	uint8_t ver_ihl, tos, ttl, proto;
	uint16_t total_len, id, frag, checksum;

	ip->version = 4;
	if (!cursor_u8(&c, &ver_ihl) || !cursor_u8(&c, &tos) || !cursor_be16(&c, &total_len) ||
	    !cursor_be16(&c, &id) || !cursor_be16(&c, &frag) || !cursor_u8(&c, &ttl) ||
	    !cursor_u8(&c, &proto) || !cursor_be16(&c, &checksum)) {
		layer_truncated(t, ANOMALY_IPV4_TRUNCATED);
		return;
	}
	ip->ttl = ttl;
	ip->proto = proto;
	ip->total_len = total_len;
	ip->ip_id = id;
	ip->checksum = checksum;
	ip->df = (frag & IPV4_DF) != 0;
	if (!cursor_copy(&c, ip->src.b, 4) || !cursor_copy(&c, ip->dst.b, 4)) {
		layer_truncated(t, ANOMALY_IPV4_TRUNCATED);
		return;
	}
	ip->src.family = ip->dst.family = 4;

	size_t header_len = (size_t)(ver_ihl & 0x0f) * 4;
	if (header_len < IPV4_MIN_HEADER) {
		layer_malformed(t, ANOMALY_IPV4_BAD_HEADER_LENGTH);
		return;
	}
	ip->header_len = (uint16_t)header_len;
	if (!cursor_skip(&c, header_len - IPV4_MIN_HEADER)) {
		layer_truncated(t, ANOMALY_IPV4_TRUNCATED);
		return;
	}
	ip->header_complete = true;

	if (!t->outer) {
		/* Only quotes are checked: a quote rebuilt by a NAT is evidence, while a
		 * wrong checksum on an outbound packet is just checksum offload. */
		struct cursor header = start;
		cursor_limit(&header, header_len);
		ip->checksum_ok = header_checksum(header) == 0;
	}

	if (total_len == 0) {
		/* Segmentation offload on the capturing host leaves the length unset. */
		if (t->outer)
			anomaly_add(t->anomalies, ANOMALY_IPV4_TOTAL_LENGTH_ZERO);
	} else if (total_len < header_len) {
		layer_malformed(t, ANOMALY_IPV4_TOTAL_LENGTH_BELOW_HEADER);
	} else {
		cursor_limit(&c, total_len - header_len);
	}

	if (frag & (IPV4_MF | IPV4_OFFSET_MASK)) {
		ip->fragment = true;
		if (t->outer)
			anomaly_add(t->anomalies, ANOMALY_IPV4_FRAGMENT);
		if (frag & IPV4_OFFSET_MASK) {
			ip->later_fragment = true;
			return;
		}
	}
	dissect_transport(t, proto, c);
}
