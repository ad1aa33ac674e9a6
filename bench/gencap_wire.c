/*
 * Bytes on the wire: Ethernet, IPv4/IPv6, TCP, UDP, ICMP/ICMPv6, with correct
 * lengths and checksums, so that tshark and the analyzer see well-formed
 * packets.
 *
 * Bulk payload comes from one shared pattern whose 16-bit prefix sums are
 * precomputed: the checksum of a 1448-byte slice costs two lookups instead of
 * a pass over the bytes, which keeps writing gigabytes a matter of seconds.
 */
#include <string.h>

#include "gencap.h"

enum { PATTERN_BYTES = 64 * 1024 };

static uint8_t pattern[PATTERN_BYTES];
/* pattern_prefix[k]: sum of the first k big-endian 16-bit words of the pattern. */
static uint64_t pattern_prefix[PATTERN_BYTES / 2 + 1];

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void wire_init_pattern(uint64_t seed)
{
	struct rng r = { seed ^ 0x7061747465726eULL };
	for (size_t i = 0; i < PATTERN_BYTES; i += 8) {
		uint64_t v = rng_next(&r);
		for (size_t k = 0; k < 8; k++)
			pattern[i + k] = (uint8_t)(v >> (8 * k));
	}
	pattern_prefix[0] = 0;
	for (size_t w = 0; w < PATTERN_BYTES / 2; w++)
		pattern_prefix[w + 1] =
			pattern_prefix[w] + ((uint64_t)pattern[2 * w] << 8 | pattern[2 * w + 1]);
}

size_t wire_pattern_offset(struct rng *r, size_t len)
{
	if (len >= PATTERN_BYTES)
		return 0;
	uint32_t room = (uint32_t)((PATTERN_BYTES - len) / 2);
	return 2 * (size_t)rng_below(r, room);
}

/* The one's-complement sum (unfolded) of bytes starting at an even offset of the packet. */
static uint64_t sum16(uint64_t acc, const uint8_t *p, size_t n)
{
	size_t i = 0;
	for (; i + 1 < n; i += 2)
		acc += (uint64_t)p[i] << 8 | p[i + 1];
	if (i < n)
		acc += (uint64_t)p[i] << 8;
	return acc;
}

