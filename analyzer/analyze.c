#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analyzer/analyze.h"
#include "analyzer/correlate.h"
#include "analyzer/diagnose.h"
#include "analyzer/duplicates.h"
#include "analyzer/output_set.h"
#include "analyzer/pipeline.h"
#include "analyzer/store.h"
#include "analyzer/traces.h"
#include "reports/escape.h"
#include "reports/report.h"

double monotonic_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A pcapng file is judged by the interfaces its packets are on, which only its end tells. */
static int refused_when_read(const struct case_model *cm, uint32_t capture, struct error *err)
{
	const char *why = cm->captures[capture].refusal;
	return why[0] ? error_set(err, EXIT_BAD_INPUT, "%s", why) : 0;
}

int analyze_captures(struct case_model *cm, const struct analyze_options *opt,
		     struct stage_times *times, struct error *err)
{
	double t0 = monotonic_seconds();
	int rc = pipeline_read_capture_showing_progress(cm, opt->guest_path, SIDE_GUEST, opt->progress_to, err);
	if (!rc)
		rc = refused_when_read(cm, 0, err);
	if (rc)
		return rc;
	double t1 = monotonic_seconds();
	if (duplicates_mark(cm, 0, false) != 0 || traces_build(cm, 0) != 0 ||
	    traces_rebuild_from_replies(cm, 0) != 0)
		return error_set(err, EXIT_INTERNAL, "%s: out of memory while grouping traces", opt->guest_path);
	double t2 = monotonic_seconds();
	times->read_dissect += t1 - t0;
	times->traces += t2 - t1;
	int host = -1;
	if (opt->host_path) {
		rc = pipeline_read_capture_showing_progress(cm, opt->host_path, SIDE_HOST, opt->progress_to,
							    err);
		if (!rc)
			rc = refused_when_read(cm, 1, err);
		if (rc)
			return rc;
		double t3 = monotonic_seconds();
		times->read_dissect += t3 - t2;
		host = 1;
		/* Another name for the guest's file (a copy, a hard link) would "prove" anything. */
		if (cm->captures[0].sha256_hex[0] &&
		    !strcmp(cm->captures[0].sha256_hex, cm->captures[1].sha256_hex))
			return error_set(err, EXIT_USAGE,
					 "%s: the same bytes as the guest capture %s (same SHA-256); the host "
					 "capture must be one taken on the host",
					 opt->host_path, opt->guest_path);
		if (duplicates_mark(cm, 1, true) != 0 || correlate_captures(cm, 0, 1) != 0)
			return error_set(err, EXIT_INTERNAL, "out of memory while correlating the captures");
		t2 = monotonic_seconds();
		times->correlate += t2 - t3;
	}
	if (diagnose_case(cm, 0, host) != 0)
		return error_set(err, EXIT_INTERNAL, "out of memory while diagnosing");
	times->diagnose += monotonic_seconds() - t2;
	return 0;
}

/* Creates the directory and its missing parents. */
static int make_dirs(const char *dir, struct error *err)
{
	char path[4096];
	if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
		return error_set(err, EXIT_OUTPUT_FAILED, "%s: path too long", dir);
	for (char *p = path + 1;; p++) {
		bool end = *p == '\0';
		if (*p == '/' || end) {
			*p = '\0';
			if (mkdir(path, 0777) != 0 && errno != EEXIST)
				return error_set(err, EXIT_OUTPUT_FAILED, "%s: cannot create directory: %s", path,
					    strerror(errno));
			if (end)
				break;
			*p = '/';
		}
	}
	struct stat st;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return error_set(err, EXIT_OUTPUT_FAILED, "%s: not a directory", dir);
	if (access(dir, W_OK | X_OK) != 0)
		return error_set(err, EXIT_OUTPUT_FAILED, "%s: cannot write into the directory: %s", dir,
			    strerror(errno));
	return 0;
}

static int write_report(const struct case_model *cm, const char *path,
			int (*writer)(const struct case_model *, FILE *), struct error *err)
{
	FILE *f = fopen(path, "wx");
	if (!f)
		return error_set(err, EXIT_OUTPUT_FAILED, "%s: cannot create: %s", path, strerror(errno));
	int rc = writer(cm, f);
	if (fflush(f) != 0 || ferror(f))
		rc = -1;
	if (fsync(fileno(f)) != 0)
		rc = -1;
	if (fclose(f) != 0)
		rc = -1;
	if (rc != 0)
		return error_set(err, EXIT_OUTPUT_FAILED, "%s: write failed: %s", path, strerror(errno));
	return 0;
}

/* The two reports, written on a second thread while this one writes the store. */
struct reports_job {
	const struct case_model *cm;
	const char *xml_path, *html_path;
	int rc;
	double seconds;
	struct error err;
};

static void *write_reports(void *arg)
{
	struct reports_job *job = arg;
	double t0 = monotonic_seconds();
	job->rc = write_report(job->cm, job->xml_path, report_write_xml, &job->err);
	if (!job->rc)
		job->rc = write_report(job->cm, job->html_path, report_write_html, &job->err);
	job->seconds = monotonic_seconds() - t0;
	return NULL;
}

int analyze_write_outputs(const struct case_model *cm, const char *out_dir,
			  struct stage_times *times, struct error *err)
{
	int rc = make_dirs(out_dir, err);
	if (rc)
		return rc;
	static const char *const names[] = { "case.sqlite", "report.xml", "report.html" };
	struct output_set set;
	rc = output_set_begin(&set, out_dir, names, sizeof names / sizeof names[0], err);
	if (rc)
		return rc;

