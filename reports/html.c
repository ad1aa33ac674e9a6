/*
 * The HTML report: one self-contained page a support engineer shows the
 * customer and files with the incident. The verdict comes first in plain
 * words, then each trace with its path drawn, then the evidence by frame
 * number, then the captures themselves.
 *
 * Nothing is fetched: the stylesheet is inlined, the diagrams are inline SVG,
 * there is no script, and a Content-Security-Policy says so to the browser as
 * well. Every piece of text, from input or not, goes through html_escape;
 * markup is written only from literals here. The page is also well-formed
 * XML (every element closed, only XML's own entities), so tests can read it
 * with a strict parser.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>

#include "analyzer/trace_members.h"
#include "reports/common.h"
#include "reports/drawn_traces.h"
#include "reports/escape.h"
#include "reports/report.h"
#include "reports/svg_path.h"

extern const char report_css[];
extern const size_t report_css_len;

/* A trace's raw probe table stops here: the page must stay printable. */
enum { MAX_RAW_ROWS = 500 };

static const char arrow[] = " \xe2\x86\x92 "; /* " → " */

static void raw(FILE *out, const char *markup)
{
	fputs(markup, out);
}

static void text(FILE *out, const char *s)
{
	html_escape(out, s);
}

__attribute__((format(printf, 2, 3))) static void textf(FILE *out, const char *fmt, ...)
{
	char buf[1200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	html_escape(out, buf);
}

/* <tag class="cls">text</tag>, cls may be NULL. */
static void element(FILE *out, const char *tag, const char *cls, const char *s)
{
	fprintf(out, "<%s", tag);
	if (cls) {
		raw(out, " class=\"");
		text(out, cls);
		raw(out, "\"");
	}
	raw(out, ">");
	text(out, s);
	fprintf(out, "</%s>", tag);
}

/* element() with printf-style text. */
__attribute__((format(printf, 4, 5))) static void textf_element(FILE *out, const char *tag,
								const char *cls, const char *fmt, ...)
{
	char buf[1200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	element(out, tag, cls, buf);
}

static void cell_u64(FILE *out, uint64_t value)
{
	char buf[24];
	snprintf(buf, sizeof buf, "%" PRIu64, value);
	element(out, "td", "num", buf);
}

static void cell_frame(FILE *out, uint64_t frame)
{
	if (frame > 0)
		cell_u64(out, frame);
	else
		element(out, "td", "num muted", "\xe2\x80\x93"); /* – */
}

static const char *verdict_label(enum verdict v)
{
	switch (v) {
	case VERDICT_TTL_RESET:
		return "TTL reset";
	case VERDICT_NO_TTL_RESET:
		return "No TTL reset";
	case VERDICT_INCONCLUSIVE:
		break;
	}
	return "Inconclusive";
}

static void badge(FILE *out, enum verdict v)
{
	raw(out, "<span class=\"badge badge-");
	text(out, verdict_name(v));
	raw(out, "\">");
	text(out, verdict_label(v));
	raw(out, "</span>");
}

static const char *linktype_label(int linktype)
{
	switch (linktype) {
	case LINKTYPE_NULL:
		return "BSD loopback";
	case LINKTYPE_ETHERNET:
		return "Ethernet";
	case LINKTYPE_RAW:
		return "raw IP";
	case LINKTYPE_LOOP:
		return "OpenBSD loopback";
	case LINKTYPE_LINUX_SLL:
		return "Linux cooked";
	case LINKTYPE_IPV4:
		return "raw IPv4";
	case LINKTYPE_IPV6:
		return "raw IPv6";
	case LINKTYPE_LINUX_SLL2:
		return "Linux cooked v2";
	default:
		return "other";
	}
}

static void capture_label(FILE *out, const struct case_model *cm, uint32_t capture)
{
	const char *side = capture_side_of(cm, capture);
	if (!side) {
		textf(out, "capture %" PRIu32 " (not in this case)", capture);
		return;
	}
	text(out, side);
	raw(out, " <span class=\"muted\">(");
	text(out, cm->captures[capture].name);
	raw(out, ")</span>");
}

static void write_head(FILE *out, const struct case_model *cm)
{
	raw(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
		 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
		 "<meta http-equiv=\"Content-Security-Policy\" "
		 "content=\"default-src 'none'; style-src 'unsafe-inline'\"/>\n"
		 "<meta name=\"generator\" content=\"");
	textf(out, "ttlsleuth %s", TTLSLEUTH_VERSION);
	raw(out, "\"/>\n<title>");
	textf(out, "%s \xe2\x80\x94 ttlsleuth traceroute report", verdict_label(cm->verdict));
	raw(out, "</title>\n<style>\n");
	fwrite(report_css, 1, report_css_len, out);
	raw(out, "</style>\n</head>\n<body>\n");
	raw(out, "<header class=\"masthead\"><div class=\"masthead-inner\">");
	element(out, "span", "brand", "ttlsleuth");
	element(out, "span", "subtitle", "Traceroute TTL analysis");
	raw(out, "</div></header>\n<main>\n");
}

static void write_protocol_row(FILE *out, enum trace_protocol p, const struct protocol_tally *t)
{
	raw(out, "<tr>");
	element(out, "th", NULL, protocol_label(p));
	raw(out, "<td>");
	if (t->traces == 0) {
		raw(out, "<span class=\"muted\">");
		textf(out, "no %s trace in the captures", protocol_label(p));
		raw(out, "</span>");
	}
	static const enum verdict order[] = {VERDICT_TTL_RESET, VERDICT_NO_TTL_RESET,
					     VERDICT_INCONCLUSIVE};
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		uint32_t n = t->by_verdict[order[i]];
		if (n == 0)
			continue;
		raw(out, "<span class=\"tally\">");
		badge(out, order[i]);
		raw(out, " ");
		textf(out, "%" PRIu32 " of %" PRIu32 " trace%s", n, t->traces,
		      t->traces == 1 ? "" : "s");
		raw(out, "</span>");
	}
	raw(out, "</td></tr>\n");
}

static void write_verdict(FILE *out, const struct case_model *cm)
{
	raw(out, "<section class=\"verdict verdict-");
	text(out, verdict_name(cm->verdict));
	raw(out, "\" id=\"verdict\">\n<div class=\"verdict-head\">");
	badge(out, cm->verdict);
	element(out, "h1", NULL, "Diagnosis");
	raw(out, "</div>\n");
	element(out, "p", "summary", cm->summary);
	raw(out, "\n<div class=\"remedy\">");
	element(out, "h2", NULL, "What to do");
	element(out, "p", NULL, cm->remedy);
	raw(out, "</div>\n");

	struct protocol_tally tally[PROTOCOL_KINDS];
	tally_protocols(cm, tally);
	element(out, "h2", NULL, "By kind of traceroute");
	raw(out, "\n<table class=\"protocols\">\n<tbody>\n");
	write_protocol_row(out, PROTO_TCP, &tally[PROTO_TCP]);
	write_protocol_row(out, PROTO_UDP, &tally[PROTO_UDP]);
	write_protocol_row(out, PROTO_ICMP, &tally[PROTO_ICMP]);
	raw(out, "</tbody>\n</table>\n</section>\n");
}

static void trace_title(FILE *out, const struct trace *t)
{
	char src[64], dst[64];
	ip_addr_format(&t->src, src, sizeof src);
	ip_addr_format(&t->dst, dst, sizeof dst);
	textf(out, "%s %s%s%s", protocol_label(t->proto), src, arrow, dst);
	if ((t->proto == PROTO_TCP || t->proto == PROTO_UDP) && t->dport != 0) /* 0: a quote without ports */
		textf(out, " port %u", t->dport);
}

static void fact(FILE *out, const char *name, const char *value)
{
	raw(out, "<div>");
	element(out, "dt", NULL, name);
	element(out, "dd", NULL, value);
	raw(out, "</div>\n");
}

/* Only what the model knows: "unknown" beside a healthy trace reads like a doubt. */
static void fact_ttl(FILE *out, const char *name, int value)
{
	char buf[16];
	if (known_ttl(value) < 0)
		return;
	snprintf(buf, sizeof buf, "%d", value);
	fact(out, name, buf);
}

/* IPv6 calls the TTL the hop limit: the words for a trace's own values follow its family. */
static const char *per_family(const struct trace *t, const char *ipv4, const char *ipv6)
{
	return t->dst.family == 6 ? ipv6 : ipv4;
}

static void write_trace_facts(FILE *out, const struct case_model *cm, const struct trace *t)
{
	char buf[160];
	raw(out, "<dl class=\"facts\">\n");
	fact_ttl(out, per_family(t, "Reset to TTL", "Reset to hop limit"), t->reset_ttl);
	if (t->direction != DIRECTION_UNKNOWN)
		fact(out, "Direction", direction_name(t->direction));
	fact_ttl(out, per_family(t, "TTL leaving the host", "Hop limit leaving the host"), t->egress_ttl);
	fact_ttl(out, per_family(t, "TTL of answers at the guest", "Hop limit of answers at the guest"),
		 t->ingress_ttl);
	fact_ttl(out, per_family(t, "True distance (TTL)", "True distance (hop limit)"), t->true_distance);
	if (t->confidence && t->confidence[0])
		fact(out, "Confidence", t->confidence);
	if (t->rebuilt_from_replies)
		snprintf(buf, sizeof buf, "not in the capture; %" PRIu32 " answers", t->answered);
	else
		snprintf(buf, sizeof buf, "%" PRIu32 " sent, %" PRIu32 " answered", t->probes,
			 t->answered);
	fact(out, "Probes", buf);
	if (process_name_of(cm, t->process))
		fact(out, "Sent by", process_name_of(cm, t->process));
	/* From the first TTL probed: traceroute -f starts above 1. */
	snprintf(buf, sizeof buf, "%u\xe2\x80\x93%u", t->hops.len ? t->hops.items[0].ttl : 1u,
		 t->max_ttl);
	/* A trace rebuilt from answers has no probes: its TTLs are estimated from the answers. */
	fact(out,
	     t->rebuilt_from_replies ? per_family(t, "TTLs (estimated from the answers)",
						   "Hop limits (estimated from the answers)")
				     : per_family(t, "TTLs probed", "Hop limits probed"),
	     buf);
	raw(out, "<div>");
	element(out, "dt", NULL, "Capture");
	raw(out, "<dd>");
	capture_label(out, cm, t->capture);
	raw(out, "</dd></div>\n");
	raw(out, "</dl>\n");
}

static void write_hop_row(FILE *out, const struct trace *t, const struct hop *h)
{
	char addr[64], label[sizeof addr + 48], buf[64];
	ip_addr_format(&h->addr, addr, sizeof addr);
	raw(out, h->is_destination ? "<tr class=\"destination\">" : "<tr>");
	cell_u64(out, h->ttl);
	if (h->answers == 0) {
		element(out, "td", "address silent", "*");
	} else {
		snprintf(label, sizeof label, "%s%s%s", addr,
			 h->several_addresses ? " (+ others)" : "",
			 h->is_destination ? " \xe2\x80\x94 destination" : "");
		element(out, "td", "address", label);
	}
	/* A rebuilt trace's probes are not in the capture: "3/0" would read as answers to nothing. */
	if (t->rebuilt_from_replies)
		snprintf(buf, sizeof buf, "%" PRIu32, h->answers);
	else
		snprintf(buf, sizeof buf, "%" PRIu32 "/%" PRIu32, h->answers, h->probes);
	element(out, "td", "num", buf);
	element(out, "td", NULL, h->answers ? reply_kind_name(h->kind) : "");
	if (h->answers)
		cell_u64(out, h->reply_ttl);
	else
		element(out, "td", "num", "");
	if (h->answers && reply_is_icmp_error(h->kind))
		cell_u64(out, h->quoted_ttl);
	else
		element(out, "td", "num", "");
	if (h->answers && h->rtt_ns >= 0)
		format_ms(h->rtt_ns, buf, sizeof buf);
	else
		buf[0] = '\0';
	element(out, "td", "num", buf);
	cell_frame(out, h->probe_frame);
	cell_frame(out, h->reply_frame);
	raw(out, "</tr>\n");
}

static void write_hop_table(FILE *out, const struct trace *t)
{
	raw(out, "<table class=\"hops\">\n<thead><tr>");
	const char *const heads[] = { per_family(t, "TTL", "Hop limit"),
				      "Address",
				      "Answers",
				      "Reply",
				      per_family(t, "Reply TTL", "Reply hop limit"),
				      per_family(t, "Quoted TTL", "Quoted hop limit"),
				      "RTT ms",
				      "Probe frame",
				      "Reply frame" };
	for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++)
		element(out, "th", NULL, heads[i]);
	raw(out, "</tr></thead>\n<tbody>\n");
	for (size_t i = 0; i < t->hops.len; i++)
		write_hop_row(out, t, &t->hops.items[i]);
	if (t->hops.len == 0) {
		raw(out, "<tr><td colspan=\"9\" class=\"muted\">");
		text(out, "No hop: no probe of this trace was answered.");
		raw(out, "</td></tr>\n");
	}
	raw(out, "</tbody>\n</table>\n");
}

