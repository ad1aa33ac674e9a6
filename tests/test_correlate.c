/*
 * Lining up the guest's probes with their copies in the host capture, on
 * captures built here packet by packet (support_packets.h) the way the NATs
 * of samples/README.md and the testers' generators behave: which probe each
 * copy belongs to, the clock offset, and what the verdict makes of them. And
 * which host requests are kept in the first place.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <pcap/pcap.h>
#include <sqlite3.h>

#include "analyzer/clock_curve.h"
#include "analyzer/correlate.h"
#include "analyzer/pipeline.h"
#include "analyzer/radix_sort.h"
#include "dissectors/dissect.h"
#include "support.h"
#include "support_packets.h"

#define GUEST "10.0.2.15"
#define GATEWAY "10.0.2.2"
#define HOST_OUT "198.51.100.77"
#define TARGET "203.0.113.50"
#define US ((int64_t)1000)
#define MS ((int64_t)1000 * 1000)
#define HOUR ((int64_t)3600 * 1000 * MS)
/* 2025-12-04 00:00:00 UTC */
#define T0 ((int64_t)1764806400 * 1000 * MS)

static const char *const routers[] = { "198.51.100.1", "198.51.100.2", "198.51.100.3" };

/*
 * A TCP traceroute to TARGET port 80, three probes per TTL from 1, through a
 * NAT that gives every copy new source ports. TTL 1 expires at the NAT (the
 * gateway answers it) and never reaches the host capture; the others leave
 * either re-originated with TTL 64, or routed with their TTL less one
 * (`routes`), through three routers before TARGET. The host capture may hold
 * another run to TARGET too (`other`, at `other_at_ns` by the host's clock
 * from the guest's first probe).
 */
enum other_run {
	NO_OTHER_RUN,
	HOST_TRACEROUTE,         /* the host's own traceroute -T, with the guest's sequence numbers */
	HOST_TRACEROUTE_OWN_SEQ, /* the same with sequence numbers of its own */
	HOST_TRACEROUTE_ALIKE,   /* ...to TTL 8 at the guest's pace: as tight as the copies, and more */
	ROUGH_RUN,               /* SYNs with TTL 64, one per probe, spaced like them give or take 0.3 ms */
	SAME_COPIES,             /* the copies again, exactly: another VM running the same tool alike */
};

struct nat {
	int max_ttl;
	int64_t spacing_ns;    /* between one probe and the next */
	int64_t host_clock_ns; /* host clock minus guest clock */
	bool routes;
	bool keep_ip_id, keep_seq;
	enum other_run other;
	int64_t other_at_ns;
	bool arrivals; /* the host capture holds the probes as they arrived too (tcpdump -i any with vmnet8) */
};

static void write_guest_side(const struct nat *nat, struct pcap_file *g)
{
	uint8_t b[128];
	for (int n = 0; n < 3 * nat->max_ttl; n++) {
		uint8_t ttl = (uint8_t)(1 + n / 3);
		int64_t t = T0 + n * nat->spacing_ns;
		struct probe_spec gp = { .src = GUEST, .dst = TARGET, .ttl = ttl, .ip_id = (uint16_t)(2000 + n),
					 .sport = (uint16_t)(40000 + n), .dport = 80, .seq = (uint32_t)(1000 + n),
					 .proto = 6 };
		pcap_file_add(g, t, b, build_probe(&gp, b, sizeof b));
		int hop = nat->routes ? ttl - 1 : 64;
		if (ttl == 1)
			pcap_file_add(g, t + 300 * US, b, build_icmp_error(&gp, GATEWAY, 64, 11, 0, 1, b, sizeof b));
		else if (hop <= 3)
			pcap_file_add(g, t + 400 * US, b,
				    build_icmp_error(&gp, routers[hop - 1], (uint8_t)(255 - hop), 11, 0, 1, b, sizeof b));
		else
			pcap_file_add(g, t + 500 * US, b, build_answer(&gp, nat->routes ? 60 : 64, b, sizeof b));
	}
}

/* The NAT's copies of the probes and their answers, `shift` later than they were. */
static void write_host_side(const struct nat *nat, struct pcap_file *h, int64_t shift)
{
	uint8_t b[128];
	for (int n = nat->arrivals ? 0 : 3; n < 3 * nat->max_ttl; n++) {
		uint8_t ttl = (uint8_t)(1 + n / 3);
		int64_t at_host = T0 + n * nat->spacing_ns + nat->host_clock_ns + shift;
		if (nat->arrivals) {
			struct probe_spec gp = { .src = GUEST, .dst = TARGET, .ttl = ttl, .ip_id = (uint16_t)(2000 + n),
						 .sport = (uint16_t)(40000 + n), .dport = 80, .seq = (uint32_t)(1000 + n),
						 .proto = 6 };
			pcap_file_add(h, at_host + 50 * US, b, build_probe(&gp, b, sizeof b));
			if (n < 3)
				continue; /* TTL 1 expires at the NAT */
		}
		struct probe_spec hp = { .src = HOST_OUT, .dst = TARGET, .ttl = nat->routes ? (uint8_t)(ttl - 1) : 64,
					 .ip_id = (uint16_t)(2000 + n), .sport = (uint16_t)(50000 + n * 7919 % 10000),
					 .dport = 80, .seq = (uint32_t)(1000 + n), .proto = 6 };
		if (!nat->keep_ip_id)
			hp.ip_id = (uint16_t)(n * 40503 + 17);
		if (!nat->keep_seq)
			hp.seq = (uint32_t)n * 2654435761u;
		pcap_file_add(h, at_host + 200 * US, b, build_probe(&hp, b, sizeof b));
		int hop = hp.ttl;
		if (nat->routes && hop <= 3)
			pcap_file_add(h, at_host + 300 * US, b,
				    build_icmp_error(&hp, routers[hop - 1], (uint8_t)(256 - hop), 11, 0, 1, b, sizeof b));
		else /* From 64, less the three routers, and the host when it routes. */
			pcap_file_add(h, at_host + 400 * US, b, build_answer(&hp, 61, b, sizeof b));
	}
}

/* The host's own traceroute -T to TARGET from TTL 1, three routers, then TARGET at 4. */
static void write_host_traceroute(struct pcap_file *h, int64_t t0, int max_ttl, int64_t spacing_ns, bool guest_seq)
{
	uint8_t b[128];
	for (int n = 0; n < 3 * max_ttl; n++) {
		uint8_t ttl = (uint8_t)(1 + n / 3);
		int64_t t = t0 + n * spacing_ns;
		struct probe_spec p = { .src = HOST_OUT, .dst = TARGET, .ttl = ttl, .ip_id = (uint16_t)(30000 + n),
					.sport = (uint16_t)(52000 + n), .dport = 80,
					.seq = guest_seq ? (uint32_t)(1000 + n) : (uint32_t)(n + 1) * 4000037u, .proto = 6 };
		pcap_file_add(h, t, b, build_probe(&p, b, sizeof b));
		if (ttl <= 3)
			pcap_file_add(h, t + 600 * US, b,
				    build_icmp_error(&p, routers[ttl - 1], (uint8_t)(256 - ttl), 11, 0, 1, b, sizeof b));
		else
			pcap_file_add(h, t + 600 * US, b, build_answer(&p, 61, b, sizeof b));
	}
}

