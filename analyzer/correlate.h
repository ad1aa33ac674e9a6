/*
 * Lining up the guest capture with the host capture of the same time.
 *
 * A user-space NAT terminates the guest's flow and opens its own, so source
 * address, port, IP ID, sequence number and ICMP id may all differ on the host
 * side. What survives is the destination, its port, the protocol, and the
 * order and timing of the probes, and often one of those fields. The clock
 * offset between the two captures, and how it drifts over them
 * (clock_curve.h), is estimated first (clock_offset.h); then a probe takes
 * the host request that shares a kept field with it, or, in traces where no
 * field was kept, the one its place in time and order gives it
 * (order_match.h). When no field is kept anywhere, several offsets are tried
 * and the pairs of each judged by their TTLs and their timing (copy_pairs.h),
 * so that another tool's run to the same place in a long host capture is not
 * taken for the copies. A probe that never left the host stays without a copy.
 */
#ifndef TTLSLEUTH_CORRELATE_H
#define TTLSLEUTH_CORRELATE_H

#include "analyzer/model.h"

/* Sets counterpart links between requests (and their replies) of the two captures. */
int correlate_captures(struct case_model *cm, uint32_t guest, uint32_t host);

#endif