static void write_raw_row(FILE *out, const struct case_model *cm, const struct trace *t,
			  const struct request *r)
{
	char buf[96];
	raw(out, "<tr>");
	cell_u64(out, r->frame);
	format_ms(r->ts_ns - t->first_ts_ns, buf, sizeof buf);
	element(out, "td", "num", buf);
	cell_u64(out, r->ttl);
	cell_u64(out, r->ip_id);
	if (r->counterpart >= 0 && (size_t)r->counterpart < cm->requests.len) {
		const struct request *copy = &cm->requests.items[r->counterpart];
		snprintf(buf, sizeof buf, "%" PRIu64 " (%s %u)", copy->frame, per_family(t, "TTL", "hop limit"),
			 copy->ttl);
		element(out, "td", "num", buf);
	} else {
		element(out, "td", "num muted", "\xe2\x80\x93");
	}
	if (r->reply < 0 || (size_t)r->reply >= cm->replies.len) {
		raw(out, "<td colspan=\"7\" class=\"muted\">");
		text(out, "no answer");
		raw(out, "</td></tr>\n");
		return;
	}
	const struct reply *a = &cm->replies.items[r->reply];
	cell_u64(out, a->frame);
	ip_addr_format(&a->src, buf, sizeof buf);
	element(out, "td", "address", buf);
	element(out, "td", NULL, reply_kind_name(a->kind));
	cell_u64(out, a->ttl);
	if (a->quoted)
		cell_u64(out, a->quoted_ttl);
	else
		element(out, "td", "num", "");
	format_ms(a->rtt_ns, buf, sizeof buf);
	element(out, "td", "num", buf);
	element(out, "td", NULL, match_method_name(a->method));
	raw(out, "</tr>\n");
}

