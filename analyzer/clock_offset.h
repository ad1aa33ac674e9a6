/*
 * Host time minus guest time for one pair of captures (the clocks' offset,
 * their drift, plus the NAT's delay), and which fields the NAT kept.
 *
 * Every guest probe votes for the offsets at which a host request to its
 * target shares a field with it. A field the NAT kept piles its votes up
 * along one slowly changing offset (clock_curve.h); a rewritten one scatters
 * them. The densest pile, wide enough for the clocks to drift over the
 * capture, is fitted with a curve; a field is kept when most probes that
 * found its value again found it on that curve, with TTLs a NAT gives its
 * copies (copy_pairs.h): the host's own traceroute an hour before, with the
 * same sequence numbers, is another pile, and is passed over.
 *
 * When no field is kept, the probes vote with the times of the host requests
 * to their target (all of them, or in a big case the nearest by time and by
 * order), and the densest clusters of offsets are the candidates the
 * correlation tries (correlate.c). Lining the two sequences up start to start
 * would be wrong whenever the first probes never reached the host (TTL 1
 * expiring at a NAT that routes).
 */
#ifndef TTLSLEUTH_CLOCK_OFFSET_H
#define TTLSLEUTH_CLOCK_OFFSET_H

#include <stdbool.h>
#include <stdint.h>

#include "analyzer/clock_curve.h"
#include "analyzer/copy_keys.h"
#include "analyzer/model.h"

/* Offsets this far apart are different runs, not the same copies a probe or two off. */
#define CANDIDATE_SEPARATION_NS ((int64_t)1000 * 1000 * 1000)

struct clock_estimate {
	struct clock_curve curve;
	bool kept[KEY_COUNT]; /* fields that name a probe's copy; KEY_TARGET never */
};

/*
 * 1 with the fields kept and the curve of their copies (free it); 0 when no
 * field is kept; -1 when out of memory.
 */
int clock_offset_by_identity(const struct case_model *cm, const struct copy_keys *guest,
			     const struct copy_keys *host, struct clock_estimate *e);

/*
 * The offsets where the times of the host requests to the probes' targets
 * pile up, up to `max`, the densest first, each CANDIDATE_SEPARATION_NS from
 * the others. Returns how many (0: no host request shares a target with a
 * probe within a day and a bit), or -1 when out of memory.
 */
int clock_offset_candidates(const struct copy_keys *guest, const struct copy_keys *host, int64_t *out,
			    size_t max);

/*
 * Where the copies of the probes pile up closest along a curve fitted to
 * pairs found by the times: how far to move it so that, of alignments that
 * fit alike, the earliest is taken, as clock_offset_candidates() takes it
 * when the clocks do not drift (the first probes of each round may never
 * reach the host, and rounds lined up a probe late fit as many pairs).
 * -1 when out of memory.
 */
int clock_offset_along(const struct copy_keys *guest, const struct copy_keys *host, const struct clock_curve *curve,
		       int64_t *shift);

#endif
