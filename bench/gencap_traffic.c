/*
 * Ordinary traffic: what fills a customer's capture around the path traces.
 *
 *   TCP flows   HTTP downloads from 256 bytes to about 4 MB (log-uniform),
 *               full handshake, MSS-sized and shorter segments, an ACK every
 *               segment or every second one, FIN both ways; TCP timestamps on
 *   DNS         A and AAAA queries to the resolver and their answers
 *   pings       echo request and reply, 56 bytes of data as ping(8) sends
 *
 * Flows keep exact sequence and acknowledgement numbers, so tshark's TCP
 * analysis finds no lost or unseen segment. Every ordinary packet leaves a
 * guest with TTL 64 or arrives with 40 or more: none looks like a probe.
 *
 * A DNS answer or a ping reply is scheduled as an event carrying the seed
 * its exchange was drawn from; the answer is rebuilt from that seed.
 */
#include <stdlib.h>
#include <string.h>

#include "gencap.h"

enum flow_phase {
	PHASE_SYN,
	PHASE_SYN_ACK,
	PHASE_ACK,
	PHASE_REQUEST,
	PHASE_DATA,
	PHASE_SERVER_FIN,
	PHASE_CLIENT_FIN,
	PHASE_LAST_ACK,
};

enum {
	SERVERS = 360,
	DNS_PER_MILLE = 25,
	PING_PER_MILLE = 15,
	FULL_SEGMENT_PERCENT = 80,
	QUICK_ACK_PERCENT = 50,
	TEXT_MAX = 256,
	CLIENT_WINDOW = 502, /* scaled by 2^7 */
	SERVER_WINDOW = 509,
	WSCALE = 7,
	PING_DATA = 56,
	DNS_MAX = 128,
};

struct flow {
	struct addr client, server, gateway;
	uint16_t cport, sport, c_ip_id, s_ip_id, mss;
	uint32_t c_seq, s_seq; /* the next sequence number each side sends */
	uint32_t c_ts, s_ts;   /* each side's timestamp clock offset */
	uint64_t left;         /* response bytes (header and body) still to send */
	uint64_t body;
	uint32_t object;
	uint8_t server_ttl, phase, unacked;
	uint8_t ack_every; /* 2: delayed ACKs; 1: quick ACKs (start of a connection, interactive peers) */
	bool header_sent;
};

struct traffic {
	const struct plan *plan;
	struct rng rng;
	struct flow *flows;
	unsigned n_flows;
};

/* ---- TCP flows ---- */

static uint8_t arriving_ttl(struct rng *r)
{
	uint8_t initial = rng_percent(r, 70) ? 64 : 128;
	return (uint8_t)(initial - 5 - rng_below(r, 16));
}

/* Log-uniform from 256 bytes to about 4 MB: many small objects, a few large ones. */
static uint64_t body_size(struct rng *r)
{
	uint64_t base = (uint64_t)1 << (8 + rng_below(r, 14));
	return base + rng_below(r, (uint32_t)base);
}

static void new_flow(struct traffic *tr, struct flow *f)
{
	const struct plan *p = tr->plan;
	struct rng *r = &tr->rng;
	uint8_t family = rng_percent(r, p->v6_percent) ? 6 : 4;
	unsigned site = rng_below(r, p->sites);
	memset(f, 0, sizeof *f);
	plan_guest(p, site, rng_below(r, p->hosts_per_site), family, &f->client);
	plan_gateway(site, family, &f->gateway);
	plan_server(rng_below(r, SERVERS), family, &f->server);
	f->cport = (uint16_t)(32768 + rng_below(r, 28232));
	f->sport = rng_percent(r, 90) ? 80 : 8080;
	f->c_seq = (uint32_t)rng_next(r);
	f->s_seq = (uint32_t)rng_next(r);
	f->c_ts = (uint32_t)rng_next(r);
	f->s_ts = (uint32_t)rng_next(r);
	f->c_ip_id = (uint16_t)rng_next(r);
	f->s_ip_id = (uint16_t)rng_next(r);
	/* 1500-byte MTU less the IP and TCP headers and the 12 bytes of timestamps */
	f->mss = family == 6 ? 1500 - 40 - 32 : 1500 - 20 - 32;
	f->server_ttl = arriving_ttl(r);
	f->body = body_size(r);
	f->object = (uint32_t)rng_below(r, 1000000);
	f->ack_every = rng_percent(r, QUICK_ACK_PERCENT) ? 1 : 2;
	f->phase = PHASE_SYN;
}

