#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/diagnose.h"
#include "analyzer/nat_family.h"
#include "analyzer/trace_members.h"
#include "analyzer/traces.h"

enum { MAX_EVIDENCE_PER_FINDING = 12 };

int initial_ttl_guess(int ttl)
{
	static const int initial[] = { 32, 64, 128, 255 };
	for (size_t i = 0; i < sizeof initial / sizeof initial[0]; i++)
		if (ttl <= initial[i])
			return initial[i];
	return 255;
}

static bool is_initial_ttl(int ttl)
{
	return ttl == 64 || ttl == 128 || ttl == 255;
}

/*
 * IPv6 calls the TTL the hop limit. The sentences about a trace say "TTL";
 * for an IPv6 trace they are reworded once written. Only per-trace texts go
 * through here, whose arguments are addresses, protocols and numbers, never
 * a name from the input that could hold the letters.
 */
static void reword_for_ipv6(char *text, size_t size)
{
	char out[1024];
	size_t n = 0;
	for (const char *p = text; *p && n + 1 < sizeof out; p++) {
		if (!strncmp(p, "TTL", 3) && n + sizeof "hop limit" < sizeof out) {
			/* A sentence may begin with it (". TTL 1 reaches it"). */
			bool starts = n == 0 || (n >= 2 && out[n - 1] == ' ' && strchr(".!?", out[n - 2]));
			memcpy(out + n, starts ? "Hop limit" : "hop limit", sizeof "hop limit" - 1);
			n += sizeof "hop limit" - 1;
			p += 2;
		} else {
			out[n++] = *p;
		}
	}
	/* Cut to fit, as the writers of these texts cut theirs. */
	if (n >= size)
		n = size - 1;
	memcpy(text, out, n);
	text[n] = '\0';
}

static bool trace_is_ipv6(const struct case_model *cm, int32_t trace)
{
	return trace >= 0 && (size_t)trace < cm->traces.len && cm->traces.items[trace].dst.family == 6;
}

static struct finding *add_finding(struct case_model *cm, enum finding_kind kind, int32_t trace,
				   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static struct finding *add_finding(struct case_model *cm, enum finding_kind kind, int32_t trace,
				   const char *fmt, ...)
{
	struct finding *f = VEC_PUSH(&cm->findings);
	if (!f)
		return NULL;
	f->kind = kind;
	f->trace = trace;
	VEC_INIT(&f->evidence, MAX_EVIDENCE_PER_FINDING);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->text, sizeof f->text, fmt, ap);
	va_end(ap);
	if (trace_is_ipv6(cm, trace))
		reword_for_ipv6(f->text, sizeof f->text);
	return f;
}

/* Frame 0 is "no frame" (a trace rebuilt from answers has no probe frames): not evidence. */
static void add_evidence(struct finding *f, uint32_t capture, uint64_t frame, const char *role)
{
	if (!f || frame == 0)
		return;
	struct evidence *e = VEC_PUSH(&f->evidence);
	if (e) {
		e->capture = capture;
		e->frame = frame;
		e->role = role;
	}
}

static void append(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void append(char *buf, size_t size, const char *fmt, ...)
{
	size_t used = strlen(buf);
	if (used + 1 >= size)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + used, size - used, fmt, ap);
	va_end(ap);
}

static void format_addr(const struct ip_addr *a, char out[64])
{
	ip_addr_format(a, out, 64);
}

/* What the trace's own packets and the other traces say; gathered before deciding. */
struct signals {
	bool egress_constant, egress_preserved;
	bool ingress_rewritten, ingress_preserved;
	bool early_answer, gateway_then_destination, zero_hop_reply, off_link_first_hop;
	bool on_link; /* the destination showed itself on the guest's link (ARP, neighbour discovery) */
	bool quote_above_sent; /* the destination quotes the probe with more TTL than it was sent with */
	bool silent_after_gateway; /* only TTL 1 was answered, by a router, and nothing after */
	bool path_visible, forged_errors;
	bool one_router_only; /* the path shown is a single router: a NAT's own gateway looks the same */
	/* Every host copy carries the guest's own TTL: the host capture was taken on the
	 * VM's side of the host (its tap or bridge), before anything was forwarded. */
	bool host_saw_arrivals_only;
	int egress_ttl, ingress_ttl, true_distance;
};

/* The host copies of the trace's probes: constant TTL (reset) or k-1 (routed). */
static void check_egress(struct case_model *cm, const struct trace_members *m, int32_t ti,
			 struct signals *s)
{
	const struct trace *t = &cm->traces.items[ti];
	int constant = -1, copies = 0, preserved = 0, distinct_sent = 0, arrivals = 0;
	bool same = true;
	uint8_t last_sent = 0, lowest_copied = 255, highest_copied = 0;
	for (size_t k = m->first[ti]; k < m->first[ti + 1]; k++) {
		const struct request *g = &cm->requests.items[m->items[k]];
		if (g->counterpart < 0)
			continue;
		const struct request *h = &cm->requests.items[g->counterpart];
		/* A copy with the guest's own TTL was seen arriving at the host (a capture on
		 * the VM's side, or tcpdump -i any), not leaving it: it says nothing of egress. */
		if (h->ttl == g->ttl) {
			arrivals++;
			continue;
		}
		copies++;
		lowest_copied = g->ttl < lowest_copied ? g->ttl : lowest_copied;
		highest_copied = g->ttl > highest_copied ? g->ttl : highest_copied;
		if (h->ttl + 1 == g->ttl)
			preserved++;
		if (constant < 0)
			constant = h->ttl;
		else if (constant != h->ttl)
			same = false;
		if (g->ttl != last_sent) {
			distinct_sent++;
			last_sent = g->ttl;
		}
	}
	s->host_saw_arrivals_only = arrivals > 0 && copies == 0;
	if (copies == 0)
		return;
	if (preserved == copies) {
		s->egress_preserved = true;
		struct finding *f = add_finding(
			cm, FINDING_EGRESS_TTL_PRESERVED, ti,
			"The host capture shows the %s probes leaving with the TTL the guest gave them, less one per routing hop (%d of %d probes found on the host side).",
			protocol_label(t->proto), copies, t->probes);
		int shown = 0;
		for (size_t k = m->first[ti]; k < m->first[ti + 1]; k++) {
			const struct request *g = &cm->requests.items[m->items[k]];
			if (g->counterpart >= 0 && shown < 3 &&
			    cm->requests.items[g->counterpart].ttl != g->ttl) {
				add_evidence(f, g->capture, g->frame, "guest probe");
				add_evidence(f, cm->requests.items[g->counterpart].capture,
					     cm->requests.items[g->counterpart].frame, "host copy");
				shown++;
			}
		}
		return;
	}
	/* One TTL sent is enough when the copies left with more than it: TTL never grows. */
	if (!same || preserved == copies || (distinct_sent < 2 && constant <= t->max_ttl))
		return;
	s->egress_constant = true;
	s->egress_ttl = constant;
	char copied[24];
	if (lowest_copied == highest_copied)
		snprintf(copied, sizeof copied, "%u", lowest_copied);
	else
		snprintf(copied, sizeof copied, "%u to %u", lowest_copied, highest_copied);
	struct finding *f = add_finding(
		cm, FINDING_EGRESS_TTL_CONSTANT, ti,
		"Whatever TTL the guest gave its %s probes (%s, of those the host capture shows), the host sent every one of them on with TTL %d: the NAT re-originates the probes instead of forwarding them.",
		protocol_label(t->proto), copied, constant);
	uint8_t shown_ttl = 0;
	for (size_t k = m->first[ti]; k < m->first[ti + 1]; k++) {
		const struct request *g = &cm->requests.items[m->items[k]];
		if (!f || f->evidence.len + 2 > MAX_EVIDENCE_PER_FINDING || g->counterpart < 0 ||
		    g->ttl <= shown_ttl || cm->requests.items[g->counterpart].ttl == g->ttl)
			continue;
		shown_ttl = g->ttl;
		add_evidence(f, g->capture, g->frame, "guest probe");
		add_evidence(f, cm->requests.items[g->counterpart].capture,
			     cm->requests.items[g->counterpart].frame, "host copy");
	}
}

