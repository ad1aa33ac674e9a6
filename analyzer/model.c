#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/model.h"

/* Ceilings: far above any real case, low enough that a hostile file cannot exhaust memory. */
enum {
	MAX_REQUESTS = 20 * 1000 * 1000,
	MAX_REPLIES = 20 * 1000 * 1000,
	MAX_TRACES = 100 * 1000,
	MAX_FINDINGS = 1000 * 1000,
};

void case_init(struct case_model *cm)
{
	memset(cm, 0, sizeof *cm);
	VEC_INIT(&cm->requests, MAX_REQUESTS);
	VEC_INIT(&cm->replies, MAX_REPLIES);
	VEC_INIT(&cm->traces, MAX_TRACES);
	VEC_INIT(&cm->findings, MAX_FINDINGS);
	VEC_INIT(&cm->mpls, MAX_REPLIES);
	VEC_INIT(&cm->processes, 1000); /* names beyond this stay unknown: a capture is not a process table */
	/* Hints only: a link with more neighbours than this is not a VM's NAT network. */
	VEC_INIT(&cm->neighbors, 65536);
}

void case_why_full(const struct case_model *cm, char *buf, size_t size)
{
	const char *what = NULL;
	size_t max = 0;
	if (cm->requests.len >= cm->requests.max) {
		what = "requests";
		max = cm->requests.max;
	} else if (cm->replies.len >= cm->replies.max) {
		what = "replies";
		max = cm->replies.max;
	} else if (cm->mpls.len >= cm->mpls.max) {
		what = "MPLS label entries";
		max = cm->mpls.max;
	}
	if (what)
		snprintf(buf, size, "more %s than one case can hold (%zu)", what, max);
	else
		snprintf(buf, size, "out of memory");
}

void case_free(struct case_model *cm)
{
	for (uint32_t i = 0; i < cm->n_captures; i++) {
		free(cm->captures[i].path);
		free(cm->captures[i].name);
	}
	for (size_t i = 0; i < cm->traces.len; i++)
		VEC_FREE(&cm->traces.items[i].hops);
	for (size_t i = 0; i < cm->findings.len; i++)
		VEC_FREE(&cm->findings.items[i].evidence);
	VEC_FREE(&cm->requests);
	VEC_FREE(&cm->replies);
	VEC_FREE(&cm->traces);
	VEC_FREE(&cm->findings);
	VEC_FREE(&cm->mpls);
	VEC_FREE(&cm->processes);
	VEC_FREE(&cm->neighbors);
}

static const char *const finding_names[FINDING_COUNT] = {
#define FINDING_NAME(id, name) [FINDING_##id] = name,
	FINDING_LIST(FINDING_NAME)
#undef FINDING_NAME
};

const char *finding_name(enum finding_kind kind)
{
	return (unsigned)kind < FINDING_COUNT ? finding_names[kind] : "unknown";
}

const char *process_name_of(const struct case_model *cm, uint16_t process)
{
	if (process == 0 || process > cm->processes.len)
		return NULL;
	return cm->processes.items[process - 1].name;
}

bool request_reoriginated_from_own_address(const struct case_model *cm, int32_t request)
{
	if (request < 0 || (size_t)request >= cm->requests.len)
		return false;
	const struct request *g = &cm->requests.items[request];
	if (g->counterpart < 0 || (size_t)g->counterpart >= cm->requests.len)
		return false;
	const struct request *h = &cm->requests.items[g->counterpart];
	if (!ip_addr_equal(&g->src, &h->src) || h->ttl == g->ttl || h->ttl + 1 == g->ttl)
		return false;
	/* A routed host that rewrites the TTL forwards the guest's own packet: it keeps the
	 * IPv4 ID, and a TCP SYN its port and sequence number. pasta's sockets send new
	 * packets: another ID, and for TCP a connection of their own. */
	if (g->src.family == 4 && g->ip_id != 0 && g->ip_id == h->ip_id)
		return false;
	return !(g->proto == PROTO_TCP && g->sport == h->sport && g->seq == h->seq);
}

const char *verdict_name(enum verdict v)
{
	switch (v) {
	case VERDICT_TTL_RESET:
		return "ttl-reset";
	case VERDICT_NO_TTL_RESET:
		return "no-ttl-reset";
	case VERDICT_INCONCLUSIVE:
		break;
	}
	return "inconclusive";
}

const char *direction_name(enum direction d)
{
	switch (d) {
	case DIRECTION_EGRESS:
		return "egress";
	case DIRECTION_INGRESS:
		return "ingress";
	case DIRECTION_BOTH:
		return "both";
	case DIRECTION_UNKNOWN:
		break;
	}
	return "";
}

const char *protocol_name(enum trace_protocol p)
{
	switch (p) {
	case PROTO_TCP:
		return "tcp";
	case PROTO_UDP:
		return "udp";
	case PROTO_ICMP:
		break;
	}
	return "icmp";
}

const char *protocol_label(enum trace_protocol p)
{
	switch (p) {
	case PROTO_TCP:
		return "TCP";
	case PROTO_UDP:
		return "UDP";
	case PROTO_ICMP:
		break;
	}
	return "ICMP";
}

const char *reply_kind_name(enum reply_kind k)
{
	switch (k) {
	case REPLY_TIME_EXCEEDED:
		return "time-exceeded";
	case REPLY_UNREACHABLE:
		return "unreachable";
	case REPLY_OTHER_ERROR:
		return "icmp-error";
	case REPLY_SYN_ACK:
		return "syn-ack";
	case REPLY_RST:
		return "rst";
	case REPLY_ECHO_REPLY:
		break;
	}
	return "echo-reply";
}

const char *match_method_name(enum match_method m)
{
	switch (m) {
	case MATCH_QUOTE_EXACT:
		return "quote-exact";
	case MATCH_QUOTE_PORTS:
		return "quote-ports";
	case MATCH_QUOTE_IP_ID:
		return "quote-ip-id";
	case MATCH_TCP_ACK:
		return "tcp-ack";
	case MATCH_ECHO_ID_SEQ:
		return "echo-id-seq";
	case MATCH_QUOTE_HEADER:
		return "quote-ip-header";
	case MATCH_QUOTE_REWRITTEN:
		return "quote-rewritten";
	case MATCH_NONE:
		break;
	}
	return "none";
}

const char *side_name(enum capture_side s)
{
	return s == SIDE_HOST ? "host" : "guest";
}