struct segment {
	bool from_client;
	uint8_t flags;
	const uint8_t *options;
	size_t options_len;
	const uint8_t *text;
	size_t text_len, pattern_len;
};

static size_t write_segment(struct traffic *tr, struct flow *f, const struct segment *sg,
			    uint8_t *frame)
{
	struct link l;
	struct ip_spec ip = { .df = true };
	struct tcp_spec tcp = { .flags = sg->flags, .options = sg->options,
				.options_len = sg->options_len, .text = sg->text,
				.text_len = sg->text_len, .pattern_len = sg->pattern_len };
	tcp.pattern_off = wire_pattern_offset(&tr->rng, sg->pattern_len);
	if (sg->from_client) {
		plan_link_out(&f->client, &f->gateway, &l);
		ip.src = &f->client;
		ip.dst = &f->server;
		ip.ttl = 64;
		ip.id = f->c_ip_id++;
		tcp.sport = f->cport;
		tcp.dport = f->sport;
		tcp.seq = f->c_seq;
		tcp.ack = (sg->flags & TCP_ACK) ? f->s_seq : 0;
		tcp.window = sg->flags & TCP_SYN ? 64240 : CLIENT_WINDOW;
	} else {
		plan_link_in(&f->client, &f->gateway, &l);
		ip.src = &f->server;
		ip.dst = &f->client;
		ip.ttl = f->server_ttl;
		ip.id = f->s_ip_id++;
		tcp.sport = f->sport;
		tcp.dport = f->cport;
		tcp.seq = f->s_seq;
		tcp.ack = f->c_seq;
		tcp.window = sg->flags & TCP_SYN ? 65160 : SERVER_WINDOW;
	}
	return wire_tcp(frame, &l, &ip, &tcp);
}

static uint32_t ms(int64_t now)
{
	return (uint32_t)(now / 1000000);
}

static size_t flow_handshake(struct traffic *tr, struct flow *f, int64_t now, uint8_t *frame)
{
	uint8_t opts[20];
	struct segment sg = { .options = opts };
	uint16_t mss_option = (uint16_t)(f->mss + 12);
	size_t len;
	if (f->phase == PHASE_SYN) {
		wire_syn_options(opts, mss_option, f->c_ts + ms(now), 0, WSCALE);
		sg = (struct segment){ .from_client = true, .flags = TCP_SYN, .options = opts, .options_len = 20 };
		len = write_segment(tr, f, &sg, frame);
		f->c_seq++;
	} else if (f->phase == PHASE_SYN_ACK) {
		wire_syn_options(opts, mss_option, f->s_ts + ms(now), f->c_ts + ms(now), WSCALE);
		sg = (struct segment){ .flags = TCP_SYN | TCP_ACK, .options = opts, .options_len = 20 };
		len = write_segment(tr, f, &sg, frame);
		f->s_seq++;
	} else {
		wire_ts_options(opts, f->c_ts + ms(now), f->s_ts + ms(now));
		sg = (struct segment){ .from_client = true, .flags = TCP_ACK, .options = opts, .options_len = 12 };
		len = write_segment(tr, f, &sg, frame);
	}
	f->phase++;
	return len;
}

