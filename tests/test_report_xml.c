/*
 * The XML report: written for the fixture case, validated against
 * reports/report.xsd, and read back with XPath, value by value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libxml/parser.h>
#include <libxml/xmlschemas.h>
#include <libxml/xpath.h>

#include "fixture_case.h"
#include "reports/escape.h"
#include "reports/report.h"
#include "support.h"

enum { VERDICT_KINDS_FOR_TEST = 3 }; /* inconclusive, no-ttl-reset, ttl-reset */

/* Removes a file write_report made, and its directory. */
static void remove_report(char *path)
{
	assert_int_equal(unlink(path), 0);
	*strrchr(path, '/') = '\0';
	assert_int_equal(rmdir(path), 0);
	free(path);
}

/* Writes the report into a fresh temp file and returns its path (remove_report frees). */
static char *write_report(const struct case_model *cm)
{
	char *dir = make_temp_dir();
	size_t size = strlen(dir) + 16;
	char *path = malloc(size);
	assert_non_null(path);
	snprintf(path, size, "%s/report.xml", dir);
	free(dir);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(report_write_xml(cm, f), 0);
	assert_int_equal(fclose(f), 0);
	return path;
}

static void assert_valid(xmlDocPtr doc)
{
	char *xsd = source_path("reports/report.xsd");
	xmlSchemaParserCtxtPtr parser = xmlSchemaNewParserCtxt(xsd);
	assert_non_null(parser);
	xmlSchemaPtr schema = xmlSchemaParse(parser);
	assert_non_null(schema);
	xmlSchemaValidCtxtPtr valid = xmlSchemaNewValidCtxt(schema);
	assert_non_null(valid);
	assert_int_equal(xmlSchemaValidateDoc(valid, doc), 0);
	xmlSchemaFreeValidCtxt(valid);
	xmlSchemaFree(schema);
	xmlSchemaFreeParserCtxt(parser);
	free(xsd);
}

/* Writes, parses (no network, no entities) and validates; caller frees the document. */
static xmlDocPtr report_document(const struct case_model *cm)
{
	char *path = write_report(cm);
	xmlDocPtr doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
	assert_non_null(doc);
	assert_valid(doc);
	remove_report(path);
	return doc;
}

static xmlXPathObjectPtr eval(xmlDocPtr doc, const char *expr)
{
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	assert_non_null(ctx);
	xmlXPathObjectPtr result = xmlXPathEvalExpression(BAD_CAST expr, ctx);
	xmlXPathFreeContext(ctx);
	assert_non_null(result);
	return result;
}

/* string(expr); caller frees. */
__attribute__((format(printf, 2, 3))) static char *xstring(xmlDocPtr doc, const char *fmt, ...)
{
	char expr[512], wrapped[540];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(expr, sizeof expr, fmt, ap);
	va_end(ap);
	snprintf(wrapped, sizeof wrapped, "string(%s)", expr);
	xmlXPathObjectPtr r = eval(doc, wrapped);
	char *s = strdup((const char *)r->stringval);
	xmlXPathFreeObject(r);
	return s;
}

__attribute__((format(printf, 2, 3))) static long xcount(xmlDocPtr doc, const char *fmt, ...)
{
	char expr[512], wrapped[540];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(expr, sizeof expr, fmt, ap);
	va_end(ap);
	snprintf(wrapped, sizeof wrapped, "count(%s)", expr);
	xmlXPathObjectPtr r = eval(doc, wrapped);
	long n = (long)r->floatval;
	xmlXPathFreeObject(r);
	return n;
}

#define assert_xpath_string(doc, expected, ...)                                                    \
	do {                                                                                       \
		char *got_ = xstring(doc, __VA_ARGS__);                                            \
		assert_string_equal(got_, expected);                                               \
		free(got_);                                                                        \
	} while (0)

/* "ttl:address,..." over a node set of hops, so a whole path compares at once. */
static char *join_pairs(xmlDocPtr doc, const char *expr, const char *first, const char *second)
{
	xmlXPathObjectPtr r = eval(doc, expr);
	size_t cap = 4096, n = 0;
	char *out = calloc(1, cap);
	assert_non_null(out);
	int count = r->nodesetval ? r->nodesetval->nodeNr : 0;
	for (int i = 0; i < count; i++) {
		xmlNodePtr node = r->nodesetval->nodeTab[i];
		xmlChar *a = xmlGetProp(node, BAD_CAST first);
		xmlChar *b = xmlGetProp(node, BAD_CAST second);
		n += (size_t)snprintf(out + n, cap - n, "%s%s:%s", i ? "," : "",
				      a ? (const char *)a : "(none)",
				      b ? (const char *)b : "(none)");
		assert_true(n < cap);
		xmlFree(a);
		xmlFree(b);
	}
	xmlXPathFreeObject(r);
	return out;
}