static void write_raw_probes(FILE *out, const struct case_model *cm, const struct trace *t,
			     const struct trace_members *g, size_t index)
{
	if (!g->first)
		return;
	size_t first = g->first[index], count = g->first[index + 1] - first, shown = 0;
	size_t in_capture = 0;
	for (size_t i = 0; i < count; i++)
		in_capture += cm->requests.items[g->items[first + i]].capture == t->capture;
	if (in_capture == 0)
		return;
	raw(out, "<details class=\"raw\">\n<summary>");
	textf(out, "All %zu probes of this trace and their answers", in_capture);
	raw(out, "</summary>\n<table class=\"raw-probes\">\n<thead><tr>");
	const char *const heads[] = { "Probe frame",
				      "+ms",
				      per_family(t, "TTL", "Hop limit"),
				      "IP ID",
				      "Host copy",
				      "Reply frame",
				      "From",
				      "Reply",
				      per_family(t, "Reply TTL", "Reply hop limit"),
				      per_family(t, "Quoted TTL", "Quoted hop limit"),
				      "RTT ms",
				      "Matched by" };
	for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++)
		element(out, "th", NULL, heads[i]);
	raw(out, "</tr></thead>\n<tbody>\n");
	for (size_t i = 0; i < count && shown < MAX_RAW_ROWS; i++) {
		const struct request *r = &cm->requests.items[g->items[first + i]];
		if (r->capture != t->capture)
			continue; /* the host's copies appear beside their guest probe */
		write_raw_row(out, cm, t, r);
		shown++;
	}
	raw(out, "</tbody>\n</table>\n");
	if (shown < in_capture) {
		raw(out, "<p class=\"muted\">");
		textf(out, "The first %zu of %zu probes are shown.", shown, in_capture);
		raw(out, "</p>\n");
	}
	raw(out, "</details>\n");
}

