/*
 * The SQLite store, checked the way a support engineer would read it: with SQL
 * on the written file. The case is built by hand (a guest behind a NAT that
 * resets the TTL of TCP probes, plus its host capture) so that every expected
 * value below is known exactly.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "analyzer/model.h"
#include "analyzer/store.h"
#include "support.h"

#define T0 INT64_C(1700000000000000000)
#define MS INT64_C(1000000)

static struct ip_addr addr(const char *text)
{
	struct ip_addr a;
	if (!ip_addr_parse(text, &a))
		fail_msg("bad address in test: %s", text);
	return a;
}

static void add_capture(struct case_model *cm, enum capture_side side, const char *path,
			const char *name, const char *format, int linktype)
{
	struct capture *c = &cm->captures[cm->n_captures++];
	c->side = side;
	c->path = strdup(path);
	c->name = strdup(name);
	assert_non_null(c->path);
	assert_non_null(c->name);
	memset(c->sha256_hex, side == SIDE_GUEST ? 'a' : 'b', 64);
	c->format = format;
	c->linktype = linktype;
	c->snaplen = 262144;
	c->first_ts_ns = T0;
	c->last_ts_ns = T0 + 2000 * MS;
}

static struct request *add_request(struct case_model *cm, uint32_t capture, uint64_t frame,
				   enum trace_protocol proto, const char *src, const char *dst,
				   uint8_t ttl, int32_t trace)
{
	struct request *q = VEC_PUSH(&cm->requests);
	assert_non_null(q);
	q->capture = capture;
	q->frame = frame;
	q->ts_ns = T0 + (int64_t)frame * MS;
	q->src = addr(src);
	q->dst = addr(dst);
	q->proto = proto;
	q->ttl = ttl;
	q->ip_len = 60;
	q->ip_id = (uint32_t)(1000 + frame);
	q->trace = trace;
	q->reply = q->counterpart = -1;
	return q;
}

static struct reply *add_reply(struct case_model *cm, uint32_t capture, uint64_t frame,
			       enum reply_kind kind, const char *src, const char *dst, uint8_t ttl,
			       int32_t request, enum match_method method)
{
	struct reply *p = VEC_PUSH(&cm->replies);
	assert_non_null(p);
	p->capture = capture;
	p->frame = frame;
	p->ts_ns = T0 + (int64_t)frame * MS;
	p->src = addr(src);
	p->dst = addr(dst);
	p->ttl = ttl;
	p->kind = kind;
	p->request = request;
	p->method = method;
	p->counterpart = -1;
	if (request >= 0) {
		struct request *q = &cm->requests.items[request];
		p->rtt_ns = p->ts_ns - q->ts_ns;
		q->reply = (int32_t)(cm->replies.len - 1);
		q->answered = true;
	}
	return p;
}

static struct hop *add_hop(struct trace *t, uint8_t ttl, uint32_t probes)
{
	struct hop *h = VEC_PUSH(&t->hops);
	assert_non_null(h);
	h->ttl = ttl;
	h->probes = probes;
	h->request = h->reply = -1;
	return h;
}

static struct finding *add_finding(struct case_model *cm, enum finding_kind kind, int32_t trace,
				   const char *text)
{
	struct finding *f = VEC_PUSH(&cm->findings);
	assert_non_null(f);
	VEC_INIT(&f->evidence, 1000);
	f->kind = kind;
	f->trace = trace;
	snprintf(f->text, sizeof f->text, "%s", text);
	return f;
}

static void add_evidence(struct finding *f, uint32_t capture, uint64_t frame, const char *role)
{
	struct evidence *e = VEC_PUSH(&f->evidence);
	assert_non_null(e);
	e->capture = capture;
	e->frame = frame;
	e->role = role;
}

/*
 * The guest 192.0.2.10 traces 203.0.113.5:443 with TCP SYNs of TTL 1, 2, 3:
 * the gateway answers TTL 1, the destination already answers TTL 2 because the
 * NAT sent the probe on with TTL 64 (the host capture shows it). Plus an IPv6
 * echo trace that got no answer, a stray DNS query outside any trace, and an
 * ICMP error that matched nothing.
 */
