/*
 * Whether guest probes paired with host requests look like the probes and the
 * NAT's copies of them, or like the probes and another tool's run to the same
 * place (the host's own traceroute an hour before, another VM's): the two
 * pieces of evidence the pairs themselves carry.
 *
 * Their TTLs. A NAT that re-originates sends every copy on with one TTL, an
 * initial one (64, 128, 255); one that routes sends TTL n - 1 (a constant
 * difference, a little more when the capture is a hop or two further; +1
 * when the captures were given the wrong way round). A copy with the guest's
 * own TTL was seen arriving from the VM (a capture on its tap): it still has
 * the guest's source address and port. Another traceroute starting at TTL 1
 * carries the guest's TTLs, from its own address: none of these, even where
 * its three probes a TTL line up with one of the guest's each.
 *
 * Their timing. A NAT's delay is nearly constant, so its copies keep the
 * spacing of the probes to within tens of microseconds, drift or not;
 * another run keeps it only roughly.
 */
#ifndef TTLSLEUTH_COPY_PAIRS_H
#define TTLSLEUTH_COPY_PAIRS_H

#include <stddef.h>
#include <stdint.h>

#include "analyzer/model.h"

/* A guest probe and a host request taken for its copy; `key` is the functions' own. */
struct copy_pair {
	uint64_t key;
	int32_t guest, host;
};

/*
 * 1 when, trace by trace, the TTLs of most pairs follow one of a NAT's
 * patterns; 0 when not; -1 when out of memory. Reorders p.
 */
int copy_pairs_plausible(const struct case_model *cm, struct copy_pair *p, size_t n);

/*
 * How well the pairs keep the spacing of the probes: each counts from 1/2
 * (its delay differs from its neighbours' by much more than tens of
 * microseconds) to 1 (the same delay, drift allowed for). -1 when out of
 * memory. Reorders p.
 */
int copy_pairs_fit(const struct case_model *cm, struct copy_pair *p, size_t n, double *score);

#endif