static void write_trace(FILE *out, const struct case_model *cm, const struct trace *t, size_t index,
			const struct trace_members *g)
{
	fprintf(out, "<article class=\"trace\" id=\"trace-%zu\">\n", index);
	raw(out, "<div class=\"trace-head\">");
	raw(out, "<h3>");
	trace_title(out, t);
	raw(out, "</h3>");
	badge(out, t->verdict);
	raw(out, "</div>\n");
	element(out, "p", "reason", t->reason);
	raw(out, "\n");
	write_trace_facts(out, cm, t);
	raw(out, "<figure class=\"path-figure\">\n");
	svg_write_path(out, t, index);
	raw(out, "<figcaption>");
	text(out, "The path as the guest (the VM that ran the trace) saw it, one node per probe TTL; "
		  "* marks a TTL no one answered.");
	raw(out, "</figcaption>\n</figure>\n");
	write_hop_table(out, t);
	write_raw_probes(out, cm, t, g, index);
	raw(out, "</article>\n");
}

static void write_trace_index_lead(FILE *out, const struct case_model *cm, const bool *drawn)
{
	size_t n_drawn = 0;
	for (size_t i = 0; i < cm->traces.len; i++)
		n_drawn += drawn[i];
	textf_element(out, "p", "lead",
		      "This case holds %zu traces. The %zu drawn below are chosen and ordered by "
		      "verdict (TTL reset first, then inconclusive, then healthy, each in capture "
		      "order); the index after them lists every trace. report.xml and case.sqlite "
		      "hold all of them with their hops.",
		      cm->traces.len, n_drawn);
	raw(out, "\n");
}

