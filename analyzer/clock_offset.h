/*
 * Host time minus guest time for one pair of captures (the clocks' offset
 * plus the NAT's delay), and which fields the NAT kept.
 *
 * Every guest probe votes for the offsets at which a host request to its
 * target shares a field with it, one field kind at a time; a kind the NAT kept
 * piles its votes up at one offset, a rewritten one scatters them. When no
 * kind does, the probes vote with the times of the host requests to their
 * target (all of them, or in a big case the nearest by time and by order),
 * and the densest cluster of offsets wins. Lining the two sequences up start
 * to start would be wrong whenever the first probes never reached the host
 * (TTL 1 expiring at a NAT that routes).
 */
#ifndef TTLSLEUTH_CLOCK_OFFSET_H
#define TTLSLEUTH_CLOCK_OFFSET_H

#include <stdbool.h>
#include <stdint.h>

#include "analyzer/copy_keys.h"

struct clock_estimate {
	int64_t offset_ns;
	bool kept[KEY_COUNT]; /* fields that name a probe's copy; KEY_TARGET never */
};

/*
 * 1 with the estimate; 0 when no host request shares a target with a guest
 * probe within a day and a bit; -1 when out of memory.
 */
int clock_offset_estimate(const struct copy_keys *guest, const struct copy_keys *host,
			  struct clock_estimate *e);

#endif
