/*
 * One pass over one capture: read each frame, dissect it, keep the requests
 * and replies a path-trace diagnosis needs, and pair them as they come.
 */
#ifndef TTLSLEUTH_PIPELINE_H
#define TTLSLEUTH_PIPELINE_H

#include "analyzer/errors.h"
#include "analyzer/model.h"
#include "analyzer/pairing.h"

/* Reads path as capture number cm->n_captures on the given side. Returns 0 or an exit code with *err. */
int pipeline_read_capture(struct case_model *cm, const char *path, enum capture_side side,
			  struct error *err);

/* The same, drawing progress on progress_to (a terminal; NULL: silent). */
int pipeline_read_capture_showing_progress(struct case_model *cm, const char *path,
					   enum capture_side side, FILE *progress_to, struct error *err);

/*
 * Which requests are worth keeping. A guest capture of a busy machine holds
 * thousands of ordinary SYNs: only probes (a low TTL) matter there. On the
 * host side the probes' copies may carry any TTL (a NAT resets it), so
 * requests to the guest's traced destinations are kept too.
 */
struct target_key {
	enum trace_protocol proto;
	struct ip_addr dst;
	uint16_t dport; /* TCP only; UDP traceroute changes it at every probe */
};

struct interest {
	const struct target_key *targets; /* sorted; see pipeline.c */
	size_t n_targets;
};

/*
 * Whether a dissected packet becomes a request or a reply; 1 kept, 0 not, -1
 * when the case is full. interest NULL keeps every request and reply (tests),
 * but UDP only with a probe TTL or to traceroute's ports; otherwise requests as
 * above, and answers only when they answer something kept.
 */
int pipeline_take_packet_of_interest(struct case_model *cm, uint32_t capture, const struct packet *p,
				     struct pairing_index *ix, const struct interest *interest);

/*
 * After the last packet: the answers that came before their probes, and the
 * errors whose quotes pair only by what a NAT left of them. 0, or -1 when out
 * of memory.
 */
int pipeline_finish_capture(struct case_model *cm, uint32_t capture, const struct pairing_index *ix);

/* pipeline_take_packet_of_interest keeping everything. */
int pipeline_take_packet(struct case_model *cm, uint32_t capture, const struct packet *p,
			 struct pairing_index *ix);

#endif
