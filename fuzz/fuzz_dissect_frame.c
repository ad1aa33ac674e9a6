/*
 * Fuzz target: the link, IP and transport dissectors, then what the pipeline
 * keeps of each frame and the pairing of replies with requests.
 *
 * Input: two bytes (big-endian) naming the link type, then one frame, or
 * several separated by FUZZ_FRAME_SEPARATOR. A LINKTYPE_ value that
 * dissect_frame supports is used as it is, so seeds stay meaningful when link
 * types are added; any other value picks one of the supported ones.
 *
 * After the frames, the case is analysed as `ttlsleuth analyze` does with a
 * guest capture (fuzz_analyze_guest).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include "fuzz/fuzz_targets.h"

#include "analyzer/model.h"
#include "analyzer/pairing.h"
#include "analyzer/pipeline.h"
#include "dissectors/dissect.h"

enum { LINKTYPE_SCAN_MAX = 1024, MAX_LINKTYPES = 64, MAX_FRAMES = 64 };

/* Every link type dissect_frame supports, found by asking it (once). */
static int pick_linktype(unsigned wanted)
{
	static int supported[MAX_LINKTYPES];
	static size_t count;
	if (count == 0) {
		for (int lt = 0; lt < LINKTYPE_SCAN_MAX && count < MAX_LINKTYPES; lt++)
			if (dissect_link_supported(lt))
				supported[count++] = lt;
		if (count == 0)
			fuzz_fail("dissect_link_supported accepts no link type below %d", LINKTYPE_SCAN_MAX);
	}
	if (dissect_link_supported((int)wanted))
		return (int)wanted;
	return supported[wanted % count];
}

/* What a dissector may never claim, whatever the bytes. */
static void check_packet(const struct packet *p, uint32_t caplen)
{
	if (p->caplen != caplen)
		fuzz_fail("frame %llu: caplen %u changed to %u", (unsigned long long)p->frame, caplen,
			  p->caplen);
	if (p->l4.bytes > caplen)
		fuzz_fail("transport claims %u bytes in a %u-byte frame", p->l4.bytes, caplen);
	if (p->quote.present && p->quote.quoted_len > caplen)
		fuzz_fail("quote claims %u bytes in a %u-byte frame", p->quote.quoted_len, caplen);
	if (p->ip.version != 0 && p->ip.version != 4 && p->ip.version != 6)
		fuzz_fail("IP version %u", p->ip.version);
}

int fuzz_dissect_frame(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	int linktype = pick_linktype((unsigned)data[0] << 8 | data[1]);
	data += 2;
	size -= 2;

	struct case_model cm;
	case_init(&cm);
	cm.n_captures = 1;
	cm.captures[0].side = SIDE_GUEST;
	cm.captures[0].linktype = linktype;
	struct pairing_index ix;
	if (pairing_init(&ix) != 0)
		abort();

	const size_t sep_len = sizeof FUZZ_FRAME_SEPARATOR - 1;
	for (uint64_t number = 1; number <= MAX_FRAMES; number++) {
		const uint8_t *sep = memmem(data, size, FUZZ_FRAME_SEPARATOR, sep_len);
		size_t len = sep ? (size_t)(sep - data) : size;
		uint8_t *frame = fuzz_exact_copy(data, len);

		struct packet pkt;
		memset(&pkt, 0xa5, sizeof pkt); /* dissect_frame must reset all but these three */
		pkt.frame = number;
		pkt.ts_ns = (int64_t)number * 1000 * 1000;
		pkt.wirelen = (uint32_t)len;
		dissect_frame(&pkt, linktype, frame, (uint32_t)len);
		check_packet(&pkt, (uint32_t)len);
		cm.captures[0].packets++;
		int kept = pipeline_take_packet(&cm, 0, &pkt, &ix);
		free(frame);
		if (kept < 0)
			fuzz_fail("the case is full after %llu frames", (unsigned long long)number);
		cm.captures[0].interesting += (uint64_t)kept;

		if (!sep)
			break;
		data = sep + sep_len;
		size -= len + sep_len;
	}
	pairing_free(&ix);

	fuzz_analyze_guest(&cm);
	case_free(&cm);
	return 0;
}

#ifndef FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_dissect_frame(data, size);
}
#endif
