/*
 * The XML report (reports/report.xsd describes it). libxml2's text writer does
 * the escaping; every string reaches it through text_sanitize, because
 * libxml2 would otherwise pass bytes that are not UTF-8 straight through, or
 * write characters no XML parser accepts back.
 *
 * Attributes that the model marks unknown (-1, 0 frames, no answer) are left
 * out rather than written with a placeholder, so that a reader can tell "not
 * known" from a value.
 */
#include <inttypes.h>
#include <stdlib.h>

#include <libxml/parser.h>
#include <libxml/xmlwriter.h>

#include "reports/common.h"
#include "reports/escape.h"
#include "reports/report.h"

/* Each helper does nothing once a write failed, so the walk needs no error paths. */
struct xml_out {
	xmlTextWriterPtr w;
	bool failed;
};

static void check(struct xml_out *x, int rc)
{
	if (rc < 0)
		x->failed = true;
}

static void start(struct xml_out *x, const char *name)
{
	if (!x->failed)
		check(x, xmlTextWriterStartElement(x->w, BAD_CAST name));
}

static void end(struct xml_out *x)
{
	if (!x->failed)
		check(x, xmlTextWriterEndElement(x->w));
}

static void attr(struct xml_out *x, const char *name, const char *value)
{
	if (x->failed)
		return;
	char *clean = text_sanitize(value);
	if (!clean) {
		x->failed = true;
		return;
	}
	check(x, xmlTextWriterWriteAttribute(x->w, BAD_CAST name, BAD_CAST clean));
	free(clean);
}

static void attr_u64(struct xml_out *x, const char *name, uint64_t value)
{
	char text[24];
	snprintf(text, sizeof text, "%" PRIu64, value);
	attr(x, name, text);
}

static void attr_i64(struct xml_out *x, const char *name, int64_t value)
{
	char text[24];
	snprintf(text, sizeof text, "%" PRId64, value);
	attr(x, name, text);
}

/* For the model's "-1 means unknown" fields. */
static void attr_if_known(struct xml_out *x, const char *name, int value)
{
	if (known_ttl(value) >= 0)
		attr_u64(x, name, (uint64_t)value);
}

static void attr_frame(struct xml_out *x, const char *name, uint64_t frame)
{
	if (frame > 0)
		attr_u64(x, name, frame);
}

static void attr_timestamp(struct xml_out *x, const char *name, int64_t ns)
{
	char text[TIMESTAMP_SIZE];
	if (format_timestamp(ns, text, sizeof text))
		attr(x, name, text);
}

static void attr_address(struct xml_out *x, const char *name, const struct ip_addr *a)
{
	char text[64];
	ip_addr_format(a, text, sizeof text);
	attr(x, name, text);
}

static void text_element(struct xml_out *x, const char *name, const char *text)
{
	start(x, name);
	if (!x->failed) {
		char *clean = text_sanitize(text);
		if (!clean) {
			x->failed = true;
			return;
		}
		check(x, xmlTextWriterWriteString(x->w, BAD_CAST clean));
		free(clean);
	}
	end(x);
}

static void write_diagnosis(struct xml_out *x, const struct case_model *cm)
{
	struct protocol_tally tally[PROTOCOL_KINDS];
	tally_protocols(cm, tally);

	start(x, "diagnosis");
	attr(x, "verdict", verdict_name(cm->verdict));
	if (cm->nat_family) {
		attr(x, "nat-family", cm->nat_family);
		attr(x, "nat-confidence", cm->nat_confidence);
	}
	text_element(x, "summary", cm->summary);
	text_element(x, "remedy", cm->remedy);
	/* The per-protocol picture: users compare TCP with UDP and ICMP first. */
	static const enum trace_protocol order[] = {PROTO_TCP, PROTO_UDP, PROTO_ICMP};
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		const struct protocol_tally *t = &tally[order[i]];
		if (t->traces == 0)
			continue;
		start(x, "protocol");
		attr(x, "name", protocol_name(order[i]));
		attr_u64(x, "traces", t->traces);
		attr_u64(x, "ttl-reset", t->by_verdict[VERDICT_TTL_RESET]);
		attr_u64(x, "no-ttl-reset", t->by_verdict[VERDICT_NO_TTL_RESET]);
		attr_u64(x, "inconclusive", t->by_verdict[VERDICT_INCONCLUSIVE]);
		end(x);
	}
	end(x);
}