static void assert_pairs(xmlDocPtr doc, const char *expr, const char *first, const char *second,
			 const char *expected)
{
	char *got = join_pairs(doc, expr, first, second);
	assert_string_equal(got, expected);
	free(got);
}

static void test_root_and_diagnosis(void **state)
{
	(void)state;
	struct case_model cm;
	fixture_case_build(&cm);
	xmlDocPtr doc = report_document(&cm);

	assert_xpath_string(doc, "1", "/report/@version");
	assert_xpath_string(doc, TTLSLEUTH_VERSION, "/report/@tool-version");
	assert_xpath_string(doc, "ttl-reset", "/report/diagnosis/@verdict");
	assert_xpath_string(doc, FIXTURE_SUMMARY, "/report/diagnosis/summary");
	assert_xpath_string(doc, FIXTURE_REMEDY, "/report/diagnosis/remedy");
	/* The per-protocol picture: tcp reset, icmp not, no udp trace at all. */
	assert_int_equal(xcount(doc, "/report/diagnosis/protocol"), 2);
	assert_xpath_string(doc, "1", "/report/diagnosis/protocol[@name='tcp']/@ttl-reset");
	assert_xpath_string(doc, "0", "/report/diagnosis/protocol[@name='tcp']/@no-ttl-reset");
	assert_xpath_string(doc, "1", "/report/diagnosis/protocol[@name='icmp']/@no-ttl-reset");
	assert_int_equal(xcount(doc, "/report/diagnosis/protocol[@name='udp']"), 0);

	xmlFreeDoc(doc);
	case_free(&cm);
}

static void test_traces_and_hops(void **state)
{
	(void)state;
	struct case_model cm;
	fixture_case_build(&cm);
	xmlDocPtr doc = report_document(&cm);

	assert_int_equal(xcount(doc, "/report/traces/trace"), 2);

	const char *tcp = "/report/traces/trace[1]";
	assert_xpath_string(doc, "0", "%s/@index", tcp);
	assert_xpath_string(doc, "tcp", "%s/@protocol", tcp);
	assert_xpath_string(doc, "10.0.2.100", "%s/@source", tcp);
	assert_xpath_string(doc, "203.0.113.10", "%s/@destination", tcp);
	assert_xpath_string(doc, "80", "%s/@dport", tcp);
	assert_xpath_string(doc, "guest", "%s/@capture", tcp);
	assert_xpath_string(doc, "ttl-reset", "%s/@verdict", tcp);
	assert_xpath_string(doc, "64", "%s/@reset-ttl", tcp);
	assert_xpath_string(doc, "both", "%s/@direction", tcp);
	assert_xpath_string(doc, "64", "%s/@egress-ttl", tcp);
	assert_xpath_string(doc, "64", "%s/@ingress-ttl", tcp);
	assert_xpath_string(doc, "5", "%s/@true-distance", tcp);
	assert_xpath_string(doc, "certain", "%s/@confidence", tcp);
	assert_xpath_string(doc, "15", "%s/@probes", tcp);
	assert_xpath_string(doc, "1", "%s/@reached-ttl", tcp);
	assert_xpath_string(doc, "2024-03-14T09:26:53.303456789Z", "%s/@first", tcp);
	assert_xpath_string(doc, cm.traces.items[0].reason, "%s/reason", tcp);
	assert_pairs(doc, "/report/traces/trace[1]/hop", "ttl", "address", "1:203.0.113.10");
	assert_pairs(doc, "/report/traces/trace[1]/hop", "probe-frame", "reply-frame", "3:4");
	assert_xpath_string(doc, "syn-ack", "%s/hop/@kind", tcp);
	assert_xpath_string(doc, "64", "%s/hop/@reply-ttl", tcp);
	assert_xpath_string(doc, "23.412", "%s/hop/@rtt-ms", tcp);
	assert_xpath_string(doc, "true", "%s/hop/@destination", tcp);
	/* A SYN-ACK quotes nothing. */
	assert_int_equal(xcount(doc, "%s/hop/@quoted-ttl", tcp), 0);

	const char *icmp = "/report/traces/trace[2]";
	assert_xpath_string(doc, "icmp", "%s/@protocol", icmp);
	assert_xpath_string(doc, "no-ttl-reset", "%s/@verdict", icmp);
	assert_xpath_string(doc, "5", "%s/@true-distance", icmp);
	assert_xpath_string(doc, "strong", "%s/@confidence", icmp);
	/* Unknown values are absent, not empty or -1. */
	assert_int_equal(xcount(doc, "%s/@reset-ttl", icmp), 0);
	assert_int_equal(xcount(doc, "%s/@direction", icmp), 0);
	assert_int_equal(xcount(doc, "%s/@egress-ttl", icmp), 0);
	assert_int_equal(xcount(doc, "%s/@ingress-ttl", icmp), 0);
	assert_int_equal(xcount(doc, "%s/@dport", icmp), 0);
	assert_pairs(doc, "/report/traces/trace[2]/hop", "ttl", "address",
		     "1:192.0.2.1,2:198.18.1.2,3:198.18.2.2,4:,5:203.0.113.10");
	assert_pairs(doc, "/report/traces/trace[2]/hop", "reply-ttl", "quoted-ttl",
		     "64:1,63:1,62:1,(none):(none),60:(none)");
	assert_pairs(doc, "/report/traces/trace[2]/hop", "answers", "probes",
		     "3:3,3:3,3:3,0:3,3:3");
	assert_pairs(doc, "/report/traces/trace[2]/hop", "probe-frame", "reply-frame",
		     "33:34,39:40,45:46,51:(none),54:55");
	assert_pairs(doc, "/report/traces/trace[2]/hop", "kind", "rtt-ms",
		     "time-exceeded:1.201,time-exceeded:5.873,time-exceeded:11.042,(none):(none),"
		     "echo-reply:23.517");
	assert_int_equal(xcount(doc, "%s/hop[@destination='true']", icmp), 1);
	assert_xpath_string(doc, "5", "%s/hop[@destination='true']/@ttl", icmp);

	xmlFreeDoc(doc);
	case_free(&cm);
}