static void build_case(struct case_model *cm)
{
	case_init(cm);
	add_capture(cm, SIDE_GUEST, "/cases/1234/guest.pcapng", "guest.pcapng", "pcapng", 1);
	add_capture(cm, SIDE_HOST, "/cases/1234/host.pcap", "host.pcap", "pcap", 113);
	struct capture *guest = &cm->captures[0], *host = &cm->captures[1];
	guest->file_bytes = 4096;
	guest->packets = 40;
	guest->ip_packets = 38;
	guest->interesting = 9;
	guest->anomaly_counts[ANOMALY_IPV4_BAD_CHECKSUM] = 2;
	guest->anomaly_counts[ANOMALY_QUOTE_BAD_CHECKSUM] = 1;
	guest->anomalous_packets = 2;
	host->file_bytes = 2048;
	host->packets = 12;
	host->ip_packets = 12;
	host->interesting = 2;
	host->cut_short = true;
	snprintf(host->warning, sizeof host->warning,
		 "truncated dump file; tried to read 54 captured bytes, only got 20");

	/* requests 0-2: the TCP trace; 3: the host's copy of request 1 */
	for (uint8_t ttl = 1; ttl <= 3; ttl++) {
		struct request *q = add_request(cm, 0, (uint64_t)(1 + 2 * ttl), PROTO_TCP,
						"192.0.2.10", "203.0.113.5", ttl, 0);
		q->sport = 40001;
		q->dport = 443;
		q->seq = 0x10000000u + ttl;
	}
	struct request *copy = add_request(cm, 1, 11, PROTO_TCP, "198.51.100.7", "203.0.113.5", 64, -1);
	copy->sport = 61001;
	copy->dport = 443;
	copy->seq = 0x10000002u;
	cm->requests.items[1].counterpart = 3;
	copy->counterpart = 1;
	/* request 4: IPv6 echo, trace 1; request 5: a DNS query in no trace */
	struct request *echo = add_request(cm, 0, 9, PROTO_ICMP, "2001:db8::10", "2001:db8:0:1::1", 1, 1);
	echo->echo_id = 0x4242;
	echo->echo_seq = 1;
	struct request *dns = add_request(cm, 0, 13, PROTO_UDP, "192.0.2.10", "198.51.100.53", 64, -1);
	dns->sport = 5353;
	dns->dport = 53;

	/* reply 0: the gateway's time exceeded for TTL 1, quoting the probe */
	struct reply *te = add_reply(cm, 0, 4, REPLY_TIME_EXCEEDED, "192.0.2.1", "192.0.2.10", 255, 0,
				     MATCH_QUOTE_EXACT);
	te->icmp_type = 11;
	te->quoted = true;
	te->quoted_ttl = 1;
	te->quoted_len = 28;
	te->quoted_ip_id = 1003;
	te->quoted_src = addr("192.0.2.10");
	te->quoted_dst = addr("203.0.113.5");
	te->quoted_proto = IPPROTO_NUM_TCP;
	te->quoted_sport = 40001;
	te->quoted_dport = 443;
	te->quoted_ports_known = true;
	te->quoted_seq = 0x10000001u;
	te->quoted_seq_known = true;
	te->anomalies = (anomaly_set)1 << ANOMALY_IPV4_BAD_CHECKSUM |
			(anomaly_set)1 << ANOMALY_QUOTE_BAD_CHECKSUM;
	/* ...and the two-label MPLS stack the router reported (RFC 4950) */
	te->mpls_first = (uint32_t)cm->mpls.len;
	te->mpls_count = 2;
	struct mpls_entry *outer = VEC_PUSH(&cm->mpls);
	*outer = (struct mpls_entry){ .label = 16004, .tc = 0, .bottom = 0, .ttl = 1 };
	struct mpls_entry *inner = VEC_PUSH(&cm->mpls);
	*inner = (struct mpls_entry){ .label = 24001, .tc = 5, .bottom = 1, .ttl = 1 };
	/* reply 1: the destination's SYN-ACK to TTL 2, as the guest got it */
	struct reply *synack = add_reply(cm, 0, 6, REPLY_SYN_ACK, "203.0.113.5", "192.0.2.10", 64, 1,
					 MATCH_TCP_ACK);
	synack->sport = 443;
	synack->dport = 40001;
	synack->ack = 0x10000003u;
	/* reply 2: the same SYN-ACK at the host, before the NAT rewrote it */
	struct reply *host_synack = add_reply(cm, 1, 12, REPLY_SYN_ACK, "203.0.113.5",
					      "198.51.100.7", 52, 3, MATCH_TCP_ACK);
	host_synack->sport = 443;
	host_synack->dport = 61001;
	host_synack->ack = 0x10000003u;
	synack->counterpart = 2;
	host_synack->counterpart = 1;
	/* reply 3: an unreachable nobody asked for */
	struct reply *stray = add_reply(cm, 0, 15, REPLY_UNREACHABLE, "198.51.100.1", "192.0.2.10", 250,
					-1, MATCH_NONE);
	stray->icmp_type = 3;
	stray->icmp_code = 3;
	stray->quoted = true; /* an 8-byte quote: ports, but no sequence number */
	stray->quoted_len = 28;
	stray->quoted_proto = IPPROTO_NUM_TCP;
	stray->quoted_src = addr("192.0.2.10");
	stray->quoted_dst = addr("198.51.100.80");
	stray->quoted_sport = 40999;
	stray->quoted_dport = 8080;
	stray->quoted_ports_known = true;
	stray->quoted_seq = 12345;

	struct trace *t = VEC_PUSH(&cm->traces);
	assert_non_null(t);
	VEC_INIT(&t->hops, 256);
	t->capture = 0;
	t->proto = PROTO_TCP;
	t->src = addr("192.0.2.10");
	t->dst = addr("203.0.113.5");
	t->dport = 443;
	t->first_ts_ns = T0 + 3 * MS;
	t->last_ts_ns = T0 + 7 * MS;
	t->probes = 3;
	t->answered = 2;
	t->max_ttl = 3;
	t->reached_ttl = 2;
	t->verdict = VERDICT_TTL_RESET;
	t->direction = DIRECTION_EGRESS;
	t->reset_ttl = 64;
	t->egress_ttl = 64;
	t->ingress_ttl = -1;
	t->true_distance = -1;
	t->confidence = "certain";
	snprintf(t->reason, sizeof t->reason, "The probe sent with TTL 2 left the host with TTL 64.");
	struct hop *h = add_hop(t, 1, 1);
	h->addr = addr("192.0.2.1");
	h->answers = 1;
	h->kind = REPLY_TIME_EXCEEDED;
	h->reply_ttl = 255;
	h->quoted_ttl = 1;
	h->rtt_ns = 1 * MS;
	h->probe_frame = 3;
	h->reply_frame = 4;
	h->request = 0;
	h->reply = 0;
	h = add_hop(t, 2, 1);
	h->addr = addr("203.0.113.5");
	h->answers = 1;
	h->is_destination = true;
	h->kind = REPLY_SYN_ACK;
	h->reply_ttl = 64;
	h->quoted_ttl = 99; /* not an ICMP error: must not be stored */
	h->rtt_ns = 1 * MS;
	h->probe_frame = 5;
	h->reply_frame = 6;
	h->request = 1;
	h->reply = 1;

	t = VEC_PUSH(&cm->traces);
	assert_non_null(t);
	VEC_INIT(&t->hops, 256);
	t->capture = 0;
	t->proto = PROTO_ICMP;
	t->src = addr("2001:db8::10");
	t->dst = addr("2001:db8:0:1::1");
	t->first_ts_ns = t->last_ts_ns = T0 + 9 * MS;
	t->probes = 1;
	t->max_ttl = 1;
	t->verdict = VERDICT_INCONCLUSIVE;
	t->direction = DIRECTION_UNKNOWN;
	t->reset_ttl = t->egress_ttl = t->ingress_ttl = t->true_distance = -1;
	t->confidence = "probable";
	snprintf(t->reason, sizeof t->reason, "Nothing answered.");
	h = add_hop(t, 1, 1);
	h->probe_frame = 9;
	h->request = 4;

	struct finding *f = add_finding(cm, FINDING_EGRESS_TTL_CONSTANT, 0,
					"The probe sent with TTL 2 (frame 5) left the host with TTL 64 (frame 11).");
	add_evidence(f, 0, 5, "probe");
	add_evidence(f, 1, 11, "host copy");
	f = add_finding(cm, FINDING_INGRESS_TTL_REWRITTEN, -1,
			"The SYN-ACK arrived at the host with TTL 52 and reached the guest with TTL 64.");
	add_evidence(f, 1, 12, "reply");
	add_evidence(f, 0, 6, "guest copy");

	cm->correlated = true;
	cm->clock_offset_ns = 1500000;
	cm->correlated_requests = 1;
	cm->verdict = VERDICT_TTL_RESET;
	snprintf(cm->summary, sizeof cm->summary, "The NAT resets the TTL of outgoing probes to 64.");
	snprintf(cm->remedy, sizeof cm->remedy, "Trace from the host, or use a NAT that keeps the TTL.");
}

