#include <arpa/inet.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "support_packets.h"

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static void put32(uint8_t *b, uint32_t v)
{
	put16(b, (uint16_t)(v >> 16));
	put16(b + 2, (uint16_t)v);
}

static uint32_t sum_words(uint32_t sum, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		sum += (uint32_t)b[n - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint16_t checksum(const uint8_t *b, size_t n)
{
	return (uint16_t)~fold(sum_words(0, b, n));
}

static bool is_ipv6(const char *address)
{
	return strchr(address, ':') != NULL;
}

/* The IP header of either family; returns its length. */
static size_t ip_header(uint8_t *b, size_t total, uint16_t id, uint8_t ttl, uint8_t proto,
			const char *src, const char *dst)
{
	if (is_ipv6(src)) {
		memset(b, 0, 40);
		b[0] = 0x60;
		put16(b + 4, (uint16_t)(total - 40));
		b[6] = proto;
		b[7] = ttl;
		if (inet_pton(AF_INET6, src, b + 8) != 1 || inet_pton(AF_INET6, dst, b + 24) != 1)
			abort();
		return 40;
	}
	memset(b, 0, 20);
	b[0] = 0x45;
	put16(b + 2, (uint16_t)total);
	put16(b + 4, id);
	b[8] = ttl;
	b[9] = proto;
	if (inet_pton(AF_INET, src, b + 12) != 1 || inet_pton(AF_INET, dst, b + 16) != 1)
		abort();
	put16(b + 10, checksum(b, 20));
	return 20;
}

/* The pseudo header's sum (RFC 768, RFC 8200 8.1) of the transport part after ip. */
static uint32_t pseudo_sum(const uint8_t *ip, size_t ip_len, uint8_t proto, size_t l4_len)
{
	uint32_t sum = ip_len == 40 ? sum_words(0, ip + 8, 32) : sum_words(0, ip + 12, 8);
	return sum + proto + (uint32_t)l4_len;
}

/* Fills in the transport checksum at offset `at` of the l4 bytes after ip. */
static void transport_checksum(uint8_t *ip, size_t ip_len, uint8_t proto, size_t l4_len, size_t at,
			       enum probe_checksum how)
{
	uint8_t *t = ip + ip_len;
	put16(t + at, 0);
	bool pseudo = proto != 1;
	uint32_t header = pseudo ? pseudo_sum(ip, ip_len, proto, l4_len) : 0;
	if (how == CHECKSUM_OFFLOADED && proto != 1 && proto != 58)
		put16(t + at, fold(header));
	else if (how != CHECKSUM_NONE || proto != 17 || ip_len == 40)
		put16(t + at, (uint16_t)~fold(sum_words(header, t, l4_len)));
}

size_t build_probe(const struct probe_spec *p, uint8_t *buf, size_t size)
{
	return build_probe_with(p, NULL, buf, size);
}

size_t build_probe_with(const struct probe_spec *p, const struct probe_options *o, uint8_t *buf,
			size_t size)
{
	static const struct probe_options plain = { 0, CHECKSUM_REAL };
	if (!o)
		o = &plain;
	bool v6 = is_ipv6(p->src);
	size_t ip_len = v6 ? 40 : 20;
	size_t l4 = (p->proto == 6 ? 20 : 8) + (o->payload ? 2 : 0);
	uint8_t proto = (uint8_t)(p->proto == 1 && v6 ? 58 : p->proto);
	if (size < ip_len + l4)
		abort();
	memset(buf, 0, ip_len + l4);
	ip_header(buf, ip_len + l4, p->ip_id, p->ttl, proto, p->src, p->dst);
	uint8_t *t = buf + ip_len;
	size_t payload_at = p->proto == 6 ? 20 : 8;
	if (o->payload)
		put16(t + payload_at, o->payload);
	if (p->proto == 6) {
		put16(t, p->sport);
		put16(t + 2, p->dport);
		put32(t + 4, p->seq);
		t[12] = 0x50;
		t[13] = 0x02; /* SYN */
		put16(t + 14, 64240);
		transport_checksum(buf, ip_len, proto, l4, 16, o->checksum);
	} else if (p->proto == 17) {
		put16(t, p->sport);
		put16(t + 2, p->dport);
		put16(t + 4, (uint16_t)l4);
		transport_checksum(buf, ip_len, proto, l4, 6, o->checksum);
	} else {
		t[0] = v6 ? 128 : 8;
		put16(t + 4, p->sport);
		put16(t + 6, p->dport);
		transport_checksum(buf, ip_len, proto, l4, 2, o->checksum);
	}
	return ip_len + l4;
}

size_t build_icmp_error(const struct probe_spec *p, const char *from, uint8_t ttl, uint8_t type,
			uint8_t code, uint8_t quoted_ttl, uint8_t *buf, size_t size)
{
	/* IP header and the first 8 bytes, as RFC 792 routers quote */
	size_t header = is_ipv6(p->src) ? 40 : 20;
	return build_icmp_error_quoting(p, from, ttl, type, code, quoted_ttl, header + 8, buf, size);
}

size_t build_icmp_error_quoting(const struct probe_spec *p, const char *from, uint8_t ttl,
				uint8_t type, uint8_t code, uint8_t quoted_ttl, size_t quote_len,
				uint8_t *buf, size_t size)
{
	uint8_t probe[128];
	size_t n = build_probe(p, probe, sizeof probe);
	return build_icmp_error_for(probe, n, from, ttl, type, code, quoted_ttl, quote_len, buf, size);
}

size_t build_icmp_error_for(const uint8_t *probe, size_t probe_len, const char *from, uint8_t ttl,
			    uint8_t type, uint8_t code, uint8_t quoted_ttl, size_t quote_len,
			    uint8_t *buf, size_t size)
{
	bool v6 = (probe[0] >> 4) == 6;
	size_t ip_len = v6 ? 40 : 20;
	uint8_t quote[128];
	if (probe_len > sizeof quote)
		abort();
	memcpy(quote, probe, probe_len);
	/* As the router received it: its TTL (and, IPv4, the header checksum that covers it). */
	if (v6) {
		quote[7] = quoted_ttl;
	} else {
		quote[8] = quoted_ttl;
		put16(quote + 10, 0);
		put16(quote + 10, checksum(quote, 20));
	}
	size_t qlen = probe_len < quote_len ? probe_len : quote_len;
	size_t total = ip_len + 8 + qlen;
	if (size < total)
		abort();
	char to[64];
	if (!inet_ntop(v6 ? AF_INET6 : AF_INET, probe + (v6 ? 8 : 12), to, sizeof to))
		abort();
	ip_header(buf, total, 0x7000, ttl, v6 ? 58 : 1, from, to);
	uint8_t *icmp = buf + ip_len;
	memset(icmp, 0, 8);
	if (v6 && type == 11) {
		type = 3;
	} else if (v6 && type == 3) {
		type = 1;
		code = code == 3 ? 4 : code;
	}
	icmp[0] = type;
	icmp[1] = code;
	memcpy(icmp + 8, quote, qlen);
	transport_checksum(buf, ip_len, v6 ? 58 : 1, 8 + qlen, 2, CHECKSUM_REAL);
	return total;
}

size_t build_answer(const struct probe_spec *p, uint8_t ttl, uint8_t *buf, size_t size)
{
	bool v6 = is_ipv6(p->src);
	size_t ip_len = v6 ? 40 : 20;
	size_t l4 = p->proto == 6 ? 20 : 8;
	uint8_t proto = (uint8_t)(p->proto == 1 && v6 ? 58 : p->proto);
	if (size < ip_len + l4)
		abort();
	memset(buf, 0, ip_len + l4);
	ip_header(buf, ip_len + l4, 0x5000, ttl, proto, p->dst, p->src);
	uint8_t *t = buf + ip_len;
	if (p->proto == 6) {
		put16(t, p->dport);
		put16(t + 2, p->sport);
		put32(t + 4, 0x01000000);
		put32(t + 8, p->seq + 1);
		t[12] = 0x50;
		t[13] = 0x12; /* SYN, ACK */
		transport_checksum(buf, ip_len, proto, l4, 16, CHECKSUM_REAL);
	} else {
		t[0] = v6 ? 129 : 0;
		put16(t + 4, p->sport);
		put16(t + 6, p->dport);
		transport_checksum(buf, ip_len, proto, l4, 2, CHECKSUM_REAL);
	}
	return ip_len + l4;
}

/* Little-endian, as the pcap header's magic below says. */
static void put_le32(FILE *f, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	if (fwrite(b, 1, 4, f) != 4)
		abort();
}

void pcap_file_open(struct pcap_file *pf, const char *path)
{
	pf->f = fopen(path, "wb");
	if (!pf->f)
		abort();
	put_le32(pf->f, 0xa1b23c4d); /* nanosecond timestamps */
	put_le32(pf->f, 2 | 4u << 16); /* version 2.4 */
	put_le32(pf->f, 0);
	put_le32(pf->f, 0);
	put_le32(pf->f, 65535);
	put_le32(pf->f, 101); /* LINKTYPE_RAW */
}

void pcap_file_add(struct pcap_file *pf, int64_t ts_ns, const uint8_t *packet, size_t n)
{
	put_le32(pf->f, (uint32_t)(ts_ns / 1000000000));
	put_le32(pf->f, (uint32_t)(ts_ns % 1000000000));
	put_le32(pf->f, (uint32_t)n);
	put_le32(pf->f, (uint32_t)n);
	if (fwrite(packet, 1, n, pf->f) != n)
		abort();
}

void pcap_file_close(struct pcap_file *pf)
{
	if (fclose(pf->f) != 0)
		abort();
	pf->f = NULL;
}