/* Answers from the destination as the host saw them and as the guest got them. */
static void check_ingress(struct case_model *cm, const struct trace_members *m, int32_t ti,
			  struct signals *s)
{
	const struct trace *t = &cm->traces.items[ti];
	int rewritten_to = -1, compared = 0, preserved = 0;
	bool same = true;
	const struct reply *example = NULL;
	for (size_t k = m->first[ti]; k < m->first[ti + 1]; k++) {
		const struct request *g = &cm->requests.items[m->items[k]];
		if (g->reply < 0)
			continue;
		const struct reply *gr = &cm->replies.items[g->reply];
		if (gr->counterpart < 0 || !reply_from_destination(t, gr))
			continue;
		const struct reply *hr = &cm->replies.items[gr->counterpart];
		compared++;
		if (gr->ttl == hr->ttl || gr->ttl + 1 == hr->ttl) {
			preserved++;
			continue;
		}
		if (rewritten_to < 0) {
			rewritten_to = gr->ttl;
			example = gr;
		} else if (rewritten_to != gr->ttl) {
			same = false;
		}
	}
	if (compared == 0)
		return;
	if (preserved == compared) {
		s->ingress_preserved = true;
		return;
	}
	if (!same || !example)
		return;
	const struct reply *hr = &cm->replies.items[example->counterpart];
	s->ingress_rewritten = true;
	s->ingress_ttl = rewritten_to;
	struct finding *f = add_finding(
		cm, FINDING_INGRESS_TTL_REWRITTEN, ti,
		"The destination's answers reached the host with TTL %u but the guest with TTL %d: the NAT re-originates the answers too.",
		hr->ttl, rewritten_to);
	add_evidence(f, hr->capture, hr->frame, "host-side answer");
	add_evidence(f, example->capture, example->frame, "guest-side answer");
}

/* A trace that shows routers answering before its destination: it measured the distance. */
static bool measures_distance(const struct trace *o)
{
	if (o->reached_ttl < 2)
		return false;
	for (size_t h = 0; h + 1 < o->hops.len; h++)
		if (o->hops.items[h].addr.family && !o->hops.items[h].is_destination)
			return true;
	return false;
}

struct trace_ref {
	const struct trace *t;
	int32_t index;
};

/* Same capture, source and destination together; within, the furthest measuring trace first. */
static int compare_for_distance(const void *a, const void *b)
{
	const struct trace_ref *x = a, *y = b;
	if (x->t->capture != y->t->capture)
		return x->t->capture < y->t->capture ? -1 : 1;
	int c = ip_addr_compare(&x->t->src, &y->t->src);
	if (!c)
		c = ip_addr_compare(&x->t->dst, &y->t->dst);
	if (c)
		return c;
	bool mx = measures_distance(x->t), my = measures_distance(y->t);
	if (mx != my)
		return mx ? -1 : 1;
	if (x->t->reached_ttl != y->t->reached_ttl)
		return x->t->reached_ttl > y->t->reached_ttl ? -1 : 1;
	return (x->index > y->index) - (x->index < y->index);
}

/*
 * For each trace, the other trace from the same source (another source may be
 * nearer or farther) to the same destination that shows routers on the way and
 * needs the highest TTL to get there, or -1: how far the destination really is.
 * One sort, not a scan of every trace per trace.
 */
static int32_t *distance_witnesses(const struct case_model *cm)
{
	size_t n = cm->traces.len;
	int32_t *other = malloc((n ? n : 1) * sizeof *other);
	struct trace_ref *refs = malloc((n ? n : 1) * sizeof *refs);
	if (!other || !refs) {
		free(other);
		free(refs);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		refs[i] = (struct trace_ref){ &cm->traces.items[i], (int32_t)i };
	qsort(refs, n, sizeof *refs, compare_for_distance);
	for (size_t start = 0; start < n;) {
		size_t end = start + 1;
		while (end < n && refs[end].t->capture == refs[start].t->capture &&
		       ip_addr_equal(&refs[end].t->src, &refs[start].t->src) &&
		       ip_addr_equal(&refs[end].t->dst, &refs[start].t->dst))
			end++;
		/* The group's best and second best witness, each trace taking the best but itself. */
		int32_t best = -1, second = -1;
		if (measures_distance(refs[start].t))
			best = refs[start].index;
		if (end - start > 1 && measures_distance(refs[start + 1].t))
			second = refs[start + 1].index;
		for (size_t k = start; k < end; k++)
			other[refs[k].index] = refs[k].index == best ? second : best;
		start = end;
	}
	free(refs);
	return other;
}

static const struct hop *destination_hop(const struct trace *t)
{
	return t->reached_ttl ? trace_hop_at(t, t->reached_ttl) : NULL;
}

static int compare_neighbors(const void *a, const void *b)
{
	const struct neighbor_sighting *x = a, *y = b;
	if (x->capture != y->capture)
		return x->capture < y->capture ? -1 : 1;
	int c = ip_addr_compare(&x->addr, &y->addr);
	if (c)
		return c;
	return (x->frame > y->frame) - (x->frame < y->frame);
}

/*
 * The first frame showing the address on the capture's link, or NULL. When both
 * are known, the probe must have gone to that very MAC: a guest that sends to its
 * gateway's MAC routes the probe, whoever else shares the segment.
 */
static const struct neighbor_sighting *on_link(const struct case_model *cm, uint32_t capture,
						const struct ip_addr *addr, const struct request *probe)
{
	size_t lo = 0, hi = cm->neighbors.len;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct neighbor_sighting *n = &cm->neighbors.items[mid];
		int c = n->capture != capture ? (n->capture < capture ? -1 : 1) : ip_addr_compare(&n->addr, addr);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < cm->neighbors.len; i++) {
		const struct neighbor_sighting *n = &cm->neighbors.items[i];
		if (n->capture != capture || !ip_addr_equal(&n->addr, addr))
			break;
		if (!probe || !probe->has_mac || !n->mac_known || !memcmp(probe->dst_mac, n->mac, 6))
			return n;
	}
	return NULL;
}

/* Same /24 (IPv4) or /64 (IPv6): a guess at "on the local link" when the capture shows none. */
static bool same_subnet(const struct ip_addr *a, const struct ip_addr *b)
{
	if (a->family != b->family)
		return false;
	return memcmp(a->b, b->b, a->family == 4 ? 3 : 8) == 0;
}

/*
 * Answers that are not wrong about the TTL but say something about what is in
 * the path: a destination that says "time exceeded" for itself, quotes that a
 * NAT rebuilt, and traces whose probes the capture does not hold.
 */
/*
 * Routers that report the MPLS labels the probe carried (RFC 4950): the path
 * crosses an MPLS network, whose hops may hide or show as fewer, and the
 * labels tell a support engineer which provider's core it is.
 */
static void note_mpls_labels(struct case_model *cm, int32_t ti)
{
	const struct trace *t = &cm->traces.items[ti];
	char where[200] = "";
	struct finding *f = NULL;
	int hops = 0;
	for (size_t i = 0; i < t->hops.len; i++) {
		const struct hop *h = &t->hops.items[i];
		if (h->reply < 0 || cm->replies.items[h->reply].mpls_count == 0 ||
		    cm->replies.items[h->reply].mpls_first >= cm->mpls.len)
			continue;
		const struct reply *r = &cm->replies.items[h->reply];
		const struct mpls_entry *top = &cm->mpls.items[r->mpls_first];
		if (hops < 4)
			append(where, sizeof where, "%s%u at TTL %u", hops ? ", " : "", top->label, h->ttl);
		hops++;
	}
	if (hops == 0)
		return;
	f = add_finding(cm, FINDING_MPLS_LABELS, ti,
			"%d router%s reported the MPLS labels the %s probes carried (RFC 4950; outer label %s%s): the path crosses an MPLS network.",
			hops, hops == 1 ? "" : "s", protocol_label(t->proto), where,
			hops > 4 ? ", ..." : "");
	for (size_t i = 0; i < t->hops.len && f && f->evidence.len < 4; i++) {
		const struct hop *h = &t->hops.items[i];
		if (h->reply >= 0 && cm->replies.items[h->reply].mpls_count)
			add_evidence(f, t->capture, h->reply_frame, "answer with MPLS labels");
	}
}