static char *join_path(const char *dir, const char *name)
{
	size_t size = strlen(dir) + strlen(name) + 2;
	char *path = malloc(size);
	assert_non_null(path);
	snprintf(path, size, "%s/%s", dir, name);
	return path;
}

static bool file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static sqlite3 *open_store(const char *path)
{
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		fail_msg("cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "no memory");
	return db;
}

static sqlite3_stmt *query(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(st) != SQLITE_ROW)
		fail_msg("no row from: %s", sql);
	return st;
}

static int64_t query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = query(db, sql);
	if (sqlite3_column_type(st, 0) != SQLITE_INTEGER)
		fail_msg("not an integer from: %s", sql);
	int64_t value = sqlite3_column_int64(st, 0);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	return value;
}

/* The text of the one value the query returns; "(null)" for NULL so that it can be compared. */
static char *query_text(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = query(db, sql);
	const unsigned char *text = sqlite3_column_text(st, 0);
	char *copy = strdup(text ? (const char *)text : "(null)");
	assert_non_null(copy);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	return copy;
}

static void assert_query_text(sqlite3 *db, const char *sql, const char *expected)
{
	char *text = query_text(db, sql);
	if (strcmp(text, expected) != 0)
		fail_msg("%s\n  gave     \"%s\"\n  expected \"%s\"", sql, text, expected);
	free(text);
}

static void assert_query_int(sqlite3 *db, const char *sql, int64_t expected)
{
	int64_t value = query_int(db, sql);
	if (value != expected)
		fail_msg("%s\n  gave %lld, expected %lld", sql, (long long)value, (long long)expected);
}

static void assert_query_null(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = query(db, sql);
	if (sqlite3_column_type(st, 0) != SQLITE_NULL)
		fail_msg("not NULL: %s", sql);
	sqlite3_finalize(st);
}