/* One line per trace, for cases with more traces than the page draws. */
static void write_trace_index(FILE *out, const struct case_model *cm, const bool *drawn)
{
	raw(out, "<h3 id=\"trace-index\">");
	textf(out, "Every trace (%zu)", cm->traces.len);
	raw(out, "</h3>\n<table class=\"trace-index\">\n<thead><tr>");
	static const char *const heads[] = { "#", "Trace", "Verdict", "Reached at TTL", "Probes", "Answered" };
	for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++)
		element(out, "th", NULL, heads[i]);
	raw(out, "</tr></thead>\n<tbody>\n");
	for (size_t i = 0; i < cm->traces.len; i++) {
		const struct trace *t = &cm->traces.items[i];
		raw(out, "<tr>");
		cell_u64(out, i + 1);
		raw(out, "<td>");
		if (drawn[i])
			fprintf(out, "<a href=\"#trace-%zu\">", i);
		trace_title(out, t);
		if (drawn[i])
			raw(out, "</a>");
		raw(out, "</td><td>");
		badge(out, t->verdict);
		raw(out, "</td>");
		if (t->reached_ttl)
			cell_u64(out, t->reached_ttl);
		else
			element(out, "td", "num muted", "not reached");
		cell_u64(out, t->probes);
		cell_u64(out, t->answered);
		raw(out, "</tr>\n");
	}
	raw(out, "</tbody>\n</table>\n");
}