static void check_odd_answers(struct case_model *cm, int32_t ti)
{
	const struct trace *t = &cm->traces.items[ti];
	char dst[64];
	format_addr(&t->dst, dst);
	note_mpls_labels(cm, ti);
	for (size_t i = 0; i < t->hops.len; i++) {
		const struct hop *h = &t->hops.items[i];
		if (h->kind == REPLY_TIME_EXCEEDED && ip_addr_equal(&h->addr, &t->dst)) {
			struct finding *f = add_finding(
				cm, FINDING_TIME_EXCEEDED_FROM_DESTINATION, ti,
				"At TTL %u the destination %s itself said \"time exceeded\": a proxy or a router answering in its name. It is not taken as the end of the path.",
				h->ttl, dst);
			add_evidence(f, t->capture, h->reply_frame, "time exceeded");
			break;
		}
	}
	/* What a NAT changed in the quotes it relayed or rebuilt; each a named anomaly. */
	static const struct {
		enum anomaly anomaly;
		const char *words;
	} rewrites[] = {
		{ ANOMALY_QUOTE_FIELDS_BYTE_SWAPPED, "IP ID and length byte-swapped" },
		{ ANOMALY_QUOTE_BAD_CHECKSUM, "wrong header checksum" },
		{ ANOMALY_QUOTE_ECHO_ID_REWRITTEN, "echo identifier rewritten" },
		{ ANOMALY_QUOTE_SOURCE_PORT_REWRITTEN, "source port rewritten" },
	};
	enum { N_REWRITES = sizeof rewrites / sizeof rewrites[0] };
	anomaly_set rewritten = 0;
	for (size_t k = 0; k < N_REWRITES; k++)
		anomaly_add(&rewritten, rewrites[k].anomaly);
	int rebuilt = 0;
	anomaly_set seen = 0;
	for (size_t i = 0; i < t->hops.len; i++) {
		const struct hop *h = &t->hops.items[i];
		if (h->reply < 0 || !(cm->replies.items[h->reply].anomalies & rewritten))
			continue;
		rebuilt++;
		seen |= cm->replies.items[h->reply].anomalies & rewritten;
	}
	if (rebuilt) {
		char what[160] = "";
		for (size_t k = 0; k < N_REWRITES; k++)
			if (anomaly_has(seen, rewrites[k].anomaly))
				append(what, sizeof what, "%s%s", what[0] ? ", " : "", rewrites[k].words);
		struct finding *f = add_finding(
			cm, FINDING_QUOTE_REBUILT_BY_NAT, ti,
			"The answers at %d hop%s quote a rebuilt copy of the probe (%s): a NAT in the path re-creates the ICMP errors%s.",
			rebuilt, rebuilt == 1 ? "" : "s", what,
			anomaly_has(seen, ANOMALY_QUOTE_FIELDS_BYTE_SWAPPED)
				? "; the VirtualBox NAT has been seen doing exactly this"
				: "");
		for (size_t i = 0; i < t->hops.len && f && f->evidence.len < 4; i++) {
			const struct hop *h = &t->hops.items[i];
			if (h->reply >= 0 && (cm->replies.items[h->reply].anomalies & rewritten))
				add_evidence(f, t->capture, h->reply_frame, "rebuilt quote");
		}
	}
	if (t->rebuilt_from_replies) {
		/* How the TTLs were found (traces_rebuilt.c), since no probe shows them. */
		char placed[200] = "";
		const struct hop *d = t->rebuilt_destination_placed ? destination_hop(t) : NULL;
		if (d && reply_kind_is_error(d->kind) && d->quoted_ttl > TRACE_TTL_MAX)
			snprintf(placed, sizeof placed,
				 " The destination's answers quote the probe with TTL %u, more than a path trace sends: they do not tell which TTL reached it, so it is drawn right after the last router.",
				 d->quoted_ttl);
		else if (d)
			snprintf(placed, sizeof placed,
				 " The destination's answers do not tell which TTL reached it: it is drawn right after the last router.");
		struct finding *f = add_finding(
			cm, FINDING_REBUILT_FROM_REPLIES, ti,
			"The capture holds %u answer%s to %s but none of the probes (it started late, was filtered, or was taken where only answers pass): the trace was rebuilt from what the errors quote, %s.%s",
			t->answered, t->answered == 1 ? "" : "s", dst,
			t->rebuilt_in_arrival_order
				? "the routers numbered in the order they answered, as the answers' own TTLs give no credible distance"
				: "with the TTLs estimated from the answers' own TTL",
			placed);
		for (size_t i = 0; i < t->hops.len && f && f->evidence.len < 4; i++)
			if (t->hops.items[i].reply >= 0)
				add_evidence(f, t->capture, t->hops.items[i].reply_frame, "answer");
	}
}

static void check_path(struct case_model *cm, int32_t ti, int32_t other, int host,
		       struct signals *s)
{
	struct trace *t = &cm->traces.items[ti];
	const struct hop *dest = destination_hop(t);
	char dst[64], other_dst[64];
	format_addr(&t->dst, dst);

	/* A reset only ever shortens a trace: another trace tells the distance only when it
	 * got farther (not when the same NAT cut it short too, nor for a trace that is the
	 * farther one itself). */
	if (other >= 0 && t->reached_ttl && cm->traces.items[other].reached_ttl <= t->reached_ttl)
		other = -1;
	if (other >= 0)
		s->true_distance = cm->traces.items[other].reached_ttl;
	/* A host capture on the VM's side of the host sees the answers as the guest gets
	 * them, after whatever the NAT did to them: it tells nothing of the distance. A
	 * trace that measured the way there beats the estimate from the way back. */
	if (other < 0 && host >= 0 && !s->host_saw_arrivals_only && dest && dest->reply >= 0) {
		const struct reply *gr = &cm->replies.items[dest->reply];
		if (gr->counterpart >= 0) {
			/* The host sees the real answer: its hops back, plus the guest's
			 * gateway and the destination itself, make the TTL needed. A host
			 * relaying from the guest's own address (pasta) routes nothing and
			 * is no hop. */
			int h_ttl = cm->replies.items[gr->counterpart].ttl;
			int gateway = request_reoriginated_from_own_address(cm, dest->request) ? 0 : 1;
			s->true_distance = initial_ttl_guess(h_ttl) - h_ttl + 1 + gateway;
		}
	}

	/* Routers that answered before the destination (or at all, if it never did). */
	int routers = 0, forged = 0, te = 0;
	const struct hop *first_router = NULL, *first_forged = NULL;
	bool one_gateway = true, forged_outer_constant = true;
	for (size_t i = 0; i < t->hops.len; i++) {
		const struct hop *h = &t->hops.items[i];
		/* A time exceeded in the destination's name is a proxy speaking for it, not a router. */
		if (!h->addr.family || h->is_destination || ip_addr_equal(&h->addr, &t->dst))
			continue;
		if (h->kind == REPLY_TIME_EXCEEDED) {
			te++;
			if (h->quoted_ttl > 1 && h->quoted_ttl == h->ttl) {
				forged++;
				if (!first_forged)
					first_forged = h;
				else if (h->reply_ttl != first_forged->reply_ttl)
					forged_outer_constant = false;
			}
		}
		if (!first_router)
			first_router = h;
		else if (!ip_addr_equal(&first_router->addr, &h->addr))
			one_gateway = false;
		routers++;
	}
	if (routers >= 1 && (dest ? t->reached_ttl >= 2 : routers >= 2)) {
		s->path_visible = true;
		s->one_router_only = routers == 1;
		char first[64];
		format_addr(&first_router->addr, first);
		/* One router is no series: said as it is, since a NAT's gateway is one too. */
		struct finding *f =
			routers == 1
				? add_finding(cm, FINDING_PATH_VISIBLE, ti,
					      "One router, %s at TTL %u, answered the %s probes before %s.", first,
					      first_router->ttl, protocol_label(t->proto),
					      dest ? "the destination answered" : "the trace ended")
				: add_finding(cm, FINDING_PATH_VISIBLE, ti,
					      "%d routers answered the %s probes hop by hop before %s.", routers,
					      protocol_label(t->proto),
					      dest ? "the destination answered" : "the trace ended");
		for (size_t i = 0; i < t->hops.len && f && f->evidence.len < 6; i++)
			if (t->hops.items[i].addr.family)
				add_evidence(f, t->capture, t->hops.items[i].reply_frame,
					     t->hops.items[i].is_destination ? "destination answer"
									     : "hop answer");
	}
	/* The NAT writes every rebuilt message itself, with one outer TTL (slirp: 255); real
	 * routers at different distances, whatever they quote, arrive with falling ones. */
	if (forged >= 2 && forged_outer_constant && !t->rebuilt_from_replies) {
		s->forged_errors = true;
		struct finding *f = add_finding(
			cm, FINDING_FORGED_TIME_EXCEEDED, ti,
			"%d of the %d time-exceeded messages quote the probe with the TTL the guest sent instead of the 1 a router sees: a user-space NAT (slirp family) rebuilt them on the way back.",
			forged, te);
		for (size_t i = 0; i < t->hops.len && f && f->evidence.len < 4; i++)
			if (t->hops.items[i].kind == REPLY_TIME_EXCEEDED && t->hops.items[i].addr.family)
				add_evidence(f, t->capture, t->hops.items[i].reply_frame, "time exceeded");
	}

	check_odd_answers(cm, ti);

	if (!dest && first_router && routers == 1 && first_router->ttl == 1 && t->max_ttl >= 4 &&
	    !t->rebuilt_from_replies) {
		char gw[64];
		format_addr(&first_router->addr, gw);
		s->silent_after_gateway = true;
		struct finding *f = add_finding(
			cm, FINDING_SILENT_AFTER_GATEWAY, ti,
			"Only the gateway %s answered (TTL 1); none of the %s probes with TTL 2 to %u got an answer. A NAT that re-originates the probes and swallows the ICMP errors coming back looks like this (pasta does), and so does a firewall right behind the gateway: this trace cannot show the path.",
			gw, protocol_label(t->proto), t->max_ttl);
		add_evidence(f, t->capture, first_router->reply_frame, "gateway answer");
		const struct hop *h2 = trace_hop_at(t, 2);
		if (h2)
			add_evidence(f, t->capture, h2->probe_frame, "unanswered probe");
	}