static void test_captures_and_correlation(void **state)
{
	(void)state;
	struct case_model cm;
	fixture_case_build(&cm);
	xmlDocPtr doc = report_document(&cm);

	assert_int_equal(xcount(doc, "/report/captures/capture"), 2);
	const char *guest = "/report/captures/capture[@side='guest']";
	assert_xpath_string(doc, "guest.pcap", "%s/@name", guest);
	assert_xpath_string(doc, "/srv/cases/INC-4711/guest.pcap", "%s/@path", guest);
	assert_xpath_string(doc, "5f0c6a1e8b2d47a9c3e1f6b8d0a2c4e6f8a0b2c4d6e8f0a1b3c5d7e9f1a3b5c7",
			    "%s/@sha256", guest);
	assert_xpath_string(doc, "pcap", "%s/@format", guest);
	assert_xpath_string(doc, "1", "%s/@linktype", guest);
	assert_xpath_string(doc, "64", "%s/@packets", guest);
	assert_xpath_string(doc, "2024-03-14T09:26:53.123456789Z", "%s/@first", guest);
	assert_xpath_string(doc, "2024-03-14T09:26:57.303457776Z", "%s/@last", guest);
	assert_xpath_string(doc, "false", "%s/@cut-short", guest);
	assert_int_equal(xcount(doc, "%s/warning", guest), 0);
	assert_int_equal(xcount(doc, "%s/anomaly", guest), 0);

	const char *host = "/report/captures/capture[@side='host']";
	assert_xpath_string(doc, "host.pcapng", "%s/@name", host);
	assert_xpath_string(doc, "pcapng", "%s/@format", host);
	assert_xpath_string(doc, "113", "%s/@linktype", host);
	assert_xpath_string(doc, "2024-03-14T09:26:53.121456789Z", "%s/@first", host);
	assert_xpath_string(doc, "true", "%s/@cut-short", host);
	assert_xpath_string(doc,
			    "truncated dump file; tried to read 74 captured bytes, only got 30",
			    "%s/warning", host);
	assert_pairs(doc, "/report/captures/capture[@side='host']/anomaly", "name", "count",
		     "tcp.truncated:1,frame.cut_by_snaplen:2");

	assert_xpath_string(doc, "-1834512", "/report/correlation/@clock-offset-ns");
	assert_xpath_string(doc, "15", "/report/correlation/@correlated-requests");

	xmlFreeDoc(doc);
	case_free(&cm);
}

