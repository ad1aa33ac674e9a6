/* IPv6: the fixed header, then the usual extension headers up to the upper-layer protocol. */
#include "dissectors/dissect.h"

enum {
	IPV6_HEADER = 40,
	MAX_EXTENSION_HEADERS = 8, /* bounded: a chain longer than this is not a real packet */
	NH_HOP_BY_HOP = 0,
	NH_ROUTING = 43,
	NH_FRAGMENT = 44,
	NH_AH = 51,
	NH_DEST_OPTS = 60,
	NH_MOBILITY = 135,
	NH_HIP = 139,
	NH_SHIM6 = 140,
};

static bool is_extension(uint8_t nh)
{
	switch (nh) {
	case NH_HOP_BY_HOP:
	case NH_ROUTING:
	case NH_FRAGMENT:
	case NH_AH:
	case NH_DEST_OPTS:
	case NH_MOBILITY:
	case NH_HIP:
	case NH_SHIM6:
		return true;
	default:
		return false;
	}
}

/* Reads one extension header, advancing past it; returns false when cut short. */
static bool read_extension(const struct layer_target *t, struct cursor *c, uint8_t *nh)
{
	uint8_t next, len;
	if (!cursor_u8(c, &next) || !cursor_u8(c, &len))
		return false;
	if (*nh == NH_FRAGMENT) {
		uint16_t offset_flags;
		uint32_t id;
		if (!cursor_be16(c, &offset_flags) || !cursor_be32(c, &id))
			return false;
		t->ip->fragment = true;
		t->ip->ip_id = id;
		if (offset_flags & 0xfff8)
			t->ip->later_fragment = true;
		if (t->outer)
			anomaly_add(t->anomalies, ANOMALY_IPV6_FRAGMENT);
	} else {
		size_t bytes = *nh == NH_AH ? ((size_t)len + 2) * 4 : ((size_t)len + 1) * 8;
		if (!cursor_skip(c, bytes - 2))
			return false;
	}
	*nh = next;
	return true;
}

void dissect_ipv6(const struct layer_target *t, struct cursor c)
{
	struct ip_layer *ip = t->ip;
	uint32_t vtf;
	uint16_t payload_len;
	uint8_t nh, hop_limit;

	ip->version = 6;
	if (!cursor_be32(&c, &vtf) || !cursor_be16(&c, &payload_len) || !cursor_u8(&c, &nh) ||
	    !cursor_u8(&c, &hop_limit) || !cursor_copy(&c, ip->src.b, 16) ||
	    !cursor_copy(&c, ip->dst.b, 16)) {
		layer_truncated(t, ANOMALY_IPV6_TRUNCATED);
		return;
	}
	ip->src.family = ip->dst.family = 6;
	ip->ttl = hop_limit;
	ip->total_len = (uint16_t)(payload_len > 0xffff - IPV6_HEADER ? 0xffff : IPV6_HEADER + payload_len);
	/* Payload length 0 means a jumbogram or offload: keep what was captured. */
	if (payload_len)
		cursor_limit(&c, payload_len);

	size_t before = c.left;
	for (int n = 0; is_extension(nh); n++) {
		if (n == MAX_EXTENSION_HEADERS) {
			layer_malformed(t, ANOMALY_IPV6_TOO_MANY_EXTENSIONS);
			return;
		}
		if (!read_extension(t, &c, &nh)) {
			layer_truncated(t, ANOMALY_IPV6_EXTENSION_TRUNCATED);
			return;
		}
	}
	ip->proto = nh;
	ip->header_len = (uint16_t)(IPV6_HEADER + (before - c.left));
	ip->header_complete = true;
	if (ip->later_fragment)
		return;
	dissect_transport(t, nh, c);
}