static void write_capture(struct xml_out *x, const struct capture *c, uint32_t index)
{
	start(x, "capture");
	attr_u64(x, "index", index);
	attr(x, "side", side_name(c->side));
	attr(x, "name", c->name);
	if (c->path)
		attr(x, "path", c->path);
	if (c->sha256_hex[0])
		attr(x, "sha256", c->sha256_hex);
	attr_u64(x, "file-bytes", c->file_bytes);
	if (c->format)
		attr(x, "format", c->format);
	attr_i64(x, "linktype", c->linktype);
	attr_u64(x, "snaplen", c->snaplen);
	attr_u64(x, "packets", c->packets);
	attr_u64(x, "ip-packets", c->ip_packets);
	attr_u64(x, "interesting", c->interesting);
	/* With no frame read the timestamps are not times of anything. */
	if (c->packets > 0) {
		attr_timestamp(x, "first", c->first_ts_ns);
		attr_timestamp(x, "last", c->last_ts_ns);
	}
	attr(x, "cut-short", c->cut_short ? "true" : "false");
	attr_u64(x, "anomalous-packets", c->anomalous_packets);
	if (c->warning[0])
		text_element(x, "warning", c->warning);
	for (int a = 0; a < ANOMALY_COUNT; a++) {
		if (c->anomaly_counts[a] == 0)
			continue;
		start(x, "anomaly");
		attr(x, "name", anomaly_name((enum anomaly)a));
		attr_u64(x, "count", c->anomaly_counts[a]);
		end(x);
	}
	end(x);
}

static void write_captures(struct xml_out *x, const struct case_model *cm)
{
	start(x, "captures");
	for (uint32_t i = 0; i < cm->n_captures && i < 2; i++)
		write_capture(x, &cm->captures[i], i);
	end(x);
}

static void write_correlation(struct xml_out *x, const struct case_model *cm)
{
	if (!cm->correlated)
		return;
	start(x, "correlation");
	attr_i64(x, "clock-offset-ns", cm->clock_offset_ns);
	attr_u64(x, "correlated-requests", cm->correlated_requests);
	end(x);
}

static void write_mpls(struct xml_out *x, const struct case_model *cm, const struct hop *h)
{
	if (h->reply < 0 || (size_t)h->reply >= cm->replies.len)
		return;
	const struct reply *r = &cm->replies.items[h->reply];
	for (uint32_t i = 0; i < r->mpls_count && r->mpls_first + i < cm->mpls.len; i++) {
		const struct mpls_entry *m = &cm->mpls.items[r->mpls_first + i];
		start(x, "mpls");
		attr_u64(x, "label", m->label);
		attr_u64(x, "tc", m->tc);
		attr_u64(x, "bottom", m->bottom);
		attr_u64(x, "ttl", m->ttl);
		end(x);
	}
}

static void write_hop(struct xml_out *x, const struct case_model *cm, const struct hop *h)
{
	start(x, "hop");
	attr_u64(x, "ttl", h->ttl);
	/* A silent hop keeps its place with an empty address: readers index by TTL. */
	attr_address(x, "address", &h->addr);
	attr_u64(x, "probes", h->probes);
	attr_u64(x, "answers", h->answers);
	if (h->answers > 0) {
		attr(x, "kind", reply_kind_name(h->kind));
		attr_u64(x, "reply-ttl", h->reply_ttl);
		if (reply_is_icmp_error(h->kind))
			attr_u64(x, "quoted-ttl", h->quoted_ttl);
		if (h->rtt_ns >= 0) {
			char ms[MS_SIZE];
			format_ms(h->rtt_ns, ms, sizeof ms);
			attr(x, "rtt-ms", ms);
		}
	}
	if (h->is_destination)
		attr(x, "destination", "true");
	if (h->several_addresses)
		attr(x, "several-addresses", "true");
	attr_frame(x, "probe-frame", h->probe_frame);
	attr_frame(x, "reply-frame", h->reply_frame);
	write_mpls(x, cm, h);
	end(x);
}