static void test_findings_and_evidence(void **state)
{
	(void)state;
	struct case_model cm;
	fixture_case_build(&cm);
	xmlDocPtr doc = report_document(&cm);

	assert_int_equal(xcount(doc, "/report/findings/finding"), 4);
	assert_pairs(doc, "/report/findings/finding", "kind", "trace",
		     "egress.ttl_constant:0,ingress.ttl_rewritten:(none),"
		     "path.destination_answers_too_early:0,path.routers_answer_in_order:1");
	assert_xpath_string(
		doc, "The 15 SYNs the guest sent with TTL 1 to 5 all left the host with TTL 64.",
		"/report/findings/finding[1]/text");
	assert_pairs(doc, "/report/findings/finding[1]/evidence", "capture", "frame",
		     "guest:3,host:1,guest:27,host:25");
	assert_pairs(doc, "/report/findings/finding[1]/evidence", "frame", "role",
		     "3:probe,1:host copy,27:probe,25:host copy");
	assert_pairs(doc, "/report/findings/finding[2]/evidence", "capture", "frame",
		     "host:2,guest:4");
	assert_pairs(doc, "/report/findings/finding[4]/evidence", "capture", "frame",
		     "guest:34,guest:40,guest:46,guest:55");

	xmlFreeDoc(doc);
	case_free(&cm);
}

static void test_unknown_values_stay_out(void **state)
{
	(void)state;
	struct case_model cm;
	fixture_case_build(&cm);
	/* A model that knows less: no correlation, no direction, reset value unknown. */
	cm.correlated = false;
	struct trace *t = &cm.traces.items[0];
	t->direction = DIRECTION_UNKNOWN;
	t->reset_ttl = -1;
	t->true_distance = -1;
	t->confidence = ""; /* what the analyzer says for an inconclusive trace */
	xmlDocPtr doc = report_document(&cm);

	assert_int_equal(xcount(doc, "/report/correlation"), 0);
	assert_int_equal(xcount(doc, "/report/traces/trace[1]/@direction"), 0);
	assert_int_equal(xcount(doc, "/report/traces/trace[1]/@reset-ttl"), 0);
	assert_int_equal(xcount(doc, "/report/traces/trace[1]/@true-distance"), 0);
	assert_int_equal(xcount(doc, "/report/traces/trace[1]/@confidence"), 0);
	assert_xpath_string(doc, "64", "/report/traces/trace[1]/@egress-ttl");

	xmlFreeDoc(doc);
	case_free(&cm);
}

static void test_empty_case_validates(void **state)
{
	(void)state;
	struct case_model cm;
	case_init(&cm);
	xmlDocPtr doc = report_document(&cm);
	assert_xpath_string(doc, "inconclusive", "/report/diagnosis/@verdict");
	assert_int_equal(xcount(doc, "/report/captures/capture"), 0);
	assert_int_equal(xcount(doc, "/report/traces/trace"), 0);
	xmlFreeDoc(doc);
	case_free(&cm);
}

/* The schema's enumerations must follow the anomaly and finding lists as they grow. */
static void test_every_name_is_in_the_schema(void **state)
{
	(void)state;
	struct case_model cm;
	fixture_case_build(&cm);
	for (int a = 0; a < ANOMALY_COUNT; a++)
		cm.captures[0].anomaly_counts[a] = (uint64_t)a + 1;
	for (int k = 0; k < FINDING_COUNT; k++) {
		struct finding *f = VEC_PUSH(&cm.findings);
		assert_non_null(f);
		f->kind = (enum finding_kind)k;
		f->trace = -1;
		snprintf(f->text, sizeof f->text, "kind %d", k);
		VEC_INIT(&f->evidence, 1);
	}
	for (int v = 0; v < VERDICT_KINDS_FOR_TEST; v++) {
		cm.traces.items[0].verdict = (enum verdict)v;
		xmlDocPtr doc = report_document(&cm);
		assert_int_equal(xcount(doc, "/report/captures/capture[1]/anomaly"), ANOMALY_COUNT);
		assert_int_equal(xcount(doc, "/report/findings/finding"), 4 + FINDING_COUNT);
		assert_xpath_string(doc, verdict_name((enum verdict)v),
				    "/report/traces/trace[1]/@verdict");
		xmlFreeDoc(doc);
	}
	case_free(&cm);
}

