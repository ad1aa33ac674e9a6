/* Reading the analysis model in tests. */
#ifndef TTLSLEUTH_TEST_SUPPORT_MODEL_H
#define TTLSLEUTH_TEST_SUPPORT_MODEL_H

#include <stddef.h>

#include "analyzer/model.h"

/* The trace's hop addresses as "a,b,*,c" (* for a silent hop) into buf; returns buf. */
const char *hops_text(const struct trace *t, char *buf, size_t size);

#endif
