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

#include <cmocka.h>
#include <libxml/parser.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(trace_members_failure_leaves_them_empty),
		cmocka_unit_test(html_survives_each_failed_allocation),
		cmocka_unit_test(xml_survives_each_failed_allocation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