static size_t flow_request(struct traffic *tr, struct flow *f, int64_t now, uint8_t *frame)
{
	char text[TEXT_MAX];
	int n = snprintf(text, sizeof text,
			 "GET /files/%u.bin HTTP/1.1\r\nHost: www%u.example.com\r\n"
			 "User-Agent: gencap/1\r\nAccept: */*\r\n\r\n",
			 f->object, f->object % 997);
	uint8_t opts[12];
	wire_ts_options(opts, f->c_ts + ms(now), f->s_ts + ms(now));
	struct segment sg = { .from_client = true, .flags = TCP_PSH | TCP_ACK, .options = opts,
			      .options_len = sizeof opts, .text = (const uint8_t *)text,
			      .text_len = (size_t)n };
	size_t len = write_segment(tr, f, &sg, frame);
	f->c_seq += (uint32_t)n;
	f->phase = PHASE_DATA;
	return len;
}

/* The next response segment: the HTTP header first, then body bytes from the pattern. */
static size_t flow_data(struct traffic *tr, struct flow *f, int64_t now, uint8_t *frame)
{
	char header[TEXT_MAX];
	size_t header_len = 0;
	if (!f->header_sent) {
		int n = snprintf(header, sizeof header,
				 "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
				 "Content-Length: %llu\r\n\r\n",
				 (unsigned long long)f->body);
		header_len = (size_t)n;
		f->left = header_len + f->body;
		f->header_sent = true;
	}
	size_t size = f->mss;
	if (!rng_percent(&tr->rng, FULL_SEGMENT_PERCENT))
		size = 1 + rng_below(&tr->rng, f->mss);
	if (size < header_len + 1)
		size = header_len + 1;
	if (size > f->left)
		size = (size_t)f->left;
	uint8_t opts[12];
	wire_ts_options(opts, f->s_ts + ms(now), f->c_ts + ms(now));
	bool last = size == f->left;
	struct segment sg = { .flags = (uint8_t)(TCP_ACK | (last ? TCP_PSH : 0)), .options = opts,
			      .options_len = sizeof opts, .text = (const uint8_t *)header,
			      .text_len = header_len, .pattern_len = size - header_len };
	size_t len = write_segment(tr, f, &sg, frame);
	f->s_seq += (uint32_t)size;
	f->left -= size;
	f->unacked++;
	return len;
}

static size_t flow_client_ack(struct traffic *tr, struct flow *f, int64_t now, uint8_t *frame)
{
	uint8_t opts[12];
	wire_ts_options(opts, f->c_ts + ms(now), f->s_ts + ms(now));
	struct segment sg = { .from_client = true, .flags = TCP_ACK, .options = opts,
			      .options_len = sizeof opts };
	f->unacked = 0;
	return write_segment(tr, f, &sg, frame);
}

static size_t flow_close(struct traffic *tr, struct flow *f, int64_t now, uint8_t *frame)
{
	uint8_t opts[12];
	bool client = f->phase == PHASE_CLIENT_FIN;
	uint32_t own = client ? f->c_ts : f->s_ts, peer = client ? f->s_ts : f->c_ts;
	wire_ts_options(opts, own + ms(now), peer + ms(now));
	uint8_t flags = f->phase == PHASE_LAST_ACK ? TCP_ACK : TCP_FIN | TCP_ACK;
	struct segment sg = { .from_client = client, .flags = flags, .options = opts,
			      .options_len = sizeof opts };
	size_t len = write_segment(tr, f, &sg, frame);
	if (f->phase == PHASE_SERVER_FIN)
		f->s_seq++;
	else if (client)
		f->c_seq++;
	f->phase++;
	return len;
}

/* One packet of the flow; returns its length and whether the flow is over. */
static size_t flow_step(struct traffic *tr, struct flow *f, int64_t now, uint8_t *frame, bool *done)
{
	*done = false;
	switch ((enum flow_phase)f->phase) {
	case PHASE_SYN:
	case PHASE_SYN_ACK:
	case PHASE_ACK:
		return flow_handshake(tr, f, now, frame);
	case PHASE_REQUEST:
		return flow_request(tr, f, now, frame);
	case PHASE_DATA:
		if (f->unacked >= f->ack_every || (f->header_sent && f->left == 0 && f->unacked))
			return flow_client_ack(tr, f, now, frame);
		if (!f->header_sent || f->left)
			return flow_data(tr, f, now, frame);
		f->phase = PHASE_SERVER_FIN;
		return flow_close(tr, f, now, frame);
	case PHASE_SERVER_FIN:
	case PHASE_CLIENT_FIN:
		return flow_close(tr, f, now, frame);
	case PHASE_LAST_ACK:
		break;
	}
	*done = true;
	return flow_close(tr, f, now, frame);
}

