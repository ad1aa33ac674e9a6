/*
 * The HTML report: escaping of hostile input, no external resources, one
 * diagram per trace, the verdict first, and the same bytes on every run.
 * The page is written as well-formed XML, so most checks read it with
 * libxml2's strict parser and XPath rather than searching bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "fixture_case.h"
#include "reports/drawn_traces.h"
#include "reports/escape.h"
#include "reports/report.h"
#include "support.h"

static const char svg_namespace_attr[] = "xmlns=\"http://www.w3.org/2000/svg\"";

static char *render(const struct case_model *cm, size_t *len)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	assert_non_null(f);
	assert_int_equal(report_write_html(cm, f), 0);
	assert_int_equal(fclose(f), 0);
	assert_non_null(buf);
	if (len)
		*len = size;
	return buf;
}

static xmlDocPtr parse_page(const char *html, size_t len)
{
	xmlDocPtr doc = xmlReadMemory(html, (int)len, "report.html", "UTF-8", XML_PARSE_NONET);
	assert_non_null(doc); /* not well-formed: an element left open, a stray & or < */
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

/* The string values of a node set joined with "|". */
static void assert_joined(xmlDocPtr doc, const char *expr, const char *expected)
{
	xmlXPathObjectPtr r = eval(doc, expr);
	char out[2048] = "";
	size_t n = 0;
	int count = r->nodesetval ? r->nodesetval->nodeNr : 0;
	for (int i = 0; i < count; i++) {
		xmlChar *s = xmlNodeGetContent(r->nodesetval->nodeTab[i]);
		n += (size_t)snprintf(out + n, sizeof out - n, "%s%s", i ? "|" : "",
				      (const char *)s);
		assert_true(n < sizeof out);
		xmlFree(s);
	}
	xmlXPathFreeObject(r);
	assert_string_equal(out, expected);
}

/* strcasestr is a GNU extension; the tree builds without _GNU_SOURCE. */
static const char *find_ignoring_case(const char *haystack, const char *needle)
{
	size_t n = strlen(needle);
	for (const char *p = haystack; *p; p++)
		if (strncasecmp(p, needle, n) == 0)
			return p;
	return NULL;
}