struct written {
	char *dir;
	char *path;
	sqlite3 *db;
	struct case_model cm;
};

static int write_fixture(void **state)
{
	struct written *w = calloc(1, sizeof *w);
	assert_non_null(w);
	build_case(&w->cm);
	w->dir = make_temp_dir();
	w->path = join_path(w->dir, "case.sqlite");
	char err[512];
	int rc = store_write_case(&w->cm, w->path, err, sizeof err);
	if (rc != 0)
		fail_msg("store_write_case: %s", err);
	assert_string_equal(err, "");
	w->db = open_store(w->path);
	*state = w;
	return 0;
}

static int remove_fixture(void **state)
{
	struct written *w = *state;
	sqlite3_close(w->db);
	unlink(w->path);
	rmdir(w->dir);
	case_free(&w->cm);
	free(w->path);
	free(w->dir);
	free(w);
	return 0;
}

static void test_file_is_a_versioned_clean_database(void **state)
{
	struct written *w = *state;
	assert_query_int(w->db, "PRAGMA user_version", STORE_SCHEMA_VERSION);
	assert_query_int(w->db, "PRAGMA user_version", 1);
	assert_query_int(w->db, "PRAGMA application_id", 0x54544C53);
	assert_query_text(w->db, "PRAGMA integrity_check", "ok");
	assert_query_text(w->db, "PRAGMA journal_mode", "delete");
	char *journal = join_path(w->dir, "case.sqlite-journal");
	assert_false(file_exists(journal));
	free(journal);
	/* the indexes were built */
	assert_query_int(w->db, "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
				" AND name NOT LIKE 'sqlite_autoindex%'", 8);
	sqlite3_stmt *plan = query(w->db, "EXPLAIN QUERY PLAN SELECT * FROM requests WHERE frame = 5");
	assert_string_equal((const char *)sqlite3_column_text(plan, 3),
			    "SEARCH requests USING INDEX requests_by_frame (frame=?)");
	sqlite3_finalize(plan);
}

static void test_row_counts(void **state)
{
	struct written *w = *state;
	static const struct {
		const char *table;
		int64_t rows;
	} expected[] = {
		{"case_info", 1}, {"captures", 2}, {"capture_anomalies", 2}, {"requests", 6},
		{"replies", 4}, {"pairs", 3}, {"correlations", 1}, {"reply_correlations", 1},
		{"traces", 2}, {"hops", 3}, {"findings", 2}, {"evidence", 4}, {"reply_mpls", 2},
		{"probe_replies", 6}, {"trace_hops", 3}, {"finding_evidence", 4},
		{"probe_copies", 1}, {"reply_copies", 1},
	};
	for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
		char sql[128];
		snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", expected[i].table);
		assert_query_int(w->db, sql, expected[i].rows);
	}
}

static void test_every_table_and_column_is_documented(void **state)
{
	struct written *w = *state;
	sqlite3_stmt *tables;
	assert_int_equal(sqlite3_prepare_v2(w->db, "SELECT name, sql FROM sqlite_master WHERE type = 'table'",
					    -1, &tables, NULL), SQLITE_OK);
	int seen = 0;
	while (sqlite3_step(tables) == SQLITE_ROW) {
		const char *table = (const char *)sqlite3_column_text(tables, 0);
		const char *sql = (const char *)sqlite3_column_text(tables, 1);
		char head[128];
		snprintf(head, sizeof head, "CREATE TABLE %s ( -- ", table);
		if (strncmp(sql, head, strlen(head)) != 0)
			fail_msg("table %s has no comment: %.60s", table, sql);
		sqlite3_stmt *cols;
		assert_int_equal(sqlite3_prepare_v2(w->db, "SELECT name FROM pragma_table_info(?)", -1,
						    &cols, NULL), SQLITE_OK);
		sqlite3_bind_text(cols, 1, table, -1, SQLITE_STATIC);
		while (sqlite3_step(cols) == SQLITE_ROW) {
			char line[128];
			snprintf(line, sizeof line, "\n\t%s ", (const char *)sqlite3_column_text(cols, 0));
			const char *at = strstr(sql, line);
			if (!at)
				fail_msg("column %s.%s not found in its CREATE", table, line + 2);
			const char *end = strchr(at + 1, '\n');
			const char *comment = strstr(at, "--");
			if (!comment || (end && comment > end))
				fail_msg("column %s.%s has no comment", table, line + 2);
		}
		sqlite3_finalize(cols);
		seen++;
	}
	sqlite3_finalize(tables);
	assert_int_equal(seen, 13);
}