	if (!dest) {
		if (t->answered == 0) {
			add_finding(cm, FINDING_NO_ANSWERS, ti,
				    "None of the %u %s probes to %s got an answer in this capture.",
				    t->probes, protocol_label(t->proto), dst);
		} else {
			add_finding(cm, FINDING_DESTINATION_NOT_REACHED, ti,
				    "The destination %s never answered the %s probes (up to TTL %u).", dst,
				    protocol_label(t->proto), t->max_ttl);
		}
		return;
	}
	const struct reply *dr = dest->reply >= 0 ? &cm->replies.items[dest->reply] : NULL;

	/* The host saw the probes leave with their TTL less one: the destination is
	 * where it answered, and the guesses of egress below (from answer TTLs and the
	 * shape of the path) have nothing left to find. A longer way back is an
	 * asymmetric path. */
	if (s->egress_preserved)
		s->true_distance = t->reached_ttl;

	if (s->true_distance > t->reached_ttl) {
		s->early_answer = true;
		struct finding *f;
		if (other >= 0) {
			const struct trace *o = &cm->traces.items[other];
			format_addr(&o->dst, other_dst);
			f = add_finding(
				cm, FINDING_EARLY_DESTINATION_ANSWER, ti,
				"%s answered the %s probe with TTL %u, but the %s trace to it needs TTL %d to get there, with routers answering on the way: the %s probe cannot have reached it with its own TTL.",
				dst, protocol_label(t->proto), t->reached_ttl, protocol_label(o->proto),
				s->true_distance, protocol_label(t->proto));
			add_evidence(f, t->capture, dest->probe_frame, "probe");
			add_evidence(f, t->capture, dest->reply_frame, "destination answer");
			const struct hop *od = destination_hop(o);
			if (od)
				add_evidence(f, o->capture, od->reply_frame, "answer in the other trace");
		} else {
			f = add_finding(
				cm, FINDING_EARLY_DESTINATION_ANSWER, ti,
				"%s answered the %s probe with TTL %u, but its answers reach the host after about %d hops: the probe cannot have reached it with its own TTL.",
				dst, protocol_label(t->proto), t->reached_ttl, s->true_distance - 2);
			add_evidence(f, t->capture, dest->probe_frame, "probe");
			add_evidence(f, t->capture, dest->reply_frame, "destination answer");
		}
	}

	bool remote = t->reached_ttl >= 2 || s->true_distance >= 2;
	if (dr && is_initial_ttl(dr->ttl) && remote) {
		s->zero_hop_reply = true;
		if (!s->ingress_rewritten) {
			s->ingress_rewritten = true;
			s->ingress_ttl = dr->ttl;
		}
		int away = s->true_distance > t->reached_ttl ? s->true_distance : t->reached_ttl;
		struct finding *f = add_finding(
			cm, FINDING_ZERO_HOP_REPLY, ti,
			"The destination's answer arrived with TTL %u, an initial TTL: it travelled zero hops, impossible for a host %d hops away; something near the guest re-originated it.",
			dr->ttl, away);
		add_evidence(f, t->capture, dr->frame, "destination answer");
	}
	if (s->egress_preserved)
		return;

	/* TTL only goes down on the way: a destination quoting the probe with more TTL than
	 * it was sent with saw it after something raised it, i.e. re-originated it. */
	const struct request *dprobe = dest->request >= 0 ? &cm->requests.items[dest->request] : NULL;
	if (dr && dprobe && reply_kind_is_error(dr->kind) && dr->quoted &&
	    dr->quoted_ttl > dprobe->ttl && !t->rebuilt_from_replies) {
		s->quote_above_sent = true;
		struct finding *f = add_finding(
			cm, FINDING_QUOTED_TTL_ABOVE_SENT, ti,
			"%s quotes the %s probe it answered with TTL %u, but the guest sent it with TTL %u: a TTL never grows on the way, so something between them re-originated the probe.",
			dst, protocol_label(t->proto), dr->quoted_ttl, dprobe->ttl);
		add_evidence(f, t->capture, dprobe->frame, "probe");
		add_evidence(f, t->capture, dr->frame, "destination answer");
	}

	/* A destination that quotes the probe (port unreachable) tells the TTL it arrived
	 * with: no more than the guest sent means nobody re-originated it on the way out
	 * (a router that forwards without decrementing looks like the pattern below). */
	bool quote_shows_sent_ttl = dr && reply_kind_is_error(dr->kind) && dr->quoted &&
				    dr->quoted_ttl >= 1 && dr->quoted_ttl <= t->reached_ttl;
	/* TTL 1 answered by the gateway alone, or by nobody (a NAT that drops what expires at it). */
	bool gateway_or_silent = first_router ? one_gateway && first_router->ttl == 1 : true;
	if (t->reached_ttl == 2 && gateway_or_silent && s->zero_hop_reply && !quote_shows_sent_ttl) {
		char gw[64];
		if (first_router)
			format_addr(&first_router->addr, gw);
		s->gateway_then_destination = true;
		struct finding *f = add_finding(
			cm, FINDING_SINGLE_GATEWAY_THEN_DESTINATION, ti,
			"%s%s%s and from TTL 2 on the destination itself answered, with an untouched TTL: the NAT-mode pattern, where probes expire at the host once and are re-originated after that.",
			first_router ? "Only the gateway " : "Nobody answered TTL 1",
			first_router ? gw : "", first_router ? " answered (TTL 1)" : "");
		if (first_router)
			add_evidence(f, t->capture, first_router->reply_frame, "gateway answer");
		add_evidence(f, t->capture, dest->reply_frame, "destination answer");
	}

	/* The answer's own TTL tells how many routers it crossed on the way back; more
	 * than the probe's TTL let it cross on the way out means the probe went further. */
	int hops_back = dr ? initial_ttl_guess(dr->ttl) - dr->ttl : 0;
	if (!s->early_answer && dr && !t->rebuilt_from_replies &&
	    (t->reached_ttl == 1 ? hops_back >= 1 : hops_back > t->reached_ttl)) {
		s->early_answer = true;
		if (s->true_distance < hops_back + 1)
			s->true_distance = hops_back + 1;
		struct finding *f = add_finding(
			cm, FINDING_EARLY_DESTINATION_ANSWER, ti,
			"%s answered the %s probe sent with TTL %u, but its answer arrived with TTL %u, so it crossed about %d router%s on the way back: a probe with TTL %u cannot cross that many.",
			dst, protocol_label(t->proto), t->reached_ttl, dr->ttl, hops_back,
			hops_back == 1 ? "" : "s", t->reached_ttl);
		add_evidence(f, t->capture, dest->probe_frame, "probe");
		add_evidence(f, t->capture, dr->frame, "destination answer");
	}

	const struct neighbor_sighting *neighbor =
		t->reached_ttl == 1 && !s->early_answer && dr
			? on_link(cm, t->capture, &t->dst,
				  dest->request >= 0 ? &cm->requests.items[dest->request] : NULL)
			: NULL;
	if (neighbor) {
		s->on_link = true;
		struct finding *f = add_finding(
			cm, FINDING_DESTINATION_ON_LINK, ti,
			"%s is on the guest's own link: the capture shows it there (%s, frame %llu)%s. TTL 1 reaches it, so its answer to the first probe is no sign of a NAT.",
			dst, t->dst.family == 4 ? "ARP" : "neighbour discovery",
			(unsigned long long)neighbor->frame,
			neighbor->mac_known && dest->request >= 0 && cm->requests.items[dest->request].has_mac
				? " and the probes went straight to its MAC"
				: "");
		add_evidence(f, t->capture, neighbor->frame,
			     t->dst.family == 4 ? "ARP from the destination" : "neighbour discovery");
		add_evidence(f, t->capture, dr->frame, "destination answer");
	}

	if (t->reached_ttl == 1 && !s->early_answer && dr && is_initial_ttl(dr->ttl) && !s->on_link &&
	    !same_subnet(&t->src, &t->dst)) {
		s->off_link_first_hop = true;
		/* Off the link, an answer still carrying its initial TTL was re-originated too. */
		if (!s->ingress_rewritten) {
			s->ingress_rewritten = true;
			s->ingress_ttl = dr->ttl;
		}
		struct finding *f = add_finding(
			cm, FINDING_ZERO_HOP_REPLY, ti,
			"%s, which is not on the guest's subnet, answered the very first probe (TTL 1) with TTL %u: either it is on the local link, or a NAT re-originated the probes.",
			dst, dr->ttl);
		add_evidence(f, t->capture, dest->probe_frame, "probe");
		add_evidence(f, t->capture, dr->frame, "destination answer");
	}
}

/* What the host capture shows (egress_constant, egress_preserved) is certain and
 * check_path guesses only without it, so no guess can overrule it. */
