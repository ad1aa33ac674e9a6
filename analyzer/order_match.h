/*
 * Pairing two sequences by time and order alone: the guest's probes to one
 * target and the host's requests to it, when no field says which is which (a
 * NAT that re-originates every packet).
 *
 * A NAT forwards in order, so pairs never cross; a probe that never reached
 * the host (TTL 1 expiring at the NAT) has no partner, and the host sends
 * packets of its own. Of the pairings that do not cross, the one taken fits
 * the most pairs, and of those the one whose delays stay closest to the
 * clocks' offset: shifting every pair by one probe to fill the gap of a
 * missing copy fits no more pairs and costs a probe's spacing on each.
 */
#ifndef TTLSLEUTH_ORDER_MATCH_H
#define TTLSLEUTH_ORDER_MATCH_H

#include <stddef.h>
#include <stdint.h>

/*
 * g[0..n) and h[0..m) are times in ascending order. A pair (i, j) is allowed
 * when -early <= h[j] - g[i] - offset <= late. Sets match[i] to its j, or -1.
 * Returns -1 when out of memory.
 */
int order_match(const int64_t *g, size_t n, const int64_t *h, size_t m, int64_t offset, int64_t early,
		int64_t late, int32_t *match);

#endif