static void test_probe_joined_with_its_reply(void **state)
{
	struct written *w = *state;
	/* through the base tables: the TTL 1 probe, its pair, its reply */
	assert_query_text(w->db,
			  "SELECT q.frame || ' ' || q.ttl || ' ' || r.frame || ' ' || r.ttl || ' ' ||"
			  " r.quoted_ttl || ' ' || r.kind || ' ' || p.method || ' ' || p.rtt_ns ||"
			  " ' ' || hex(r.src) FROM requests q JOIN pairs p ON p.request_id = q.id"
			  " JOIN replies r ON r.id = p.reply_id WHERE q.capture_id = 0 AND q.frame = 3",
			  "3 1 4 255 1 time-exceeded quote-exact 1000000 C0000201");
	/* the same through the view, with addresses as text */
	assert_query_text(w->db,
			  "SELECT side || ' ' || capture || ' ' || protocol || ' ' || src || ' ' || dst ||"
			  " ' ' || ttl_sent || ' ' || reply_frame || ' ' || reply_kind || ' ' || reply_from ||"
			  " ' ' || reply_ttl || ' ' || quoted_ttl || ' ' || trace_id"
			  " FROM probe_replies WHERE side = 'guest' AND probe_frame = 3",
			  "guest guest.pcapng tcp 192.0.2.10 203.0.113.5 1 4 time-exceeded 192.0.2.1 255 1 0");
	assert_query_text(w->db,
			  "SELECT reply_kind || ' ' || reply_from || ' ' || reply_ttl || ' ' || method"
			  " FROM probe_replies WHERE side = 'guest' AND probe_frame = 5",
			  "syn-ack 203.0.113.5 64 tcp-ack");
	assert_query_null(w->db, "SELECT quoted_ttl FROM probe_replies WHERE side = 'guest' AND probe_frame = 5");
	assert_query_null(w->db, "SELECT reply_id FROM probe_replies WHERE probe_frame = 7");
	/* the unmatched reply has no pair */
	assert_query_int(w->db, "SELECT count(*) FROM pairs WHERE reply_id = 3", 0);
	/* the NAT's work, side by side */
	assert_query_text(w->db,
			  "SELECT guest_frame || ' ' || host_frame || ' ' || dst || ' ' || guest_ttl ||"
			  " ' ' || host_ttl FROM probe_copies", "5 11 203.0.113.5 2 64");
	assert_query_text(w->db,
			  "SELECT guest_frame || ' ' || host_frame || ' ' || reply_from || ' ' ||"
			  " host_ttl || ' ' || guest_ttl FROM reply_copies", "6 12 203.0.113.5 52 64");
}

