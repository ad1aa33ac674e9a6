/*
 * The requests of each trace, grouped in one counting sort: a writer or a
 * check then walks only its own trace's members, whatever the size of the
 * capture, instead of a pass over every request per trace. Used by the
 * diagnosis and by the HTML report's probe tables.
 */
#ifndef TTLSLEUTH_TRACE_MEMBERS_H
#define TTLSLEUTH_TRACE_MEMBERS_H

#include <stddef.h>
#include <stdint.h>

#include "analyzer/model.h"

/*
 * Trace t's requests are items[first[t] .. first[t + 1]), in model order
 * (capture order). A request of no trace, or naming a trace the model does
 * not have, belongs to none.
 */
struct trace_members {
	size_t *first; /* traces.len + 1 offsets into items */
	int32_t *items;
};

/* 0, or -1 when out of memory with *m left empty; trace_members_free is safe after either. */
int trace_members_build(const struct case_model *cm, struct trace_members *m);

void trace_members_free(struct trace_members *m);

#endif
