/*
 * What both report writers derive from the model in the same way: text forms
 * of times and the per-protocol tally. Nothing here judges; it counts and
 * formats what the analyzer decided.
 */
#ifndef TTLSLEUTH_REPORTS_COMMON_H
#define TTLSLEUTH_REPORTS_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzer/model.h"

/* The format version of the XML report; bump it when its meaning changes. */
#define REPORT_FORMAT_VERSION "1"

enum { TIMESTAMP_SIZE = 48, MS_SIZE = 32 };

/* ISO 8601 UTC with nanoseconds, "2024-03-14T09:26:53.123456789Z";
 * false (and "") when the time cannot be shown as a calendar date. */
bool format_timestamp(int64_t ns, char *out, size_t size);

/* Milliseconds with three decimals, rounded to the nearest microsecond: "12.346". */
void format_ms(int64_t ns, char *out, size_t size);

/* Time exceeded, unreachable and other ICMP errors: the answers that quote the probe. */
bool reply_is_icmp_error(enum reply_kind kind);

/* "guest" or "host" for a capture index, NULL when the index is not a capture. */
const char *capture_side_of(const struct case_model *cm, uint32_t capture);

/* A trace's TTL value, or -1 when the model says unknown or holds nonsense. */
int known_ttl(int value);

enum { VERDICT_KINDS = 3, PROTOCOL_KINDS = 3 };

struct protocol_tally {
	uint32_t traces;
	uint32_t by_verdict[VERDICT_KINDS]; /* indexed by enum verdict */
};

/* Counts the traces of each protocol by verdict; tally is indexed by enum trace_protocol. */
void tally_protocols(const struct case_model *cm, struct protocol_tally tally[PROTOCOL_KINDS]);

#endif
