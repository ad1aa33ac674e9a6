/*
 * macOS PKTAP (link type 258, `tcpdump -k` or `-i pktap`): a header that names
 * the interface and the process that sent or received the packet, then the
 * packet with its own link type. The process name is kept: it tells which
 * program sent the probes. Fields are little-endian (every Apple machine that
 * writes them is), as tcpdump reads them.
 */
#include <stdio.h>
#include <string.h>

#include "dissectors/dissect.h"

enum {
	PKTAP_HEADER_MIN = 108, /* the fixed part tcpdump requires */
	PKTAP_RECORD_PACKET = 1,
	COMMAND_OFFSET = 56,
	COMMAND_LEN = 20,
};

void dissect_pktap(struct packet *pkt, struct cursor c)
{
	struct cursor head = c;
	uint32_t header_len, record_type, dlt;
	if (!cursor_le32(&head, &header_len) || !cursor_le32(&head, &record_type) ||
	    !cursor_le32(&head, &dlt) || header_len < PKTAP_HEADER_MIN) {
		anomaly_add(&pkt->anomalies, ANOMALY_LINK_TRUNCATED);
		return;
	}
	struct cursor fixed = cursor_take(&c, header_len, NULL);
	if (fixed.left < header_len) {
		anomaly_add(&pkt->anomalies, ANOMALY_LINK_TRUNCATED);
		return;
	}
	struct cursor command = fixed;
	char name[COMMAND_LEN + 1] = "";
	if (cursor_skip(&command, COMMAND_OFFSET) && cursor_copy(&command, name, COMMAND_LEN)) {
		name[COMMAND_LEN] = '\0';
		snprintf(pkt->process, sizeof pkt->process, "%s", name);
	}
	if (record_type != PKTAP_RECORD_PACKET)
		return;
	int inner = dissect_linktype_from_dlt((int)dlt);
	if (inner == LINKTYPE_PKTAP) {
		/* PKTAP in PKTAP: nothing real does this; stop rather than recurse. */
		anomaly_add(&pkt->anomalies, ANOMALY_LINK_UNSUPPORTED_TYPE);
		return;
	}
	dissect_link(pkt, inner, c);
}