static void test_hostile_strings_validate_and_round_trip(void **state)
{
	(void)state;
	struct case_model cm;
	fixture_case_build_hostile(&cm);
	xmlDocPtr doc = report_document(&cm);

	assert_xpath_string(doc, FIXTURE_HOSTILE_GUEST_NAME, "/report/captures/capture[1]/@name");
	assert_xpath_string(doc, FIXTURE_HOSTILE_HOST_NAME_CLEAN,
			    "/report/captures/capture[2]/@name");
	assert_xpath_string(doc, FIXTURE_HOSTILE_HOST_PATH_CLEAN,
			    "/report/captures/capture[2]/@path");
	assert_xpath_string(doc, FIXTURE_HOSTILE_WARNING_CLEAN,
			    "/report/captures/capture[2]/warning");
	assert_xpath_string(doc, FIXTURE_HOSTILE_REASON, "/report/traces/trace[1]/reason");
	assert_xpath_string(doc,
			    "<img src=x onerror=alert(3)> \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
			    "/report/findings/finding[1]/text");
	/* What the XML holds is exactly what the shared sanitiser makes of the input. */
	char *clean = text_sanitize(FIXTURE_HOSTILE_HOST_NAME);
	assert_xpath_string(doc, clean, "/report/captures/capture[2]/@name");
	free(clean);
	/* The markup stayed text: no element was injected. */
	assert_int_equal(xcount(doc, "//script"), 0);
	assert_int_equal(xcount(doc, "//img"), 0);

	xmlFreeDoc(doc);
	case_free(&cm);
}

static void assert_written_twice_identically(const struct case_model *cm)
{
	char *first_path = write_report(cm);
	char *second_path = write_report(cm);
	size_t first_len, second_len;
	char *first = slurp_file(first_path, &first_len);
	char *second = slurp_file(second_path, &second_len);
	assert_non_null(first);
	assert_non_null(second);
	assert_true(first_len > 1000);
	assert_int_equal(first_len, second_len);
	assert_memory_equal(first, second, first_len);
	assert_int_equal(first[first_len - 1], '\n');
	free(first);
	free(second);
	remove_report(first_path);
	remove_report(second_path);
}

static void test_output_is_reproducible(void **state)
{
	(void)state;
	struct case_model cm;
	fixture_case_build(&cm);
	assert_written_twice_identically(&cm);
	case_free(&cm);
	fixture_case_build_hostile(&cm);
	assert_written_twice_identically(&cm);
	case_free(&cm);
}

static void test_write_error_is_reported(void **state)
{
	(void)state;
	struct case_model cm;
	fixture_case_build(&cm);
	FILE *full = fopen("/dev/full", "w");
	if (!full) {
		case_free(&cm);
		skip();
	}
	assert_int_equal(report_write_xml(&cm, full), -1);
	fclose(full);
	case_free(&cm);
}

struct sanitize_case {
	const char *input;
	const char *expected;
};

#define FFFD "\xef\xbf\xbd"

static void test_sanitiser(void **state)
{
	(void)state;
	static const struct sanitize_case cases[] = {
		{"plain.pcap", "plain.pcap"},
		{"caf\xc3\xa9 \xf0\x9f\x93\xa6",
		 "caf\xc3\xa9 \xf0\x9f\x93\xa6"}, /* é and U+1F4E6 stay */
		{"tab\tnl\ncr\r", "tab\tnl\ncr\r"},
		{"a\xff!", "a" FFFD "!"},
		{"\xc3(", FFFD "("},              /* lead byte without its continuation */
		{"x\xe2\x82", "x" FFFD},          /* cut short at the end: one per subpart */
		{"\xc0\xaf", FFFD FFFD},          /* overlong '/' */
		{"\xed\xa0\x80", FFFD FFFD FFFD}, /* a UTF-16 surrogate */
		{"\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD}, /* above U+10FFFF */
		{"\x01\x1b[31m\x7f", FFFD FFFD "[31m" FFFD},
		{"\xc2\x85", FFFD},      /* C1 control NEL */
		{"\xef\xbf\xbe", FFFD},  /* U+FFFE, forbidden in XML */
		{"\x80\x80", FFFD FFFD}, /* stray continuation bytes */
		{"<&>\"'", "<&>\"'"},    /* markup is libxml2's or html_escape's job */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *got = text_sanitize(cases[i].input);
		assert_non_null(got);
		assert_string_equal(got, cases[i].expected);
		free(got);
	}
	char *empty = text_sanitize(NULL);
	assert_string_equal(empty, "");
	free(empty);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_root_and_diagnosis),
		cmocka_unit_test(test_traces_and_hops),
		cmocka_unit_test(test_captures_and_correlation),
		cmocka_unit_test(test_findings_and_evidence),
		cmocka_unit_test(test_unknown_values_stay_out),
		cmocka_unit_test(test_empty_case_validates),
		cmocka_unit_test(test_every_name_is_in_the_schema),
		cmocka_unit_test(test_hostile_strings_validate_and_round_trip),
		cmocka_unit_test(test_output_is_reproducible),
		cmocka_unit_test(test_write_error_is_reported),
		cmocka_unit_test(test_sanitiser),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	xmlCleanupParser();
	return failed;
}
