/*
 * The analysis model of one case: what was read, what was paired, what it
 * means. The store and every report writer read this model and nothing else;
 * none of them decides anything (scamper's trace/ model and its writers are
 * the pattern).
 *
 * Cross references are indexes into the case's arrays, -1 for "none".
 */
#ifndef TTLSLEUTH_MODEL_H
#define TTLSLEUTH_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "analyzer/vec.h"
#include "dissectors/packet.h"

enum capture_side { SIDE_GUEST, SIDE_HOST };

struct process_name {
	char name[21];
};

struct capture {
	char *path;
	char *name; /* the file's base name, for reports */
	enum capture_side side;
	char sha256_hex[65];
	double sha256_wait_s; /* after the last packet, the wait for the digest to finish (--stats) */
	uint64_t file_bytes;
	const char *format; /* "pcap" or "pcapng" */
	int linktype;       /* LINKTYPE_ value (pcapng: of the first interface) */
	uint32_t interfaces; /* pcapng interface descriptions; 1 for pcap */
	bool compressed;     /* gzip-compressed file, read through zlib */
	uint32_t snaplen;
	uint64_t packets;   /* frames read */
	uint64_t ip_packets;
	uint64_t interesting; /* requests and replies kept */
	int64_t first_ts_ns, last_ts_ns;
	bool cut_short;      /* the file ended inside a record: analysed up to the cut */
	char warning[512];   /* why it was cut short, and where */
	uint64_t anomaly_counts[ANOMALY_COUNT];
	uint64_t anomalous_packets;
	uint64_t seen_twice; /* requests captured a second time, e.g. on two interfaces */
	/* Read to the end, the file held no packet on a link type we read (pcapng): the refusal. */
	char refusal[512];
};

/* The three kinds of path trace, named as the reports name them. */
enum trace_protocol { PROTO_TCP, PROTO_UDP, PROTO_ICMP };

/* A packet that asks for an answer: a TCP SYN, a UDP datagram, an echo request. */
struct request {
	uint32_t capture;
	uint32_t interface; /* pcapng interface the packet was captured on */
	uint64_t frame;
	int64_t ts_ns;
	struct ip_addr src, dst;
	enum trace_protocol proto;
	uint8_t ttl;
	uint16_t sport, dport;
	uint32_t seq;
	uint16_t echo_id, echo_seq;
	uint32_t ip_id;
	uint16_t ip_len;
	uint16_t checksum;   /* the transport checksum as captured */
	bool checksum_known; /* it is the sender's real checksum: not UDP's 0 (none, IPv4) nor the
				pseudo-header sum a sender with checksum offload leaves for its NIC */
	int32_t trace;       /* the path trace it belongs to */
	int32_t reply;       /* the first reply paired with it */
	int32_t counterpart; /* the same request seen in the other capture */
	int32_t same_as;     /* another sighting of that request in this capture (-i any) */
	uint16_t process;    /* 1-based index into case_model.processes; 0 when not known */
	bool has_mac;        /* Ethernet (or cooked) capture: the MACs below are known */
	uint8_t src_mac[6];  /* the sender's NIC */
	uint8_t dst_mac[6];  /* the next hop's: for a guest's probe, the NAT gateway */
	bool answered;
};

enum reply_kind {
	REPLY_TIME_EXCEEDED,
	REPLY_UNREACHABLE,
	REPLY_OTHER_ERROR,
	REPLY_SYN_ACK,
	REPLY_RST,
	REPLY_ECHO_REPLY,
};

/* Time exceeded in reassembly (code 1) says nothing about the hop at the probe's TTL, nor
 * does an error that is about the path's MTU, not the probe's TTL (REPLY_OTHER_ERROR). */
static inline bool reply_answers_hop(enum reply_kind k, uint8_t icmp_code)
{
	return !(k == REPLY_TIME_EXCEEDED && icmp_code == 1) && k != REPLY_OTHER_ERROR;
}

/* ICMP errors (answers from anyone on the path) as opposed to the destination's own answers. */
static inline bool reply_kind_is_error(enum reply_kind k)
{
	return k == REPLY_TIME_EXCEEDED || k == REPLY_UNREACHABLE || k == REPLY_OTHER_ERROR;
}

enum match_method {
	MATCH_NONE,
	MATCH_QUOTE_EXACT,   /* quoted addresses, ports or echo id/seq, and IP ID all agree */
	MATCH_QUOTE_PORTS,   /* quoted addresses and ports (or echo id/seq), IP ID differs or unknown */
	MATCH_QUOTE_IP_ID,   /* echo id/seq shared by every probe: told apart by the IP ID */
	MATCH_TCP_ACK,       /* reversed tuple and ack == seq + 1 */
	MATCH_ECHO_ID_SEQ,   /* echo reply with the request's id and sequence */
	MATCH_QUOTE_HEADER,  /* the quote stops after the IP header: addresses, protocol, IP ID */
	MATCH_QUOTE_REWRITTEN, /* the quoted echo id or source port names no probe (a NAT rewrote
				  it): addresses, protocol, the other identifiers, and the IP ID or
				  the transport checksum */
};