/* SYNs with TTL 64 to TARGET, one per probe of the guest's, each up to 0.3 ms early or late at random. */
static void write_rough_run(const struct nat *nat, struct pcap_file *h, int64_t t0)
{
	uint8_t b[128];
	uint32_t x = 2463534242u;
	for (int n = 0; n < 3 * nat->max_ttl; n++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		int64_t t = t0 + n * nat->spacing_ns + ((int64_t)(x % 601) - 300) * US;
		struct probe_spec p = { .src = HOST_OUT, .dst = TARGET, .ttl = 64, .ip_id = (uint16_t)x,
					.sport = (uint16_t)(1024 + x % 60000), .dport = 80, .seq = x, .proto = 6 };
		pcap_file_add(h, t, b, build_probe(&p, b, sizeof b));
		pcap_file_add(h, t + 400 * US, b, build_answer(&p, 61, b, sizeof b));
	}
}

/* The other run, when it falls before (`before`) or after the copies. */
static void write_other_run(const struct nat *nat, struct pcap_file *h, bool before)
{
	if (nat->other == NO_OTHER_RUN || (nat->other_at_ns < 0) != before)
		return;
	int64_t t0 = T0 + nat->host_clock_ns + nat->other_at_ns;
	switch (nat->other) {
	case HOST_TRACEROUTE:
	case HOST_TRACEROUTE_OWN_SEQ:
		write_host_traceroute(h, t0, 6, 3600 * US, nat->other == HOST_TRACEROUTE);
		/* ...and once more 20 s after the guest's. */
		if (!before)
			break;
		struct nat again = *nat;
		again.other_at_ns = 20 * 1000 * MS;
		write_other_run(&again, h, false);
		break;
	case HOST_TRACEROUTE_ALIKE:
		write_host_traceroute(h, t0, nat->max_ttl, nat->spacing_ns, false);
		break;
	case ROUGH_RUN:
		write_rough_run(nat, h, t0);
		break;
	case SAME_COPIES:
		write_host_side(nat, h, nat->other_at_ns);
		break;
	case NO_OTHER_RUN:
		break;
	}
}

static void write_nat_case(const struct nat *nat, const char *guest_path, const char *host_path)
{
	struct pcap_file g, h;
	pcap_file_open(&g, guest_path);
	pcap_file_open(&h, host_path);
	write_guest_side(nat, &g);
	write_other_run(nat, &h, true);
	write_host_side(nat, &h, 0);
	write_other_run(nat, &h, false);
	pcap_file_close(&g);
	pcap_file_close(&h);
}

struct run {
	char *dir;
	char db[600];
};

static void analyze_nat_case(struct run *r, const struct nat *nat)
{
	r->dir = make_temp_dir();
	char guest[600], host[600], args[2048];
	snprintf(guest, sizeof guest, "%s/guest.pcap", r->dir);
	snprintf(host, sizeof host, "%s/host.pcap", r->dir);
	write_nat_case(nat, guest, host);
	snprintf(args, sizeof args, "analyze '%s' --host '%s' -o '%s/case' -q", guest, host, r->dir);
	assert_int_equal(run_ttlsleuth(args, NULL, NULL), 0);
	snprintf(r->db, sizeof r->db, "%s/case/case.sqlite", r->dir);
}