static void test_fields_and_nulls(void **state)
{
	struct written *w = *state;
	sqlite3 *db = w->db;
	/* requests: protocol-specific fields only where they mean something */
	assert_query_text(db, "SELECT sport || ' ' || dport || ' ' || seq FROM requests WHERE id = 1",
			  "40001 443 268435458");
	assert_query_null(db, "SELECT echo_id FROM requests WHERE id = 1");
	assert_query_text(db, "SELECT echo_id || ' ' || echo_seq || ' ' || family || ' ' ||"
			      " length(src) FROM requests WHERE id = 4", "16962 1 6 16");
	assert_query_null(db, "SELECT sport FROM requests WHERE id = 4");
	assert_query_null(db, "SELECT seq FROM requests WHERE id = 5");
	assert_query_null(db, "SELECT trace_id FROM requests WHERE id = 5");
	assert_query_int(db, "SELECT trace_id FROM requests WHERE id = 4", 1);
	assert_query_int(db, "SELECT length(dst) FROM requests WHERE id = 0", 4);
	assert_query_text(db, "SELECT hex(src) FROM requests WHERE id = 3", "C6336407");
	/* replies: the quote and the anomalies */
	assert_query_text(db, "SELECT icmp_type || ' ' || icmp_code || ' ' || quoted || ' ' ||"
			      " quoted_len || ' ' || quoted_ip_id || ' ' || quoted_proto || ' ' ||"
			      " quoted_sport || ' ' || quoted_dport || ' ' || quoted_seq || ' ' ||"
			      " hex(quoted_dst) FROM replies WHERE id = 0",
			  "11 0 1 28 1003 6 40001 443 268435457 CB007105");
	assert_query_text(db, "SELECT anomalies FROM replies WHERE id = 0",
			  "ipv4.bad_checksum quote.bad_checksum");
	assert_query_null(db, "SELECT anomalies FROM replies WHERE id = 1");
	assert_query_null(db, "SELECT quoted_ttl FROM replies WHERE id = 1");
	assert_query_null(db, "SELECT icmp_type FROM replies WHERE id = 1");
	assert_query_text(db, "SELECT ack || ' ' || sport || ' ' || dport FROM replies WHERE id = 1",
			  "268435459 443 40001");
	assert_query_null(db, "SELECT ack FROM replies WHERE id = 0");
	assert_query_text(db, "SELECT quoted_sport || ' ' || quoted_dport FROM replies WHERE id = 3",
			  "40999 8080");
	assert_query_null(db, "SELECT quoted_seq FROM replies WHERE id = 3");
	assert_query_null(db, "SELECT quoted_echo_id FROM replies WHERE id = 3");
	/* captures and their anomalies */
	assert_query_text(db, "SELECT group_concat(name || '=' || count, ' ') FROM"
			      " (SELECT * FROM capture_anomalies WHERE capture_id = 0 ORDER BY name)",
			  "ipv4.bad_checksum=2 quote.bad_checksum=1");
	assert_query_int(db, "SELECT count(*) FROM capture_anomalies WHERE capture_id = 1", 0);
	assert_query_null(db, "SELECT warning FROM captures WHERE id = 0");
	assert_query_text(db, "SELECT side || ' ' || format || ' ' || linktype || ' ' || cut_short ||"
			      " ' ' || warning FROM captures WHERE id = 1",
			  "host pcap 113 1 truncated dump file; tried to read 54 captured bytes, only got 20");
	assert_query_text(db, "SELECT substr(sha256, 1, 4) || ' ' || length(sha256) || ' ' ||"
			      " packets || ' ' || first_ts_ns FROM captures WHERE id = 0",
			  "aaaa 64 40 1700000000000000000");
	/* traces: -1 and "unknown" become NULL */
	assert_query_text(db, "SELECT src_text || ' ' || dst_text || ' ' || dport || ' ' || reached_ttl ||"
			      " ' ' || verdict || ' ' || direction || ' ' || reset_ttl || ' ' ||"
			      " egress_ttl || ' ' || confidence FROM traces WHERE id = 0",
			  "192.0.2.10 203.0.113.5 443 2 ttl-reset egress 64 64 certain");
	assert_query_null(db, "SELECT ingress_ttl FROM traces WHERE id = 0");
	assert_query_null(db, "SELECT true_distance FROM traces WHERE id = 0");
	assert_query_text(db, "SELECT src_text || ' ' || dst_text || ' ' || verdict FROM traces WHERE id = 1",
			  "2001:db8::10 2001:db8:0:1::1 inconclusive");
	assert_query_int(db, "SELECT count(*) FROM traces WHERE id = 1 AND direction IS NULL AND"
			     " reset_ttl IS NULL AND egress_ttl IS NULL AND dport IS NULL AND"
			     " reached_ttl IS NULL", 1);
	/* hops: addresses as text, silent hops as NULL */
	assert_query_text(db, "SELECT group_concat(ttl || ':' || address_text || ':' || kind, ' ') FROM"
			      " (SELECT * FROM hops WHERE trace_id = 0 ORDER BY ttl)",
			  "1:192.0.2.1:time-exceeded 2:203.0.113.5:syn-ack");
	assert_query_text(db, "SELECT quoted_ttl || ' ' || reply_frame || ' ' || reply_id FROM hops"
			      " WHERE trace_id = 0 AND ttl = 1", "1 4 0");
	assert_query_null(db, "SELECT quoted_ttl FROM hops WHERE trace_id = 0 AND ttl = 2");
	assert_query_int(db, "SELECT is_destination FROM hops WHERE trace_id = 0 AND ttl = 2", 1);
	assert_query_int(db, "SELECT count(*) FROM hops WHERE trace_id = 1 AND address IS NULL AND"
			     " address_text IS NULL AND kind IS NULL AND reply_frame IS NULL AND"
			     " reply_id IS NULL AND probe_frame = 9 AND request_id = 4", 1);
	assert_query_text(db, "SELECT dst || ' ' || ttl || ' ' || address || ' ' || rtt_ms FROM trace_hops"
			      " WHERE trace_id = 0 AND ttl = 2", "203.0.113.5 2 203.0.113.5 1.0");
	/* findings and their evidence */
	assert_query_text(db, "SELECT kind || ' ' || trace_id FROM findings WHERE id = 0",
			  "egress.ttl_constant 0");
	assert_query_null(db, "SELECT trace_id FROM findings WHERE id = 1");
	assert_query_text(db, "SELECT group_concat(side || ' ' || frame || ' ' || role || ' ' ||"
			      " wireshark_filter, '; ') FROM finding_evidence WHERE finding_id = 0",
			  "guest 5 probe frame.number == 5; host 11 host copy frame.number == 11");
	/* correlations written once, from the guest */
	assert_query_text(db, "SELECT guest_request_id || ' ' || host_request_id FROM correlations", "1 3");
	assert_query_text(db, "SELECT guest_reply_id || ' ' || host_reply_id FROM reply_correlations",
			  "1 2");
}

static void test_case_info(void **state)
{
	struct written *w = *state;
	assert_query_text(w->db, "SELECT verdict FROM case_info", "ttl-reset");
	assert_query_text(w->db, "SELECT tool_version FROM case_info", TTLSLEUTH_VERSION);
	assert_query_int(w->db, "SELECT schema_version FROM case_info", 1);
	assert_query_text(w->db, "SELECT summary FROM case_info",
			  "The NAT resets the TTL of outgoing probes to 64.");
	assert_query_text(w->db, "SELECT remedy FROM case_info",
			  "Trace from the host, or use a NAT that keeps the TTL.");
	assert_query_text(w->db, "SELECT correlated || ' ' || clock_offset_ns || ' ' ||"
				 " correlated_requests FROM case_info", "1 1500000 1");
}