struct reply {
	uint32_t capture;
	uint32_t interface;
	uint64_t frame;
	int64_t ts_ns;
	struct ip_addr src, dst;
	uint8_t ttl;
	enum reply_kind kind;
	uint8_t icmp_type, icmp_code;

	/* ICMP errors: what the quote says */
	bool quoted;
	uint8_t quoted_ttl;
	uint16_t quoted_len;
	uint32_t quoted_ip_id;
	uint16_t quoted_ip_len; /* total length the quoted header claims */
	struct ip_addr quoted_src, quoted_dst;
	uint8_t quoted_proto;
	uint16_t quoted_sport, quoted_dport;
	bool quoted_ports_known; /* the quote reached the ports (a quote may stop at the IP header) */
	uint32_t quoted_seq;
	bool quoted_seq_known; /* the quote held the TCP sequence number (8 bytes or more) */
	uint16_t quoted_echo_id, quoted_echo_seq;
	bool quoted_echo_known; /* the quote held the whole echo header */
	uint16_t quoted_checksum; /* the quoted transport checksum, as the router received it */
	bool quoted_checksum_known; /* the quote holds it (UDP over IPv4: and it is not 0, none) */

	/* TCP and echo replies */
	uint32_t ack;
	uint16_t sport, dport, echo_id, echo_seq;

	int32_t request;
	enum match_method method;
	int64_t rtt_ns; /* never negative: 0 for a reply stamped before its request (pairing.h) */
	int32_t counterpart;
	anomaly_set anomalies;

	/* RFC 4950 MPLS labels of an ICMP error: case_model.mpls[mpls_first .. + mpls_count] */
	uint32_t mpls_first;
	uint8_t mpls_count;
};

enum verdict { VERDICT_INCONCLUSIVE, VERDICT_NO_TTL_RESET, VERDICT_TTL_RESET };
enum direction { DIRECTION_UNKNOWN, DIRECTION_EGRESS, DIRECTION_INGRESS, DIRECTION_BOTH };

/* One TTL of a trace as the agent saw it. */
struct hop {
	uint8_t ttl;
	struct ip_addr addr;    /* family 0: nobody answered */
	uint32_t probes, answers;
	bool several_addresses; /* more than one router answered at this TTL */
	bool is_destination;
	enum reply_kind kind;   /* of the first answer */
	uint8_t reply_ttl;      /* outer TTL of the first answer, as received */
	uint8_t quoted_ttl;     /* TTL the router saw, from its quote (errors only) */
	int64_t rtt_ns;         /* best round trip */
	uint64_t probe_frame, reply_frame;
	int32_t request, reply; /* the probe and answer shown */
};

struct trace {
	uint32_t capture;
	enum trace_protocol proto;
	struct ip_addr src, dst;
	uint16_t dport; /* TCP and fixed-port UDP traces */
	uint16_t process; /* the program that sent the probes (PKTAP captures), as in struct request */
	int64_t first_ts_ns, last_ts_ns;
	uint32_t probes, answered;
	uint8_t max_ttl;
	uint8_t reached_ttl; /* lowest TTL the destination answered; 0 if never */
	bool rebuilt_from_replies; /* no probes in the capture: hops from the errors' quotes */
	bool rebuilt_in_arrival_order; /* rebuilt: the answers' TTLs give no credible distance,
					  so the routers are numbered in the order they answered */
	bool rebuilt_destination_placed; /* rebuilt: the destination's answers do not tell its
					    TTL; it is drawn right after the last router */
	VEC(struct hop) hops; /* each TTL probed, rising, up to reached_ttl (or max_ttl):
				 a TTL no probe was sent with has no hop (trace_hop_at) */

	enum verdict verdict;
	enum direction direction;
	int reset_ttl;   /* the value packets were reset to; -1 unknown */
	int egress_ttl;  /* as the probes left the host; -1 unknown */
	int ingress_ttl; /* as the answers reached the guest; -1 unknown */
	int true_distance; /* TTL the destination needs when nothing resets it (routers + 1),
			      from other evidence; -1 unknown */
	const char *confidence; /* "certain", "strong", "probable" */
	char reason[512];
};

