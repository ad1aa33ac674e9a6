/*
 * Path traces: the low-TTL requests of one capture grouped by source,
 * destination, protocol (and TCP port), and the hop list each one shows:
 * for every TTL, who answered.
 */
#ifndef TTLSLEUTH_TRACES_H
#define TTLSLEUTH_TRACES_H

#include "analyzer/model.h"

enum { TRACE_TTL_MAX = 32 };

/* A pause this long between probes to one destination starts a new trace. */
#define TRACE_GAP_NS ((int64_t)10 * 1000 * 1000 * 1000)

/* Builds the traces of one capture into cm->traces; -1 when out of memory. */
int traces_build(struct case_model *cm, uint32_t capture);

/* Adds traces for answers whose probes are not in the capture (traces_rebuilt.c). */
int traces_rebuild_from_replies(struct case_model *cm, uint32_t capture);

/* The hop of the trace at that TTL, or NULL: a TTL never probed has none. */
const struct hop *trace_hop_at(const struct trace *t, unsigned ttl);

/* Whether the reply came from the trace's destination rather than a router on the way. */
bool reply_from_destination(const struct trace *t, const struct reply *r);

#endif
