/*
 * gencap: a deterministic generator of packet captures for the benchmark.
 *
 * The same seed and options give a byte-identical file: every random choice
 * comes from a seeded generator or from a hash of the seed and the thing it
 * describes (a probe's port is a hash of its trace and index, so the answer
 * to it can quote it without storing it). Nothing here reads the clock or
 * the environment.
 *
 * The files split the work by layer, like the analyzer does:
 *   gencap_wire.c    bytes on the wire: headers, checksums, quotes
 *   gencap_writer.c  pcap and pcapng records, one big buffer, no per-packet malloc
 *   gencap_plan.c    the address plan: sites, guests, routers, destinations
 *   gencap_traffic.c ordinary traffic: TCP flows (HTTP), DNS, pings
 *   gencap_traces.c  path traces (TCP, UDP, ICMP), healthy or through a NAT, and their truth
 *   gencap.c         the command line and the clock that interleaves it all
 */
#ifndef GENCAP_H
#define GENCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- Deterministic numbers ---- */

/* splitmix64's finalizer: a good 64-bit mix, the same on every machine. */
static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/* A value that depends only on its three inputs. */
static inline uint64_t hash3(uint64_t a, uint64_t b, uint64_t c)
{
	return mix64(mix64(mix64(a ^ 0x5851f42d4c957f2dULL) + b) + c);
}

/* A number below n (n > 0) from a hash. */
static inline uint32_t hash_below(uint64_t h, uint32_t n)
{
	return (uint32_t)(((h >> 32) * n) >> 32);
}

struct rng {
	uint64_t state;
};

static inline uint64_t rng_next(struct rng *r)
{
	r->state += 0x9e3779b97f4a7c15ULL;
	return mix64(r->state);
}

static inline uint32_t rng_below(struct rng *r, uint32_t n)
{
	return hash_below(rng_next(r), n);
}

/* True with the given chance in percent. */
static inline bool rng_percent(struct rng *r, uint32_t percent)
{
	return rng_below(r, 100) < percent;
}

/* ---- Addresses ---- */

struct addr {
	uint8_t family; /* 4 or 6 */
	uint8_t b[16];
};

void addr_v4(struct addr *a, unsigned o1, unsigned o2, unsigned o3, unsigned o4);
/* 2001:db8:G2:G3::LOW, the only shape of IPv6 address the plan uses. */
void addr_v6(struct addr *a, unsigned g2, unsigned g3, unsigned low);
void addr_format(const struct addr *a, char *out, size_t size);
/* A locally administered MAC address derived from the IP address. */
void addr_mac(const struct addr *a, uint8_t mac[6]);

/* ---- Bytes on the wire ---- */

enum {
	ETH_HEADER = 14,
	ETH_MIN_FRAME = 60, /* without FCS: short received frames arrive padded */
	FRAME_MAX = 1514,
	IPPROTO_NUM_ICMP = 1,
	IPPROTO_NUM_TCP = 6,
	IPPROTO_NUM_UDP = 17,
	IPPROTO_NUM_ICMPV6 = 58,
	TCP_FIN = 0x01,
	TCP_SYN = 0x02,
	TCP_RST = 0x04,
	TCP_PSH = 0x08,
	TCP_ACK = 0x10,
};

struct link {
	uint8_t dst[6], src[6];
	bool pad; /* received frames shorter than 60 bytes are padded with zeros */
};

struct ip_spec {
	const struct addr *src, *dst;
	uint8_t ttl, tos;
	uint16_t id; /* IPv4 only */
	bool df;     /* IPv4 only */
};

struct tcp_spec {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t window;
	const uint8_t *options;
	size_t options_len; /* a multiple of 4 */
	const uint8_t *text; /* payload bytes given by the caller, sent first */
	size_t text_len;
	size_t pattern_off, pattern_len; /* then a slice of the shared pattern (offset even) */
};

/* TCP options of a SYN or SYN-ACK as Linux sends them: mss, sackOK, TS, nop, wscale. */
void wire_syn_options(uint8_t o[20], uint16_t mss, uint32_t tsval, uint32_t tsecr, uint8_t wscale);
/* nop, nop, TS: the options of every later segment of a connection with timestamps. */
void wire_ts_options(uint8_t o[12], uint32_t tsval, uint32_t tsecr);

/* Fills the shared payload pattern; call once before building frames. */
void wire_init_pattern(uint64_t seed);
/* An even offset where a slice of len bytes fits in the pattern. */
size_t wire_pattern_offset(struct rng *r, size_t len);

/* Each builder writes a whole Ethernet frame at f (room for FRAME_MAX) and returns its length. */
size_t wire_tcp(uint8_t *f, const struct link *l, const struct ip_spec *ip, const struct tcp_spec *t);
size_t wire_udp(uint8_t *f, const struct link *l, const struct ip_spec *ip, uint16_t sport,
		uint16_t dport, const uint8_t *payload, size_t len);
/* ICMP for IPv4, ICMPv6 for IPv6; rest is the 4 bytes after the checksum. */
size_t wire_icmp(uint8_t *f, const struct link *l, const struct ip_spec *ip, uint8_t type,
		 uint8_t code, uint32_t rest, const uint8_t *payload, size_t len);

