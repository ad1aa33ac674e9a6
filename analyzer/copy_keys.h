/*
 * What a guest probe and its host copy may still share after a NAT, as sorted
 * keys for lookups in O(log n).
 *
 * The target (protocol, destination and, for TCP and UDP, destination port)
 * survives every NAT; the other fields survive some: a kernel NAT that
 * randomises ports keeps the TCP sequence and usually the IPv4 ID, a NAT that
 * re-originates after routing may keep the ID and the sequence, slirp keeps
 * the echo sequence, a user-space proxy keeps nothing. Each such field is a
 * key kind; which ones a given pair of captures kept is decided by votes
 * (clock_offset.h), not assumed.
 */
#ifndef TTLSLEUTH_COPY_KEYS_H
#define TTLSLEUTH_COPY_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzer/model.h"

/* In the order they are tried: the one least likely to repeat first. */
enum copy_key {
	KEY_TARGET, /* the target alone: every request to it */
	KEY_TCP_SEQ,
	KEY_TCP_IP_ID,
	KEY_TCP_SPORT,
	KEY_UDP_IP_ID,
	KEY_UDP_SPORT,
	KEY_ICMP_ECHO, /* identifier and sequence */
	KEY_ICMP_SEQ,  /* ping sockets rewrite the identifier */
	KEY_ICMP_IP_ID,
	KEY_COUNT
};

/* At most this many targets: the 28 bits of a group below its kind (more than a case's requests). */
#define COPY_MAX_TARGETS ((uint32_t)1 << 28)

struct copy_entry {
	uint64_t group; /* kind, target and key, see copy_group(); what the entries are sorted by first */
	int64_t ts_ns;
	int32_t request;
};

/* The kind in the top 4 bits, the target's number (shared by the two captures)
 * in the next 28, the field's value below. */
static inline uint64_t copy_group(enum copy_key kind, uint32_t target, uint32_t key)
{
	return (uint64_t)kind << 60 | (uint64_t)(target & (COPY_MAX_TARGETS - 1)) << 32 | key;
}

static inline uint32_t copy_target(const struct copy_entry *e)
{
	return (uint32_t)(e->group >> 32) & (COPY_MAX_TARGETS - 1);
}

/* One capture's requests under every key kind they have, sorted by group, then time. */
struct copy_keys {
	struct copy_entry *items;
	size_t n;
};

/*
 * The guest's probes and the host's requests (second sightings left out, and
 * those `left_out` marks, indexed by request; NULL for none), with target
 * numbers shared by the two. Returns -1 when out of memory.
 */
int copy_keys_build(const struct case_model *cm, uint32_t guest, uint32_t host, const bool *left_out,
		    struct copy_keys *guest_keys, struct copy_keys *host_keys);

void copy_keys_free(struct copy_keys *k);

/* The first entry at or after (group, from). */
size_t copy_keys_lower_bound(const struct copy_keys *k, uint64_t group, int64_t from);

/* The entries of one group with from <= time <= to: [*first, *end). */
void copy_keys_range(const struct copy_keys *k, uint64_t group, int64_t from, int64_t to, size_t *first,
		     size_t *end);

/* The entries whose group lies in [lo, hi): one kind, or one target of a kind. */
void copy_keys_span(const struct copy_keys *k, uint64_t lo, uint64_t hi, size_t *first, size_t *end);

static inline void copy_keys_kind(const struct copy_keys *k, enum copy_key kind, size_t *first, size_t *end)
{
	copy_keys_span(k, copy_group(kind, 0, 0), copy_group((enum copy_key)(kind + 1), 0, 0), first, end);
}

/* t + d, held at the ends of the range (timestamps come from hostile files). */
static inline int64_t copy_time_add(int64_t t, int64_t d)
{
	if (d > 0 && t > INT64_MAX - d)
		return INT64_MAX;
	if (d < 0 && t < INT64_MIN - d)
		return INT64_MIN;
	return t + d;
}

#endif
