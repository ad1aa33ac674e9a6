/*
 * Pairing replies with the requests that caused them, in one pass over a
 * capture: requests go into a hash index as they are read, and each reply is
 * looked up the moment it arrives (those still unpaired get one more look
 * when the capture ends). ICMP errors are matched by what they quote;
 * SYN-ACKs and RSTs by the reversed tuple and ack == seq + 1; echo replies by
 * identifier and sequence.
 */
#ifndef TTLSLEUTH_PAIRING_H
#define TTLSLEUTH_PAIRING_H

#include <stdint.h>

#include "analyzer/model.h"

struct pairing_index {
	int32_t *heads;  /* bucket → newest request index, -1 empty */
	size_t mask;     /* bucket count - 1 */
	int32_t *next;   /* request index → older request in the same bucket */
	size_t next_cap;
	size_t count;
	/* Where the requests went and what the errors quote as destination: an
	 * answer from one of these places is kept even when it pairs with
	 * nothing yet (open addressing; family 0 is an empty slot). */
	struct ip_addr *places;
	size_t places_mask, places_count;
};

/*
 * How much later than its reply a request may be stamped and still be the one
 * it answers. Merged files and multi-queue captures put microseconds of
 * disorder into the timestamps; a millisecond covers that with room to
 * spare, and a request stamped later still is taken for one sent after the
 * reply. A request stamped before the reply is preferred; a pair stamped the
 * wrong way round gets a round trip of 0.
 */
#define PAIRING_CLOCK_SLACK_NS ((int64_t)1000 * 1000)

int pairing_init(struct pairing_index *ix);
void pairing_free(struct pairing_index *ix);

/* Indexes cm->requests.items[request]; -1 when out of memory. */
int pairing_add(struct pairing_index *ix, const struct case_model *cm, int32_t request);

/* Looks up the request of cm->replies.items[reply] and links the two if found.
 * -1 when out of memory (noting the place an error quotes). */
int pairing_match(struct pairing_index *ix, struct case_model *cm, int32_t reply);

/*
 * Whether a request of the capture went to addr, or an error quoted it as the
 * destination: its SYN-ACKs and echo replies may answer a request further on
 * in the file (stamped a little later than the answer) or one the capture
 * does not hold (traces rebuilt from answers).
 */
bool pairing_place_seen(const struct pairing_index *ix, const struct ip_addr *addr);

/*
 * After a capture is read: replies that found no request on arrival get
 * another look, now that every request of the capture is indexed (a reply
 * stamped before its request within the slack may also come first in the
 * file).
 */
void pairing_match_late(const struct pairing_index *ix, struct case_model *cm, uint32_t capture);

/*
 * After a capture is read: ICMP errors still unpaired that quote a probe's
 * addresses, paired by what is left of the quote with the latest request of
 * that capture sent before them (within the slack; one not answered yet
 * first). A quote that stops after the IPv4 header (RFC 792 asks for 8 more
 * bytes; some routers send none) is paired by addresses, protocol and IP ID
 * (method quote-ip-header). A quote whose echo id or source port names no
 * request, because a NAT rewrote it on the way back, is paired by addresses,
 * protocol, the other identifiers it holds (echo sequence; destination port
 * and TCP sequence) and a nonzero IPv4 ID or the probe's own transport
 * checksum saying which probe it is, within 10 s (method
 * quote-rewritten; the reply gets
 * the anomaly quote.echo_id_rewritten or quote.source_port_rewritten, counted
 * in its capture: evidence of a NAT). -1 when out of memory.
 */
int pairing_match_leftover_errors(struct case_model *cm, uint32_t capture);

#endif
