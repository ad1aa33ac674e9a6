/*
 * Out of memory on every error path of the report writers: this executable is
 * linked with --wrap=malloc,calloc,realloc (tests/CMakeLists.txt), so each
 * allocation of our own code can be made to fail in turn. A writer may then
 * return -1 or leave a part out, but must not crash, free twice or leak (ASan
 * in the sanitized build judges that), and what it writes must still parse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libxml/parser.h>

#include "analyzer/correlate.h"
#include "analyzer/trace_members.h"
#include "fixture_case.h"
#include "reports/report.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);

/* Allocations counted while armed; the one numbered fail_at fails (0: none does). */
static bool armed;
static unsigned long counted, fail_at;

static bool fail_now(void)
{
	return armed && ++counted == fail_at;
}

void *__wrap_malloc(size_t n)
{
	return fail_now() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return fail_now() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
	return fail_now() ? NULL : __real_realloc(p, n);
}

static void arm(unsigned long which)
{
	counted = 0;
	fail_at = which;
	armed = true;
}

static unsigned long disarm(void)
{
	armed = false;
	return counted;
}

/* Renders into memory with allocation `which` failing; returns the writer's result. */
static int render(int (*writer)(const struct case_model *, FILE *), const struct case_model *cm,
		  unsigned long which, unsigned long *allocations, bool *parses)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	assert_non_null(f);
	arm(which);
	int rc = writer(cm, f);
	*allocations = disarm();
	assert_int_equal(fclose(f), 0);
	*parses = false;
	if (rc == 0) {
		xmlDocPtr doc = xmlReadMemory(buf, (int)size, "report", "UTF-8", XML_PARSE_NONET);
		*parses = doc != NULL;
		xmlFreeDoc(doc);
	}
	free(buf);
	return rc;
}

static void fail_each_allocation(int (*writer)(const struct case_model *, FILE *),
				 void (*build)(struct case_model *))
{
	struct case_model cm;
	build(&cm);
	unsigned long total;
	bool parses;
	assert_int_equal(render(writer, &cm, 0, &total, &parses), 0);
	assert_true(parses);
	assert_true(total > 0);
	for (unsigned long which = 1; which <= total; which++) {
		unsigned long seen;
		int rc = render(writer, &cm, which, &seen, &parses);
		assert_true(rc == 0 || rc == -1);
		if (rc == 0)
			assert_true(parses);
	}
	case_free(&cm);
}

static void html_survives_each_failed_allocation(void **state)
{
	(void)state;
	fail_each_allocation(report_write_html, fixture_case_build);
	fail_each_allocation(report_write_html, fixture_case_build_hostile);
}

static void xml_survives_each_failed_allocation(void **state)
{
	(void)state;
	fail_each_allocation(report_write_xml, fixture_case_build);
	fail_each_allocation(report_write_xml, fixture_case_build_hostile);
}

/*
 * The double free that was: the grouping freed its array on failure and left
 * the pointer, and the HTML writer freed it again. Now a failure leaves the
 * groups empty, and freeing them twice is harmless.
 */
static void trace_members_failure_leaves_them_empty(void **state)
{
	(void)state;
	struct case_model cm;
	fixture_case_build(&cm);
	for (unsigned long which = 1; which <= 2; which++) {
		struct trace_members m;
		arm(which);
		assert_int_equal(trace_members_build(&cm, &m), -1);
		disarm();
		assert_null(m.first);
		assert_null(m.items);
		trace_members_free(&m);
		trace_members_free(&m);
	}
	struct trace_members m;
	assert_int_equal(trace_members_build(&cm, &m), 0);
	/* Every request of a trace is in its group, in model order. */
	size_t grouped = 0;
	for (size_t t = 0; t < cm.traces.len; t++)
		for (size_t k = m.first[t]; k < m.first[t + 1]; k++) {
			assert_int_equal(cm.requests.items[m.items[k]].trace, (int32_t)t);
			if (k > m.first[t])
				assert_true(m.items[k] > m.items[k - 1]);
			grouped++;
		}
	size_t of_traces = 0;
	for (size_t i = 0; i < cm.requests.len; i++)
		of_traces += cm.requests.items[i].trace >= 0;
	assert_int_equal(grouped, of_traces);
	assert_true(grouped > 0);
	trace_members_free(&m);
	case_free(&cm);
}

