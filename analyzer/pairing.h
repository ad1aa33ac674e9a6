/*
 * Pairing replies with the requests that caused them, in one pass over a
 * capture: requests go into a hash index as they are read, and each reply is
 * looked up the moment it arrives. ICMP errors are matched by what they quote;
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
};

int pairing_init(struct pairing_index *ix);
void pairing_free(struct pairing_index *ix);

/* Indexes cm->requests.items[request]; -1 when out of memory. */
int pairing_add(struct pairing_index *ix, const struct case_model *cm, int32_t request);

/* Looks up the request of cm->replies.items[reply] and links the two if found. */
void pairing_match(const struct pairing_index *ix, struct case_model *cm, int32_t reply);

/*
 * After a capture is read: ICMP errors whose quote stops after the IPv4
 * header (RFC 792 asks for 8 more bytes; some routers send none) have no
 * ports to look up, so they are paired by addresses, protocol and IP ID with
 * the latest request of that capture sent before them. -1 when out of memory.
 */
int pairing_match_header_quotes(struct case_model *cm, uint32_t capture);

#endif
