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

/* Whether a dissected packet becomes a request or a reply; exposed for tests. */
int pipeline_take_packet(struct case_model *cm, uint32_t capture, const struct packet *p,
			 struct pairing_index *ix);

#endif
