#include <stdlib.h>

#include "reports/drawn_traces.h"

const enum verdict drawn_traces_priority[DRAWN_TRACES_PRIORITIES] = {
	VERDICT_TTL_RESET, VERDICT_INCONCLUSIVE, VERDICT_NO_TTL_RESET
};

bool *choose_drawn_traces(const struct case_model *cm, size_t max)
{
	bool *drawn = calloc(cm->traces.len ? cm->traces.len : 1, sizeof *drawn);
	if (!drawn)
		return NULL;
	size_t chosen = 0;
	for (size_t p = 0; p < DRAWN_TRACES_PRIORITIES; p++)
		for (size_t i = 0; i < cm->traces.len && chosen < max; i++)
			if (cm->traces.items[i].verdict == drawn_traces_priority[p]) {
				drawn[i] = true;
				chosen++;
			}
	return drawn;
}
