/*
 * The report writers: each reads one analysis model and writes it out, and
 * neither decides anything (the verdicts, reasons, summary and remedy are the
 * model's). Both outputs are reproducible: the same model gives the same bytes.
 */
#ifndef TTLSLEUTH_REPORT_H
#define TTLSLEUTH_REPORT_H

#include <stdio.h>

#include "analyzer/model.h"

/*
 * Readies the writers to run on another thread than the first: libxml2 wants
 * its one-time set-up done on the main thread before any other uses it.
 */
void report_init(void);

/* The XML report described by reports/report.xsd. 0, or -1 on a write error. */
int report_write_xml(const struct case_model *cm, FILE *out);

/* One self-contained HTML page (inline CSS and SVG, nothing fetched). 0, or -1 on a write error. */
int report_write_html(const struct case_model *cm, FILE *out);

#endif
