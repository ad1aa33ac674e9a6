#include "dissectors/anomaly.h"

static const char *const names[ANOMALY_COUNT] = {
#define ANOMALY_NAME(id, name) [ANOMALY_##id] = name,
	ANOMALY_LIST(ANOMALY_NAME)
#undef ANOMALY_NAME
};

const char *anomaly_name(enum anomaly a)
{
	if ((unsigned)a >= ANOMALY_COUNT)
		return "unknown";
	return names[a];
}