static size_t count_occurrences(const char *haystack, const char *needle)
{
	size_t n = 0;
	for (const char *p = strstr(haystack, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* Every URL scheme in the page must be the SVG namespace name, which is never fetched. */
static void assert_only_namespace_urls(const char *html)
{
	static const char *const schemes[] = {"http:", "https:", "ftp:", "file:", "data:", "//"};
	for (const char *p = html; *p; p++) {
		for (size_t s = 0; s < sizeof schemes / sizeof schemes[0]; s++) {
			size_t n = strlen(schemes[s]);
			if (strncasecmp(p, schemes[s], n) != 0)
				continue;
			/* "//" also occurs inside "http://": judge it by the scheme before it. */
			if (s == 5 && p > html && p[-1] == ':')
				continue;
			size_t back = sizeof svg_namespace_attr - 1 -
				      strlen("http://www.w3.org/2000/svg\"");
			bool is_namespace = p - html >= (ptrdiff_t)back &&
					    strncmp(p - back, svg_namespace_attr,
						    sizeof svg_namespace_attr - 1) == 0;
			if (!is_namespace)
				fail_msg("a URL in the page: %.60s", p);
		}
	}
}

/* Nothing that makes a browser load or run anything. */
static void assert_nothing_fetched(const char *html, size_t len)
{
	assert_only_namespace_urls(html);
	assert_int_equal(count_occurrences(html, svg_namespace_attr),
			 count_occurrences(html, "<svg "));

	xmlDocPtr doc = parse_page(html, len);
	static const char *const loaders[] = {
		"script", "img",   "iframe", "frame",   "object",  "embed",
		"link",   "image", "use",    "audio",   "video",   "source",
		"track",  "base",  "form",   "picture", "feImage", "foreignObject"};
	for (size_t i = 0; i < sizeof loaders / sizeof loaders[0]; i++)
		assert_int_equal(xcount(doc, "//*[local-name()='%s']", loaders[i]), 0);
	static const char *const fetching_attributes[] = {
		"src", "srcset", "action", "formaction", "background", "poster", "data", "ping"};
	for (size_t i = 0; i < sizeof fetching_attributes / sizeof fetching_attributes[0]; i++)
		assert_int_equal(xcount(doc, "//@*[local-name()='%s']", fetching_attributes[i]), 0);
	/* Links only within the page. */
	assert_int_equal(xcount(doc, "//@*[local-name()='href'][not(starts-with(., '#'))]"), 0);
	/* Event handlers would be script. */
	assert_int_equal(xcount(doc, "//@*[starts-with(local-name(), 'on')]"), 0);
	assert_int_equal(xcount(doc, "//@style[contains(., 'url(')]"), 0);
	assert_int_equal(xcount(doc, "//style[contains(., 'url(') or contains(., '@import')]"), 0);
	/* The browser is told so too. */
	assert_xpath_string(doc, "default-src 'none'; style-src 'unsafe-inline'",
			    "//meta[@http-equiv='Content-Security-Policy']/@content");
	xmlFreeDoc(doc);
}

static void test_hostile_strings_are_escaped(void **state)
{
	(void)state;
	struct case_model cm;
	fixture_case_build_hostile(&cm);
	size_t len;
	char *html = render(&cm, &len);

	assert_null(find_ignoring_case(html, "<script"));
	assert_null(find_ignoring_case(html, "<img"));
	assert_non_null(strstr(html, FIXTURE_HOSTILE_GUEST_NAME_ESCAPED));
	assert_non_null(strstr(html,
			       "&lt;/svg&gt;&lt;/text&gt;&lt;script&gt;alert(2)&lt;/script&gt;"
			       " ]]&gt; &lt;!-- --&gt; &amp;amp;"));
	assert_non_null(strstr(html, "&lt;img src=x onerror=alert(3)&gt;"));
	/* Valid UTF-8 with no control character: the sanitiser would change nothing. */
	char *clean = text_sanitize(html);
	assert_string_equal(clean, html);
	free(clean);
	assert_null(memchr(html, '\r', len));

	/* Read back, the hostile names are text again, sanitised as in the XML. */
	xmlDocPtr doc = parse_page(html, len);
	assert_xpath_string(doc, FIXTURE_HOSTILE_GUEST_NAME,
			    "//table[@class='captures']/tbody/tr[1]/td[1]");
	assert_xpath_string(doc, FIXTURE_HOSTILE_HOST_NAME_CLEAN,
			    "//table[@class='captures']/tbody/tr[1]/td[2]");
	assert_xpath_string(doc, FIXTURE_HOSTILE_REASON,
			    "//article[@id='trace-0']/p[@class='reason']");
	xmlFreeDoc(doc);
	assert_nothing_fetched(html, len);

	free(html);
	case_free(&cm);
}

static void test_nothing_is_fetched(void **state)
{
	(void)state;
	struct case_model cm;
	fixture_case_build(&cm);
	size_t len;
	char *html = render(&cm, &len);
	assert_null(strstr(html, "src="));
	assert_nothing_fetched(html, len);
	free(html);
	case_free(&cm);
}

static void test_verdict_comes_first(void **state)
{
	(void)state;
	struct case_model cm;
	fixture_case_build(&cm);
	size_t len;
	char *html = render(&cm, &len);
	xmlDocPtr doc = parse_page(html, len);

	assert_xpath_string(doc, "verdict", "(//main/section)[1]/@id");
	assert_xpath_string(doc, "verdict verdict-ttl-reset", "//section[@id='verdict']/@class");
	assert_xpath_string(doc, "TTL reset",
			    "//section[@id='verdict']//span[@class='badge badge-ttl-reset']");
	assert_xpath_string(doc, FIXTURE_SUMMARY, "//section[@id='verdict']/p[@class='summary']");
	assert_xpath_string(doc, FIXTURE_REMEDY, "//section[@id='verdict']/div[@class='remedy']/p");
	assert_joined(doc, "//table[@class='protocols']//tr",
		      "TCPTTL reset 1 of 1 trace|"
		      "UDPno UDP trace in the captures|"
		      "ICMPNo TTL reset 1 of 1 trace");
	assert_xpath_string(doc, "TTL reset \xe2\x80\x94 ttlsleuth traceroute report", "//title");

	xmlFreeDoc(doc);
	free(html);
	case_free(&cm);
}

static void test_traces_and_diagrams(void **state)
{
	(void)state;
	struct case_model cm;
	fixture_case_build(&cm);
	size_t len;
	char *html = render(&cm, &len);
	xmlDocPtr doc = parse_page(html, len);

	assert_int_equal(xcount(doc, "//article[@class='trace']"), 2);
	assert_int_equal(xcount(doc, "//*[local-name()='svg']"), 2);
	assert_int_equal(xcount(doc, "//article[@id='trace-0']//*[local-name()='svg']"), 1);
	assert_int_equal(xcount(doc, "//article[@id='trace-1']//*[local-name()='svg']"), 1);
	assert_xpath_string(doc, "TCP 10.0.2.100 \xe2\x86\x92 203.0.113.10 port 80",
			    "//article[@id='trace-0']//h3");
	assert_xpath_string(doc, "ICMP 10.0.2.100 \xe2\x86\x92 203.0.113.10",
			    "//article[@id='trace-1']//h3");
	assert_xpath_string(doc, "TTL reset",
			    "//article[@id='trace-0']//span[@class='badge badge-ttl-reset']");
	assert_xpath_string(doc, "No TTL reset",
			    "//article[@id='trace-1']//span[@class='badge badge-no-ttl-reset']");

	/* The collapsed TCP path: agent, a red hidden segment of 5 - 1 hops, the destination at
	 * TTL 1. */
	const char *tcp_svg = "//article[@id='trace-0']//*[local-name()='svg']";
	assert_joined(doc,
		      "//article[@id='trace-0']//*[local-name()='text'][@class='hidden-label']",
		      "4 hops hidden by TTL reset");
	assert_int_equal(xcount(doc, "%s//*[@class='link link-hidden']", tcp_svg), 1);
	assert_int_equal(xcount(doc, "%s//*[@class='ghost']", tcp_svg), 4);
	assert_joined(doc, "//article[@id='trace-0']//*[local-name()='text'][@class='address']",
		      "10.0.2.100|203.0.113.10");

	/* The healthy ICMP path: every hop in TTL order, a dashed "*" for the silent one, nothing
	 * hidden. */
	const char *icmp_svg = "//article[@id='trace-1']//*[local-name()='svg']";
	assert_int_equal(xcount(doc, "%s//*[@class='hidden-label']", icmp_svg), 0);
	assert_joined(doc, "//article[@id='trace-1']//*[local-name()='text'][@class='address']",
		      "10.0.2.100|192.0.2.1|198.18.1.2|198.18.2.2|203.0.113.10");
	assert_joined(doc,
		      "//article[@id='trace-1']//*[@class='node hop-silent']/*[@class='glyph']",
		      "*");
	assert_int_equal(xcount(doc, "%s//*[@class='node node-destination']", icmp_svg), 1);

	/* The hop tables: TTL and address of each row. */
	assert_joined(doc,
		      "//article[@id='trace-1']//table[@class='hops']/tbody/tr/td[position() <= 2]",
		      "1|192.0.2.1|2|198.18.1.2|3|198.18.2.2|4|*|"
		      "5|203.0.113.10 \xe2\x80\x94 destination");
	assert_joined(doc, "//article[@id='trace-1']//table[@class='hops']/tbody/tr[1]/td",
		      "1|192.0.2.1|3/3|time-exceeded|64|1|1.201|33|34");
	assert_joined(doc, "//article[@id='trace-0']//table[@class='hops']/tbody/tr/td",
		      "1|203.0.113.10 \xe2\x80\x94 destination|3/3|syn-ack|64||23.412|3|4");
	/* The raw probes, one click below: 15 per trace, the host's copies beside the guest's. */
	assert_int_equal(xcount(doc, "//article[@id='trace-0']//details//tbody/tr"), 15);
	assert_joined(doc, "//article[@id='trace-0']//details//tbody/tr[1]/td[position() <= 5]",
		      "3|0.000|1|31000|1 (TTL 64)");
	assert_int_equal(xcount(doc, "//article[@id='trace-1']//details//tbody/tr[td='no answer']"),
			 3);

	xmlFreeDoc(doc);
	free(html);
	case_free(&cm);
}

/*
 * A NAT that answers TTL 1 itself and swallows every later error: 30 TTLs,
 * one gateway, 29 silent hops, the destination never reached.
 */
static void add_swallowed_udp_trace(struct case_model *cm)
{
	struct trace *t = VEC_PUSH(&cm->traces);
	assert_non_null(t);
	VEC_INIT(&t->hops, 255);
	t->proto = PROTO_UDP;
	assert_true(ip_addr_parse("10.0.2.15", &t->src));
	assert_true(ip_addr_parse("2001:db8:4711::10", &t->dst));
	t->dport = 33434;
	t->probes = 90;
	t->answered = 3;
	t->max_ttl = 30;
	t->verdict = VERDICT_TTL_RESET;
	t->reset_ttl = t->egress_ttl = t->ingress_ttl = t->true_distance = -1;
	snprintf(t->reason, sizeof t->reason, "Only TTL 1 was answered, by the gateway.");
	for (int ttl = 1; ttl <= 30; ttl++) {
		struct hop *h = VEC_PUSH(&t->hops);
		assert_non_null(h);
		h->ttl = (uint8_t)ttl;
		h->probes = 3;
		h->request = h->reply = -1;
		if (ttl == 1) {
			assert_true(ip_addr_parse("10.0.2.2", &h->addr));
			h->answers = 3;
			h->kind = REPLY_TIME_EXCEEDED;
			h->reply_ttl = 255;
			h->quoted_ttl = 1;
			h->rtt_ns = 310000;
		}
	}
}

static void test_long_path_wraps(void **state)
{
	(void)state;
	struct case_model cm;
	fixture_case_build(&cm);
	add_swallowed_udp_trace(&cm);
	size_t len;
	char *html = render(&cm, &len);
	xmlDocPtr doc = parse_page(html, len);

	const char *svg = "//article[@id='trace-2']//*[local-name()='svg']";
	assert_xpath_string(doc, "UDP 10.0.2.15 \xe2\x86\x92 2001:db8:4711::10 port 33434",
			    "//article[@id='trace-2']//h3");
	/* The agent, 30 TTLs, and the destination drawn apart because no hop reached it. */
	assert_int_equal(xcount(doc, "%s//*[local-name()='g']", svg), 32);
	assert_int_equal(xcount(doc, "%s//*[@class='node hop-silent']", svg), 29);
	assert_joined(
		doc,
		"//article[@id='trace-2']//*[@class='node node-unreached']/*[@class='address']",
		"2001:db8:4711::10");
	/* Six nodes a row: five links wrap to the next row. */
	assert_int_equal(xcount(doc, "%s//*[local-name()='path']", svg), 5);
	/* Without a true distance the count of hidden hops is not claimed. */
	assert_joined(doc, "//article[@id='trace-2']//*[@class='hidden-label']",
		      "hops hidden by TTL reset");
	assert_int_equal(xcount(doc, "%s//*[@class='ghost']", svg), 3);
	assert_int_equal(xcount(doc, "//article[@id='trace-2']//table[@class='hops']/tbody/tr"),
			 30);

	xmlFreeDoc(doc);
	free(html);
	case_free(&cm);
}

static void test_evidence_and_captures(void **state)
{
	(void)state;
	struct case_model cm;
	fixture_case_build(&cm);
	size_t len;
	char *html = render(&cm, &len);
	xmlDocPtr doc = parse_page(html, len);

	assert_int_equal(xcount(doc, "//li[@class='finding']"), 4);
	assert_joined(doc, "(//li[@class='finding'])[1]//td[@class='where']",
		      "guest, frame 3|host, frame 1|guest, frame 27|host, frame 25");
	assert_joined(doc, "(//li[@class='finding'])[1]//code[@class='filter']",
		      "frame.number == 3|frame.number == 1|frame.number == 27|frame.number == 25");
	assert_int_equal(xcount(doc, "//code[@class='filter']"), 12);
	assert_xpath_string(doc, "#trace-0", "(//li[@class='finding'])[1]//a/@href");
	assert_int_equal(xcount(doc, "(//li[@class='finding'])[2]//a"), 0);

	assert_xpath_string(doc, "5f0c6a1e8b2d47a9c3e1f6b8d0a2c4e6f8a0b2c4d6e8f0a1b3c5d7e9f1a3b5c7",
			    "//table[@class='captures']//span[@class='mono hash'][1]");
	assert_int_equal(xcount(doc, "//section[@id='captures']/p[@class='callout']"), 1);
	assert_non_null(
		strstr(html, "truncated dump file; tried to read 74 captured bytes, only got 30"));
	assert_non_null(strstr(html, "frame.cut_by_snaplen"));
	assert_joined(doc, "//section[@id='correlation']//dd", "-1.835 ms|15");

	xmlFreeDoc(doc);
	free(html);
	case_free(&cm);
}

/*
 * A case with 150 traces (an agent tracing all day): 100 drawn, the resets
 * first, every trace in the index, findings on undrawn traces counted.
 */
static void test_big_case_draws_a_chosen_hundred(void **state)
{
	(void)state;
	struct case_model cm;
	fixture_case_build(&cm);
	for (int i = 0; i < 148; i++) {
		struct trace *t = VEC_PUSH(&cm.traces);
		assert_non_null(t);
		t->proto = PROTO_UDP;
		t->src.family = t->dst.family = 4;
		t->src.b[0] = 10;
		t->dst.b[0] = 198;
		t->dst.b[3] = (uint8_t)i;
		t->verdict = i == 120 ? VERDICT_TTL_RESET : VERDICT_NO_TTL_RESET;
		t->reset_ttl = t->egress_ttl = t->ingress_ttl = t->true_distance = -1;
		t->probes = 3;
	}
	struct finding *f = VEC_PUSH(&cm.findings);
	f->kind = FINDING_NO_ANSWERS;
	f->trace = 140; /* not drawn: after the reset ones, no-ttl-reset traces 1..98 fill the hundred */
	snprintf(f->text, sizeof f->text, "No probe was answered.");
	size_t len;
	char *html = render(&cm, &len);
	xmlDocPtr doc = parse_page(html, len);

	assert_int_equal(xcount(doc, "//article[@class='trace']"), REPORT_DRAWN_TRACES_MAX);
	assert_int_equal(xcount(doc, "//table[@class='trace-index']/tbody/tr"), 150);
	assert_int_equal(xcount(doc, "//article[@id='trace-122']"), 1); /* the second reset */
	assert_int_equal(xcount(doc, "//article[@id='trace-98']"), 1);
	assert_int_equal(xcount(doc, "//article[@id='trace-99']"), 0);
	assert_xpath_string(doc, "#trace-122", "//table[@class='trace-index']/tbody/tr[123]//a/@href");
	assert_int_equal(xcount(doc, "//table[@class='trace-index']/tbody/tr[100]//a"), 0);
	assert_int_equal(xcount(doc, "//li[@class='finding']"), 4); /* the fixture's, all drawn */
	assert_joined(doc, "//ul[@class='left-out']/li", "path.no_answers: 1");

	xmlFreeDoc(doc);
	free(html);
	case_free(&cm);
}

/*
 * A big case is drawn in the order it is chosen (README: "the reset ones
 * first, then the inconclusive, then the healthy"), each verdict in capture
 * order; the index stays in capture order.
 */
static void test_big_case_draws_resets_first(void **state)
{
	(void)state;
	struct case_model cm;
	fixture_case_build(&cm); /* trace 0 reset, trace 1 healthy */
	for (int i = 0; i < 118; i++) {
		struct trace *t = VEC_PUSH(&cm.traces);
		assert_non_null(t);
		t->proto = PROTO_TCP;
		t->src.family = t->dst.family = 4;
		t->src.b[0] = 10;
		t->dst.b[0] = 203;
		t->dst.b[3] = (uint8_t)i;
		/* Interleaved as a capture of an agent leaves them: every third reset, every
		 * fifth (of the rest) inconclusive. */
		t->verdict = i % 3 == 0	  ? VERDICT_TTL_RESET
			     : i % 5 == 0 ? VERDICT_INCONCLUSIVE
					  : VERDICT_NO_TTL_RESET;
		t->reset_ttl = t->egress_ttl = t->ingress_ttl = t->true_distance = -1;
		t->probes = 3;
	}
	size_t len;
	char *html = render(&cm, &len);
	xmlDocPtr doc = parse_page(html, len);

	xmlXPathObjectPtr articles = eval(doc, "//article[@class='trace']/@id");
	int n = articles->nodesetval ? articles->nodesetval->nodeNr : 0;
	assert_int_equal(n, REPORT_DRAWN_TRACES_MAX);
	size_t rank_of[3] = { 0 };
	rank_of[VERDICT_TTL_RESET] = 0;
	rank_of[VERDICT_INCONCLUSIVE] = 1;
	rank_of[VERDICT_NO_TTL_RESET] = 2;
	size_t last_rank = 0, per_rank[3] = { 0 };
	long last_index = -1;
	for (int i = 0; i < n; i++) {
		xmlChar *id = xmlNodeGetContent(articles->nodesetval->nodeTab[i]);
		long index = strtol((const char *)id + strlen("trace-"), NULL, 10);
		xmlFree(id);
		assert_true(index >= 0 && (size_t)index < cm.traces.len);
		size_t rank = rank_of[cm.traces.items[index].verdict];
		assert_true(rank >= last_rank);
		if (rank == last_rank)
			assert_true(index > last_index);
		last_rank = rank;
		last_index = index;
		per_rank[rank]++;
	}
	xmlXPathFreeObject(articles);
	/* 1 + 40 resets, 16 inconclusive (i % 5 == 0 but not % 3), 43 healthy to make the hundred. */
	assert_int_equal(per_rank[0], 41);
	assert_int_equal(per_rank[1], 16);
	assert_int_equal(per_rank[2], 43);
	assert_xpath_string(doc, "trace-0", "(//article[@class='trace'])[1]/@id");
	assert_xpath_string(doc, "trace-2", "(//article[@class='trace'])[2]/@id"); /* i = 0 */
	assert_xpath_string(doc, "trace-119", "(//article[@class='trace'])[41]/@id");
	assert_xpath_string(doc, "trace-7", "(//article[@class='trace'])[42]/@id");
	assert_xpath_string(doc, "trace-1", "(//article[@class='trace'])[58]/@id");
	/* The index: capture order. */
	assert_xpath_string(doc, "2", "//table[@class='trace-index']/tbody/tr[2]/td[1]");

	xmlFreeDoc(doc);
	free(html);
	case_free(&cm);
}

static void test_empty_case_renders(void **state)
{
	(void)state;
	struct case_model cm;
	case_init(&cm);
	size_t len;
	char *html = render(&cm, &len);
	xmlDocPtr doc = parse_page(html, len);
	assert_xpath_string(doc, "Inconclusive",
			    "//section[@id='verdict']//span[@class='badge badge-inconclusive']");
	assert_int_equal(xcount(doc, "//*[local-name()='svg']"), 0);
	assert_int_equal(xcount(doc, "//section[@id='correlation']"), 0);
	xmlFreeDoc(doc);
	free(html);
	case_free(&cm);
}

static void test_output_is_reproducible(void **state)
{
	(void)state;
	for (int hostile = 0; hostile < 2; hostile++) {
		struct case_model cm;
		if (hostile)
			fixture_case_build_hostile(&cm);
		else
			fixture_case_build(&cm);
		size_t first_len, second_len;
		char *first = render(&cm, &first_len);
		char *second = render(&cm, &second_len);
		assert_true(first_len > 10000);
		assert_int_equal(first_len, second_len);
		assert_memory_equal(first, second, first_len);
		free(first);
		free(second);
		case_free(&cm);
	}
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
	assert_int_equal(report_write_html(&cm, full), -1);
	fclose(full);
	case_free(&cm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostile_strings_are_escaped),
		cmocka_unit_test(test_nothing_is_fetched),
		cmocka_unit_test(test_verdict_comes_first),
		cmocka_unit_test(test_traces_and_diagrams),
		cmocka_unit_test(test_long_path_wraps),
		cmocka_unit_test(test_evidence_and_captures),
		cmocka_unit_test(test_big_case_draws_a_chosen_hundred),
		cmocka_unit_test(test_big_case_draws_resets_first),
		cmocka_unit_test(test_empty_case_renders),
		cmocka_unit_test(test_output_is_reproducible),
		cmocka_unit_test(test_write_error_is_reported),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	xmlCleanupParser();
	return failed;
}