static uint16_t fold(uint64_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

static uint16_t swap16(uint16_t v)
{
	return (uint16_t)((v << 8) | (v >> 8));
}

/* Sum of a pattern slice as if it started at an even offset (off must be even). */
static uint64_t pattern_sum(size_t off, size_t len)
{
	size_t words = len / 2;
	uint64_t s = pattern_prefix[off / 2 + words] - pattern_prefix[off / 2];
	if (len & 1)
		s += (uint64_t)pattern[off + len - 1] << 8;
	return s;
}

static size_t put_link(uint8_t *f, const struct link *l, uint8_t family)
{
	memcpy(f, l->dst, 6);
	memcpy(f + 6, l->src, 6);
	put16(f + 12, family == 6 ? 0x86dd : 0x0800);
	return ETH_HEADER;
}

static size_t put_ipv4(uint8_t *p, const struct ip_spec *ip, uint8_t proto, size_t l4_len)
{
	p[0] = 0x45;
	p[1] = ip->tos;
	put16(p + 2, (uint32_t)(20 + l4_len));
	put16(p + 4, ip->id);
	put16(p + 6, ip->df ? 0x4000 : 0);
	p[8] = ip->ttl;
	p[9] = proto;
	put16(p + 10, 0);
	memcpy(p + 12, ip->src->b, 4);
	memcpy(p + 16, ip->dst->b, 4);
	put16(p + 10, (uint16_t)~fold(sum16(0, p, 20)));
	return 20;
}

static size_t put_ipv6(uint8_t *p, const struct ip_spec *ip, uint8_t proto, size_t l4_len)
{
	p[0] = (uint8_t)(0x60 | ip->tos >> 4);
	p[1] = (uint8_t)(ip->tos << 4);
	p[2] = p[3] = 0; /* flow label 0 */
	put16(p + 4, (uint32_t)l4_len);
	p[6] = proto;
	p[7] = ip->ttl;
	memcpy(p + 8, ip->src->b, 16);
	memcpy(p + 24, ip->dst->b, 16);
	return 40;
}

static size_t put_ip(uint8_t *p, const struct ip_spec *ip, uint8_t proto, size_t l4_len)
{
	return ip->src->family == 6 ? put_ipv6(p, ip, proto, l4_len) : put_ipv4(p, ip, proto, l4_len);
}

/* The pseudo-header part of a TCP, UDP or ICMPv6 checksum. */
static uint64_t pseudo_sum(const struct ip_spec *ip, uint8_t proto, size_t l4_len)
{
	size_t n = ip->src->family == 6 ? 16 : 4;
	uint64_t acc = sum16(0, ip->src->b, n);
	acc = sum16(acc, ip->dst->b, n);
	return acc + proto + (l4_len >> 16) + (l4_len & 0xffff);
}

static size_t finish_frame(uint8_t *f, size_t len, const struct link *l)
{
	if (l->pad && len < ETH_MIN_FRAME) {
		memset(f + len, 0, ETH_MIN_FRAME - len);
		len = ETH_MIN_FRAME;
	}
	return len;
}

size_t wire_tcp(uint8_t *f, const struct link *l, const struct ip_spec *ip, const struct tcp_spec *t)
{
	size_t header = 20 + t->options_len;
	size_t l4_len = header + t->text_len + t->pattern_len;
	size_t off = put_link(f, l, ip->src->family);
	off += put_ip(f + off, ip, IPPROTO_NUM_TCP, l4_len);
	uint8_t *s = f + off;
	put16(s, t->sport);
	put16(s + 2, t->dport);
	put32(s + 4, t->seq);
	put32(s + 8, t->ack);
	s[12] = (uint8_t)((header / 4) << 4);
	s[13] = t->flags;
	put16(s + 14, t->window);
	put16(s + 16, 0);
	put16(s + 18, 0);
	/* memcpy from NULL is undefined even for 0 bytes: segments without options or text pass NULL */
	if (t->options_len)
		memcpy(s + 20, t->options, t->options_len);
	if (t->text_len)
		memcpy(s + header, t->text, t->text_len);
	memcpy(s + header + t->text_len, pattern + t->pattern_off, t->pattern_len);

	uint64_t acc = pseudo_sum(ip, IPPROTO_NUM_TCP, l4_len) + sum16(0, s, header + t->text_len);
	uint16_t tail = fold(pattern_sum(t->pattern_off, t->pattern_len));
	/* After an odd-length text the pattern starts on an odd byte: its sum is byte-swapped. */
	acc += (t->text_len & 1) ? swap16(tail) : tail;
	put16(s + 16, (uint16_t)~fold(acc));
	return finish_frame(f, off + l4_len, l);
}

size_t wire_udp(uint8_t *f, const struct link *l, const struct ip_spec *ip, uint16_t sport,
		uint16_t dport, const uint8_t *payload, size_t len)
{
	size_t l4_len = 8 + len;
	size_t off = put_link(f, l, ip->src->family);
	off += put_ip(f + off, ip, IPPROTO_NUM_UDP, l4_len);
	uint8_t *u = f + off;
	put16(u, sport);
	put16(u + 2, dport);
	put16(u + 4, (uint32_t)l4_len);
	put16(u + 6, 0);
	memcpy(u + 8, payload, len);
	uint16_t sum = (uint16_t)~fold(pseudo_sum(ip, IPPROTO_NUM_UDP, l4_len) + sum16(0, u, l4_len));
	put16(u + 6, sum ? sum : 0xffff); /* 0 means "no checksum" in UDP */
	return finish_frame(f, off + l4_len, l);
}

size_t wire_icmp(uint8_t *f, const struct link *l, const struct ip_spec *ip, uint8_t type,
		 uint8_t code, uint32_t rest, const uint8_t *payload, size_t len)
{
	bool v6 = ip->src->family == 6;
	uint8_t proto = v6 ? IPPROTO_NUM_ICMPV6 : IPPROTO_NUM_ICMP;
	size_t l4_len = 8 + len;
	size_t off = put_link(f, l, ip->src->family);
	off += put_ip(f + off, ip, proto, l4_len);
	uint8_t *m = f + off;
	m[0] = type;
	m[1] = code;
	put16(m + 2, 0);
	put32(m + 4, rest);
	memcpy(m + 8, payload, len);
	uint64_t acc = v6 ? pseudo_sum(ip, proto, l4_len) : 0;
	put16(m + 2, (uint16_t)~fold(sum16(acc, m, l4_len)));
	return finish_frame(f, off + l4_len, l);
}

const uint8_t *wire_ip_packet(const uint8_t *frame, size_t *ip_len)
{
	const uint8_t *p = frame + ETH_HEADER;
	if ((p[0] >> 4) == 6)
		*ip_len = 40 + ((size_t)p[4] << 8 | p[5]);
	else
		*ip_len = (size_t)p[2] << 8 | p[3];
	return p;
}

void wire_set_ttl(uint8_t *p, uint8_t ttl)
{
	if ((p[0] >> 4) == 6) {
		p[7] = ttl;
		return;
	}
	p[8] = ttl;
	put16(p + 10, 0);
	put16(p + 10, (uint16_t)~fold(sum16(0, p, 20)));
}

static void put_ts(uint8_t *o, uint32_t tsval, uint32_t tsecr)
{
	o[0] = 8;
	o[1] = 10;
	put32(o + 2, tsval);
	put32(o + 6, tsecr);
}

void wire_syn_options(uint8_t o[20], uint16_t mss, uint32_t tsval, uint32_t tsecr, uint8_t wscale)
{
	o[0] = 2;
	o[1] = 4;
	put16(o + 2, mss);
	o[4] = 4; /* sackOK */
	o[5] = 2;
	put_ts(o + 6, tsval, tsecr);
	o[16] = 1; /* nop */
	o[17] = 3; /* wscale */
	o[18] = 3;
	o[19] = wscale;
}

void wire_ts_options(uint8_t o[12], uint32_t tsval, uint32_t tsecr)
{
	o[0] = 1;
	o[1] = 1;
	put_ts(o + 2, tsval, tsecr);
}