static long long sql_int(const struct run *r, const char *sql)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open_v2(r->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	long long v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static char *sql_text(const struct run *r, const char *sql)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open_v2(r->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	const unsigned char *t = sqlite3_column_text(st, 0);
	char *v = strdup(t ? (const char *)t : "");
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void assert_sql_text(const struct run *r, const char *sql, const char *want)
{
	char *got = sql_text(r, sql);
	if (strcmp(got, want) != 0)
		print_error("%s: got '%s', want '%s'\n", sql, got, want);
	assert_string_equal(got, want);
	free(got);
}

#define PAIRS                                                                                                \
	" FROM probe_copies p JOIN requests g ON g.id = p.guest_request_id"                                  \
	" JOIN requests h ON h.id = p.host_request_id"

/*
 * Classic NAT mode (VirtualBox, VMware): TTL 1 expires at the NAT, the rest
 * leave with TTL 64 and new source ports but their IP ID and sequence. Of 24
 * probes 21 have a copy, each the one with the probe's IP ID, 0.2 ms later;
 * lining the two sequences up start to start paired the TTL-1 probes with the
 * copies of the TTL-2 ones and put the offset at 3.2 ms. Host clocks a time
 * zone or a day off change the offset, nothing else.
 */
static void nat_mode_copies_are_named_by_ip_id(void **state)
{
	(void)state;
	const int64_t clocks[] = { 0, 3 * HOUR, -14 * HOUR, 26 * HOUR };
	for (size_t i = 0; i < sizeof clocks / sizeof clocks[0]; i++) {
		struct nat nat = { 8, 1500 * US, clocks[i], false, true, true, NO_OTHER_RUN, 0, false };
		struct run r;
		analyze_nat_case(&r, &nat);
		assert_int_equal(sql_int(&r, "SELECT clock_offset_ns FROM case_info"), clocks[i] + 200 * US);
		assert_int_equal(sql_int(&r, "SELECT correlated_requests FROM case_info"), 21);
		assert_int_equal(sql_int(&r, "SELECT count(*) FROM probe_copies WHERE guest_ttl = 1"), 0);
		assert_int_equal(
		    sql_int(&r, "SELECT count(*)" PAIRS " WHERE g.ip_id = h.ip_id AND g.seq = h.seq"), 21);
		assert_sql_text(&r, "SELECT verdict || ' ' || reset_ttl || ' ' || confidence FROM traces",
				"ttl-reset 64 certain");
		/* The TTLs said sent on are those with copies: TTL 1 expired at the NAT. */
		assert_int_equal(sql_int(&r, "SELECT count(*) FROM findings WHERE kind = 'egress.ttl_constant'"
					     " AND text LIKE '%probes (2 to 8, of those the host capture shows)%'"),
				 1);
		remove_temp_dir(r.dir);
	}
}

/*
 * The same NAT re-originating every field (new ports, IP IDs, sequence): the
 * times alone say which copy is which. The copies still fit 0.2 ms after
 * their probes, and the TTL-1 probes stay without one.
 */
static void nat_mode_copies_without_identity_follow_the_times(void **state)
{
	(void)state;
	struct nat nat = { 8, 1500 * US, 0, false, false, false, NO_OTHER_RUN, 0, false };
	struct run r;
	analyze_nat_case(&r, &nat);
	assert_int_equal(sql_int(&r, "SELECT clock_offset_ns FROM case_info"), 200 * US);
	assert_int_equal(sql_int(&r, "SELECT count(*)" PAIRS " WHERE h.ts_ns - g.ts_ns = 200000"), 21);
	assert_int_equal(sql_int(&r, "SELECT count(*) FROM probe_copies"), 21);
	assert_int_equal(sql_int(&r, "SELECT count(*) FROM probe_copies WHERE guest_ttl = 1"), 0);
	assert_sql_text(&r, "SELECT verdict || ' ' || reset_ttl FROM traces", "ttl-reset 64");
	remove_temp_dir(r.dir);
}

/*
 * tcpdump -i any on a host whose NAT re-originates everything (VMware): each
 * probe is in the host capture as it arrived from the VM (the guest's packet,
 * its TTL) and as it left (TTL 64, new ports, IP ID and sequence). The copies
 * that left are the ones that tell: once the arrivals were taken for them and
 * the capture was said to be on the VM's side. With the NAT keeping IP ID and
 * sequence, likewise.
 */
static void host_capture_with_the_arrivals_too_pairs_what_left(void **state)
{
	(void)state;
	for (int keep = 0; keep < 2; keep++) {
		struct nat nat = { 8, 1500 * US, 0, false, keep, keep, NO_OTHER_RUN, 0, true };
		struct run r;
		analyze_nat_case(&r, &nat);
		assert_int_equal(sql_int(&r, "SELECT count(*) FROM probe_copies"), 21);
		assert_int_equal(sql_int(&r, "SELECT count(*) FROM probe_copies WHERE host_ttl = 64"), 21);
		assert_int_equal(sql_int(&r, "SELECT count(*) FROM findings WHERE kind = 'host.capture_on_guest_side'"), 0);
		assert_sql_text(&r, "SELECT verdict || ' ' || reset_ttl || ' ' || confidence FROM traces",
				"ttl-reset 64 certain");
		remove_temp_dir(r.dir);
	}
}

/*
 * A host capture on the VM's side (virbr0) of a kernel NAT that routes, while
 * the guest runs an ICMP trace in rounds (mtr: TTL 1 to 8, 0.1 s apart, once
 * a second) and pings the same place every 0.2 or 0.1 s beside it: the host
 * capture holds the probes as they arrived and the pings, TTL 64 from the
 * guest's address. Left without the arrivals, the correlation paired the
 * probes with the pings (one TTL, as a NAT that re-originates gives its
 * copies) and called the healthy path "ttl-reset 64 certain".
 */
static void a_ping_beside_the_trace_is_no_copy_of_its_probes(void **state)
{
	(void)state;
	const int64_t intervals[] = { 200 * MS, 100 * MS };
	for (size_t i = 0; i < sizeof intervals / sizeof intervals[0]; i++) {
		struct run r;
		r.dir = make_temp_dir();
		char guest[600], host[600], args[2048];
		snprintf(guest, sizeof guest, "%s/guest.pcap", r.dir);
		snprintf(host, sizeof host, "%s/host.pcap", r.dir);
		struct pcap_file g, h;
		pcap_file_open(&g, guest);
		pcap_file_open(&h, host);
		uint8_t b[128];
		int64_t ping_at = T0 - 50 * MS;
		uint16_t ping_seq = 1;
		for (int round = 0; round < 10; round++)
			for (int ttl = 1; ttl <= 8; ttl++) {
				int64_t t = T0 + round * 1000 * MS + ttl * 100 * MS;
				/* The pings sent before this probe, each seen by the host 50 us later. */
				for (; ping_at < t; ping_at += intervals[i], ping_seq++) {
					struct probe_spec ping = { .src = GUEST, .dst = TARGET, .ttl = 64,
								   .ip_id = (uint16_t)(5000 + ping_seq), .sport = 999,
								   .dport = ping_seq, .proto = 1 };
					size_t n = build_probe(&ping, b, sizeof b);
					pcap_file_add(&g, ping_at, b, n);
					pcap_file_add(&h, ping_at + 50 * US, b, n);
					n = build_answer(&ping, 59, b, sizeof b);
					pcap_file_add(&h, ping_at + 9950 * US, b, n);
					pcap_file_add(&g, ping_at + 10 * MS, b, n);
				}
				struct probe_spec p = { .src = GUEST, .dst = TARGET, .ttl = (uint8_t)ttl,
							.ip_id = (uint16_t)(100 + round * 8 + ttl), .sport = 1234,
							.dport = (uint16_t)(33000 + round * 8 + ttl), .proto = 1 };
				size_t n = build_probe(&p, b, sizeof b);
				pcap_file_add(&g, t, b, n);
				pcap_file_add(&h, t + 50 * US, b, n);
				if (ttl == 1)
					n = build_icmp_error(&p, GATEWAY, 64, 11, 0, 1, b, sizeof b);
				else if (ttl <= 4)
					n = build_icmp_error(&p, routers[ttl - 2], (uint8_t)(256 - ttl), 11, 0, 1, b,
							     sizeof b);
				else
					n = build_answer(&p, 59, b, sizeof b);
				pcap_file_add(&h, t + 9950 * US, b, n);
				pcap_file_add(&g, t + 10 * MS, b, n);
			}
		pcap_file_close(&g);
		pcap_file_close(&h);
		snprintf(args, sizeof args, "analyze '%s' --host '%s' -o '%s/case' -q", guest, host, r.dir);
		assert_int_equal(run_ttlsleuth(args, NULL, NULL), 0);
		snprintf(r.db, sizeof r.db, "%s/case/case.sqlite", r.dir);
		assert_int_equal(sql_int(&r, "SELECT count(*)" PAIRS " WHERE h.ttl = g.ttl AND h.echo_seq = g.echo_seq"), 80);
		assert_int_equal(sql_int(&r, "SELECT count(*) FROM findings WHERE kind = 'host.capture_on_guest_side'"), 1);
		assert_sql_text(&r, "SELECT verdict || ' ' || confidence FROM traces", "no-ttl-reset strong");
		remove_temp_dir(r.dir);
	}
}

/*
 * traceroute -T through a NAT that re-originates every field, its TTL rounds a
 * second apart (three probes 0.5 ms apart each), the host clock hours behind and
 * fast by 0.3 %. TTL 1 expires at the gateway: its probes have no copy. Lined up
 * a round late, TTL 1 took TTL 2's copies and so on, as well timed and nearer a
 * zero offset; a probe that expired at the host cannot have a copy, which decides.
 */
static void probes_that_expired_at_the_host_take_no_copy(void **state)
{
	(void)state;
	const int64_t clocks[] = { -7 * HOUR - 500 * MS, -100 * 1000 * MS };
	for (size_t c = 0; c < 2; c++) {
		char *dir = make_temp_dir();
		char guest[600], host[600], args[2048];
		snprintf(guest, sizeof guest, "%s/guest.pcap", dir);
		snprintf(host, sizeof host, "%s/host.pcap", dir);
		struct pcap_file g, h;
		pcap_file_open(&g, guest);
		pcap_file_open(&h, host);
		uint8_t b[128];
		for (int n = 0; n < 18; n++) {
			uint8_t ttl = (uint8_t)(1 + n / 3);
			int64_t t = T0 + (ttl - 1) * 1000 * MS + n % 3 * 500 * US;
			struct probe_spec gp = { .src = GUEST, .dst = TARGET, .ttl = ttl, .ip_id = (uint16_t)(2000 + n),
						 .sport = (uint16_t)(40000 + n), .dport = 80, .seq = (uint32_t)(1000 + n),
						 .proto = 6 };
			pcap_file_add(&g, t, b, build_probe(&gp, b, sizeof b));
			if (ttl == 1) {
				pcap_file_add(&g, t + 200 * US, b, build_icmp_error(&gp, GATEWAY, 255, 11, 0, 1, b, sizeof b));
				continue;
			}
			struct probe_spec hp = { .src = HOST_OUT, .dst = TARGET, .ttl = 64, .ip_id = (uint16_t)(n * 40503 + 17),
						 .sport = (uint16_t)(50000 + n * 7919 % 10000), .dport = 80,
						 .seq = (uint32_t)n * 2654435761u, .proto = 6 };
			int64_t at_host = t + 80 * US + clocks[c] + (t - T0) * 3 / 1000;
			pcap_file_add(&h, at_host, b, build_probe(&hp, b, sizeof b));
			pcap_file_add(&h, at_host + 15 * MS, b, build_answer(&hp, 54, b, sizeof b));
			pcap_file_add(&g, t + 15 * MS + 200 * US, b, build_answer(&gp, 64, b, sizeof b));
		}
		pcap_file_close(&g);
		pcap_file_close(&h);
		snprintf(args, sizeof args, "analyze '%s' --host '%s' -o '%s/case' -q", guest, host, dir);
		assert_int_equal(run_ttlsleuth(args, NULL, NULL), 0);
		struct run r = { .dir = dir };
		snprintf(r.db, sizeof r.db, "%s/case/case.sqlite", dir);
		assert_int_equal(sql_int(&r, "SELECT count(*) FROM probe_copies"), 15);
		assert_int_equal(sql_int(&r, "SELECT count(*) FROM probe_copies WHERE guest_ttl = 1"), 0);
		/* Each with its own copy: the IP ID the NAT gave probe n. */
		assert_int_equal(sql_int(&r, "SELECT count(*)" PAIRS
					     " WHERE h.ip_id = ((g.ip_id - 2000) * 40503 + 17) % 65536"),
				 15);
		remove_temp_dir(dir);
	}
}

/*
 * A kernel NAT that routes (TTL less one) but randomises source ports and IP
 * IDs (masquerade --random-fully): the sequence names each copy, so guest TTL
 * n pairs with host TTL n - 1 and the host capture shows the TTL kept. Paired
 * in order, TTL n went with the copy of the next TTL's probe and that
 * evidence was lost without a word; 50 ms apart or 1 ms apart alike.
 */
static void kernel_nat_with_random_ports_keeps_the_ttl(void **state)
{
	(void)state;
	const int64_t spacings[] = { 50 * MS, 1 * MS };
	for (size_t i = 0; i < 2; i++) {
		struct nat nat = { 6, spacings[i], 0, true, false, true, NO_OTHER_RUN, 0, false };
		struct run r;
		analyze_nat_case(&r, &nat);
		assert_int_equal(sql_int(&r, "SELECT clock_offset_ns FROM case_info"), 200 * US);
		assert_int_equal(sql_int(&r, "SELECT count(*) FROM probe_copies"), 15);
		assert_int_equal(
		    sql_int(&r, "SELECT count(*) FROM probe_copies WHERE host_ttl = guest_ttl - 1"), 15);
		assert_sql_text(&r, "SELECT verdict || ' ' || confidence FROM traces",
				"no-ttl-reset certain");
		assert_int_equal(sql_int(&r,
					 "SELECT count(*) FROM findings WHERE kind = 'egress.ttl_preserved'"
					 " AND text LIKE '%(15 of 18 probes found on the host side)%'"),
				 1);
		remove_temp_dir(r.dir);
	}
}

/* A request as the pipeline would keep it. */
static void add_request(struct case_model *cm, uint32_t capture, int32_t trace, int64_t ts, uint8_t ttl,
			uint16_t sport, uint32_t seq, uint16_t ip_id)
{
	struct request *q = VEC_PUSH(&cm->requests);
	assert_non_null(q);
	q->capture = capture;
	q->frame = cm->requests.len;
	q->ts_ns = ts;
	q->src.family = q->dst.family = 4;
	q->src.b[0] = 10;
	q->dst.b[0] = 203;
	q->proto = PROTO_TCP;
	q->ttl = ttl;
	q->sport = sport;
	q->dport = 80;
	q->seq = seq;
	q->ip_id = ip_id;
	q->trace = trace;
	q->reply = q->counterpart = q->same_as = -1;
}

/*
 * Many probes to one destination, nothing kept but the times (slirp), 0.2 s
 * apart: each copy 0.5 ms after its probe. The offset pass compared every
 * probe with every host request of the day around it, quadratic in the
 * probes (20,000 took 2 s, 80,000 46 s); now it is O(n log n), and the
 * pairs are still every probe with its own copy.
 */
static void many_probes_without_identity_take_n_log_n(void **state)
{
	(void)state;
	enum { PROBES = 80000 };
	struct case_model cm;
	case_init(&cm);
	cm.n_captures = 2;
	cm.captures[0].side = SIDE_GUEST;
	cm.captures[1].side = SIDE_HOST;
	assert_non_null(VEC_PUSH(&cm.traces));
	for (int i = 0; i < PROBES; i++) {
		int64_t t = T0 + (int64_t)i * 200 * MS;
		add_request(&cm, 0, 0, t, (uint8_t)(1 + i % 30), (uint16_t)(20000 + i * 13 % 40000),
			    (uint32_t)i * 2654435761u, (uint16_t)i);
		add_request(&cm, 1, -1, t + 500 * US, 64, (uint16_t)(1024 + i * 31 % 60000),
			    (uint32_t)i * 40503u + 7, (uint16_t)(i * 7));
	}
	clock_t start = clock();
	assert_int_equal(correlate_captures(&cm, 0, 1), 0);
	double seconds = (double)(clock() - start) / CLOCKS_PER_SEC;
	assert_true(cm.correlated);
	assert_int_equal(cm.clock_offset_ns, 500 * US);
	assert_int_equal(cm.correlated_requests, PROBES);
	for (size_t i = 0; i < cm.requests.len; i += 2)
		assert_int_equal(cm.requests.items[i].counterpart, (int32_t)i + 1);
	/* About 0.1 s plainly built, 1 s with the sanitizers; quadratic work takes minutes. */
	if (seconds > 20)
		fail_msg("correlating %d probes took %.1f s", PROBES, seconds);
	case_free(&cm);
}

/*
 * Host requests stored out of time order (a merged capture, a clock stepped
 * back), and nothing kept but the times: each probe still finds its copy.
 */
static void host_requests_out_of_capture_order(void **state)
{
	(void)state;
	enum { PROBES = 30 };
	struct case_model cm;
	case_init(&cm);
	cm.n_captures = 2;
	cm.captures[0].side = SIDE_GUEST;
	cm.captures[1].side = SIDE_HOST;
	assert_non_null(VEC_PUSH(&cm.traces));
	for (int i = 0; i < PROBES; i++)
		add_request(&cm, 0, 0, T0 + i * 10 * MS, (uint8_t)(1 + i / 3), (uint16_t)(40000 + i),
			    (uint32_t)(1000 + i), (uint16_t)(2000 + i));
	for (int i = PROBES - 1; i >= 0; i--)
		add_request(&cm, 1, -1, T0 + i * 10 * MS + 500 * US, 64, (uint16_t)(50000 + i * 7 % 100),
			    (uint32_t)i * 2654435761u, (uint16_t)(9000 + i * 13 % 100));
	assert_int_equal(correlate_captures(&cm, 0, 1), 0);
	assert_int_equal(cm.clock_offset_ns, 500 * US);
	assert_int_equal(cm.correlated_requests, PROBES);
	for (int i = 0; i < PROBES; i++)
		assert_int_equal(cm.requests.items[i].counterpart, 2 * PROBES - 1 - i);
	case_free(&cm);
}

/* The sort the correlation relies on: keys in order, equal keys as they came, signed values too. */
static void radix_sort_is_stable_and_signed(void **state)
{
	(void)state;
	enum { N = 5000 };
	struct item {
		uint64_t key;
		uint32_t came;
	} *items = malloc(N * sizeof *items);
	int64_t *v = malloc(N * sizeof *v);
	assert_non_null(items);
	assert_non_null(v);
	uint64_t x = 88172645463325252u;
	for (uint32_t i = 0; i < N; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		items[i] = (struct item){ (x % 50) << 40 | (x >> 60), i };
		v[i] = (int64_t)x;
	}
	v[0] = INT64_MIN;
	v[1] = INT64_MAX;
	v[2] = -1;
	v[3] = 0;
	assert_int_equal(radix_sort_by_key(items, N, sizeof *items), 0);
	assert_int_equal(radix_sort_i64(v, N), 0);
	for (size_t i = 1; i < N; i++) {
		assert_true(items[i - 1].key <= items[i].key);
		if (items[i - 1].key == items[i].key)
			assert_true(items[i - 1].came < items[i].came);
		assert_true(v[i - 1] <= v[i]);
	}
	assert_true(v[0] == INT64_MIN && v[N - 1] == INT64_MAX);
	free(items);
	free(v);
}

/* One dissected raw-IP packet through the pipeline with the host side's interest. */
static int take_udp(struct case_model *cm, struct pairing_index *ix, const struct interest *interest,
		    const char *dst, uint8_t ttl, uint16_t dport)
{
	struct probe_spec spec = { HOST_OUT, dst, ttl, 0x1234, 45000, dport, 0, 17 };
	uint8_t b[128];
	size_t n = build_probe(&spec, b, sizeof b);
	struct packet p;
	p.frame = cm->requests.len + 1;
	p.ts_ns = T0;
	p.wirelen = (uint32_t)n;
	p.interface = 0;
	dissect_frame(&p, LINKTYPE_RAW, b, (uint32_t)n);
	return pipeline_take_packet_of_interest(cm, 1, &p, ix, interest);
}

/*
 * A host copy whose TTL was reset keeps the probe's port, and UDP probes use
 * ports outside traceroute's 33434-34964 (traceroute -U: 53, tracepath:
 * 44444 up, -p anything): to a destination the guest traced, any port is
 * kept. Without targets to go by, ordinary UDP is still told by its port.
 */
static void host_udp_copies_are_kept_whatever_their_port(void **state)
{
	(void)state;
	struct case_model cm;
	case_init(&cm);
	cm.n_captures = 2;
	struct pairing_index ix;
	assert_int_equal(pairing_init(&ix), 0);
	struct target_key traced = { PROTO_UDP, { 4, { 203, 0, 113, 50 } }, 0 };
	struct interest interest = { &traced, 1 };
	assert_int_equal(take_udp(&cm, &ix, &interest, TARGET, 64, 53), 1);
	assert_int_equal(take_udp(&cm, &ix, &interest, TARGET, 64, 44445), 1);
	assert_int_equal(take_udp(&cm, &ix, &interest, TARGET, 64, 33435), 1);
	assert_int_equal(take_udp(&cm, &ix, &interest, "203.0.113.51", 64, 53), 0);
	assert_int_equal(cm.requests.len, 3);
	assert_int_equal(cm.requests.items[0].dport, 53);
	assert_int_equal(take_udp(&cm, &ix, NULL, TARGET, 64, 53), 0);
	assert_int_equal(take_udp(&cm, &ix, NULL, TARGET, 64, 33434), 1);
	assert_int_equal(take_udp(&cm, &ix, NULL, TARGET, 5, 53), 1);
	pairing_free(&ix);
	case_free(&cm);
}

/* The UDP destination port of the IPv4 datagram at ip, and of an ICMP error's quote, moved down. */
static void move_udp_port(uint8_t *ip, size_t n)
{
	if (n < 28 || ip[0] >> 4 != 4)
		return;
	size_t ihl = (size_t)(ip[0] & 15) * 4, at = ihl + 2;
	if (ip[9] == 1 && n >= ihl + 8 + 28 && (ip[ihl] == 3 || ip[ihl] == 11)) {
		move_udp_port(ip + ihl + 8, n - ihl - 8);
		return;
	}
	if (ip[9] != 17 || n < at + 2)
		return;
	unsigned port = (unsigned)ip[at] << 8 | ip[at + 1];
	if (port >= 33434 && port <= 34964)
		port = port - 33434 + 2000;
	ip[at] = (uint8_t)(port >> 8);
	ip[at + 1] = (uint8_t)port;
	if (n >= ihl + 8)
		ip[ihl + 6] = ip[ihl + 7] = 0; /* no checksum: the old one is wrong now */
}

static bool move_ports_of_ipv4(unsigned number, struct pcap_pkthdr *h, uint8_t *frame, void *ctx)
{
	(void)number;
	(void)ctx;
	if (h->caplen > 14 && frame[12] == 0x08 && frame[13] == 0x00)
		move_udp_port(frame + 14, h->caplen - 14);
	return true;
}

/* The lab captures are Ethernet: the IPv4 packet starts at byte 14. */
static char *with_ports_moved(const char *sample, const char *dir, const char *name)
{
	return rewrite_capture(sample, dir, name, move_ports_of_ipv4, NULL);
}

/*
 * The lab's classic-NAT UDP traceroute with its ports moved to 2000 up: the
 * host copies (TTL 64) used to be dropped, nothing was lined up, and the
 * certain "reset to TTL 64" became a probable reset of unknown value.
 */
static void lab_udp_trace_on_other_ports_is_lined_up(void **state)
{
	(void)state;
	const char *pair = "samples/lab/nat-classic-v4/traceroute-udp/";
	char guest_rel[200], host_rel[200];
	snprintf(guest_rel, sizeof guest_rel, "%sguest.pcap", pair);
	snprintf(host_rel, sizeof host_rel, "%shost.pcap", pair);
	struct run r;
	r.dir = make_temp_dir();
	char *guest = with_ports_moved(guest_rel, r.dir, "guest.pcap");
	char *host = with_ports_moved(host_rel, r.dir, "host.pcap");
	char args[2048];
	snprintf(args, sizeof args, "analyze '%s' --host '%s' -o '%s/case' -q", guest, host, r.dir);
	assert_int_equal(run_ttlsleuth(args, NULL, NULL), 0);
	snprintf(r.db, sizeof r.db, "%s/case/case.sqlite", r.dir);
	assert_int_equal(sql_int(&r, "SELECT min(dport) FROM requests"), 2000);
	assert_int_equal(sql_int(&r, "SELECT count(*) FROM requests r JOIN captures c ON c.id = r.capture_id"
				     " WHERE c.side = 'host'"),
			 14);
	assert_int_equal(sql_int(&r, "SELECT count(*)" PAIRS " WHERE g.dport = h.dport AND h.ttl = 64"), 14);
	assert_sql_text(&r, "SELECT verdict || ' ' || reset_ttl || ' ' || confidence FROM traces",
			"ttl-reset 64 certain");
	free(guest);
	free(host);
	remove_temp_dir(r.dir);
}

/*
 * tcptraceroute sends every probe with one sequence number: each probe finds
 * it again on every host copy, 10 ms apart, and those votes counted the
 * sequence as kept and pulled the offset to 10 ms, where the copies (named by
 * the IP ID the kernel NAT and the router keep) are 15 to 30 us after their
 * probes. A value a probe finds more than once on the curve names no copy.
 */
static void lab_tcptraceroute_offset_is_the_copies_delay(void **state)
{
	(void)state;
	const char *pairs[] = { "samples/lab/kernel-nat-v4/tcptraceroute/", "samples/lab/routed-v4/tcptraceroute/" };
	for (size_t i = 0; i < 2; i++) {
		char guest_rel[200], host_rel[200];
		snprintf(guest_rel, sizeof guest_rel, "%sguest.pcap", pairs[i]);
		snprintf(host_rel, sizeof host_rel, "%shost.pcap", pairs[i]);
		char *guest = source_path(guest_rel), *host = source_path(host_rel);
		struct run r;
		r.dir = make_temp_dir();
		char args[2048];
		snprintf(args, sizeof args, "analyze '%s' --host '%s' -o '%s/case' -q", guest, host, r.dir);
		assert_int_equal(run_ttlsleuth(args, NULL, NULL), 0);
		snprintf(r.db, sizeof r.db, "%s/case/case.sqlite", r.dir);
		assert_int_equal(sql_int(&r, "SELECT count(*)" PAIRS " WHERE g.ip_id = h.ip_id AND h.ttl = g.ttl - 1"), 8);
		assert_int_equal(sql_int(&r, "SELECT (SELECT clock_offset_ns FROM case_info) BETWEEN min(h.ts_ns - g.ts_ns)"
					     " AND max(h.ts_ns - g.ts_ns)" PAIRS),
				 1);
		assert_true(sql_int(&r, "SELECT clock_offset_ns FROM case_info") < 100 * US);
		free(guest);
		free(host);
		remove_temp_dir(r.dir);
	}
}

/*
 * mtr-like rounds to TARGET, echo requests with TTL 1 to 5 every 10 s, through
 * a NAT: TTL 1 expires at it (the gateway answers), the others reach the host
 * capture 0.1 ms later by the guest's clock, either routed by a kernel NAT
 * (TTL less one, IP ID and echo identifier and sequence kept: three routers,
 * then TARGET) or re-originated with TTL 64 and nothing kept. The host clock
 * runs `ppm` parts per million fast (slow when negative) from an offset.
 */
struct rounds {
	int rounds;
	int64_t host_clock_ns; /* host clock minus guest clock at the first probe */
	int64_t ppm;
	bool kernel_nat;
	bool host_traceroute; /* the host's own traceroute -I an hour before, echo sequence from 1 too */
};

#define ROUND_PROBES 5

static int64_t drifted(const struct rounds *w, int64_t t)
{
	return t + w->host_clock_ns + (t - T0) / 1000 * w->ppm / 1000;
}

static void write_rounds(const struct rounds *w, const char *guest_path, const char *host_path)
{
	struct pcap_file g, h;
	pcap_file_open(&g, guest_path);
	pcap_file_open(&h, host_path);
	uint8_t b[128];
	for (int n = 0; w->host_traceroute && n < 18; n++) {
		uint8_t ttl = (uint8_t)(1 + n / 3);
		int64_t t = T0 + w->host_clock_ns - HOUR + n * 3600 * US;
		struct probe_spec p = { .src = HOST_OUT, .dst = TARGET, .ttl = ttl, .ip_id = (uint16_t)(30000 + n),
					.sport = 0x5555, .dport = (uint16_t)(n + 1), .proto = 1 };
		pcap_file_add(&h, t, b, build_probe(&p, b, sizeof b));
		if (ttl <= 3)
			pcap_file_add(&h, t + 600 * US, b,
				    build_icmp_error(&p, routers[ttl - 1], (uint8_t)(256 - ttl), 11, 0, 1, b, sizeof b));
		else
			pcap_file_add(&h, t + 600 * US, b, build_answer(&p, 61, b, sizeof b));
	}
	for (int n = 0; n < w->rounds * ROUND_PROBES; n++) {
		uint8_t ttl = (uint8_t)(1 + n % ROUND_PROBES);
		int64_t t = T0 + n / ROUND_PROBES * 10000 * MS + n % ROUND_PROBES * 2500 * US;
		struct probe_spec gp = { .src = GUEST, .dst = TARGET, .ttl = ttl, .ip_id = (uint16_t)(4000 + n),
					 .sport = 0x999, .dport = (uint16_t)(n + 1), .proto = 1 };
		pcap_file_add(&g, t, b, build_probe(&gp, b, sizeof b));
		if (ttl == 1) {
			pcap_file_add(&g, t + 500 * US, b, build_icmp_error(&gp, GATEWAY, 64, 11, 0, 1, b, sizeof b));
			continue;
		}
		struct probe_spec hp = gp;
		hp.src = HOST_OUT;
		if (w->kernel_nat) {
			hp.ttl = (uint8_t)(ttl - 1);
		} else {
			hp.ttl = 64;
			hp.ip_id = (uint16_t)(n * 40503 + 17);
			hp.sport = 0x4444;
			hp.dport = (uint16_t)(n * 7919 + 3);
		}
		int64_t at_host = drifted(w, t + 100 * US);
		pcap_file_add(&h, at_host, b, build_probe(&hp, b, sizeof b));
		int hop = w->kernel_nat ? hp.ttl : 4;
		if (hop <= 3) {
			const char *r = routers[hop - 1];
			pcap_file_add(&h, at_host + 200 * US, b,
				    build_icmp_error(&hp, r, (uint8_t)(256 - hop), 11, 0, 1, b, sizeof b));
			pcap_file_add(&g, t + 500 * US, b,
				    build_icmp_error(&gp, r, (uint8_t)(255 - hop), 11, 0, 1, b, sizeof b));
		} else {
			pcap_file_add(&h, at_host + 200 * US, b, build_answer(&hp, 61, b, sizeof b));
			pcap_file_add(&g, t + 500 * US, b, build_answer(&gp, w->kernel_nat ? 60 : 64, b, sizeof b));
		}
	}
	pcap_file_close(&g);
	pcap_file_close(&h);
}

static void analyze_rounds(struct run *r, const struct rounds *w)
{
	r->dir = make_temp_dir();
	char guest[600], host[600], args[2048];
	snprintf(guest, sizeof guest, "%s/guest.pcap", r->dir);
	snprintf(host, sizeof host, "%s/host.pcap", r->dir);
	write_rounds(w, guest, host);
	snprintf(args, sizeof args, "analyze '%s' --host '%s' -o '%s/case' -q", guest, host, r->dir);
	assert_int_equal(run_ttlsleuth(args, NULL, NULL), 0);
	snprintf(r->db, sizeof r->db, "%s/case/case.sqlite", r->dir);
}

/* |the offset stored - the host's time of the first probe's copy (were it sent on), less the probe's|, in ns. */
static long long offset_error(const struct run *r, const struct rounds *w)
{
	long long got = sql_int(r, "SELECT clock_offset_ns FROM case_info");
	long long want = drifted(w, T0 + 100 * US) - T0;
	if (llabs(got - want) >= 10 * US)
		print_error("offset %lld, want %lld\n", got, want);
	return llabs(got - want);
}

/*
 * Host and guest clocks drifting apart (nobody keeps them in step): 100 ppm
 * is 60 ms over the ten minutes of 60 rounds, 2000 ppm 1.2 s. The kernel NAT
 * kept the IP ID and the echo identifier and sequence, yet the offset came
 * out at -230 s and -585 s, the copies shifted by a probe or not found, and
 * "certain" findings cited guest frame 593 (echo sequence 297) with host
 * frame 1 (sequence 2): the votes of the kept fields spread over more than
 * one 20 ms bin, so no field was taken as kept. Now each copy is the host
 * request with its probe's IP ID and sequence, whichever way and however fast
 * the clocks drift, and the offset is the host's at the first probe.
 */
static void drifting_clocks_keep_the_copies_named_by_identity(void **state)
{
	(void)state;
	const struct rounds cases[] = {
		{ 60, 0, 100, true, false },
		{ 60, 5000 * MS, 2000, true, false },
		{ 60, 0, 2000, true, false },
		{ 60, -3 * HOUR, -300, true, false },
		{ 60, 26 * HOUR, 5000, true, false },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct run r;
		analyze_rounds(&r, &cases[i]);
		assert_int_equal(sql_int(&r, "SELECT correlated_requests FROM case_info"), 240);
		assert_int_equal(sql_int(&r, "SELECT count(*)" PAIRS " WHERE g.ip_id = h.ip_id AND g.echo_seq = h.echo_seq"
					     " AND h.ttl = g.ttl - 1"),
				 240);
		assert_true(offset_error(&r, &cases[i]) < 10 * US);
		assert_sql_text(&r, "SELECT verdict || ' ' || confidence FROM traces", "no-ttl-reset certain");
		assert_int_equal(sql_int(&r,
					 "SELECT count(*) FROM findings WHERE kind = 'egress.ttl_preserved'"
					 " AND text LIKE '%(240 of 300 probes found on the host side)%'"),
				 1);
		remove_temp_dir(r.dir);
	}
}

/*
 * The same rounds through a NAT that re-originates every field: the times
 * alone pair them, and the first pairing, around one offset, is fitted to a
 * curve and paired again along it, so a drift of 100 ppm (60 ms over the
 * capture) or of -300 ppm keeps every copy with its own probe.
 */
static void drifting_clocks_without_identity_follow_the_times(void **state)
{
	(void)state;
	const struct rounds cases[] = {
		{ 60, 0, 100, false, false },
		{ 60, 2 * HOUR, -300, false, false },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct run r;
		analyze_rounds(&r, &cases[i]);
		assert_int_equal(sql_int(&r, "SELECT correlated_requests FROM case_info"), 240);
		/* The copy of probe n has echo sequence n * 7919 + 3 (mod 2^16), n = echo sequence - 1. */
		assert_int_equal(sql_int(&r, "SELECT count(*)" PAIRS
					     " WHERE h.echo_seq = ((g.echo_seq - 1) * 7919 + 3) % 65536"),
				 240);
		assert_true(offset_error(&r, &cases[i]) < 10 * US);
		assert_sql_text(&r, "SELECT verdict || ' ' || reset_ttl || ' ' || confidence FROM traces",
				"ttl-reset 64 certain");
		remove_temp_dir(r.dir);
	}
}

/* What every run below must find: the 21 real copies, 0.2 ms after their probes, and the reset. */
static void assert_real_copies(const struct run *r, int64_t host_clock_ns)
{
	assert_int_equal(sql_int(r, "SELECT clock_offset_ns FROM case_info"), host_clock_ns + 200 * US);
	assert_int_equal(sql_int(r, "SELECT correlated_requests FROM case_info"), 21);
	char sql[300];
	snprintf(sql, sizeof sql, "SELECT count(*)" PAIRS " WHERE h.ts_ns - g.ts_ns = %lld AND h.ttl = 64",
		 (long long)(host_clock_ns + 200 * US));
	assert_int_equal(sql_int(r, sql), 21);
	assert_sql_text(r, "SELECT verdict || ' ' || reset_ttl || ' ' || confidence FROM traces",
			"ttl-reset 64 certain");
	assert_int_equal(sql_int(r, "SELECT count(*) FROM findings WHERE kind = 'host.capture_on_guest_side'"), 0);
}

/*
 * A long host capture holding the host's own traceroute -T to the same
 * place an hour before the guest's, and again 20 s after (the tester's
 * longhost-tcp): the copies of the NAT, with TTL 64 and nothing of the
 * probes kept, are 0.2 ms after them. Both of the host's traceroutes start
 * at sequence number 1000 as the guest's does; that "kept" sequence took the
 * guest's probes for the first of them (offset -3599.99 s, every TTL the
 * guest's own), and the reports said the host capture was taken on the VM's
 * side, and that the answers reached the host with TTL 254. Those pairs
 * carry the guest's TTLs from another address and port: no NAT's copies. With
 * sequence numbers of their own, only those TTLs and the timing tell; sent
 * at the guest's pace, up to TTL 8, only the TTLs.
 */
static void the_hosts_own_traceroute_is_not_taken_for_copies(void **state)
{
	(void)state;
	const enum other_run runs[] = { HOST_TRACEROUTE, HOST_TRACEROUTE_OWN_SEQ, HOST_TRACEROUTE_ALIKE };
	const int64_t clocks[] = { 0, 3 * HOUR };
	for (size_t i = 0; i < 3; i++)
		for (size_t c = 0; c < 2; c++) {
			struct nat nat = { 8, 1500 * US, clocks[c], false, false, false, runs[i], -HOUR, false };
			struct run r;
			analyze_nat_case(&r, &nat);
			assert_real_copies(&r, clocks[c]);
			assert_int_equal(sql_int(&r, "SELECT count(*) FROM findings WHERE kind = 'ingress.ttl_rewritten'"
						     " AND text LIKE '%reached the host with TTL 61 %'"),
					 1);
			remove_temp_dir(r.dir);
		}
}

/*
 * Two rounds of mtr -I (echo sequence 1 to 10) through a NAT that
 * re-originates them with TTL 64, and the host's own traceroute -I an hour
 * before, three probes a TTL with echo sequence 1 to 18: the sequence seems
 * kept, and the first round's five pairs carry host TTLs 1, 1, 1, 2, 2 for the
 * guest's 1 to 5, which a test of "one TTL for most" let pass. No NAT sends
 * its copies on with TTL 1: the 8 real copies are found.
 */
static void a_short_run_is_not_taken_for_the_hosts_traceroute(void **state)
{
	(void)state;
	struct rounds w = { 2, 0, 0, false, true };
	struct run r;
	analyze_rounds(&r, &w);
	assert_int_equal(sql_int(&r, "SELECT clock_offset_ns FROM case_info"), 100 * US);
	assert_int_equal(sql_int(&r, "SELECT correlated_requests FROM case_info"), 8);
	assert_int_equal(sql_int(&r, "SELECT count(*)" PAIRS " WHERE h.ts_ns - g.ts_ns = 100000 AND h.ttl = 64"), 8);
	assert_sql_text(&r, "SELECT verdict || ' ' || reset_ttl || ' ' || confidence FROM traces",
			"ttl-reset 64 certain");
	remove_temp_dir(r.dir);
}

/*
 * Another run whose TTLs look like a NAT's (SYNs with TTL 64 to the same
 * port, one for each of the guest's probes) an hour before the copies: it
 * pairs with all 24 probes, the real copies with 21, but within 0.3 ms only,
 * where the copies keep the probes' spacing to the nanosecond. The timing
 * wins, and it also wins against a small offset: with the host clock three
 * hours ahead, the rough run sits near zero.
 */
static void copies_that_keep_the_timing_beat_a_rough_run(void **state)
{
	(void)state;
	const int64_t clocks[] = { 0, 3 * HOUR };
	for (size_t c = 0; c < 2; c++) {
		struct nat nat = { 8,     1500 * US, clocks[c], false, false, false, ROUGH_RUN, -clocks[c] - HOUR / 2,
				   false };
		if (clocks[c] == 0)
			nat.other_at_ns = -HOUR;
		struct run r;
		analyze_nat_case(&r, &nat);
		assert_real_copies(&r, clocks[c]);
		remove_temp_dir(r.dir);
	}
}

/*
 * The same copies twice, 0.2 ms after the probes and again an hour before
 * (another VM running the same tool the same way): the evidence is the same,
 * and a clock offset is more likely small (NTP) than an hour. The earlier of
 * equals was taken before.
 */
static void of_equal_runs_the_smaller_offset_wins(void **state)
{
	(void)state;
	const int64_t elsewhere[] = { -HOUR, HOUR };
	for (size_t i = 0; i < 2; i++) {
		struct nat nat = { 8, 1500 * US, 0, false, false, false, SAME_COPIES, elsewhere[i], false };
		struct run r;
		analyze_nat_case(&r, &nat);
		assert_real_copies(&r, 0);
		remove_temp_dir(r.dir);
	}
}

/*
 * The curve of the offsets: fitted to delays drifting at 2000 ppm, one in
 * four of them a chance value seconds off, it follows the drift and not the
 * outliers; fitted as a line to two alignments of the same copies a probe
 * apart (mixed as pairing in order leaves them), it keeps their slope. Never
 * steeper than MAX_DRIFT_PPM, whatever the points say.
 */
static void clock_curve_follows_drift_not_outliers(void **state)
{
	(void)state;
	enum { N = 400 };
	struct clock_point p[N];
	for (int i = 0; i < N; i++) {
		int64_t t = T0 + (int64_t)i * 1500 * MS;
		int64_t d = 5000 * MS + (t - T0) / 500; /* 2000 ppm */
		p[i] = (struct clock_point){ clock_point_key(t), i % 4 == 3 ? d + (i % 8 == 3 ? 7000 : -3000) * MS : d };
	}
	struct clock_curve c;
	assert_int_equal(clock_curve_fit(&c, p, N), 0);
	for (int64_t t = T0 - 100 * 1000 * MS; t < T0 + 700 * 1000 * MS; t += 7 * 1000 * MS) {
		int64_t want = 5000 * MS + (t - T0) / 500, got = clock_curve_at(&c, t);
		if (llabs(got - want) >= 10 * US)
			print_error("at %lld s: %lld, want %lld\n", (long long)(t - T0) / 1000000000, (long long)got,
				    (long long)want);
		assert_true(llabs(got - want) < 10 * US);
		assert_true(llabs(clock_curve_guest_time(&c, t + got) - t) < 10 * US);
	}
	clock_curve_free(&c);

	/* Rounds a probe apart, the first 30 % of them lined up 2.5 ms late: about the slope of
	 * both (the 2.5 ms over half the 600 s is 8 ppm at most), not the 2.5 ms jump. */
	for (int i = 0; i < N; i++) {
		int64_t t = T0 + (int64_t)i * 1500 * MS;
		p[i] = (struct clock_point){ clock_point_key(t), (t - T0) / 10000 + (i < N * 3 / 10 ? 2500 * US : 0) };
	}
	assert_int_equal(clock_curve_fit_line(&c, p, N), 0);
	assert_true(fabs(c.slope - 100e-6) < 10e-6);
	clock_curve_free(&c);

	/* A jump of an hour in 1.5 s is no drift: held to 0.5 %. */
	for (int i = 0; i < N; i++)
		p[i] = (struct clock_point){ clock_point_key(T0 + (int64_t)i * 1500 * MS), i < N / 2 ? 0 : HOUR };
	assert_int_equal(clock_curve_fit(&c, p, N), 0);
	for (size_t k = 1; k < c.n; k++)
		assert_true(llabs(c.knots[k].d - c.knots[k - 1].d) <=
			    clock_max_drift(c.knots[k].t - c.knots[k - 1].t));
	clock_curve_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(nat_mode_copies_are_named_by_ip_id),
		cmocka_unit_test(nat_mode_copies_without_identity_follow_the_times),
		cmocka_unit_test(host_capture_with_the_arrivals_too_pairs_what_left),
		cmocka_unit_test(probes_that_expired_at_the_host_take_no_copy),
		cmocka_unit_test(a_ping_beside_the_trace_is_no_copy_of_its_probes),
		cmocka_unit_test(kernel_nat_with_random_ports_keeps_the_ttl),
		cmocka_unit_test(many_probes_without_identity_take_n_log_n),
		cmocka_unit_test(host_requests_out_of_capture_order),
		cmocka_unit_test(radix_sort_is_stable_and_signed),
		cmocka_unit_test(host_udp_copies_are_kept_whatever_their_port),
		cmocka_unit_test(lab_udp_trace_on_other_ports_is_lined_up),
		cmocka_unit_test(lab_tcptraceroute_offset_is_the_copies_delay),
		cmocka_unit_test(drifting_clocks_keep_the_copies_named_by_identity),
		cmocka_unit_test(drifting_clocks_without_identity_follow_the_times),
		cmocka_unit_test(the_hosts_own_traceroute_is_not_taken_for_copies),
		cmocka_unit_test(a_short_run_is_not_taken_for_the_hosts_traceroute),
		cmocka_unit_test(copies_that_keep_the_timing_beat_a_rough_run),
		cmocka_unit_test(of_equal_runs_the_smaller_offset_wins),
		cmocka_unit_test(clock_curve_follows_drift_not_outliers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