static void decide_verdict(struct trace *t, const struct signals *s);

static void decide(struct trace *t, const struct signals *s)
{
	decide_verdict(t, s);
	if (t->dst.family == 6)
		reword_for_ipv6(t->reason, sizeof t->reason);
}

static void decide_verdict(struct trace *t, const struct signals *s)
{
	bool egress = s->egress_constant || s->early_answer || s->gateway_then_destination ||
		      s->off_link_first_hop || s->quote_above_sent;
	t->egress_ttl = s->egress_ttl;
	t->ingress_ttl = s->ingress_rewritten ? s->ingress_ttl : -1;
	t->true_distance = s->true_distance;
	char dst[64];
	ip_addr_format(&t->dst, dst, sizeof dst);

	if (egress) {
		t->verdict = VERDICT_TTL_RESET;
		t->direction = s->ingress_rewritten ? DIRECTION_BOTH : DIRECTION_EGRESS;
		/* Only the host side shows what the probes were reset to; the answers'
		 * TTL at the guest is the NAT's own and may differ (slirp: 64 out, 255 in). */
		t->reset_ttl = s->egress_ttl;
		/* The NAT-mode pattern alone is also what a 2-hop path through a router that
		 * does not decrement TTL looks like: probable, not strong. */
		t->confidence = s->egress_constant				 ? "certain"
				: s->early_answer || s->quote_above_sent ? "strong"
									 : "probable";
		char hidden[96] = "";
		if (t->true_distance > t->reached_ttl && t->reached_ttl)
			snprintf(hidden, sizeof hidden, " %d hop%s of the real path %s hidden.",
				 t->true_distance - t->reached_ttl,
				 t->true_distance - t->reached_ttl == 1 ? "" : "s",
				 t->true_distance - t->reached_ttl == 1 ? "is" : "are");
		char answered[96];
		if (t->reached_ttl)
			snprintf(answered, sizeof answered, "%s answered at TTL %u", dst, t->reached_ttl);
		else
			snprintf(answered, sizeof answered, "%s did not answer in this capture", dst);
		snprintf(t->reason, sizeof t->reason, "The %s probes did not keep their TTL%s: %s.%s",
			 protocol_label(t->proto),
			 s->egress_ttl >= 0 ? " (the host sent them on with a fixed TTL)" : "", answered,
			 hidden);
		return;
	}
	t->reset_ttl = -1;
	t->direction = s->ingress_rewritten ? DIRECTION_INGRESS : DIRECTION_UNKNOWN;
	if (s->egress_preserved || s->path_visible || s->on_link) {
		t->verdict = VERDICT_NO_TTL_RESET;
		/* One router then the destination is also a NAT whose gateway answers TTL 1 and
		 * whose re-originated answers come back one hop down (Docker Desktop's vpnkit). */
		t->confidence = s->egress_preserved			 ? "certain"
				: s->one_router_only && !s->on_link ? "probable"
								    : "strong";
		snprintf(t->reason, sizeof t->reason, "%s%s%s%s",
			 s->egress_preserved ? "The host sent the probes on with the guest's TTL less one. "
					     : "",
			 !s->path_visible    ? ""
			 : s->one_router_only ? "One router answered before the destination, as on a short path; a NAT whose gateway answers TTL 1 and whose answers come back one hop down (Docker Desktop's vpnkit) looks the same, which a host-side capture would rule out. "
					      : "Routers answered hop by hop, so the probes kept their TTL. ",
			 s->on_link ? "The destination is on the guest's own link, one hop away for real. "
				    : "",
			 s->ingress_rewritten
				 ? "The answers were re-originated on the way in (their TTL says nothing about distance), but the hop list is right."
				 : "");
		/* Each sentence above ends in a space for the next one; the last needs none. */
		size_t len = strlen(t->reason);
		if (len && t->reason[len - 1] == ' ')
			t->reason[len - 1] = '\0';
		return;
	}
	t->verdict = VERDICT_INCONCLUSIVE;
	t->confidence = "";
	/* Re-originated answers are seen whatever the probes did: that much is known. */
	t->direction = s->zero_hop_reply ? DIRECTION_INGRESS : DIRECTION_UNKNOWN;
	if (t->answered == 0)
		snprintf(t->reason, sizeof t->reason,
			 "No probe got an answer, so nothing shows whether the TTL was kept.");
	else if (t->reached_ttl == 1)
		snprintf(t->reason, sizeof t->reason,
			 "%s answered the first probe: it is on the local link, or a NAT re-originated the probes. A trace with another protocol to the same destination, or a host-side capture, would tell.",
			 dst);
	else if (s->silent_after_gateway)
		snprintf(t->reason, sizeof t->reason,
			 "Only the gateway answered, at TTL 1, and nothing after: a NAT that swallows the ICMP errors, or a firewall behind the gateway. A TCP trace, or a host-side capture, would tell.");
	else if (s->zero_hop_reply)
		snprintf(t->reason, sizeof t->reason,
			 "The answers were re-originated near the guest (they arrive with an initial TTL), so their TTL tells nothing of the path, and no router answered to show whether the probes kept theirs; add a host-side capture or a trace with another protocol.");
	else
		snprintf(t->reason, sizeof t->reason,
			 "The answers neither show routers in order nor a reset; add a host-side capture or a trace with another protocol.");
}

/* "tcp and icmp" from a set of protocols. */
static void protocols_text(unsigned mask, char *out, size_t size)
{
	out[0] = '\0';
	const enum trace_protocol all[] = { PROTO_TCP, PROTO_UDP, PROTO_ICMP };
	int count = 0, total = __builtin_popcount(mask);
	for (int i = 0; i < 3; i++) {
		if (!(mask & 1u << all[i]))
			continue;
		count++;
		append(out, size, "%s%s", count == 1 ? "" : count == total ? " and " : ", ",
		       protocol_label(all[i]));
	}
}

/* "the TCP and 3 of the 5 ICMP": each affected protocol, counted when not all its traces are. */
static void reset_traces_text(unsigned mask, const unsigned *reset_n, const unsigned *total_n,
			      char *out, size_t size)
{
	out[0] = '\0';
	const enum trace_protocol all[] = { PROTO_TCP, PROTO_UDP, PROTO_ICMP };
	int count = 0, total = __builtin_popcount(mask);
	for (int i = 0; i < 3; i++) {
		enum trace_protocol p = all[i];
		if (!(mask & 1u << p))
			continue;
		count++;
		const char *sep = count == 1 ? "" : count == total ? " and " : ", ";
		if (reset_n[p] == total_n[p])
			append(out, size, "%s%s%s", sep, count == 1 ? "the " : "", protocol_label(p));
		else
			append(out, size, "%s%u of the %u %s", sep, reset_n[p], total_n[p], protocol_label(p));
	}
}

enum { NAMED_SOURCES = 3 };

/* Where the reset traces come from, when the guest capture holds more than one agent. */
struct sources {
	struct ip_addr named[NAMED_SOURCES];
	size_t n_named, n_more;
	bool several_agents; /* the capture's traces come from more than one address */
};

static void note_source(struct sources *s, const struct ip_addr *a)
{
	for (size_t i = 0; i < s->n_named; i++)
		if (ip_addr_equal(&s->named[i], a))
			return;
	if (s->n_named < NAMED_SOURCES)
		s->named[s->n_named++] = *a;
	else
		s->n_more++; /* counts further traces, not addresses: "and more" is all it says */
}

static void sources_text(const struct sources *s, char *out, size_t size)
{
	out[0] = '\0';
	if (!s->several_agents) {
		append(out, size, "the guest");
		return;
	}
	for (size_t i = 0; i < s->n_named; i++) {
		char a[64];
		ip_addr_format(&s->named[i], a, sizeof a);
		bool last = i + 1 == s->n_named && !s->n_more;
		append(out, size, "%s%s", i == 0 ? "" : last ? " and " : ", ", a);
	}
	if (s->n_more)
		append(out, size, " and other guests");
}

static bool capture_has_trace(const struct case_model *cm, uint32_t capture)
{
	for (size_t i = 0; i < cm->traces.len; i++)
		if (cm->traces.items[i].capture == capture)
			return true;
	return false;
}

/* Distinct destinations of the guest's reset traces, less one (the example's); 0 without memory. */
static size_t other_reset_destinations(const struct case_model *cm, uint32_t guest)
{
	size_t n = 0;
	for (size_t i = 0; i < cm->traces.len; i++)
		n += cm->traces.items[i].capture == guest && cm->traces.items[i].verdict == VERDICT_TTL_RESET;
	struct ip_addr *dsts = malloc((n ? n : 1) * sizeof *dsts);
	if (!dsts)
		return 0;
	n = 0;
	for (size_t i = 0; i < cm->traces.len; i++)
		if (cm->traces.items[i].capture == guest && cm->traces.items[i].verdict == VERDICT_TTL_RESET)
			dsts[n++] = cm->traces.items[i].dst;
	qsort(dsts, n, sizeof *dsts, ip_addr_compare_items);
	size_t distinct = 0;
	for (size_t i = 0; i < n; i++)
		distinct += i == 0 || !ip_addr_equal(&dsts[i], &dsts[i - 1]);
	free(dsts);
	return distinct ? distinct - 1 : 0;
}

