/*
 * A monitoring agent that traces all day leaves thousands of traces in one
 * capture. Drawing each in the HTML report would make a page of tens of
 * megabytes that no one reads and browsers open slowly; the page draws a
 * chosen few in full and lists every trace in one compact table. The XML
 * report and the store keep everything.
 */
#ifndef TTLSLEUTH_DRAWN_TRACES_H
#define TTLSLEUTH_DRAWN_TRACES_H

#include <stdbool.h>
#include <stddef.h>

#include "analyzer/model.h"

/* Traces drawn in full at most; above it the page also gets the compact index. */
#define REPORT_DRAWN_TRACES_MAX 100

/*
 * The order of choosing, and of drawing in a big case: the reset traces first
 * (they are the evidence), then the inconclusive, then the healthy. A reader
 * of a big case came for the resets; in capture order they would be scattered
 * among the healthy ones. The index keeps capture order.
 */
enum { DRAWN_TRACES_PRIORITIES = 3 };
extern const enum verdict drawn_traces_priority[DRAWN_TRACES_PRIORITIES];

/*
 * One flag per trace: drawn or not, chosen by drawn_traces_priority, each
 * verdict in the case's trace order, up to max. NULL when out of memory.
 */
bool *choose_drawn_traces(const struct case_model *cm, size_t max);

#endif