static void write_trace(struct xml_out *x, const struct case_model *cm, const struct trace *t,
			size_t index)
{
	start(x, "trace");
	attr_u64(x, "index", index);
	attr(x, "protocol", protocol_name(t->proto));
	if (t->rebuilt_from_replies)
		attr(x, "rebuilt-from-replies", "true");
	if (process_name_of(cm, t->process))
		attr(x, "process", process_name_of(cm, t->process));
	attr_address(x, "source", &t->src);
	attr_address(x, "destination", &t->dst);
	if ((t->proto == PROTO_TCP || t->proto == PROTO_UDP) && t->dport != 0) /* 0: a quote without ports */
		attr_u64(x, "dport", t->dport);
	const char *side = capture_side_of(cm, t->capture);
	if (side)
		attr(x, "capture", side);
	attr(x, "verdict", verdict_name(t->verdict));
	if (t->direction != DIRECTION_UNKNOWN)
		attr(x, "direction", direction_name(t->direction));
	attr_if_known(x, "reset-ttl", t->reset_ttl);
	attr_if_known(x, "egress-ttl", t->egress_ttl);
	attr_if_known(x, "ingress-ttl", t->ingress_ttl);
	attr_if_known(x, "true-distance", t->true_distance);
	if (t->confidence && t->confidence[0]) /* "" for inconclusive traces */
		attr(x, "confidence", t->confidence);
	attr_u64(x, "probes", t->probes);
	attr_u64(x, "answered", t->answered);
	attr_u64(x, "max-ttl", t->max_ttl);
	if (t->reached_ttl > 0)
		attr_u64(x, "reached-ttl", t->reached_ttl);
	if (t->probes > 0 || t->rebuilt_from_replies) {
		attr_timestamp(x, "first", t->first_ts_ns);
		attr_timestamp(x, "last", t->last_ts_ns);
	}
	text_element(x, "reason", t->reason);
	for (size_t i = 0; i < t->hops.len; i++)
		write_hop(x, cm, &t->hops.items[i]);
	end(x);
}

static void write_traces(struct xml_out *x, const struct case_model *cm)
{
	start(x, "traces");
	for (size_t i = 0; i < cm->traces.len; i++)
		write_trace(x, cm, &cm->traces.items[i], i);
	end(x);
}

static void write_finding(struct xml_out *x, const struct case_model *cm, const struct finding *f)
{
	start(x, "finding");
	attr(x, "kind", finding_name(f->kind));
	if (f->trace >= 0 && (size_t)f->trace < cm->traces.len)
		attr_u64(x, "trace", (uint64_t)f->trace);
	text_element(x, "text", f->text);
	for (size_t i = 0; i < f->evidence.len; i++) {
		const struct evidence *e = &f->evidence.items[i];
		const char *side = capture_side_of(cm, e->capture);
		/* Evidence must be findable in Wireshark; a pointer to nowhere is not evidence. */
		if (!side || e->frame == 0)
			continue;
		start(x, "evidence");
		attr(x, "capture", side);
		attr_u64(x, "frame", e->frame);
		if (e->role && e->role[0])
			attr(x, "role", e->role);
		end(x);
	}
	end(x);
}

static void write_findings(struct xml_out *x, const struct case_model *cm)
{
	start(x, "findings");
	for (size_t i = 0; i < cm->findings.len; i++)
		write_finding(x, cm, &cm->findings.items[i]);
	end(x);
}

static void write_report(struct xml_out *x, const struct case_model *cm)
{
	check(x, xmlTextWriterSetIndent(x->w, 1));
	check(x, xmlTextWriterSetIndentString(x->w, BAD_CAST "  "));
	if (!x->failed)
		check(x, xmlTextWriterStartDocument(x->w, "1.0", "UTF-8", NULL));
	start(x, "report");
	attr(x, "version", REPORT_FORMAT_VERSION);
	attr(x, "tool-version", TTLSLEUTH_VERSION);
	write_diagnosis(x, cm);
	write_captures(x, cm);
	write_correlation(x, cm);
	write_traces(x, cm);
	write_findings(x, cm);
	end(x);
	if (!x->failed)
		check(x, xmlTextWriterEndDocument(x->w));
	if (!x->failed)
		check(x, xmlTextWriterFlush(x->w));
}

void report_init(void)
{
	xmlInitParser();
}

int report_write_xml(const struct case_model *cm, FILE *out)
{
	/* Created without an encoder: the sanitised UTF-8 goes out as it is. The
	 * buffer flushes into out but never closes it. */
	xmlOutputBufferPtr buffer = xmlOutputBufferCreateFile(out, NULL);
	if (!buffer)
		return -1;
	struct xml_out x = {.w = xmlNewTextWriter(buffer), .failed = false};
	if (!x.w) {
		xmlOutputBufferClose(buffer);
		return -1;
	}
	write_report(&x, cm);
	xmlFreeTextWriter(x.w); /* closes the buffer too */
	/* libxml2 ends the document without a line end; text tools want one. */
	if (!x.failed && fputc('\n', out) == EOF)
		x.failed = true;
	if (fflush(out) != 0 || ferror(out))
		x.failed = true;
	return x.failed ? -1 : 0;
}