/* The views spell addresses in plain SQL; they must agree with inet_ntop, which the small tables use. */
static void test_view_addresses_match_inet_ntop(void **state)
{
	(void)state;
	static const char *const addresses[] = {
		"192.0.2.1", "0.0.0.0", "255.255.255.255", "10.200.3.47", "203.0.113.5",
		"2001:db8::1", "::", "::1", "fe80::", "2001:db8:0:1::1", "2001:db8::1:0:0:1",
		"2001:db8:1:0:1:1:1:1", "2001:0:0:1::1", "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff",
		"1::", "0:1:0:1:0:1:0:1", "2001:db8:10:100:1000::10", "::1:0:0:0", "::ffff:1:0:0",
		/* IPv4-mapped and -compatible */
		"::ffff:0.0.0.1", "::ffff:192.0.2.1", "::192.0.2.1", "::ffff:0.0.0.0",
	};
	size_t n = sizeof addresses / sizeof addresses[0];
	struct case_model cm;
	case_init(&cm);
	add_capture(&cm, SIDE_GUEST, "/cases/v6.pcap", "v6.pcap", "pcap", 101);
	for (size_t i = 0; i < n; i++) {
		const char *src = strchr(addresses[i], ':') ? "2001:db8::10" : "192.0.2.10";
		add_request(&cm, 0, i + 1, PROTO_ICMP, src, addresses[i], 1, -1);
	}
	char *dir = make_temp_dir();
	char *path = join_path(dir, "v6.sqlite");
	char err[512];
	if (store_write_case(&cm, path, err, sizeof err) != 0)
		fail_msg("store_write_case: %s", err);
	sqlite3 *db = open_store(path);
	for (size_t i = 0; i < n; i++) {
		char expected[64], sql[128];
		ip_addr_format(&cm.requests.items[i].dst, expected, sizeof expected);
		assert_string_equal(expected, addresses[i]);
		snprintf(sql, sizeof sql, "SELECT dst FROM probe_replies WHERE probe_frame = %zu", i + 1);
		assert_query_text(db, sql, expected);
	}
	sqlite3_close(db);
	unlink(path);
	rmdir(dir);
	free(path);
	free(dir);
	case_free(&cm);
}

static void test_refuses_an_existing_file(void **state)
{
	(void)state;
	struct case_model cm;
	build_case(&cm);
	char *dir = make_temp_dir();
	char *path = join_path(dir, "existing.sqlite");
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("precious", f);
	fclose(f);

	char err[512];
	assert_int_equal(store_write_case(&cm, path, err, sizeof err), -1);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "already exists"));
	char *content = slurp_file(path, NULL);
	assert_non_null(content);
	assert_string_equal(content, "precious");
	free(content);

	unlink(path);
	rmdir(dir);
	free(path);
	free(dir);
	case_free(&cm);
}

static void test_missing_directory_fails_cleanly(void **state)
{
	(void)state;
	struct case_model cm;
	build_case(&cm);
	char *dir = make_temp_dir();
	char *missing = join_path(dir, "no-such-dir");
	char *path = join_path(missing, "case.sqlite");

	char err[512];
	assert_int_equal(store_write_case(&cm, path, err, sizeof err), -1);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "No such file or directory"));
	assert_null(strchr(err, '\n'));
	assert_false(file_exists(path));
	assert_false(file_exists(missing));

	/* a tiny err buffer is cut, not overrun */
	char tiny[8];
	assert_int_equal(store_write_case(&cm, path, tiny, sizeof tiny), -1);
	assert_int_equal(strlen(tiny), sizeof tiny - 1);
	assert_int_equal(store_write_case(&cm, path, NULL, 0), -1);

	rmdir(dir);
	free(path);
	free(missing);
	free(dir);
	case_free(&cm);
}

/* Values are bound, never pasted into SQL: quotes, SQL and newlines come back as they went in. */
static void test_hostile_strings_round_trip(void **state)
{
	(void)state;
	static const char hostile[] = "/cases/it's \"odd\"'); DROP TABLE captures; --\nline two\t%s%n.pcap";
	struct case_model cm;
	build_case(&cm);
	free(cm.captures[0].path);
	cm.captures[0].path = strdup(hostile);
	assert_non_null(cm.captures[0].path);
	snprintf(cm.summary, sizeof cm.summary, "%s", hostile);
	snprintf(cm.findings.items[0].text, sizeof cm.findings.items[0].text, "%s", hostile);
	char *dir = make_temp_dir();
	char *path = join_path(dir, "hostile.sqlite");
	char err[512];
	if (store_write_case(&cm, path, err, sizeof err) != 0)
		fail_msg("store_write_case: %s", err);

	sqlite3 *db = open_store(path);
	assert_query_text(db, "SELECT path FROM captures WHERE id = 0", hostile);
	assert_query_text(db, "SELECT summary FROM case_info", hostile);
	assert_query_text(db, "SELECT text FROM findings WHERE id = 0", hostile);
	assert_query_int(db, "SELECT count(*) FROM captures", 2);
	assert_query_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'", 13);
	sqlite3_close(db);
	unlink(path);
	rmdir(dir);
	free(path);
	free(dir);
	case_free(&cm);
}

