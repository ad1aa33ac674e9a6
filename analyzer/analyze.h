/*
 * The main job: captures in, case store and reports out. The command line
 * lives in cli.c; this file only runs the stages in order and owns the
 * all-or-nothing writing of the output directory.
 */
#ifndef TTLSLEUTH_ANALYZE_H
#define TTLSLEUTH_ANALYZE_H

#include <stdbool.h>
#include <stdio.h>

#include "analyzer/errors.h"
#include "analyzer/model.h"

struct analyze_options {
	const char *guest_path;
	const char *host_path; /* NULL without a host capture */
	const char *out_dir;
	bool quiet;
	bool stats;
	FILE *progress_to; /* a terminal to draw reading progress on; NULL: none */
};

/* Seconds per stage, for --stats and the benchmark. */
struct stage_times {
	double read_dissect, traces, correlate, diagnose, store, reports;
};

/* Reads and diagnoses the captures into cm (case_init'ed by the caller). */
int analyze_captures(struct case_model *cm, const struct analyze_options *opt,
		     struct stage_times *times, struct error *err);

/* Writes case.sqlite, report.html and report.xml into opt->out_dir: all three or none. */
int analyze_write_outputs(const struct case_model *cm, const char *out_dir,
			  struct stage_times *times, struct error *err);

/* The --stats lines: "stats<TAB>key<TAB>value" on out. */
void analyze_print_stats(const struct case_model *cm, const struct stage_times *times,
			 double total_s, FILE *out);

double monotonic_seconds(void);

/* The short verdict printed to stdout. */
void analyze_print_verdict(const struct case_model *cm, const char *out_dir, FILE *out);

#endif
