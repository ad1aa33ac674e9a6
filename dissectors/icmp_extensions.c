/*
 * RFC 4884 extension structures after an ICMP error's quote, and the RFC 4950
 * MPLS label stack object in them: the labels a router was switching the probe
 * on when its TTL ran out.
 *
 * Where the structure starts is the hard part. A compliant router says so in
 * the length attribute; older ones leave the attribute 0 and put it at byte 128
 * of the quote (RFC 4884's compatibility rule); some set an attribute that
 * disagrees with where the structure really is. An offset is believed only
 * when a version-2 header with a valid checksum sits there.
 */
#include "dissectors/dissect.h"

enum {
	EXTENSION_VERSION = 2,
	COMPAT_OFFSET = 128,
	CLASS_MPLS = 1,
	CTYPE_INCOMING_STACK = 1,
};

static uint16_t ones_complement_sum(struct cursor c)
{
	uint32_t sum = 0;
	uint16_t word;
	uint8_t last;
	while (cursor_be16(&c, &word))
		sum += word;
	if (cursor_u8(&c, &last))
		sum += (uint32_t)last << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* A version-2 header whose checksum holds (0 means "not computed"). */
static bool looks_like_extensions(struct cursor c)
{
	uint8_t version;
	uint16_t checksum;
	struct cursor head = c;
	if (!cursor_u8(&head, &version) || !cursor_skip(&head, 1) || !cursor_be16(&head, &checksum))
		return false;
	if (version >> 4 != EXTENSION_VERSION)
		return false;
	return checksum == 0 || ones_complement_sum(c) == 0;
}

static void read_mpls_object(struct quote *q, struct cursor body)
{
	uint32_t entry;
	while (q->mpls_count < MAX_QUOTED_MPLS && cursor_be32(&body, &entry)) {
		struct mpls_entry *m = &q->mpls[q->mpls_count++];
		m->label = entry >> 12;
		m->tc = (uint8_t)((entry >> 9) & 7);
		m->bottom = (uint8_t)((entry >> 8) & 1);
		m->ttl = (uint8_t)entry;
	}
}

static void read_extensions(const struct layer_target *t, struct quote *q, struct cursor c)
{
	q->extensions = true;
	cursor_skip(&c, 4);
	uint16_t length;
	uint8_t class_num, c_type;
	while (cursor_be16(&c, &length) && cursor_u8(&c, &class_num) && cursor_u8(&c, &c_type)) {
		if (length < 4) {
			anomaly_add(t->anomalies, ANOMALY_ICMP_EXTENSION_MALFORMED);
			return;
		}
		size_t missing;
		struct cursor body = cursor_take(&c, (size_t)length - 4, &missing);
		if (missing)
			anomaly_add(t->anomalies, ANOMALY_ICMP_EXTENSION_MALFORMED);
		if (class_num == CLASS_MPLS && c_type == CTYPE_INCOMING_STACK)
			read_mpls_object(q, body);
	}
}

size_t icmp_quote_length(const struct layer_target *t, struct cursor after_header,
			 size_t length_attribute_bytes, struct quote *q)
{
	size_t total = after_header.left;
	if (length_attribute_bytes > total) {
		/* Claims more than the message holds: no extensions can be trusted. */
		anomaly_add(t->anomalies, ANOMALY_ICMP_LENGTH_BEYOND_MESSAGE);
		return total;
	}
	size_t offsets[2] = { length_attribute_bytes, COMPAT_OFFSET };
	for (int i = 0; i < 2; i++) {
		size_t at = offsets[i];
		if (at == 0 || at + 4 > total)
			continue;
		struct cursor ext = after_header;
		cursor_skip(&ext, at);
		if (looks_like_extensions(ext)) {
			read_extensions(t, q, ext);
			/* The quote ends where the attribute says, or at the structure. */
			return length_attribute_bytes && length_attribute_bytes < at ? length_attribute_bytes
										       : at;
		}
	}
	/* No structure anywhere: the attribute is as likely garbage in the "unused"
	 * bytes (seen in the wild) as a real length, and the quote is all there is. */
	return total;
}