/* ---- DNS ---- */

struct dns_exchange {
	struct addr client, resolver, gateway, answer;
	uint16_t cport, id;
	uint32_t name;
	bool aaaa;
};

static void dns_from_seed(const struct plan *p, uint64_t seed, struct dns_exchange *d)
{
	struct rng r = { seed };
	uint8_t family = rng_percent(&r, p->v6_percent) ? 6 : 4;
	unsigned site = rng_below(&r, p->sites);
	plan_guest(p, site, rng_below(&r, p->hosts_per_site), family, &d->client);
	plan_gateway(site, family, &d->gateway);
	plan_resolver(family, &d->resolver);
	d->cport = (uint16_t)(32768 + rng_below(&r, 28232));
	d->id = (uint16_t)rng_next(&r);
	d->name = rng_below(&r, 100000);
	d->aaaa = rng_percent(&r, 30);
	plan_server(rng_below(&r, SERVERS), d->aaaa ? 6 : 4, &d->answer);
}

static size_t put_name(uint8_t *m, uint32_t name)
{
	char label[16];
	int n = snprintf(label, sizeof label, "host%u", name);
	size_t off = 0;
	m[off++] = (uint8_t)n;
	memcpy(m + off, label, (size_t)n);
	off += (size_t)n;
	static const uint8_t rest[] = { 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0 };
	memcpy(m + off, rest, sizeof rest);
	return off + sizeof rest;
}

static size_t dns_message(const struct dns_exchange *d, bool response, uint8_t *m)
{
	const uint8_t header[12] = { (uint8_t)(d->id >> 8), (uint8_t)d->id,
				     response ? 0x81 : 0x01, response ? 0x80 : 0x00,
				     0, 1, 0, response ? 1 : 0, 0, 0, 0, 0 };
	memcpy(m, header, sizeof header);
	size_t off = sizeof header;
	off += put_name(m + off, d->name);
	uint8_t qtype = d->aaaa ? 28 : 1;
	const uint8_t question[4] = { 0, qtype, 0, 1 };
	memcpy(m + off, question, sizeof question);
	off += sizeof question;
	if (!response)
		return off;
	size_t rdlen = d->aaaa ? 16 : 4;
	const uint8_t answer[12] = { 0xc0, 12, 0, qtype, 0, 1, 0, 0, 0x01, 0x2c, 0, (uint8_t)rdlen };
	memcpy(m + off, answer, sizeof answer);
	off += sizeof answer;
	memcpy(m + off, d->answer.b, rdlen);
	return off + rdlen;
}

static size_t write_dns(const struct plan *p, uint64_t seed, bool response, uint8_t *frame)
{
	struct dns_exchange d;
	dns_from_seed(p, seed, &d);
	uint8_t m[DNS_MAX];
	size_t len = dns_message(&d, response, m);
	struct link l;
	struct ip_spec ip = { .id = (uint16_t)(seed >> 16) };
	if (response) {
		plan_link_in(&d.client, &d.gateway, &l);
		ip.src = &d.resolver;
		ip.dst = &d.client;
		ip.ttl = 60;
		return wire_udp(frame, &l, &ip, 53, d.cport, m, len);
	}
	plan_link_out(&d.client, &d.gateway, &l);
	ip.src = &d.client;
	ip.dst = &d.resolver;
	ip.ttl = 64;
	ip.df = true;
	return wire_udp(frame, &l, &ip, d.cport, 53, m, len);
}

/* ---- Pings ---- */