static void write_traces(FILE *out, const struct case_model *cm, const bool *drawn)
{
	raw(out, "<section id=\"traces\">\n");
	element(out, "h2", NULL, "Traces");
	raw(out, "\n");
	if (cm->traces.len == 0) {
		element(out, "p", "muted", "No traceroute was found in the captures.");
		raw(out, "\n");
	}
	bool indexed = cm->traces.len > REPORT_DRAWN_TRACES_MAX;
	if (indexed)
		write_trace_index_lead(out, cm, drawn);
	/* Out of memory leaves g empty: the raw tables are left out; the rest still helps. */
	struct trace_members g;
	trace_members_build(cm, &g);
	if (indexed) {
		/* A big case is a selection: drawn in the order it was chosen (see drawn_traces.h). */
		for (size_t p = 0; p < DRAWN_TRACES_PRIORITIES; p++)
			for (size_t i = 0; i < cm->traces.len; i++)
				if (drawn[i] && cm->traces.items[i].verdict == drawn_traces_priority[p])
					write_trace(out, cm, &cm->traces.items[i], i, &g);
	} else {
		for (size_t i = 0; i < cm->traces.len; i++)
			if (drawn[i])
				write_trace(out, cm, &cm->traces.items[i], i, &g);
	}
	if (indexed)
		write_trace_index(out, cm, drawn);
	trace_members_free(&g);
	raw(out, "</section>\n");
}

static void write_evidence_row(FILE *out, const struct case_model *cm, const struct evidence *e)
{
	char buf[64];
	const char *side = capture_side_of(cm, e->capture);
	raw(out, "<tr>");
	snprintf(buf, sizeof buf, "%s, frame %" PRIu64, side ? side : "unknown capture", e->frame);
	element(out, "td", "where", buf);
	element(out, "td", NULL, e->role ? e->role : "");
	element(out, "td", "muted", side ? cm->captures[e->capture].name : "");
	raw(out, "<td>");
	snprintf(buf, sizeof buf, "frame.number == %" PRIu64, e->frame);
	element(out, "code", "filter", buf);
	raw(out, "</td></tr>\n");
}

static void write_finding(FILE *out, const struct case_model *cm, const struct finding *f)
{
	raw(out, "<li class=\"finding\">\n<div class=\"finding-head\">");
	element(out, "code", "kind", finding_name(f->kind));
	if (f->trace >= 0 && (size_t)f->trace < cm->traces.len) {
		fprintf(out, " <a href=\"#trace-%" PRId32 "\">", f->trace);
		trace_title(out, &cm->traces.items[f->trace]);
		raw(out, "</a>");
	}
	raw(out, "</div>\n");
	element(out, "p", NULL, f->text);
	raw(out, "\n");
	if (f->evidence.len > 0) {
		raw(out, "<table class=\"evidence\">\n<thead><tr>");
		element(out, "th", NULL, "Where");
		element(out, "th", NULL, "Role");
		element(out, "th", NULL, "File");
		element(out, "th", NULL, "Wireshark display filter");
		raw(out, "</tr></thead>\n<tbody>\n");
		for (size_t i = 0; i < f->evidence.len; i++)
			write_evidence_row(out, cm, &f->evidence.items[i]);
		raw(out, "</tbody>\n</table>\n");
	}
	raw(out, "</li>\n");
}

/* Findings about traces the page does not draw: how many of each kind. */
static void write_findings_left_out(FILE *out, const struct case_model *cm, const bool *drawn)
{
	size_t counts[FINDING_COUNT] = { 0 }, total = 0;
	for (size_t i = 0; i < cm->findings.len; i++) {
		const struct finding *f = &cm->findings.items[i];
		if (f->trace >= 0 && (size_t)f->trace < cm->traces.len && !drawn[f->trace]) {
			counts[f->kind]++;
			total++;
		}
	}
	if (total == 0)
		return;
	textf_element(out, "p", "muted",
		      "%zu more findings concern traces not drawn above; report.xml lists them with "
		      "their frames. By kind:", total);
	raw(out, "\n<ul class=\"left-out\">\n");
	for (int k = 0; k < FINDING_COUNT; k++)
		if (counts[k]) {
			raw(out, "<li>");
			element(out, "code", "kind", finding_name((enum finding_kind)k));
			textf(out, ": %zu", counts[k]);
			raw(out, "</li>\n");
		}
	raw(out, "</ul>\n");
}

