/*
 * Lining up the guest capture with the host capture of the same time.
 *
 * A user-space NAT terminates the guest's flow and opens its own, so source
 * address, port, IP ID, sequence number and ICMP id may all differ on the host
 * side. What survives is the destination, its port, the protocol, and the
 * order and timing of the probes: the clock offset between the two captures is
 * estimated first, then each guest probe takes the nearest host request that
 * fits, preferring one that kept the ports, sequence or plausible TTL.
 */
#ifndef TTLSLEUTH_CORRELATE_H
#define TTLSLEUTH_CORRELATE_H

#include "analyzer/model.h"

/* Sets counterpart links between requests (and their replies) of the two captures. */
int correlate_captures(struct case_model *cm, uint32_t guest, uint32_t host);

#endif