/* A write that fails halfway (here: the file size limit, as a full disk would) leaves nothing behind. */
static void test_failure_midway_removes_the_file(void **state)
{
	(void)state;
	struct case_model cm;
	build_case(&cm);
	for (uint64_t frame = 100; frame < 20100; frame++)
		add_request(&cm, 0, frame, PROTO_UDP, "192.0.2.10", "203.0.113.5", 5, 0);
	char *dir = make_temp_dir();
	char *path = join_path(dir, "full.sqlite");
	char *journal = join_path(dir, "full.sqlite-journal");

	struct rlimit saved, small = {.rlim_cur = 256 * 1024};
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
	small.rlim_max = saved.rlim_max;
	void (*saved_handler)(int) = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	char err[512];
	int rc = store_write_case(&cm, path, err, sizeof err);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved), 0);
	signal(SIGXFSZ, saved_handler);

	assert_int_equal(rc, -1);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "cannot write the case store"));
	assert_false(file_exists(path));
	assert_false(file_exists(journal));

	rmdir(dir);
	free(journal);
	free(path);
	free(dir);
	case_free(&cm);
}

/* A model with no captures still makes a valid, empty store. */
static void test_empty_case(void **state)
{
	(void)state;
	struct case_model cm;
	case_init(&cm);
	char *dir = make_temp_dir();
	char *path = join_path(dir, "empty.sqlite");
	char err[512];
	if (store_write_case(&cm, path, err, sizeof err) != 0)
		fail_msg("store_write_case: %s", err);
	sqlite3 *db = open_store(path);
	assert_query_int(db, "SELECT count(*) FROM captures", 0);
	assert_query_text(db, "SELECT verdict FROM case_info", "inconclusive");
	assert_query_null(db, "SELECT clock_offset_ns FROM case_info");
	sqlite3_close(db);
	unlink(path);
	rmdir(dir);
	free(path);
	free(dir);
	case_free(&cm);
}

/*
 * A hop of a trace rebuilt from answers alone has no probe, so no round trip
 * (rtt_ns -1 in the model): NULL in the store, as the schema says, not -1 ns.
 */
static void test_unknown_round_trip_is_null(void **state)
{
	(void)state;
	struct case_model cm;
	case_init(&cm);
	add_capture(&cm, SIDE_GUEST, "/cases/guest.pcap", "guest.pcap", "pcap", 1);
	struct trace *t = VEC_PUSH(&cm.traces);
	assert_non_null(t);
	VEC_INIT(&t->hops, 256);
	t->proto = PROTO_UDP;
	t->src = addr("192.0.2.10");
	t->dst = addr("203.0.113.5");
	t->rebuilt_from_replies = true;
	t->answered = 1;
	t->max_ttl = 1;
	t->reset_ttl = t->egress_ttl = t->ingress_ttl = t->true_distance = -1;
	t->confidence = "";
	struct hop *h = VEC_PUSH(&t->hops);
	assert_non_null(h);
	h->ttl = 1;
	h->addr = addr("192.0.2.1");
	h->answers = 1;
	h->kind = REPLY_TIME_EXCEEDED;
	h->reply_ttl = 64;
	h->quoted_ttl = 1;
	h->rtt_ns = -1;
	h->reply_frame = 1;
	h->request = h->reply = -1;
	char *dir = make_temp_dir();
	char *path = join_path(dir, "rebuilt.sqlite");
	char err[512];
	if (store_write_case(&cm, path, err, sizeof err) != 0)
		fail_msg("store_write_case: %s", err);
	sqlite3 *db = open_store(path);
	assert_query_null(db, "SELECT rtt_ns FROM hops");
	assert_query_null(db, "SELECT rtt_ms FROM trace_hops");
	assert_query_text(db, "SELECT address_text || ' ' || kind FROM hops", "192.0.2.1 time-exceeded");
	sqlite3_close(db);
	unlink(path);
	rmdir(dir);
	free(path);
	free(dir);
	case_free(&cm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_file_is_a_versioned_clean_database, write_fixture,
						remove_fixture),
		cmocka_unit_test_setup_teardown(test_row_counts, write_fixture, remove_fixture),
		cmocka_unit_test_setup_teardown(test_every_table_and_column_is_documented, write_fixture,
						remove_fixture),
		cmocka_unit_test_setup_teardown(test_probe_joined_with_its_reply, write_fixture,
						remove_fixture),
		cmocka_unit_test_setup_teardown(test_fields_and_nulls, write_fixture, remove_fixture),
		cmocka_unit_test_setup_teardown(test_case_info, write_fixture, remove_fixture),
		cmocka_unit_test(test_view_addresses_match_inet_ntop),
		cmocka_unit_test(test_refuses_an_existing_file),
		cmocka_unit_test(test_missing_directory_fails_cleanly),
		cmocka_unit_test(test_hostile_strings_round_trip),
		cmocka_unit_test(test_failure_midway_removes_the_file),
		cmocka_unit_test(test_empty_case),
		cmocka_unit_test(test_unknown_round_trip_is_null),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