static bool finding_shown(const struct case_model *cm, const struct finding *f, const bool *drawn)
{
	return f->trace < 0 || (size_t)f->trace >= cm->traces.len || drawn[f->trace];
}

static void write_findings(FILE *out, const struct case_model *cm, const bool *drawn)
{
	raw(out, "<section id=\"evidence\">\n");
	element(out, "h2", NULL, "Evidence");
	raw(out, "\n");
	if (cm->findings.len == 0) {
		element(out, "p", "muted", "No finding.");
		raw(out, "\n");
	} else {
		element(out, "p", "lead",
			"Each finding with the frames that show it. Open the capture in Wireshark "
			"and paste the display filter to see the packet.");
		raw(out, "\n<ol class=\"findings\">\n");
		for (size_t i = 0; i < cm->findings.len; i++)
			if (finding_shown(cm, &cm->findings.items[i], drawn))
				write_finding(out, cm, &cm->findings.items[i]);
		raw(out, "</ol>\n");
		write_findings_left_out(out, cm, drawn);
	}
	raw(out, "</section>\n");
}

static void capture_row_start(FILE *out, const char *name)
{
	raw(out, "<tr>");
	element(out, "th", NULL, name);
}

static void capture_row(FILE *out, const struct case_model *cm, const char *name,
			void (*value)(FILE *out, const struct capture *c))
{
	capture_row_start(out, name);
	for (uint32_t i = 0; i < cm->n_captures && i < 2; i++) {
		raw(out, "<td>");
		value(out, &cm->captures[i]);
		raw(out, "</td>");
	}
	raw(out, "</tr>\n");
}

static void show_name(FILE *out, const struct capture *c)
{
	element(out, "strong", NULL, c->name);
}

static void show_side(FILE *out, const struct capture *c)
{
	text(out, side_name(c->side));
}

static void show_path(FILE *out, const struct capture *c)
{
	element(out, "span", "mono", c->path ? c->path : "");
}

static void show_sha256(FILE *out, const struct capture *c)
{
	element(out, "span", "mono hash", c->sha256_hex);
}

static void show_format(FILE *out, const struct capture *c)
{
	textf(out, "%s, %" PRIu64 " bytes", c->format ? c->format : "unknown", c->file_bytes);
}

static void show_linktype(FILE *out, const struct capture *c)
{
	textf(out, "%s (%d), snap length %" PRIu32, linktype_label(c->linktype), c->linktype,
	      c->snaplen);
}

static void show_packets(FILE *out, const struct capture *c)
{
	textf(out, "%" PRIu64 " frames, %" PRIu64 " IP, %" PRIu64 " probes and answers kept",
	      c->packets, c->ip_packets, c->interesting);
}

static void show_span(FILE *out, const struct capture *c)
{
	char first[TIMESTAMP_SIZE], last[TIMESTAMP_SIZE], length[MS_SIZE];
	if (c->packets == 0 || !format_timestamp(c->first_ts_ns, first, sizeof first) ||
	    !format_timestamp(c->last_ts_ns, last, sizeof last)) {
		element(out, "span", "muted", "no frame");
		return;
	}
	/* Nanoseconds read as microseconds: format_ms then gives seconds. */
	format_ms((c->last_ts_ns - c->first_ts_ns) / 1000, length, sizeof length);
	element(out, "span", "mono", first);
	raw(out, "<br/>");
	element(out, "span", "mono", last);
	raw(out, "<br/>");
	textf(out, "(%s s)", length);
}