static size_t write_ping(const struct plan *p, uint64_t seed, bool reply, uint8_t *frame)
{
	struct rng r = { seed };
	uint8_t family = rng_percent(&r, p->v6_percent) ? 6 : 4;
	unsigned site = rng_below(&r, p->sites);
	struct addr guest, gateway, server;
	plan_guest(p, site, rng_below(&r, p->hosts_per_site), family, &guest);
	plan_gateway(site, family, &gateway);
	plan_server(rng_below(&r, SERVERS), family, &server);
	uint16_t id = (uint16_t)rng_below(&r, 0x8000); /* path traces use ids from 0x8000 */
	uint16_t seq = (uint16_t)(1 + rng_below(&r, 1000));
	uint8_t ttl = arriving_ttl(&r);
	uint8_t data[PING_DATA];
	uint64_t stamp = rng_next(&r);
	for (unsigned k = 0; k < PING_DATA; k++)
		data[k] = (uint8_t)(k < 8 ? stamp >> (8 * k) : k + 8u);
	struct link l;
	struct ip_spec ip = { .id = (uint16_t)stamp };
	bool v6 = family == 6;
	if (reply) {
		plan_link_in(&guest, &gateway, &l);
		ip.src = &server;
		ip.dst = &guest;
		ip.ttl = ttl;
	} else {
		plan_link_out(&guest, &gateway, &l);
		ip.src = &guest;
		ip.dst = &server;
		ip.ttl = 64;
		ip.df = true;
	}
	uint8_t type = reply ? (v6 ? 129 : 0) : (v6 ? 128 : 8);
	return wire_icmp(frame, &l, &ip, type, 0, (uint32_t)id << 16 | seq, data, sizeof data);
}

/* ---- The mix ---- */

struct traffic *traffic_new(const struct plan *p, uint64_t seed, unsigned concurrent_flows)
{
	struct traffic *tr = calloc(1, sizeof *tr);
	if (!tr)
		return NULL;
	tr->flows = calloc(concurrent_flows, sizeof *tr->flows);
	if (!tr->flows) {
		free(tr);
		return NULL;
	}
	tr->plan = p;
	tr->rng.state = seed;
	tr->n_flows = concurrent_flows;
	for (unsigned i = 0; i < concurrent_flows; i++)
		new_flow(tr, &tr->flows[i]);
	return tr;
}

void traffic_free(struct traffic *tr)
{
	if (!tr)
		return;
	free(tr->flows);
	free(tr);
}

static int start_exchange(struct traffic *tr, struct sim *s, int64_t now, bool dns, uint8_t *frame,
			  size_t *len)
{
	uint64_t seed = rng_next(&tr->rng);
	int64_t rtt = (dns ? 2000000 : 1000000) + rng_below(&tr->rng, dns ? 28000000 : 40000000);
	if (dns) {
		*len = write_dns(s->plan, seed, false, frame);
		s->n.dns++;
	} else {
		*len = write_ping(s->plan, seed, false, frame);
		s->n.pings++;
	}
	return sim_schedule(s, now + rtt, dns ? EVENT_DNS_RESPONSE : EVENT_PING_REPLY, seed);
}

int traffic_step(struct traffic *tr, struct sim *s, int64_t now)
{
	uint8_t *frame = writer_frame(s->out);
	size_t len;
	uint32_t pick = rng_below(&tr->rng, 1000);
	if (pick < DNS_PER_MILLE + PING_PER_MILLE) {
		if (start_exchange(tr, s, now, pick < DNS_PER_MILLE, frame, &len) != 0)
			return -1;
	} else {
		struct flow *f = &tr->flows[rng_below(&tr->rng, tr->n_flows)];
		bool done;
		s->n.flows += f->phase == PHASE_SYN;
		len = flow_step(tr, f, now, frame, &done);
		if (done)
			new_flow(tr, f);
	}
	writer_commit(s->out, now, len);
	s->n.ordinary++;
	return 0;
}

void traffic_emit(struct sim *s, const struct event *e)
{
	uint8_t *frame = writer_frame(s->out);
	size_t len = e->kind == EVENT_DNS_RESPONSE ? write_dns(s->plan, e->param, true, frame)
						   : write_ping(s->plan, e->param, true, frame);
	writer_commit(s->out, e->time_ns, len);
	s->n.ordinary++;
}