/* A TCP request as the pipeline keeps it, from 10.0.2.15 (guest) or 198.51.100.77 (host). */
static void add_request(struct case_model *cm, uint32_t capture, int32_t trace, int64_t ts, uint8_t ttl,
			uint16_t sport, uint32_t seq, uint16_t ip_id)
{
	struct request *q = VEC_PUSH(&cm->requests);
	assert_non_null(q);
	q->capture = capture;
	q->frame = cm->requests.len;
	q->ts_ns = ts;
	q->src.family = q->dst.family = 4;
	const uint8_t src[2][4] = { { 10, 0, 2, 15 }, { 198, 51, 100, 77 } };
	memcpy(q->src.b, src[capture], 4);
	memcpy(q->dst.b, (const uint8_t[]){ 203, 0, 113, 50 }, 4);
	q->proto = PROTO_TCP;
	q->ttl = ttl;
	q->sport = sport;
	q->dport = 80;
	q->seq = seq;
	q->ip_id = ip_id;
	q->trace = trace;
	q->reply = q->counterpart = q->same_as = -1;
}

/*
 * Rounds of probes with TTL 1 to 5 every 10 s, their copies (but TTL 1's)
 * with TTL 64 on a host clock 100 ppm fast, the IP ID kept or not, and the
 * host's own traceroute an hour before with the guest's sequence numbers:
 * every path of the correlation (kept fields tried and passed over, the
 * times' candidates rated, the line refitted to the drift).
 */
static void build_correlation_case(struct case_model *cm, bool keep_ip_id)
{
	const int64_t ms = 1000 * 1000, t0 = (int64_t)1764806400 * 1000 * ms;
	case_init(cm);
	cm->n_captures = 2;
	cm->captures[0].side = SIDE_GUEST;
	cm->captures[1].side = SIDE_HOST;
	assert_non_null(VEC_PUSH(&cm->traces));
	for (int n = 0; n < 18; n++)
		add_request(cm, 1, -1, t0 - 3600 * 1000 * ms + n * 3600 * 1000, (uint8_t)(1 + n / 3),
			    (uint16_t)(52000 + n), (uint32_t)(1000 + n), (uint16_t)(30000 + n));
	for (int n = 0; n < 60; n++) {
		int64_t t = t0 + n / 5 * 10000 * ms + n % 5 * 2500 * 1000;
		add_request(cm, 0, 0, t, (uint8_t)(1 + n % 5), (uint16_t)(40000 + n), (uint32_t)(1000 + n),
			    (uint16_t)(2000 + n));
		if (n % 5)
			add_request(cm, 1, -1, t + 200 * 1000 + (t - t0) / 10000, 64, (uint16_t)(50000 + n),
				    (uint32_t)n * 2654435761u, keep_ip_id ? (uint16_t)(2000 + n) : (uint16_t)(n * 40503));
	}
}

/* How many guest probes are paired with their own copy (source port 10000 up). */
static size_t own_copies(const struct case_model *cm)
{
	size_t n = 0;
	for (size_t i = 0; i < cm->requests.len; i++) {
		const struct request *g = &cm->requests.items[i];
		n += g->capture == 0 && g->counterpart >= 0 &&
		     cm->requests.items[g->counterpart].sport == g->sport + 10000;
	}
	return n;
}

/*
 * Correlation with each of its allocations failing in turn: -1, never a
 * crash, a double free or a leak (ASan judges); with none failing, the 48
 * copies of the guest's probes, each its own probe's (the line of the drift
 * once fitted to a mixture of alignments a probe apart left 19 one off), and
 * not the host's own traceroute.
 */
static void correlation_survives_each_failed_allocation(void **state)
{
	(void)state;
	for (int keep = 0; keep < 2; keep++) {
		struct case_model cm;
		build_correlation_case(&cm, keep);
		arm(0);
		assert_int_equal(correlate_captures(&cm, 0, 1), 0);
		unsigned long total = disarm();
		assert_int_equal(cm.correlated_requests, 48);
		assert_int_equal(own_copies(&cm), 48);
		case_free(&cm);
		assert_true(total > 0);
		for (unsigned long which = 1; which <= total; which++) {
			build_correlation_case(&cm, keep);
			arm(which);
			int rc = correlate_captures(&cm, 0, 1);
			disarm();
			assert_true(rc == -1 || (rc == 0 && own_copies(&cm) == 48));
			case_free(&cm);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(trace_members_failure_leaves_them_empty),
		cmocka_unit_test(html_survives_each_failed_allocation),
		cmocka_unit_test(xml_survives_each_failed_allocation),
		cmocka_unit_test(correlation_survives_each_failed_allocation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
