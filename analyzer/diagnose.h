/*
 * The diagnosis: for each trace of the guest capture, the signals of a TTL
 * reset (or of a healthy path) as findings with their frame numbers, a verdict
 * with its reason, and for the case a summary in plain words and a remedy.
 *
 * A trace is "ttl-reset" only when the probes' TTLs were not honoured on the
 * way out (the host copies leave with a constant TTL, the destination answers
 * a probe whose TTL could not have reached it, or the NAT-mode pattern of one
 * gateway then the destination with a zero-hop reply). Answers whose TTL was
 * rewritten on the way in, while the probes kept theirs, leave the hop list
 * right: they are reported, but the trace stays "no-ttl-reset".
 */
#ifndef TTLSLEUTH_DIAGNOSE_H
#define TTLSLEUTH_DIAGNOSE_H

#include "analyzer/model.h"

/* host is the host capture's index, or -1 without one. */
int diagnose_case(struct case_model *cm, uint32_t guest, int host);

/* The usual initial TTLs; the smallest one not below ttl (p0f's guess). */
int initial_ttl_guess(int ttl);

#endif
