/*
 * Fuzz target: the ICMP and ICMPv6 error parser and the quote inside it
 * (RFC 4884 length attribute, extensions, the quoted IP and transport headers),
 * then the pairing of the error with the probe it quotes.
 *
 * The input is mostly the quote: the target wraps it in a well-formed raw-IP
 * frame carrying an error, so the fuzzer spends its effort inside the quote
 * instead of rediscovering the outer headers.
 *
 *   byte 0  bit 0: IPv4 + ICMP (0) or IPv6 + ICMPv6 (1)
 *           bits 1-3: the error type, from the lists below
 *           bit 4: first feed the quote itself as a frame, so the error can pair with it
 *           bit 5: cut the outer frame 1 to 16 bytes short of what its IP header claims
 *   byte 1  the RFC 4884 length attribute (ICMP: 32-bit words; ICMPv6: 64-bit words)
 *   byte 2  the ICMP code
 *   rest    the quoted datagram
 */
#include "fuzz/fuzz_targets.h"

#include "analyzer/model.h"
#include "analyzer/pairing.h"
#include "analyzer/pipeline.h"
#include "dissectors/dissect.h"

enum { IPV4_HEADER = 20, IPV6_HEADER = 40, ICMP_HEADER = 8, MAX_QUOTE = 0xffff - IPV6_HEADER - ICMP_HEADER };

/* Time exceeded first: it is what a path trace is made of. */
static const uint8_t icmp_types[8] = { 11, 11, 3, 3, 12, 4, 5, 11 };
static const uint8_t icmpv6_types[8] = { 3, 3, 1, 1, 2, 4, 3, 1 };

/* Documentation addresses (RFC 5737, RFC 3849): the router and the prober. */
static const uint8_t router4[4] = { 198, 51, 100, 1 }, prober4[4] = { 192, 0, 2, 10 };
static const uint8_t router6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t prober6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x10 };

static size_t build_error(uint8_t *out, uint8_t flags, uint8_t length_attribute, uint8_t code,
			  const uint8_t *quote, size_t quote_len)
{
	bool v6 = flags & 1;
	uint8_t type = (v6 ? icmpv6_types : icmp_types)[(flags >> 1) & 7];
	size_t ip_header = v6 ? IPV6_HEADER : IPV4_HEADER;
	size_t total = ip_header + ICMP_HEADER + quote_len;
	uint8_t *p = out;
	memset(out, 0, ip_header + ICMP_HEADER);
	if (v6) {
		p[0] = 0x60;
		p[4] = (uint8_t)((total - IPV6_HEADER) >> 8);
		p[5] = (uint8_t)(total - IPV6_HEADER);
		p[6] = 58;
		p[7] = 61;
		memcpy(p + 8, router6, 16);
		memcpy(p + 24, prober6, 16);
	} else {
		p[0] = 0x45;
		p[2] = (uint8_t)(total >> 8);
		p[3] = (uint8_t)total;
		p[8] = 61;
		p[9] = 1;
		memcpy(p + 12, router4, 4);
		memcpy(p + 16, prober4, 4);
	}
	p += ip_header;
	p[0] = type;
	p[1] = code;
	/* The checksum stays 0: ttlsleuth does not judge ICMP checksums. */
	if (v6)
		p[4] = length_attribute; /* RFC 4884 section 5.1 */
	else
		p[5] = length_attribute;
	memcpy(p + ICMP_HEADER, quote, quote_len);
	return total;
}

static void take(struct case_model *cm, struct pairing_index *ix, uint64_t number,
		 const uint8_t *bytes, size_t len)
{
	uint8_t *frame = fuzz_exact_copy(bytes, len);
	struct packet pkt;
	memset(&pkt, 0, sizeof pkt);
	pkt.frame = number;
	pkt.ts_ns = (int64_t)number * 1000 * 1000;
	pkt.wirelen = (uint32_t)len;
	dissect_frame(&pkt, LINKTYPE_RAW, frame, (uint32_t)len);
	if (pkt.quote.present && pkt.quote.quoted_len > len)
		fuzz_fail("quote claims %u bytes in a %zu-byte frame", pkt.quote.quoted_len, len);
	if (pkt.l4.bytes > len)
		fuzz_fail("transport claims %u bytes in a %zu-byte frame", pkt.l4.bytes, len);
	cm->captures[0].packets++;
	if (pipeline_take_packet(cm, 0, &pkt, ix) < 0)
		fuzz_fail("the case is full after %llu frames", (unsigned long long)number);
	free(frame);
}

int fuzz_icmp_quote(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	uint8_t flags = data[0], length_attribute = data[1], code = data[2];
	const uint8_t *quote = data + 3;
	size_t quote_len = size - 3;
	if (quote_len > MAX_QUOTE)
		quote_len = MAX_QUOTE;

	uint8_t *error = malloc(IPV6_HEADER + ICMP_HEADER + quote_len);
	if (!error)
		abort();
	size_t error_len = build_error(error, flags, length_attribute, code, quote, quote_len);
	if (flags & 0x20)
		error_len = error_len > 16 ? error_len - 16 : 0;

	struct case_model cm;
	case_init(&cm);
	cm.n_captures = 1;
	cm.captures[0].side = SIDE_GUEST;
	cm.captures[0].linktype = LINKTYPE_RAW;
	struct pairing_index ix;
	if (pairing_init(&ix) != 0)
		abort();
	uint64_t number = 1;
	if (flags & 0x10)
		take(&cm, &ix, number++, quote, quote_len);
	take(&cm, &ix, number, error, error_len);
	pairing_free(&ix);
	free(error);

	fuzz_analyze_guest(&cm);
	case_free(&cm);
	return 0;
}

#ifndef FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_icmp_quote(data, size);
}
#endif