static void summarise(struct case_model *cm, uint32_t guest)
{
	unsigned reset = 0, healthy = 0, unknown = 0;
	unsigned reset_n[3] = { 0 }, total_n[3] = { 0 };
	int reset_ttl = -1;
	const struct trace *example = NULL, *first = NULL;
	struct sources from = { .n_named = 0 };
	for (size_t i = 0; i < cm->traces.len; i++) {
		const struct trace *t = &cm->traces.items[i];
		if (t->capture != guest)
			continue;
		if (!first)
			first = t;
		else if (!ip_addr_equal(&first->src, &t->src))
			from.several_agents = true;
		unsigned bit = 1u << t->proto;
		total_n[t->proto]++;
		if (t->verdict == VERDICT_TTL_RESET) {
			reset |= bit;
			reset_n[t->proto]++;
			note_source(&from, &t->src);
			if (!example)
				example = t;
			if (reset_ttl < 0)
				reset_ttl = t->reset_ttl;
		} else if (t->verdict == VERDICT_NO_TTL_RESET) {
			healthy |= bit;
		} else {
			unknown |= bit;
		}
	}
	healthy &= ~reset;
	unknown &= ~(reset | healthy);
	char affected[64], fine[64], unjudged[64];
	protocols_text(reset, affected, sizeof affected);
	protocols_text(healthy, fine, sizeof fine);
	protocols_text(unknown, unjudged, sizeof unjudged);

	cm->summary[0] = cm->remedy[0] = '\0';
	if (reset) {
		cm->verdict = VERDICT_TTL_RESET;
		char dst[64], counted[160], agents[256];
		ip_addr_format(&example->dst, dst, sizeof dst);
		reset_traces_text(reset, reset_n, total_n, counted, sizeof counted);
		sources_text(&from, agents, sizeof agents);
		bool hidden_known = example->true_distance > example->reached_ttl && example->reached_ttl;
		int hidden = example->true_distance - example->reached_ttl;
		append(cm->summary, sizeof cm->summary,
		       "TTL reset found: %s path traces from %s are wrong. Their probes did not keep the TTL the tool gave them",
		       counted, agents);
		if (reset_ttl >= 0)
			append(cm->summary, sizeof cm->summary, " (they were sent on with TTL %d)", reset_ttl);
		if (example->reached_ttl)
			append(cm->summary, sizeof cm->summary, ", so %s seems to answer after only %u hop%s",
			       dst, example->reached_ttl, example->reached_ttl == 1 ? "" : "s");
		else
			append(cm->summary, sizeof cm->summary,
			       ", so a trace to %s cannot show the routers past the NAT", dst);
		if (hidden_known)
			append(cm->summary, sizeof cm->summary, " while %d more hop%s lie on the real path",
			       hidden, hidden == 1 ? "" : "s");
		size_t others = other_reset_destinations(cm, guest);
		if (others)
			append(cm->summary, sizeof cm->summary, " (and the traces to %zu other destination%s are cut short alike)",
			       others, others == 1 ? "" : "s");
		append(cm->summary, sizeof cm->summary,
		       ". This is what a hypervisor NAT (VirtualBox NAT, QEMU/slirp user networking, VMware or Parallels shared networking) does: it re-originates the packets.");
		if (cm->nat_family)
			append(cm->summary, sizeof cm->summary, " The guest's network %s %s.",
			       strcmp(cm->nat_confidence, "likely") ? "may be" : "is likely",
			       cm->nat_family);
		if (healthy)
			append(cm->summary, sizeof cm->summary, " %s traces are not affected.", fine);
		if (unknown)
			append(cm->summary, sizeof cm->summary, " %s traces could not be judged.", unjudged);
		append(cm->remedy, sizeof cm->remedy,
		       "Put the VM's network adapter in bridged mode (or use the host's own NAT, which keeps the TTL), or run the path trace from the host.");
		if (cm->nat_remedy)
			append(cm->remedy, sizeof cm->remedy, " %s", cm->nat_remedy);
		if (healthy)
			append(cm->remedy, sizeof cm->remedy,
			       " Until then, trust the %s traces from this VM, not the %s ones.", fine,
			       affected);
		else if ((reset | unknown) != (1u << PROTO_TCP | 1u << PROTO_UDP | 1u << PROTO_ICMP)) {
			/* Suggest only the protocols this case has not already shown reset. */
			unsigned untried_mask = ~(reset | unknown) & 7u;
			char untried[64];
			protocols_text(untried_mask, untried, sizeof untried);
			append(cm->remedy, sizeof cm->remedy,
			       " The captures hold no %s path trace; some of these NATs keep that TTL%s, so run one and check it the same way before trusting it.",
			       untried, untried_mask & 1u << PROTO_UDP ? " (slirp keeps UDP's)" : "");
		}
	} else if (healthy) {
		cm->verdict = VERDICT_NO_TTL_RESET;
		/* Say what showed it: routers in order, the host's copies, or a destination on the link. */
		bool routers = false, host = false, on_link = false, firm = false;
		for (size_t i = 0; i < cm->findings.len; i++) {
			const struct finding *f = &cm->findings.items[i];
			if (f->trace < 0 || cm->traces.items[f->trace].verdict != VERDICT_NO_TTL_RESET)
				continue;
			routers |= f->kind == FINDING_PATH_VISIBLE;
			host |= f->kind == FINDING_EGRESS_TTL_PRESERVED;
			on_link |= f->kind == FINDING_DESTINATION_ON_LINK;
		}
		/* Firm: a trace whose routers were seen and that is not only probable (one router). */
		for (size_t i = 0; i < cm->findings.len; i++) {
			const struct finding *f = &cm->findings.items[i];
			firm |= f->kind == FINDING_PATH_VISIBLE && f->trace >= 0 &&
				cm->traces.items[f->trace].verdict == VERDICT_NO_TTL_RESET &&
				strcmp(cm->traces.items[f->trace].confidence, "probable") != 0;
		}
		append(cm->summary, sizeof cm->summary,
		       "No TTL reset: the %s path traces from the guest show the real path%s.", fine,
		       host	    ? ": the host capture shows the probes leaving with their TTL less one"
		       : routers && firm ? ", with routers answering hop by hop"
		       : routers	 ? ", probably: only one router answered before the destination, which a NAT's own gateway would do too (a host-side capture would tell)"
		       : on_link	 ? ": the destination is on the guest's own link, one hop away"
					 : "");
		if (unknown)
			append(cm->summary, sizeof cm->summary, " %s traces could not be judged.", unjudged);
		append(cm->remedy, sizeof cm->remedy,
		       "Nothing to change in the VM's networking; look for the problem on the path itself.");
	} else {
		cm->verdict = VERDICT_INCONCLUSIVE;
		size_t errors = 0;
		for (size_t i = 0; i < cm->replies.len; i++)
			errors += cm->replies.items[i].capture == guest &&
				  reply_kind_is_error(cm->replies.items[i].kind);
		if (cm->captures[guest].packets == 0)
			append(cm->summary, sizeof cm->summary,
			       cm->captures[guest].cut_short
				       ? "Inconclusive: the capture holds no whole packet (it is cut inside the first)."
				       : "Inconclusive: the capture holds no packets.");
		else if (cm->traces.len == 0 && errors)
			append(cm->summary, sizeof cm->summary,
			       "Inconclusive: the capture holds %zu ICMP error%s but no path trace %s could belong to (%s no probe with a path trace's TTL, or too little of one to say which).",
			       errors, errors == 1 ? "" : "s", errors == 1 ? "it" : "they",
			       errors == 1 ? "it quotes" : "they quote");
		else if (cm->traces.len == 0)
			append(cm->summary, sizeof cm->summary,
			       "Inconclusive: the capture holds no path trace (no probes with a low TTL, and no ICMP errors answering any).");
		else
			append(cm->summary, sizeof cm->summary,
			       "Inconclusive: the %s traces do not show whether the TTL was kept.", unjudged);
		/* A host capture was given: asking for one would read as if it had been ignored. */
		append(cm->remedy, sizeof cm->remedy, "%s",
		       cm->n_captures > 1 && !capture_has_trace(cm, guest)
			       ? "Capture again while the path trace runs, on the guest and on the host at the same time as before (the host capture given has nothing to compare while the guest capture holds no trace it can judge)"
			       : "Capture again while the path trace runs, on the guest and on the host at the same time (the host capture shows what TTL the probes left with)");
		if (__builtin_popcount(unknown) < 2)
			append(cm->remedy, sizeof cm->remedy,
			       ", and trace the same destination with a second protocol (TCP and ICMP)");
		append(cm->remedy, sizeof cm->remedy, ".");
	}
}

