#include <arpa/inet.h>
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

static uint16_t checksum(const uint8_t *b, size_t n)
{
	uint32_t sum = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		sum += (uint32_t)b[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void ip_header(uint8_t *b, size_t total, uint16_t id, uint8_t ttl, uint8_t proto,
		      const char *src, const char *dst)
{
	memset(b, 0, 20);
	b[0] = 0x45;
	put16(b + 2, (uint16_t)total);
	put16(b + 4, id);
	b[8] = ttl;
	b[9] = proto;
	if (inet_pton(AF_INET, src, b + 12) != 1 || inet_pton(AF_INET, dst, b + 16) != 1)
		abort();
	put16(b + 10, checksum(b, 20));
}

size_t build_probe(const struct probe_spec *p, uint8_t *buf, size_t size)
{
	size_t l4 = p->proto == 6 ? 20 : 8;
	if (size < 20 + l4)
		abort();
	memset(buf, 0, 20 + l4);
	ip_header(buf, 20 + l4, p->ip_id, p->ttl, (uint8_t)p->proto, p->src, p->dst);
	uint8_t *t = buf + 20;
	if (p->proto == 6) {
		put16(t, p->sport);
		put16(t + 2, p->dport);
		put32(t + 4, p->seq);
		t[12] = 0x50;
		t[13] = 0x02; /* SYN */
		put16(t + 14, 64240);
	} else if (p->proto == 17) {
		put16(t, p->sport);
		put16(t + 2, p->dport);
		put16(t + 4, 8);
	} else {
		t[0] = 8;
		put16(t + 4, p->sport);
		put16(t + 6, p->dport);
		put16(t + 2, checksum(t, 8));
	}
	return 20 + l4;
}

size_t build_icmp_error(const struct probe_spec *p, const char *from, uint8_t ttl, uint8_t type,
			uint8_t code, uint8_t quoted_ttl, uint8_t *buf, size_t size)
{
	/* IP header and the first 8 bytes, as RFC 792 routers quote */
	return build_icmp_error_quoting(p, from, ttl, type, code, quoted_ttl, 28, buf, size);
}

size_t build_icmp_error_quoting(const struct probe_spec *p, const char *from, uint8_t ttl,
				uint8_t type, uint8_t code, uint8_t quoted_ttl, size_t quote_len,
				uint8_t *buf, size_t size)
{
	uint8_t quote[64];
	struct probe_spec as_seen = *p;
	as_seen.ttl = quoted_ttl;
	size_t qlen = build_probe(&as_seen, quote, sizeof quote);
	if (qlen > quote_len)
		qlen = quote_len;
	size_t total = 20 + 8 + qlen;
	if (size < total)
		abort();
	ip_header(buf, total, 0x7000, ttl, 1, from, p->src);
	uint8_t *icmp = buf + 20;
	memset(icmp, 0, 8);
	icmp[0] = type;
	icmp[1] = code;
	memcpy(icmp + 8, quote, qlen);
	put16(icmp + 2, checksum(icmp, 8 + qlen));
	return total;
}

size_t build_answer(const struct probe_spec *p, uint8_t ttl, uint8_t *buf, size_t size)
{
	size_t l4 = p->proto == 6 ? 20 : 8;
	if (size < 20 + l4)
		abort();
	memset(buf, 0, 20 + l4);
	ip_header(buf, 20 + l4, 0x5000, ttl, (uint8_t)p->proto, p->dst, p->src);
	uint8_t *t = buf + 20;
	if (p->proto == 6) {
		put16(t, p->dport);
		put16(t + 2, p->sport);
		put32(t + 4, 0x01000000);
		put32(t + 8, p->seq + 1);
		t[12] = 0x50;
		t[13] = 0x12; /* SYN, ACK */
	} else {
		t[0] = 0;
		put16(t + 4, p->sport);
		put16(t + 6, p->dport);
		put16(t + 2, checksum(t, 8));
	}
	return 20 + l4;
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
