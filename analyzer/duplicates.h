/*
 * The same packet captured twice: `tcpdump -i any` on a host that forwards
 * sees a probe on the way in and on the way out, and a pcapng merged from two
 * interfaces does too. Counting both would double the probes per TTL and, on
 * the host side, pair a guest probe with its own inbound copy instead of what
 * left the host. The sightings are linked (request.same_as), one is kept.
 */
#ifndef TTLSLEUTH_DUPLICATES_H
#define TTLSLEUTH_DUPLICATES_H

#include <stdbool.h>

#include "analyzer/model.h"

/*
 * Links the second sightings of requests in one capture. keep_last: the host
 * side keeps the last sighting (what left the host), the guest side the first
 * (what the guest sent). The kept request inherits the reply of a sighting
 * that had one. Returns -1 when out of memory.
 */
int duplicates_mark(struct case_model *cm, uint32_t capture, bool keep_last);

#endif