/* Packets captured twice are counted once; the user should know why the counts differ. */
static void note_packets_seen_twice(struct case_model *cm)
{
	for (uint32_t c = 0; c < cm->n_captures; c++) {
		const struct capture *cap = &cm->captures[c];
		if (!cap->seen_twice)
			continue;
		struct finding *f = add_finding(
			cm, FINDING_PACKETS_SEEN_TWICE, -1,
			"%llu of the probes in %s were captured twice (on two interfaces, as tcpdump -i any does, or in a merged file); each is counted once, as the %s sent it.",
			(unsigned long long)cap->seen_twice, cap->name,
			cap->side == SIDE_HOST ? "last copy, as the host" : "first copy, as the guest");
		for (size_t i = 0; i < cm->requests.len && f && f->evidence.len < 2; i++) {
			const struct request *q = &cm->requests.items[i];
			if (q->capture == c && q->same_as >= 0) {
				add_evidence(f, c, cm->requests.items[q->same_as].frame, "sighting kept");
				add_evidence(f, c, q->frame, "second sighting");
			}
		}
	}
}

/*
 * ICMP errors cut by the snap length before their quote names the probe cannot
 * be paired: their probes look unanswered and the hops silent. The cure is in
 * the capture, so say it. Returns how many of the guest's answers were lost so.
 */
static size_t note_answers_cut_short(struct case_model *cm, uint32_t c)
{
	size_t cut = 0;
	struct finding *f = NULL;
	for (size_t i = 0; i < cm->replies.len; i++) {
		const struct reply *r = &cm->replies.items[i];
		if (r->capture != c || r->request >= 0 || !reply_kind_is_error(r->kind) ||
		    !anomaly_has(r->anomalies, ANOMALY_FRAME_TRUNCATED_BY_SNAPLEN) ||
		    !anomaly_has(r->anomalies, ANOMALY_QUOTE_TRUNCATED))
			continue;
		cut++;
	}
	if (cut == 0)
		return 0;
	/* The file's snap length, when it is the one that cut: editcap -s cuts frames below
	 * what the file header still says (65535). */
	char limit[32] = "";
	if (cm->captures[c].snaplen > 0 && cm->captures[c].snaplen < 65535)
		snprintf(limit, sizeof limit, " (%u bytes)", cm->captures[c].snaplen);
	f = add_finding(cm, FINDING_ANSWERS_CUT_BY_SNAPLEN, -1,
			"%zu ICMP error%s in %s %s cut by the capture's snap length%s before the "
			"quote says which probe %s: %s probes look unanswered. Capture again with whole "
			"packets (tcpdump -s 0).",
			cut, cut == 1 ? "" : "s", cm->captures[c].name, cut == 1 ? "was" : "were", limit,
			cut == 1 ? "it answers" : "they answer", cut == 1 ? "its" : "their");
	for (size_t i = 0; i < cm->replies.len && f && f->evidence.len < 3; i++) {
		const struct reply *r = &cm->replies.items[i];
		if (r->capture == c && r->request < 0 && reply_kind_is_error(r->kind) &&
		    anomaly_has(r->anomalies, ANOMALY_FRAME_TRUNCATED_BY_SNAPLEN) &&
		    anomaly_has(r->anomalies, ANOMALY_QUOTE_TRUNCATED))
			add_evidence(f, c, r->frame, "answer cut short");
	}
	return cut;
}

/*
 * ICMP errors whose router quoted less of the probe than names it (the capture
 * kept them whole): they answer some probe, but which cannot be told, so its hop
 * shows silent. Said, so that a "*" there is not read as a router that kept quiet.
 */
static bool quotes_too_little(const struct reply *r, uint32_t c)
{
	return r->capture == c && r->request < 0 && reply_kind_is_error(r->kind) &&
	       anomaly_has(r->anomalies, ANOMALY_QUOTE_TRUNCATED) &&
	       !anomaly_has(r->anomalies, ANOMALY_FRAME_TRUNCATED_BY_SNAPLEN) && !r->quoted_ports_known &&
	       !r->quoted_echo_known;
}

static void note_answers_quoting_too_little(struct case_model *cm, uint32_t c)
{
	size_t n = 0;
	for (size_t i = 0; i < cm->replies.len; i++)
		n += quotes_too_little(&cm->replies.items[i], c);
	if (n == 0)
		return;
	struct finding *f = add_finding(
		cm, FINDING_ANSWERS_QUOTE_TOO_LITTLE, -1,
		"%zu ICMP error%s in %s quote%s too little of the probe to tell which %s answer%s: the routers "
		"that sent %s did answer, but their hops show as silent.",
		n, n == 1 ? "" : "s", cm->captures[c].name, n == 1 ? "s" : "", n == 1 ? "it" : "they",
		n == 1 ? "s" : "", n == 1 ? "it" : "them");
	for (size_t i = 0; i < cm->replies.len && f && f->evidence.len < 3; i++)
		if (quotes_too_little(&cm->replies.items[i], c))
			add_evidence(f, c, cm->replies.items[i].frame, "answer quoting too little");
}

/* A host capture that shares no probe with the guest's says nothing: say so, not silently. */
static void note_host_unmatched(struct case_model *cm, uint32_t guest, int host)
{
	if (host < 0 || cm->correlated_requests > 0)
		return;
	size_t probes = 0;
	for (size_t i = 0; i < cm->traces.len; i++)
		if (cm->traces.items[i].capture == guest && !cm->traces.items[i].rebuilt_from_replies)
			probes += cm->traces.items[i].probes;
	if (probes == 0)
		return;
	add_finding(cm, FINDING_HOST_CAPTURE_UNMATCHED, -1,
		    "The host capture %s holds no copy of the guest's %zu probes, so it adds no evidence: it "
		    "was taken at another time (clocks more than a day apart also look so) or on an "
		    "interface the probes did not cross. The verdicts rest on the guest capture alone.",
		    cm->captures[host].name, probes);
}

/*
 * A host capture whose copies of the probes all carry the guest's own TTL was
 * taken where the packets enter the host (the VM's tap, vnet or bridge
 * interface): it cannot show what left the host. Say so, rather than let the
 * reader take its silence on egress for a healthy NAT.
 */
static void note_host_on_guest_side(struct case_model *cm, uint32_t guest, int host)
{
	if (host < 0 || cm->correlated_requests == 0)
		return;
	size_t arrivals = 0;
	const struct request *example = NULL;
	for (size_t i = 0; i < cm->requests.len; i++) {
		const struct request *g = &cm->requests.items[i];
		if (g->capture != guest || g->counterpart < 0)
			continue;
		if (cm->requests.items[g->counterpart].ttl != g->ttl)
			return;
		arrivals++;
		if (!example)
			example = g;
	}
	if (!example)
		return;
	struct finding *f = add_finding(
		cm, FINDING_HOST_CAPTURE_GUEST_SIDE, -1,
		"All %zu probes found in the host capture %s carry the TTL the guest gave them: it was "
		"taken on the VM's side of the host (its tap, vnet or bridge interface), before the host "
		"forwarded anything, so it cannot show what TTL the probes left with. Capture on the "
		"host's outside interface (or with -i any) to see that.",
		arrivals, cm->captures[host].name);
	add_evidence(f, example->capture, example->frame, "guest probe");
	add_evidence(f, cm->requests.items[example->counterpart].capture,
		     cm->requests.items[example->counterpart].frame, "host copy, same TTL");
}

/*
 * TTL only goes down along a path (or is reset to an initial value). Host
 * copies carrying one more than the guest's originals were seen before them:
 * the two captures were given the wrong way round.
 */
enum swap {
	NOT_SWAPPED,
	SWAPPED_TTL_AHEAD,     /* the host's copies carry one TTL more */
	SWAPPED_TRACE_ON_HOST, /* the path trace is in the host capture, none in the guest's */
};

static const struct case_model *targets_model; /* for compare_request_targets (qsort has no context) */

static int compare_request_targets(const void *a, const void *b)
{
	const struct case_model *cm = targets_model;
	const struct request *x = &cm->requests.items[*(const int32_t *)a];
	const struct request *y = &cm->requests.items[*(const int32_t *)b];
	int c = ip_addr_compare(&x->dst, &y->dst);
	if (!c && x->proto != y->proto)
		c = x->proto < y->proto ? -1 : 1;
	return c ? c : (*(const int32_t *)a > *(const int32_t *)b) - (*(const int32_t *)a < *(const int32_t *)b);
}

/*
 * A path trace in the host capture: probes to one destination with at least
 * three TTLs in a row from 1 or 2. Its first probe is put in *example; false
 * when there is none (or no memory to look).
 */
