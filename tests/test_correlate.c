/*
 * Lining up the guest's probes with their copies in the host capture: which
 * host requests are kept to be lined up in the first place.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pcap/pcap.h>
#include <sqlite3.h>

#include "analyzer/pipeline.h"
#include "dissectors/dissect.h"
#include "support.h"
#include "support_packets.h"

#define HOST_OUT "198.51.100.77"
#define TARGET "203.0.113.50"
#define MS ((int64_t)1000 * 1000)
/* 2025-12-04 00:00:00 UTC */
#define T0 ((int64_t)1764806400 * 1000 * MS)

struct run {
	char *dir;
	char db[600];
};

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

static char *with_ports_moved(const char *sample, const char *dir, const char *name)
{
	char *src = source_path(sample);
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *in = pcap_open_offline(src, errbuf);
	assert_non_null(in);
	assert_int_equal(pcap_datalink(in), DLT_EN10MB);
	char *path = malloc(strlen(dir) + strlen(name) + 2);
	sprintf(path, "%s/%s", dir, name);
	pcap_dumper_t *out = pcap_dump_open(in, path);
	assert_non_null(out);
	struct pcap_pkthdr *h;
	const u_char *data;
	while (pcap_next_ex(in, &h, &data) == 1) {
		uint8_t frame[2048];
		assert_true(h->caplen <= sizeof frame);
		memcpy(frame, data, h->caplen);
		if (h->caplen > 14 && frame[12] == 0x08 && frame[13] == 0x00)
			move_udp_port(frame + 14, h->caplen - 14);
		pcap_dump((u_char *)out, h, frame);
	}
	pcap_dump_close(out);
	pcap_close(in);
	free(src);
	return path;
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(host_udp_copies_are_kept_whatever_their_port),
		cmocka_unit_test(lab_udp_trace_on_other_ports_is_lined_up),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