/* The IP packet inside a frame built above, and its length (padding excluded). */
const uint8_t *wire_ip_packet(const uint8_t *frame, size_t *ip_len);
/* Sets the TTL (hop limit) of an IP packet, fixing the IPv4 header checksum. */
void wire_set_ttl(uint8_t *ip_packet, uint8_t ttl);

/* ---- Capture files ---- */

enum capture_format { FORMAT_PCAP, FORMAT_PCAPNG };

struct writer;

struct writer *writer_open(const char *path, enum capture_format format, bool nanoseconds,
			   char *err, size_t err_size);
/* Room for one frame of up to FRAME_MAX bytes; valid until writer_commit. */
uint8_t *writer_frame(struct writer *w);
/* Records the frame built in writer_frame's room; returns its 1-based frame number. */
uint64_t writer_commit(struct writer *w, int64_t ts_ns, size_t len);
uint64_t writer_bytes(const struct writer *w);
uint64_t writer_packets(const struct writer *w);
/* Flushes and closes; 0 or -1 with err filled. */
int writer_close(struct writer *w, char *err, size_t err_size);

/* ---- The address plan ---- */

struct plan {
	uint64_t seed;
	unsigned sites;          /* guest subnets: 198.18.S.0/24, 2001:db8:0:S::/64 */
	unsigned hosts_per_site; /* guests per subnet */
	unsigned dests;          /* trace destinations, shared by all sites */
	unsigned nat_percent;    /* sites behind a TTL-resetting NAT */
	unsigned v6_percent;     /* share of IPv6 among sessions and flows */
};

enum { PLAN_MAX_SITES = 250, PLAN_MAX_HOSTS = 200, PLAN_MAX_DESTS = 200 + 128 * 250 };

bool plan_site_is_nat(const struct plan *p, unsigned site);
void plan_guest(const struct plan *p, unsigned site, unsigned host, uint8_t family, struct addr *out);
void plan_gateway(unsigned site, uint8_t family, struct addr *out);
void plan_dest(unsigned index, uint8_t family, struct addr *out);
void plan_server(unsigned index, uint8_t family, struct addr *out);
void plan_resolver(uint8_t family, struct addr *out);
/* The TTL a probe from the site needs to reach the destination (routers + 1). */
uint8_t plan_path_ttl(const struct plan *p, unsigned site, unsigned dest);
/* The router that answers at TTL ttl (1 .. path TTL - 1); ttl 1 is the site's gateway. */
void plan_router(const struct plan *p, unsigned site, unsigned dest, uint8_t ttl, uint8_t family,
		 struct addr *out);
/* Whether the router at that TTL never answers (a "*" in traceroute). */
bool plan_router_silent(const struct plan *p, unsigned site, unsigned dest, uint8_t ttl);
/* The TTL a router's own packets start with (64 or 255). */
uint8_t plan_router_initial_ttl(const struct addr *router);
/* Whether the router quotes only the IP header and 8 bytes (RFC 792) rather than the whole probe. */
bool plan_router_quotes_8(const struct addr *router);
/* Frames between a guest and anything else, as seen on the guest's link. */
void plan_link_out(const struct addr *guest, const struct addr *gateway, struct link *l);
void plan_link_in(const struct addr *guest, const struct addr *gateway, struct link *l);

/* ---- The simulation both kinds of traffic feed ---- */

enum event_kind {
	EVENT_TRACE_PROBE,
	EVENT_TRACE_ANSWER,
	EVENT_TRACE_GUEST_RST,
	EVENT_DNS_RESPONSE,
	EVENT_PING_REPLY,
};

struct event {
	int64_t time_ns;
	uint64_t order; /* ties in time keep the order they were scheduled in */
	uint64_t param; /* a trace slot and probe, or the seed of a DNS exchange or ping */
	uint32_t kind;
};

struct counters {
	uint64_t ordinary, flows, dns, pings;
	uint64_t traces, nat_traces, v6_traces, probes, answers, trace_packets;
};

struct sim {
	const struct plan *plan;
	struct writer *out;
	struct event *heap;
	size_t heap_len, heap_cap;
	uint64_t next_order;
	struct counters n;
};

/* Schedules an event; -1 when out of memory. */
int sim_schedule(struct sim *s, int64_t time_ns, enum event_kind kind, uint64_t param);

/* Ordinary traffic. */
struct traffic;
struct traffic *traffic_new(const struct plan *p, uint64_t seed, unsigned concurrent_flows);
void traffic_free(struct traffic *t);
/* Writes one ordinary packet at time now (and may schedule its answer); -1 when out of memory. */
int traffic_step(struct traffic *t, struct sim *s, int64_t now);
void traffic_emit(struct sim *s, const struct event *e);

/* Path traces. */
struct traces;
struct traces *traces_new(const struct plan *p, uint64_t seed, FILE *truth);
void traces_free(struct traces *t);
/* Starts a session (one guest tracing one destination with one to three protocols) at time
 * now; returns the packets it will write, 0 when no fresh guest/destination pair was found,
 * -1 when out of memory. */
long traces_start_session(struct traces *t, struct sim *s, int64_t now);
/* Writes the packet of a trace event; -1 when the truth file cannot be written. */
int traces_emit(struct traces *t, struct sim *s, const struct event *e);
/* Traces started but not finished (must be 0 once every event has been emitted). */
size_t traces_active(const struct traces *t);

#endif