static bool host_holds_a_trace(const struct case_model *cm, uint32_t host, const struct request **example)
{
	size_t n = 0;
	for (size_t i = 0; i < cm->requests.len; i++)
		n += cm->requests.items[i].capture == host && cm->requests.items[i].ttl <= TRACE_TTL_MAX;
	int32_t *low = malloc((n ? n : 1) * sizeof *low);
	if (!low)
		return false;
	n = 0;
	for (size_t i = 0; i < cm->requests.len; i++)
		if (cm->requests.items[i].capture == host && cm->requests.items[i].ttl <= TRACE_TTL_MAX)
			low[n++] = (int32_t)i;
	targets_model = cm;
	qsort(low, n, sizeof *low, compare_request_targets);
	bool found = false;
	for (size_t start = 0; start < n && !found;) {
		size_t end = start;
		uint64_t ttls = 0;
		const struct request *a = &cm->requests.items[low[start]];
		for (; end < n; end++) {
			const struct request *q = &cm->requests.items[low[end]];
			if (q->proto != a->proto || !ip_addr_equal(&q->dst, &a->dst))
				break;
			ttls |= (uint64_t)1 << q->ttl;
		}
		/* TTL 1, 2, 3 or 2, 3, 4 (traceroute -f 2): a rising series, not one odd packet. */
		if ((ttls & 0xe) == 0xe || (ttls & 0x1c) == 0x1c) {
			found = true;
			*example = a;
		}
		start = end;
	}
	free(low);
	return found;
}

static enum swap note_sides_swapped(struct case_model *cm, uint32_t guest, int host)
{
	if (host < 0)
		return NOT_SWAPPED;
	/* A NAT that re-originates the probes (VirtualBox, slirp) leaves no copy to compare
	 * TTLs with; then the trace itself tells which side sent it. */
	const struct request *probe = NULL;
	if (!capture_has_trace(cm, guest) && host_holds_a_trace(cm, (uint32_t)host, &probe)) {
		char dst[64];
		format_addr(&probe->dst, dst);
		struct finding *f = add_finding(
			cm, FINDING_TRACE_IN_HOST_CAPTURE, -1,
			"The guest capture %s holds no path trace, while the host capture %s holds one: "
			"%s probes to %s with rising TTLs from %u. A trace is sent from the guest: the "
			"captures may have been given the wrong way round (or the guest capture was taken "
			"where the trace did not pass, and the host's copies kept their TTL).",
			cm->captures[guest].name, cm->captures[host].name, protocol_label(probe->proto), dst,
			probe->ttl);
		if (f)
			add_evidence(f, probe->capture, probe->frame, "probe in the host capture");
		return SWAPPED_TRACE_ON_HOST;
	}
	size_t ahead = 0, moved = 0;
	const struct request *example = NULL;
	for (size_t i = 0; i < cm->requests.len; i++) {
		const struct request *g = &cm->requests.items[i];
		if (g->capture != guest || g->counterpart < 0)
			continue;
		const struct request *h = &cm->requests.items[g->counterpart];
		if (h->ttl == g->ttl)
			continue;
		moved++;
		if (h->ttl == g->ttl + 1) {
			ahead++;
			if (!example)
				example = g;
		}
	}
	if (ahead < 2 || ahead * 2 <= moved)
		return NOT_SWAPPED;
	struct finding *f = add_finding(
		cm, FINDING_CAPTURES_SWAPPED, -1,
		"%zu of the %zu probes seen in both captures carry one TTL more in the host capture %s than in "
		"the guest capture %s. A packet loses TTL on its way, so %s saw them first: the guest and "
		"host captures look swapped, and the verdicts below are not to be trusted until they are "
		"given the other way round.",
		ahead, moved, cm->captures[host].name, cm->captures[guest].name, cm->captures[host].name);
	if (f && example) {
		add_evidence(f, example->capture, example->frame, "guest probe");
		add_evidence(f, cm->requests.items[example->counterpart].capture,
			     cm->requests.items[example->counterpart].frame, "host copy, one TTL more");
	}
	return SWAPPED_TTL_AHEAD;
}

static void leave_unjudged(struct trace *t)
{
	t->verdict = VERDICT_INCONCLUSIVE;
	t->direction = DIRECTION_UNKNOWN;
	t->reset_ttl = t->egress_ttl = t->ingress_ttl = -1;
	t->confidence = "";
	snprintf(t->reason, sizeof t->reason,
		 "Not judged: the guest and host captures look swapped (see the case summary).");
}

/* A path as a shell word: quoted unless every byte is plainly safe. */
static void shell_word(const char *path, char *out, size_t size)
{
	if (strspn(path, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+,=:@") ==
	    strlen(path)) {
		snprintf(out, size, "%s", path);
		return;
	}
	size_t n = 0;
	if (size < 3) {
		out[0] = '\0';
		return;
	}
	out[n++] = '\'';
	for (const char *p = path; *p && n + 5 < size; p++) {
		if (*p == '\'') {
			memcpy(out + n, "'\\''", 4);
			n += 4;
		} else {
			out[n++] = *p;
		}
	}
	out[n++] = '\'';
	out[n] = '\0';
}

static void summarise_swapped(struct case_model *cm, uint32_t guest, int host, enum swap why)
{
	cm->verdict = VERDICT_INCONCLUSIVE;
	cm->summary[0] = cm->remedy[0] = '\0';
	if (why == SWAPPED_TRACE_ON_HOST)
		append(cm->summary, sizeof cm->summary,
		       "Inconclusive: the path trace is in the host capture %s, and the guest capture %s "
		       "holds none, so nothing can be judged; the captures may be swapped.",
		       cm->captures[host].name, cm->captures[guest].name);
	else
		append(cm->summary, sizeof cm->summary,
		       "Inconclusive: the captures look swapped. The host capture %s sees the probes "
		       "with one TTL more than the guest capture %s, so it saw them first; the comparison "
		       "of the two means nothing this way round.",
		       cm->captures[host].name, cm->captures[guest].name);
	char new_guest[400], new_host[400];
	shell_word(cm->captures[host].path ? cm->captures[host].path : cm->captures[host].name,
		   new_guest, sizeof new_guest);
	shell_word(cm->captures[guest].path ? cm->captures[guest].path : cm->captures[guest].name,
		   new_host, sizeof new_host);
	append(cm->remedy, sizeof cm->remedy,
	       "%s: `ttlsleuth analyze %s --host %s -o OUTDIR`.",
	       why == SWAPPED_TRACE_ON_HOST
		       ? "If they were given the wrong way round, run again the other way round (else capture "
			 "on the guest where the trace leaves it)"
		       : "Run again with the captures the other way round",
	       new_guest, new_host);
}

int diagnose_case(struct case_model *cm, uint32_t guest, int host)
{
	note_packets_seen_twice(cm);
	note_host_unmatched(cm, guest, host);
	note_host_on_guest_side(cm, guest, host);
	size_t cut_short = note_answers_cut_short(cm, guest);
	note_answers_quoting_too_little(cm, guest);
	if (host >= 0)
		note_answers_cut_short(cm, (uint32_t)host);
	/* Every egress and ingress judgement assumes the sides as given: swapped, the
	 * host capture is left out and no trace is judged. */
	enum swap swap = note_sides_swapped(cm, guest, host);
	bool swapped = swap != NOT_SWAPPED;
	if (cm->neighbors.len)
		qsort(cm->neighbors.items, cm->neighbors.len, sizeof *cm->neighbors.items,
		      compare_neighbors);
	struct trace_members m;
	int32_t *witness = distance_witnesses(cm);
	if (trace_members_build(cm, &m) != 0 || !witness) {
		trace_members_free(&m);
		free(witness);
		return -1;
	}
	for (size_t i = 0; i < cm->traces.len; i++) {
		if (cm->traces.items[i].capture != guest)
			continue;
		struct signals s;
		memset(&s, 0, sizeof s);
		s.egress_ttl = s.ingress_ttl = s.true_distance = -1;
		if (!swapped) {
			check_egress(cm, &m, (int32_t)i, &s);
			check_ingress(cm, &m, (int32_t)i, &s);
		}
		check_path(cm, (int32_t)i, witness[i], swapped ? -1 : host, &s);
		decide(&cm->traces.items[i], &s);
		if (swapped)
			leave_unjudged(&cm->traces.items[i]);
	}
	trace_members_free(&m);
	free(witness);
	nat_family_guess(cm, guest);
	summarise(cm, guest);
	if (swapped)
		summarise_swapped(cm, guest, host, swap);
	if (cut_short)
		append(cm->remedy, sizeof cm->remedy,
		       " Capture with whole packets (tcpdump -s 0): %zu answer%s in the guest capture "
		       "%s cut too short to tell which probe %s.",
		       cut_short, cut_short == 1 ? "" : "s", cut_short == 1 ? "was" : "were",
		       cut_short == 1 ? "it answers" : "they answer");
	return 0;
}