static void show_anomalies(FILE *out, const struct capture *c)
{
	bool any = false;
	for (int a = 0; a < ANOMALY_COUNT; a++) {
		if (c->anomaly_counts[a] == 0)
			continue;
		raw(out, any ? "<br/>" : "");
		element(out, "code", NULL, anomaly_name((enum anomaly)a));
		textf(out, " \xc3\x97 %" PRIu64, c->anomaly_counts[a]);
		any = true;
	}
	if (!any)
		element(out, "span", "muted", "none");
	else
		textf(out, " (%" PRIu64 " frames)", c->anomalous_packets);
}

static void show_completeness(FILE *out, const struct capture *c)
{
	if (!c->cut_short) {
		text(out, "read to the end");
		return;
	}
	raw(out, "<span class=\"warning-text\">");
	text(out, "Cut short: analysed up to the cut.");
	raw(out, "</span>");
	if (c->warning[0]) {
		raw(out, "<br/>");
		element(out, "span", "mono", c->warning);
	}
}

static void write_captures(FILE *out, const struct case_model *cm)
{
	raw(out, "<section id=\"captures\">\n");
	element(out, "h2", NULL, "Captures");
	raw(out, "\n");
	if (cm->n_captures == 0) {
		element(out, "p", "muted", "No capture was read.");
		raw(out, "\n</section>\n");
		return;
	}
	for (uint32_t i = 0; i < cm->n_captures && i < 2; i++) {
		const struct capture *c = &cm->captures[i];
		if (!c->cut_short)
			continue;
		raw(out, "<p class=\"callout\">");
		textf(out, "The %s capture ", side_name(c->side));
		element(out, "strong", NULL, c->name);
		text(out, " ended inside a record; it was analysed up to the cut.");
		raw(out, "</p>\n");
	}
	raw(out, "<table class=\"captures\">\n<tbody>\n");
	capture_row(out, cm, "File", show_name);
	capture_row(out, cm, "Side", show_side);
	capture_row(out, cm, "Path", show_path);
	capture_row(out, cm, "SHA-256", show_sha256);
	capture_row(out, cm, "Format", show_format);
	capture_row(out, cm, "Link type", show_linktype);
	capture_row(out, cm, "Packets", show_packets);
	capture_row(out, cm, "First and last frame (UTC)", show_span);
	capture_row(out, cm, "Decoder anomalies", show_anomalies);
	capture_row(out, cm, "Completeness", show_completeness);
	raw(out, "</tbody>\n</table>\n</section>\n");
}

static void write_correlation(FILE *out, const struct case_model *cm)
{
	if (!cm->correlated)
		return;
	char offset[MS_SIZE], buf[MS_SIZE + 8];
	format_ms(cm->clock_offset_ns, offset, sizeof offset);
	snprintf(buf, sizeof buf, "%s%s ms", cm->clock_offset_ns > 0 ? "+" : "", offset);
	raw(out, "<section id=\"correlation\">\n");
	element(out, "h2", NULL, "Guest and host captures lined up");
	raw(out, "\n<dl class=\"facts\">\n");
	fact(out, "Host clock minus guest clock", buf);
	snprintf(buf, sizeof buf, "%" PRIu32, cm->correlated_requests);
	fact(out, "Probes seen in both captures", buf);
	raw(out, "</dl>\n</section>\n");
}

static void write_tail(FILE *out)
{
	raw(out, "</main>\n<footer>");
	textf(out,
	      "ttlsleuth %s \xc2\xb7 report format %s \xc2\xb7 "
	      "frame numbers count from 1, as in Wireshark",
	      TTLSLEUTH_VERSION, REPORT_FORMAT_VERSION);
	raw(out, "</footer>\n</body>\n</html>\n");
}

int report_write_html(const struct case_model *cm, FILE *out)
{
	bool *drawn = choose_drawn_traces(cm, REPORT_DRAWN_TRACES_MAX);
	if (!drawn)
		return -1;
	write_head(out, cm);
	write_verdict(out, cm);
	write_traces(out, cm, drawn);
	write_findings(out, cm, drawn);
	free(drawn);
	write_captures(out, cm);
	write_correlation(out, cm);
	write_tail(out);
	if (fflush(out) != 0 || ferror(out))
		return -1;
	return 0;
}