	/*
	 * Everything goes to temporary names first; only a complete set replaces the old case.
	 * The three writers only read the model, so the reports go to a second core while
	 * this thread writes the store, the slowest (0.4 s of a dense 200 MB capture; on this
	 * thread its allocations reuse the memory the analysis freed).
	 */
	struct reports_job job = { .cm = cm, .xml_path = output_set_temp(&set, 1),
				   .html_path = output_set_temp(&set, 2) };
	report_init();
	pthread_t thread;
	bool threaded = pthread_create(&thread, NULL, write_reports, &job) == 0;
	char store_err[512];
	double t0 = monotonic_seconds();
	int store_rc = store_write_case(cm, output_set_temp(&set, 0), store_err, sizeof store_err);
	times->store += monotonic_seconds() - t0;
	if (threaded)
		pthread_join(thread, NULL);
	else
		write_reports(&job);
	times->reports += job.seconds;

	/* The store's failure is told first, as when the writers ran one after the other. */
	if (store_rc != 0)
		rc = error_set(err, EXIT_OUTPUT_FAILED, "%s", store_err);
	else if (job.rc)
		rc = error_set(err, job.err.code, "%s", job.err.message);
	if (!rc)
		rc = output_set_commit(&set, err);
	output_set_end(&set);
	return rc;
}

static void print_protocol_lines(const struct case_model *cm, FILE *out)
{
	for (size_t i = 0; i < cm->traces.len; i++) {
		const struct trace *t = &cm->traces.items[i];
		char src[64], dst[64];
		ip_addr_format(&t->src, src, sizeof src);
		ip_addr_format(&t->dst, dst, sizeof dst);
		fprintf(out, "  trace %zu: %-4s %s -> %s: %s", i + 1, protocol_name(t->proto), src, dst,
			verdict_name(t->verdict));
		const char *ttl = t->dst.family == 6 ? "hop limit" : "TTL";
		if (t->reset_ttl >= 0)
			fprintf(out, " (reset to %s %d, %s)", ttl, t->reset_ttl, direction_name(t->direction));
		else if (t->verdict == VERDICT_TTL_RESET && t->ingress_ttl >= 0)
			fprintf(out, " (%s; answers arrive with %s %d)", direction_name(t->direction), ttl,
				t->ingress_ttl);
		else if (t->verdict == VERDICT_TTL_RESET)
			fprintf(out, " (%s)", direction_name(t->direction));
		if (t->rebuilt_from_replies)
			fprintf(out, " [rebuilt from answers only]");
		fprintf(out, "; hops:");
		for (size_t h = 0; h < t->hops.len; h++) {
			char addr[64];
			ip_addr_format(&t->hops.items[h].addr, addr, sizeof addr);
			fprintf(out, " %s", addr[0] ? addr : "*");
		}
		fputc('\n', out);
	}
}

void analyze_print_stats(const struct case_model *cm, const struct stage_times *times,
			 double total_s, FILE *out)
{
	uint64_t packets = 0, bytes = 0, pairs = 0, correlations = 0, hops = 0, evidence = 0;
	double sha256_wait = 0;
	for (uint32_t i = 0; i < cm->n_captures; i++) {
		packets += cm->captures[i].packets;
		bytes += cm->captures[i].file_bytes;
		sha256_wait += cm->captures[i].sha256_wait_s;
	}
	for (size_t i = 0; i < cm->replies.len; i++)
		pairs += cm->replies.items[i].request >= 0;
	for (size_t i = 0; i < cm->requests.len; i++)
		correlations += cm->requests.items[i].counterpart >= 0 &&
				cm->captures[cm->requests.items[i].capture].side == SIDE_GUEST;
	for (size_t i = 0; i < cm->traces.len; i++)
		hops += cm->traces.items[i].hops.len;
	for (size_t i = 0; i < cm->findings.len; i++)
		evidence += cm->findings.items[i].evidence.len;
	uint64_t rows = cm->requests.len + cm->replies.len + pairs + correlations + cm->traces.len +
			hops + cm->findings.len + evidence;
	const struct {
		const char *key;
		double value;
	} seconds[] = {
		{ "read_dissect_s", times->read_dissect }, { "sha256_wait_s", sha256_wait },
		{ "traces_s", times->traces },
		{ "correlate_s", times->correlate },       { "diagnose_s", times->diagnose },
		{ "store_s", times->store },               { "reports_s", times->reports },
		{ "total_s", total_s },
	};
	for (size_t i = 0; i < sizeof seconds / sizeof seconds[0]; i++)
		fprintf(out, "stats\t%s\t%.6f\n", seconds[i].key, seconds[i].value);
	fprintf(out, "stats\tpackets\t%llu\n", (unsigned long long)packets);
	fprintf(out, "stats\tbytes\t%llu\n", (unsigned long long)bytes);
	fprintf(out, "stats\trequests\t%zu\n", cm->requests.len);
	fprintf(out, "stats\treplies\t%zu\n", cm->replies.len);
	fprintf(out, "stats\trows_stored\t%llu\n", (unsigned long long)rows);
}

void analyze_print_verdict(const struct case_model *cm, const char *out_dir, FILE *out)
{
	/* Through terminal_line: the summary may quote a capture's name, and out_dir is the user's. */
	terminal_line(out, "%s: %s", verdict_name(cm->verdict), cm->summary);
	terminal_line(out, "What to do: %s", cm->remedy);
	print_protocol_lines(cm, out);
	terminal_line(out, "Reports: %s/report.html, %s/report.xml; case store: %s/case.sqlite", out_dir,
		      out_dir, out_dir);
}