/* A stable name per kind of finding, like the anomaly names. */
#define FINDING_LIST(X)                                                         \
	X(EGRESS_TTL_CONSTANT, "egress.ttl_constant")                           \
	X(EGRESS_TTL_PRESERVED, "egress.ttl_preserved")                         \
	X(INGRESS_TTL_REWRITTEN, "ingress.ttl_rewritten")                       \
	X(INGRESS_TTL_PRESERVED, "ingress.ttl_preserved")                       \
	X(EARLY_DESTINATION_ANSWER, "path.destination_answers_too_early")       \
	X(ZERO_HOP_REPLY, "path.zero_hop_reply")                                \
	X(SINGLE_GATEWAY_THEN_DESTINATION, "path.gateway_then_destination")     \
	X(PATH_VISIBLE, "path.routers_answer_in_order")                         \
	X(FORGED_TIME_EXCEEDED, "icmp.forged_time_exceeded")                    \
	X(NO_ANSWERS, "path.no_answers")                                        \
	X(TIME_EXCEEDED_FROM_DESTINATION, "path.time_exceeded_from_destination") \
	X(REBUILT_FROM_REPLIES, "path.rebuilt_from_replies")                    \
	X(QUOTE_REBUILT_BY_NAT, "icmp.quote_rebuilt_by_nat")                    \
	X(PACKETS_SEEN_TWICE, "capture.packets_seen_twice")                     \
	X(NAT_FAMILY, "nat.family")                                             \
	X(DESTINATION_NOT_REACHED, "path.destination_not_reached")               \
	X(HOST_CAPTURE_UNMATCHED, "host.no_copies_of_the_probes")                \
	X(CAPTURES_SWAPPED, "capture.sides_swapped")                           \
	X(TRACE_IN_HOST_CAPTURE, "capture.trace_in_host_capture")              \
	X(MPLS_LABELS, "path.mpls_labels")                                     \
	X(ANSWERS_QUOTE_TOO_LITTLE, "path.answers_quote_too_little")           \
	X(HOST_CAPTURE_GUEST_SIDE, "host.capture_on_guest_side")              \
	X(ANSWERS_CUT_BY_SNAPLEN, "capture.answers_cut_by_snaplen")            \
	X(DESTINATION_ON_LINK, "path.destination_on_link")                    \
	X(QUOTED_TTL_ABOVE_SENT, "path.quoted_ttl_above_sent")                \
	X(SILENT_AFTER_GATEWAY, "path.silent_after_gateway")

enum finding_kind {
#define FINDING_ENUM(id, name) FINDING_##id,
	FINDING_LIST(FINDING_ENUM)
#undef FINDING_ENUM
	FINDING_COUNT
};

const char *finding_name(enum finding_kind kind);

/* A host a capture shows on its own link (ARP or IPv6 neighbour discovery), first sighting. */
struct neighbor_sighting {
	uint32_t capture;
	uint64_t frame;
	struct ip_addr addr;
	bool mac_known;
	uint8_t mac[6];
};

struct evidence {
	uint32_t capture;
	uint64_t frame;
	const char *role; /* "probe", "reply", "host copy", ... (static strings) */
};

struct finding {
	enum finding_kind kind;
	int32_t trace;
	char text[512]; /* one plain sentence, with the values that matter */
	VEC(struct evidence) evidence;
};

struct case_model {
	struct capture captures[2];
	uint32_t n_captures;
	VEC(struct request) requests;
	VEC(struct reply) replies;
	VEC(struct trace) traces;
	VEC(struct finding) findings;
	VEC(struct mpls_entry) mpls; /* label stacks quoted by ICMP errors, see struct reply */
	VEC(struct process_name) processes; /* program names from PKTAP headers, each once */
	VEC(struct neighbor_sighting) neighbors; /* each (capture, address, MAC) once, in frame order */

	bool correlated;       /* a host capture was given and lined up */
	int64_t clock_offset_ns; /* host time minus guest time, at the guest's first probe (clocks drift) */
	uint32_t correlated_requests;

	enum verdict verdict;
	const char *nat_family; /* the hypervisor NAT the guest seems to sit behind, or NULL */
	const char *nat_confidence; /* "likely" or "possible" */
	const char *nat_remedy; /* how to stop that NAT from resetting the TTL, or NULL */
	char summary[1024];    /* the verdict in plain words */
	char remedy[1024];     /* what to do about it */
};

void case_init(struct case_model *cm);
void case_free(struct case_model *cm);

/* Names used in the store and the reports. */
const char *verdict_name(enum verdict v);
const char *direction_name(enum direction d);
const char *protocol_name(enum trace_protocol p);
/* The same in prose: "TCP", "UDP", "ICMP". */
const char *protocol_label(enum trace_protocol p);
const char *reply_kind_name(enum reply_kind k);
const char *match_method_name(enum match_method m);
const char *side_name(enum capture_side s);

/* Why a packet could not be kept, once keeping one failed: the ceiling reached, or memory. */
void case_why_full(const struct case_model *cm, char *buf, size_t size);

/* The program name behind a request's or trace's process index, or NULL. */
const char *process_name_of(const struct case_model *cm, uint16_t process);

/*
 * The guest's request left the host re-originated (its TTL neither kept nor
 * less one) from the guest's own source address: a NAT that gives the guest a
 * copy of the host's address and relays through the host's sockets, as pasta
 * does. Such a host is no IP hop of the path. False without a host copy, and
 * false for the guest's own packet forwarded with another TTL (the same IPv4
 * ID, or a TCP SYN's port and sequence number): a routed host rewriting the
 * TTL is a hop.
 */
bool request_reoriginated_from_own_address(const struct case_model *cm, int32_t request);

#endif
