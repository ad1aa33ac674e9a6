/*
 * A trace's path drawn as inline SVG for the HTML report: the agent, each hop
 * in TTL order, the destination; a collapsed path (verdict ttl-reset) shows
 * its hidden hops as a red dashed segment.
 */
#ifndef TTLSLEUTH_REPORTS_SVG_PATH_H
#define TTLSLEUTH_REPORTS_SVG_PATH_H

#include <stddef.h>
#include <stdio.h>

#include "analyzer/model.h"

/*
 * Hops the TTL reset hid, when the model knows the true distance (the TTL the
 * destination needs when nothing resets it): true_distance - reached_ttl.
 * -1 when it cannot be told.
 */
int svg_hidden_hops(const struct trace *t);

/* Writes one <svg> element; index makes its ids unique within the page. */
void svg_write_path(FILE *out, const struct trace *t, size_t index);

#endif
