#include <stdlib.h>

#include "analyzer/trace_members.h"

static bool of_a_trace(const struct case_model *cm, int32_t t)
{
	return t >= 0 && (size_t)t < cm->traces.len;
}

int trace_members_build(const struct case_model *cm, struct trace_members *m)
{
	size_t n_traces = cm->traces.len;
	m->first = calloc(n_traces + 1, sizeof *m->first);
	m->items = malloc((cm->requests.len ? cm->requests.len : 1) * sizeof *m->items);
	if (!m->first || !m->items) {
		trace_members_free(m);
		return -1;
	}
	/* Counts in first[t + 1], then the running sum: first[t] is where t's members start. */
	for (size_t i = 0; i < cm->requests.len; i++)
		if (of_a_trace(cm, cm->requests.items[i].trace))
			m->first[cm->requests.items[i].trace + 1]++;
	for (size_t t = 0; t < n_traces; t++)
		m->first[t + 1] += m->first[t];
	/* Placing advances first[t] to the start of t + 1; shifting by one restores
	 * it, which saves a third array (and its failure path). */
	for (size_t i = 0; i < cm->requests.len; i++) {
		int32_t t = cm->requests.items[i].trace;
		if (of_a_trace(cm, t))
			m->items[m->first[t]++] = (int32_t)i;
	}
	for (size_t t = n_traces; t > 0; t--)
		m->first[t] = m->first[t - 1];
	m->first[0] = 0;
	return 0;
}

void trace_members_free(struct trace_members *m)
{
	free(m->first);
	free(m->items);
	m->first = NULL;
	m->items = NULL;
}
