/*
 * Writes a case into a new SQLite file.
 *
 * Speed comes from the usual bulk-load recipe: every INSERT is prepared once
 * and then only bound, stepped and reset per row; one transaction per capture;
 * the journal in memory and no syncs while loading; indexes built after the
 * rows are in. That is safe only because the file is new: the caller writes to
 * a temporary name and renames it, so a half-written file is deleted, never
 * repaired. The last transaction runs with the ordinary journal and a full
 * sync, which also puts everything loaded before it on disk ahead of the
 * caller's rename.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "analyzer/store.h"

#ifndef TTLSLEUTH_VERSION
#error "TTLSLEUTH_VERSION comes from CMakeLists.txt"
#endif

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

/* "TTLS" as a big-endian number: lets `file` and other tools tell our stores apart. */
#define STORE_APPLICATION_ID 1414810707

/*
 * The text form of an address column (a 4- or 16-byte BLOB) in plain SQL, so
 * that the views work in any sqlite3 shell without a registered function and
 * cost nothing while writing. IPv6 comes out as inet_ntop writes it (RFC 5952:
 * lower case, no leading zeros, the longest run of two or more zero groups,
 * the first of equal runs, shortened to "::"; IPv4-mapped and -compatible
 * addresses end in a dotted quad), so a view shows the same text as the hops
 * and traces tables and a WHERE on an address typed by hand finds it.
 */
#define SQL_HEX_DIGITS "'0123456789ABCDEF'"
#define SQL_BYTE(hi, lo)                                                       \
	"(instr(" SQL_HEX_DIGITS ",substr(addr_hex," #hi ",1))*16+"            \
	"instr(" SQL_HEX_DIGITS ",substr(addr_hex," #lo ",1))-17)"
#define SQL_DOTTED_QUAD(a, b, c, d, e, f, g, h)                                \
	SQL_BYTE(a, b) "||'.'||" SQL_BYTE(c, d) "||'.'||" SQL_BYTE(e, f) "||'.'||" SQL_BYTE(g, h)
#define SQL_IPV4 SQL_DOTTED_QUAD(1, 2, 3, 4, 5, 6, 7, 8)
#define SQL_EMBEDDED_IPV4 SQL_DOTTED_QUAD(25, 26, 27, 28, 29, 30, 31, 32)
#define SQL_IS_EMBEDDED_IPV4                                                   \
	"length(addr_hex) = 32 AND substr(addr_hex,1,20) = '00000000000000000000' AND " \
	"(substr(addr_hex,21,4) = 'FFFF' OR "                                  \
	"(substr(addr_hex,21,4) = '0000' AND substr(addr_hex,25,4) <> '0000'))"
#define SQL_GROUP(at) "coalesce(nullif(ltrim(lower(substr(addr_hex," #at ",4)),'0'),''),'0')"
#define SQL_GROUPS                                                             \
	"':'||" SQL_GROUP(1) "||':'||" SQL_GROUP(5) "||':'||" SQL_GROUP(9)     \
	"||':'||" SQL_GROUP(13) "||':'||" SQL_GROUP(17) "||':'||" SQL_GROUP(21) \
	"||':'||" SQL_GROUP(25) "||':'||" SQL_GROUP(29) "||':'"
#define SQL_ZERO_RUN(run) "WHEN instr(addr_groups,'" run "') THEN '" run "' "
#define SQL_LONGEST_ZERO_RUN                                                   \
	"CASE " SQL_ZERO_RUN(":0:0:0:0:0:0:0:0:") SQL_ZERO_RUN(":0:0:0:0:0:0:0:")  \
	SQL_ZERO_RUN(":0:0:0:0:0:0:") SQL_ZERO_RUN(":0:0:0:0:0:")                   \
	SQL_ZERO_RUN(":0:0:0:0:") SQL_ZERO_RUN(":0:0:0:") SQL_ZERO_RUN(":0:0:") "END"
#define SQL_ADDR_TEXT(column)                                                  \
	"(SELECT CASE WHEN length(addr_hex) = 8 THEN " SQL_IPV4                \
	" WHEN " SQL_IS_EMBEDDED_IPV4 " THEN "                                 \
	"CASE substr(addr_hex,21,4) WHEN 'FFFF' THEN '::ffff:' ELSE '::' END||" SQL_EMBEDDED_IPV4 \
	" WHEN zero_run IS NULL THEN substr(addr_groups,2,length(addr_groups)-2)" \
	" ELSE substr(addr_groups,2,max(instr(addr_groups,zero_run)-2,0))||'::'||" \
	"substr(addr_groups,instr(addr_groups,zero_run)+length(zero_run)," \
	"max(length(addr_groups)-instr(addr_groups,zero_run)-length(zero_run),0)) END" \
	" FROM (SELECT addr_hex, addr_groups, " SQL_LONGEST_ZERO_RUN " AS zero_run" \
	" FROM (SELECT addr_hex, CASE WHEN length(addr_hex) = 32 THEN " SQL_GROUPS \
	" END AS addr_groups FROM (SELECT hex(" column ") AS addr_hex"         \
	" WHERE length(" column ") IN (4,16)))))"

/*
 * The schema, documented for whoever opens the file: SQLite keeps the text of
 * each CREATE statement, comments inside the parentheses included, so
 * `.schema` in the sqlite3 shell shows them.
 */
static const char schema_sql[] =
	"CREATE TABLE case_info ( -- the case as a whole: one row\n"
	"	tool_version TEXT NOT NULL, -- ttlsleuth version that wrote this file\n"
	"	schema_version INTEGER NOT NULL, -- layout of this file, as PRAGMA user_version\n"
	"	verdict TEXT NOT NULL, -- ttl-reset, no-ttl-reset or inconclusive\n"
	"	summary TEXT NOT NULL, -- the verdict in plain words\n"
	"	remedy TEXT NOT NULL, -- what to do about it\n"
	"	correlated INTEGER NOT NULL, -- 1: a host capture was given and lined up with the guest capture\n"
	"	clock_offset_ns INTEGER, -- host clock minus guest clock (with the NAT's delay) at the guest's first probe, the clocks may drift apart; NULL unless correlated\n"
	"	correlated_requests INTEGER NOT NULL -- requests seen in both captures\n"
	");\n"
	"CREATE TABLE captures ( -- one row per capture file read\n"
	"	id INTEGER PRIMARY KEY, -- 0 for the first file; capture_id elsewhere\n"
	"	side TEXT NOT NULL, -- guest (taken inside the VM) or host (taken outside the NAT)\n"
	"	path TEXT NOT NULL, -- as given to ttlsleuth\n"
	"	name TEXT NOT NULL, -- the file's base name, as the reports show it\n"
	"	sha256 TEXT, -- of the whole file, in hex\n"
	"	file_bytes INTEGER NOT NULL, -- size of the file\n"
	"	format TEXT, -- pcap or pcapng\n"
	"	compressed INTEGER NOT NULL, -- 1: the file is gzip-compressed (sha256 is of the compressed file)\n"
	"	interfaces INTEGER NOT NULL, -- interfaces described (pcapng); 1 for pcap\n"
	"	linktype INTEGER NOT NULL, -- LINKTYPE_ number (pcapng: of the first interface): 1 Ethernet, 101 raw IP, 113 Linux cooked, ...\n"
	"	snaplen INTEGER NOT NULL, -- most bytes kept of each frame\n"
	"	packets INTEGER NOT NULL, -- frames read\n"
	"	ip_packets INTEGER NOT NULL, -- frames with an IPv4 or IPv6 layer\n"
	"	interesting INTEGER NOT NULL, -- requests and replies kept\n"
	"	anomalous_packets INTEGER NOT NULL, -- frames that showed at least one decoder anomaly\n"
	"	first_ts_ns INTEGER, -- time of the first frame, ns since 1970-01-01 UTC; NULL if no frames\n"
	"	last_ts_ns INTEGER, -- time of the last frame, likewise\n"
	"	cut_short INTEGER NOT NULL, -- 1: the file ends inside a record and was analysed up to the cut\n"
	"	warning TEXT -- why it was cut short, with the byte offset; NULL if it was not\n"
	");\n"
	"CREATE TABLE capture_anomalies ( -- decoder anomalies per capture, only those seen\n"
	"	capture_id INTEGER NOT NULL REFERENCES captures(id), -- the capture it was seen in\n"
	"	name TEXT NOT NULL, -- stable dotted name, e.g. ipv4.bad_checksum or quote.truncated\n"
	"	count INTEGER NOT NULL, -- frames that showed it\n"
	"	PRIMARY KEY (capture_id, name)\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE requests ( -- packets that ask for an answer: TCP SYNs, UDP datagrams, echo requests\n"
	"	id INTEGER PRIMARY KEY, -- index in the analysis, from 0; request_id elsewhere\n"
	"	capture_id INTEGER NOT NULL REFERENCES captures(id), -- the capture it was read from\n"
	"	interface INTEGER NOT NULL, -- pcapng interface id it was captured on; 0 in pcap\n"
	"	frame INTEGER NOT NULL, -- frame number as Wireshark counts (from 1)\n"
	"	ts_ns INTEGER NOT NULL, -- capture time, ns since 1970-01-01 UTC\n"
	"	family INTEGER NOT NULL, -- IP version: 4 or 6\n"
	"	src BLOB, -- source address, 4 or 16 bytes (the views show it as text)\n"
	"	dst BLOB, -- destination address, likewise\n"
	"	protocol TEXT NOT NULL, -- tcp, udp or icmp (ICMPv6 included)\n"
	"	ttl INTEGER NOT NULL, -- IPv4 TTL or IPv6 hop limit, as captured\n"
	"	sport INTEGER, -- TCP and UDP source port; NULL for ICMP\n"
	"	dport INTEGER, -- TCP and UDP destination port; NULL for ICMP\n"
	"	seq INTEGER, -- TCP sequence number; NULL for UDP and ICMP\n"
	"	echo_id INTEGER, -- ICMP echo identifier; NULL for TCP and UDP\n"
	"	echo_seq INTEGER, -- ICMP echo sequence number; NULL for TCP and UDP\n"
	"	ip_id INTEGER NOT NULL, -- IPv4 identification; IPv6 fragment identification or 0\n"
	"	ip_len INTEGER NOT NULL, -- IP total length as the header says\n"
	"	trace_id INTEGER REFERENCES traces(id), -- path trace it belongs to; NULL if none\n"
	"	process TEXT -- the program that sent it, when the capture says (macOS PKTAP); NULL otherwise\n"
	");\n"
	"CREATE TABLE replies ( -- packets that answer: ICMP errors, SYN-ACKs, RSTs, echo replies\n"
	"	id INTEGER PRIMARY KEY, -- index in the analysis, from 0; reply_id elsewhere\n"
	"	capture_id INTEGER NOT NULL REFERENCES captures(id), -- the capture it was read from\n"
	"	interface INTEGER NOT NULL, -- pcapng interface id it was captured on; 0 in pcap\n"
	"	frame INTEGER NOT NULL, -- frame number as Wireshark counts (from 1)\n"
	"	ts_ns INTEGER NOT NULL, -- capture time, ns since 1970-01-01 UTC\n"
	"	family INTEGER NOT NULL, -- IP version: 4 or 6\n"
	"	src BLOB, -- who answered, 4 or 16 bytes (the views show it as text)\n"
	"	dst BLOB, -- destination address, likewise\n"
	"	ttl INTEGER NOT NULL, -- TTL or hop limit of the answer as received\n"
	"	kind TEXT NOT NULL, -- time-exceeded, unreachable, icmp-error, syn-ack, rst or echo-reply\n"
	"	icmp_type INTEGER, -- ICMP or ICMPv6 type; NULL for TCP answers\n"
	"	icmp_code INTEGER, -- ICMP or ICMPv6 code; NULL for TCP answers\n"
	"	quoted INTEGER NOT NULL, -- 1: an ICMP error quoting the original datagram; quoted_* NULL if 0\n"
	"	quoted_len INTEGER, -- bytes of the original datagram in the quote\n"
	"	quoted_ttl INTEGER, -- TTL the original datagram had when the router saw it\n"
	"	quoted_ip_id INTEGER, -- IP identification of the original datagram\n"
	"	quoted_src BLOB, -- source address of the original datagram\n"
	"	quoted_dst BLOB, -- destination address of the original datagram\n"
	"	quoted_proto INTEGER, -- IP protocol number of the original datagram: 6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6\n"
	"	quoted_sport INTEGER, -- quoted TCP or UDP source port; NULL for other protocols or a quote that stops before the ports\n"
	"	quoted_dport INTEGER, -- quoted TCP or UDP destination port; NULL as quoted_sport\n"
	"	quoted_seq INTEGER, -- quoted TCP sequence number; NULL for other protocols or a quote too short to hold it\n"
	"	quoted_echo_id INTEGER, -- quoted echo identifier; NULL for other protocols or a quote that stops inside the echo header\n"
	"	quoted_echo_seq INTEGER, -- quoted echo sequence number; NULL as quoted_echo_id\n"
	"	ack INTEGER, -- TCP acknowledgement number of a syn-ack or rst; NULL otherwise\n"
	"	sport INTEGER, -- TCP source port of a syn-ack or rst; NULL otherwise\n"
	"	dport INTEGER, -- TCP destination port of a syn-ack or rst; NULL otherwise\n"
	"	echo_id INTEGER, -- identifier of an echo-reply; NULL otherwise\n"
	"	echo_seq INTEGER, -- sequence number of an echo-reply; NULL otherwise\n"
	"	anomalies TEXT -- decoder anomaly names separated by spaces; NULL if none\n"
	");\n"
	"CREATE TABLE pairs ( -- which request each reply answers; unmatched replies have no row\n"
	"	reply_id INTEGER PRIMARY KEY REFERENCES replies(id), -- the answer\n"
	"	request_id INTEGER NOT NULL REFERENCES requests(id), -- what it answers\n"
	"	method TEXT NOT NULL, -- how they were matched: quote-exact, quote-ports, quote-ip-id, tcp-ack, echo-id-seq, quote-ip-header, quote-rewritten (the quoted echo id or source port rewritten by a NAT)\n"
	"	rtt_ns INTEGER NOT NULL -- reply time minus request time; 0 when the capture stamped the reply up to 1 ms before the request (merged or multi-queue captures; the two ts_ns show it)\n"
	");\n"
	"CREATE TABLE correlations ( -- the same request seen in the guest and in the host capture\n"
	"	guest_request_id INTEGER PRIMARY KEY REFERENCES requests(id), -- as the guest sent it\n"
	"	host_request_id INTEGER NOT NULL REFERENCES requests(id) -- as it left the host, after the NAT\n"
	");\n"
	"CREATE TABLE reply_correlations ( -- the same reply seen in the host and in the guest capture\n"
	"	guest_reply_id INTEGER PRIMARY KEY REFERENCES replies(id), -- as the guest received it\n"
	"	host_reply_id INTEGER NOT NULL REFERENCES replies(id) -- as it reached the host, before the NAT\n"
	");\n"
	"CREATE TABLE traces ( -- path traces: probes from one source to one destination with rising TTLs\n"
	"	id INTEGER PRIMARY KEY, -- index in the analysis, from 0; trace_id elsewhere\n"
	"	capture_id INTEGER NOT NULL REFERENCES captures(id), -- the capture it was read from\n"
	"	protocol TEXT NOT NULL, -- tcp, udp or icmp\n"
	"	family INTEGER NOT NULL, -- IP version: 4 or 6\n"
	"	src BLOB, -- source address, 4 or 16 bytes\n"
	"	dst BLOB, -- destination address, 4 or 16 bytes\n"
	"	src_text TEXT, -- source address as text\n"
	"	dst_text TEXT, -- destination address as text\n"
	"	dport INTEGER, -- destination port of TCP and fixed-port UDP traces; NULL otherwise\n"
	"	first_ts_ns INTEGER NOT NULL, -- time of the first probe, ns since 1970-01-01 UTC\n"
	"	last_ts_ns INTEGER NOT NULL, -- time of the last probe or answer, likewise\n"
	"	probes INTEGER NOT NULL, -- probes sent\n"
	"	answered INTEGER NOT NULL, -- probes that got an answer\n"
	"	max_ttl INTEGER NOT NULL, -- highest TTL sent\n"
	"	reached_ttl INTEGER, -- lowest TTL the destination answered; NULL if it never did\n"
	"	verdict TEXT NOT NULL, -- ttl-reset, no-ttl-reset or inconclusive\n"
	"	direction TEXT, -- where the TTL is reset: egress, ingress or both; NULL if unknown\n"
	"	reset_ttl INTEGER, -- the value packets were reset to; NULL if unknown\n"
	"	egress_ttl INTEGER, -- TTL of the probes as they left the host; NULL if unknown\n"
	"	ingress_ttl INTEGER, -- TTL of the answers as they reached the guest; NULL if unknown\n"
	"	true_distance INTEGER, -- TTL the destination needs when nothing resets it (routers + 1), by other evidence; NULL if unknown\n"
	"	confidence TEXT, -- certain, strong or probable\n"
	"	reason TEXT NOT NULL -- why the verdict, in plain words\n"
	");\n"
	"CREATE TABLE hops ( -- each TTL of a trace as the guest saw it\n"
	"	trace_id INTEGER NOT NULL REFERENCES traces(id), -- the trace it belongs to\n"
	"	ttl INTEGER NOT NULL, -- TTL the probes were sent with\n"
	"	address BLOB, -- who answered, 4 or 16 bytes; NULL if nobody did\n"
	"	address_text TEXT, -- who answered, as text; NULL if nobody did\n"
	"	probes INTEGER NOT NULL, -- probes sent with this TTL\n"
	"	answers INTEGER NOT NULL, -- answers to them\n"
	"	several_addresses INTEGER NOT NULL, -- 1: more than one address answered at this TTL\n"
	"	is_destination INTEGER NOT NULL, -- 1: the destination itself answered\n"
	"	kind TEXT, -- kind of the first answer (as in replies.kind); NULL if none\n"
	"	reply_ttl INTEGER, -- TTL of the first answer as received; NULL if none\n"
	"	quoted_ttl INTEGER, -- TTL the router saw, from its quote; NULL unless an ICMP error answered\n"
	"	rtt_ns INTEGER, -- best round trip; NULL if no answer, or no probe to time it from (a trace rebuilt from answers)\n"
	"	probe_frame INTEGER, -- frame of the probe shown\n"
	"	reply_frame INTEGER, -- frame of the answer shown; NULL if none\n"
	"	request_id INTEGER REFERENCES requests(id), -- the probe shown\n"
	"	reply_id INTEGER REFERENCES replies(id) -- the answer shown; NULL if none\n"
	");\n"
	"CREATE TABLE findings ( -- what the analysis concluded, one sentence each\n"
	"	id INTEGER PRIMARY KEY, -- index in the analysis, from 0\n"
	"	trace_id INTEGER REFERENCES traces(id), -- the trace it is about; NULL if about the whole case\n"
	"	kind TEXT NOT NULL, -- stable dotted name, e.g. egress.ttl_constant\n"
	"	text TEXT NOT NULL -- the finding in plain words, with the values that matter\n"
	");\n"
	"CREATE TABLE reply_mpls ( -- MPLS label stack entries an ICMP error reported (RFC 4950)\n"
	"	reply_id INTEGER NOT NULL REFERENCES replies(id), -- the ICMP error\n"
	"	position INTEGER NOT NULL, -- 0 for the outermost label\n"
	"	label INTEGER NOT NULL, -- 20-bit label value\n"
	"	tc INTEGER NOT NULL, -- traffic class, 3 bits\n"
	"	bottom INTEGER NOT NULL, -- 1 on the bottom of the stack\n"
	"	ttl INTEGER NOT NULL, -- the label's TTL when the router received it\n"
	"	PRIMARY KEY (reply_id, position)\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE evidence ( -- the frames each finding rests on\n"
	"	finding_id INTEGER NOT NULL REFERENCES findings(id), -- the finding it supports\n"
	"	capture_id INTEGER NOT NULL REFERENCES captures(id), -- the capture the frame is in\n"
	"	frame INTEGER NOT NULL, -- frame number as Wireshark counts (from 1)\n"
	"	role TEXT -- what the frame shows: probe, reply, host copy, ...\n"
	");\n"
	"CREATE VIEW probe_replies AS -- every request with its answers (one row each) or none, addresses as text\n"
	"SELECT q.id AS request_id, c.side, c.name AS capture, q.frame AS probe_frame,\n"
	"	q.ts_ns AS probe_ts_ns, q.protocol, " SQL_ADDR_TEXT("q.src") " AS src,\n"
	"	" SQL_ADDR_TEXT("q.dst") " AS dst, q.ttl AS ttl_sent, q.trace_id,\n"
	"	r.id AS reply_id, r.frame AS reply_frame, r.kind AS reply_kind,\n"
	"	" SQL_ADDR_TEXT("r.src") " AS reply_from, r.ttl AS reply_ttl, r.quoted_ttl,\n"
	"	p.method, p.rtt_ns\n"
	"FROM requests q JOIN captures c ON c.id = q.capture_id\n"
	"LEFT JOIN pairs p ON p.request_id = q.id LEFT JOIN replies r ON r.id = p.reply_id;\n"
	"CREATE VIEW trace_hops AS -- each trace hop by hop, as a traceroute prints it\n"
	"SELECT t.id AS trace_id, t.protocol, t.src_text AS src, t.dst_text AS dst, t.dport,\n"
	"	h.ttl, h.address_text AS address, h.kind, h.reply_ttl, h.quoted_ttl,\n"
	"	h.rtt_ns / 1e6 AS rtt_ms, h.probes, h.answers, h.several_addresses, h.is_destination,\n"
	"	h.probe_frame, h.reply_frame\n"
	"FROM traces t JOIN hops h ON h.trace_id = t.id;\n"
	"CREATE VIEW finding_evidence AS -- findings with the frames behind them and a Wireshark filter for each\n"
	"SELECT f.id AS finding_id, f.kind, f.text, c.side, c.name AS capture, e.frame, e.role,\n"
	"	'frame.number == ' || e.frame AS wireshark_filter\n"
	"FROM findings f JOIN evidence e ON e.finding_id = f.id JOIN captures c ON c.id = e.capture_id;\n"
	"CREATE VIEW probe_copies AS -- each request seen on both sides of the NAT, with the TTL on each side\n"
	"SELECT g.id AS guest_request_id, g.frame AS guest_frame, h.id AS host_request_id,\n"
	"	h.frame AS host_frame, g.protocol, " SQL_ADDR_TEXT("g.dst") " AS dst,\n"
	"	g.ttl AS guest_ttl, h.ttl AS host_ttl\n"
	"FROM correlations k JOIN requests g ON g.id = k.guest_request_id\n"
	"JOIN requests h ON h.id = k.host_request_id;\n"
	"CREATE VIEW reply_copies AS -- each reply seen on both sides of the NAT, with the TTL on each side\n"
	"SELECT g.id AS guest_reply_id, g.frame AS guest_frame, h.id AS host_reply_id,\n"
	"	h.frame AS host_frame, g.kind, " SQL_ADDR_TEXT("h.src") " AS reply_from,\n"
	"	h.ttl AS host_ttl, g.ttl AS guest_ttl\n"
	"FROM reply_correlations k JOIN replies g ON g.id = k.guest_reply_id\n"
	"JOIN replies h ON h.id = k.host_reply_id;\n"
	"PRAGMA user_version = " STRINGIFY(STORE_SCHEMA_VERSION) ";\n"
	"PRAGMA application_id = " STRINGIFY(STORE_APPLICATION_ID) ";\n";

/* Built once the rows are in: cheaper than keeping them up to date row by row. */
static const char index_sql[] =
	"CREATE INDEX requests_by_frame ON requests(frame);\n"
	"CREATE INDEX requests_by_trace ON requests(trace_id) WHERE trace_id IS NOT NULL;\n"
	"CREATE INDEX replies_by_frame ON replies(frame);\n"
	"CREATE INDEX pairs_by_request ON pairs(request_id);\n"
	"CREATE INDEX hops_by_trace ON hops(trace_id, ttl);\n"
	"CREATE INDEX findings_by_trace ON findings(trace_id);\n"
	"CREATE INDEX evidence_by_finding ON evidence(finding_id);\n"
	"CREATE INDEX evidence_by_frame ON evidence(capture_id, frame);\n";

/*
 * Nothing on disk needs to survive a crash during the load: the file is deleted
 * then. The journal stays small in memory because a new file's pages are
 * appended, not rewritten. A 64 MiB cache lets the index builds sort in memory;
 * temp_store stays on disk, where the sorter spills on huge cases.
 */
static const char bulk_load_pragmas[] = "PRAGMA journal_mode = MEMORY;\n"
					"PRAGMA synchronous = OFF;\n"
					"PRAGMA cache_size = -65536;\n";

/* SQLite's defaults, so that the file is ordinary when closed. */
static const char normal_pragmas[] = "PRAGMA journal_mode = DELETE;\n"
				     "PRAGMA synchronous = FULL;\n";

enum insert {
	INSERT_CASE,
	INSERT_CAPTURE,
	INSERT_ANOMALY,
	INSERT_REQUEST,
	INSERT_REPLY,
	INSERT_PAIR,
	INSERT_MPLS,
	INSERT_CORRELATION,
	INSERT_REPLY_CORRELATION,
	INSERT_TRACE,
	INSERT_HOP,
	INSERT_FINDING,
	INSERT_EVIDENCE,
	INSERT_COUNT
};

static const struct {
	const char *table;
	const char *sql;
} inserts[INSERT_COUNT] = {
	[INSERT_CASE] = {"case_info",
			 "INSERT INTO case_info (tool_version, schema_version, verdict, summary, remedy,"
			 " correlated, clock_offset_ns, correlated_requests) VALUES (?,?,?,?,?,?,?,?)"},
	[INSERT_CAPTURE] = {"captures",
			    "INSERT INTO captures (id, side, path, name, sha256, file_bytes, format,"
			    " compressed, interfaces, linktype, snaplen, packets, ip_packets,"
			    " interesting, anomalous_packets, first_ts_ns, last_ts_ns, cut_short,"
			    " warning) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"},
	[INSERT_ANOMALY] = {"capture_anomalies",
			    "INSERT INTO capture_anomalies (capture_id, name, count) VALUES (?,?,?)"},
	[INSERT_REQUEST] = {"requests",
			    "INSERT INTO requests (id, capture_id, interface, frame, ts_ns, family, src,"
			    " dst, protocol, ttl, sport, dport, seq, echo_id, echo_seq, ip_id, ip_len,"
			    " trace_id, process) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"},
	[INSERT_REPLY] = {"replies",
			  "INSERT INTO replies (id, capture_id, interface, frame, ts_ns, family, src, dst, ttl,"
			  " kind, icmp_type, icmp_code, quoted, quoted_len, quoted_ttl, quoted_ip_id,"
			  " quoted_src, quoted_dst, quoted_proto, quoted_sport, quoted_dport,"
			  " quoted_seq, quoted_echo_id, quoted_echo_seq, ack, sport, dport, echo_id,"
			  " echo_seq, anomalies) VALUES"
			  " (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"},
	[INSERT_PAIR] = {"pairs",
			 "INSERT INTO pairs (reply_id, request_id, method, rtt_ns) VALUES (?,?,?,?)"},
	[INSERT_CORRELATION] = {"correlations",
				"INSERT INTO correlations (guest_request_id, host_request_id)"
				" VALUES (?,?)"},
	[INSERT_REPLY_CORRELATION] = {"reply_correlations",
				      "INSERT INTO reply_correlations (guest_reply_id,"
				      " host_reply_id) VALUES (?,?)"},
	[INSERT_TRACE] = {"traces",
			  "INSERT INTO traces (id, capture_id, protocol, family, src, dst, src_text,"
			  " dst_text, dport, first_ts_ns, last_ts_ns, probes, answered, max_ttl,"
			  " reached_ttl, verdict, direction, reset_ttl, egress_ttl, ingress_ttl,"
			  " true_distance, confidence, reason)"
			  " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"},
	[INSERT_HOP] = {"hops",
			"INSERT INTO hops (trace_id, ttl, address, address_text, probes, answers,"
			" several_addresses, is_destination, kind, reply_ttl, quoted_ttl, rtt_ns,"
			" probe_frame, reply_frame, request_id, reply_id)"
			" VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"},
	[INSERT_FINDING] = {"findings",
			    "INSERT INTO findings (id, trace_id, kind, text) VALUES (?,?,?,?)"},
	[INSERT_MPLS] = {"reply_mpls",
			 "INSERT INTO reply_mpls (reply_id, position, label, tc, bottom, ttl)"
			 " VALUES (?,?,?,?,?,?)"},
	[INSERT_EVIDENCE] = {"evidence",
			     "INSERT INTO evidence (finding_id, capture_id, frame, role)"
			     " VALUES (?,?,?,?)"},
};

struct store {
	sqlite3 *db;
	const struct case_model *cm;
	const char *path;
	char *err;
	size_t err_size;
	bool failed; /* err holds the first failure; later ones would only obscure it */
	sqlite3_stmt *insert[INSERT_COUNT];
};

static void store_fail(struct store *s, const char *doing, const char *why)
{
	if (s->failed)
		return;
	s->failed = true;
	if (s->err && s->err_size)
		snprintf(s->err, s->err_size, "%s: cannot write the case store while %s: %s", s->path,
			 doing, why);
}

static void fail_sqlite(struct store *s, const char *doing)
{
	store_fail(s, doing, sqlite3_errmsg(s->db));
}

static int exec(struct store *s, const char *sql, const char *doing)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		fail_sqlite(s, doing);
		return -1;
	}
	return 0;
}

/*
 * One row of an INSERT being bound, column after column. A failed bind is
 * kept and reported by row_insert, so that the per-column calls stay one line
 * each while every sqlite3 result is still checked.
 */
struct row {
	enum insert insert;
	sqlite3_stmt *stmt;
	int col;
	int rc;
};

static struct row row_begin(struct store *s, enum insert insert)
{
	return (struct row){.insert = insert, .stmt = s->insert[insert], .col = 0, .rc = SQLITE_OK};
}

static void put_int(struct row *r, int64_t value)
{
	if (r->rc == SQLITE_OK)
		r->rc = sqlite3_bind_int64(r->stmt, ++r->col, value);
}

static void put_u64(struct row *r, uint64_t value)
{
	/* Counts and frame numbers never come near 2^63; clamp rather than wrap if one did. */
	put_int(r, value > INT64_MAX ? INT64_MAX : (int64_t)value);
}

static void put_null(struct row *r)
{
	if (r->rc == SQLITE_OK)
		r->rc = sqlite3_bind_null(r->stmt, ++r->col);
}

static void put_int_if(struct row *r, bool present, int64_t value)
{
	if (present)
		put_int(r, value);
	else
		put_null(r);
}

static void put_bool(struct row *r, bool value)
{
	put_int(r, value ? 1 : 0);
}

/* The model's -1 ("unknown") becomes NULL. */
static void put_known(struct row *r, int value)
{
	put_int_if(r, value >= 0, value);
}

/* A cross reference: NULL for -1, and for an index past the end, which the model never makes. */
static void put_index(struct row *r, int32_t index, size_t count)
{
	assert(index < 0 || (size_t)index < count);
	put_int_if(r, index >= 0 && (size_t)index < count, index);
}

/* Static or model-owned text, alive until the row is stepped; NULL stays NULL. */
static void put_text(struct row *r, const char *text)
{
	if (!text)
		put_null(r);
	else if (r->rc == SQLITE_OK)
		r->rc = sqlite3_bind_text(r->stmt, ++r->col, text, -1, SQLITE_STATIC);
}

/* A fixed-size char array of the model, read no further than its size. */
static void put_chars(struct row *r, const char *chars, size_t size, bool empty_is_null)
{
	size_t len = strnlen(chars, size);
	if (len == 0 && empty_is_null)
		put_null(r);
	else if (r->rc == SQLITE_OK)
		r->rc = sqlite3_bind_text(r->stmt, ++r->col, chars, (int)len, SQLITE_STATIC);
}

static void put_text_copy(struct row *r, const char *text)
{
	if (r->rc == SQLITE_OK)
		r->rc = sqlite3_bind_text(r->stmt, ++r->col, text, -1, SQLITE_TRANSIENT);
}

static int addr_bytes(const struct ip_addr *a)
{
	return a->family == 4 ? 4 : a->family == 6 ? 16 : 0;
}

/* The 4 or 16 address bytes, NULL for no address. */
static void put_addr(struct row *r, const struct ip_addr *a)
{
	int bytes = addr_bytes(a);
	if (bytes == 0)
		put_null(r);
	else if (r->rc == SQLITE_OK)
		r->rc = sqlite3_bind_blob(r->stmt, ++r->col, a->b, bytes, SQLITE_STATIC);
}

static void put_addr_text(struct row *r, const struct ip_addr *a)
{
	char text[64];
	if (addr_bytes(a) == 0) {
		put_null(r);
		return;
	}
	ip_addr_format(a, text, sizeof text);
	put_text_copy(r, text);
}

/* Steps the bound row and readies the statement for the next one. */
static int row_insert(struct store *s, struct row *r)
{
	int rc = r->rc;
	const char *why = NULL;
	if (rc == SQLITE_OK && r->col != sqlite3_bind_parameter_count(r->stmt)) {
		/* A column added to an INSERT but not to its writer: a bug, said plainly. */
		why = "the writer binds a different number of values than the INSERT takes";
		rc = SQLITE_MISUSE;
	}
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(r->stmt);
		if (rc == SQLITE_DONE)
			rc = SQLITE_OK;
	}
	/* After a failed step, reset returns the same error again; the first one counts. */
	int reset_rc = sqlite3_reset(r->stmt);
	if (rc == SQLITE_OK)
		rc = reset_rc;
	if (rc == SQLITE_OK)
		return 0;
	char doing[64];
	snprintf(doing, sizeof doing, "inserting into %s", inserts[r->insert].table);
	store_fail(s, doing, why ? why : sqlite3_errmsg(s->db));
	return -1;
}

static int insert_case(struct store *s)
{
	const struct case_model *cm = s->cm;
	struct row r = row_begin(s, INSERT_CASE);
	put_text(&r, TTLSLEUTH_VERSION);
	put_int(&r, STORE_SCHEMA_VERSION);
	put_text(&r, verdict_name(cm->verdict));
	put_chars(&r, cm->summary, sizeof cm->summary, false);
	put_chars(&r, cm->remedy, sizeof cm->remedy, false);
	put_bool(&r, cm->correlated);
	put_int_if(&r, cm->correlated, cm->clock_offset_ns);
	put_int(&r, cm->correlated_requests);
	return row_insert(s, &r);
}

static int insert_capture(struct store *s, uint32_t id)
{
	const struct capture *c = &s->cm->captures[id];
	struct row r = row_begin(s, INSERT_CAPTURE);
	put_int(&r, id);
	put_text(&r, side_name(c->side));
	put_text(&r, c->path ? c->path : "");
	put_text(&r, c->name ? c->name : "");
	put_chars(&r, c->sha256_hex, sizeof c->sha256_hex, true);
	put_u64(&r, c->file_bytes);
	put_text(&r, c->format);
	put_bool(&r, c->compressed);
	put_int(&r, c->interfaces);
	put_int(&r, c->linktype);
	put_int(&r, c->snaplen);
	put_u64(&r, c->packets);
	put_u64(&r, c->ip_packets);
	put_u64(&r, c->interesting);
	put_u64(&r, c->anomalous_packets);
	put_int_if(&r, c->packets > 0, c->first_ts_ns);
	put_int_if(&r, c->packets > 0, c->last_ts_ns);
	put_bool(&r, c->cut_short);
	put_chars(&r, c->warning, sizeof c->warning, true);
	return row_insert(s, &r);
}

static int insert_anomalies(struct store *s, uint32_t id)
{
	const struct capture *c = &s->cm->captures[id];
	for (int a = 0; a < ANOMALY_COUNT; a++) {
		if (c->anomaly_counts[a] == 0)
			continue;
		struct row r = row_begin(s, INSERT_ANOMALY);
		put_int(&r, id);
		put_text(&r, anomaly_name((enum anomaly)a));
		put_u64(&r, c->anomaly_counts[a]);
		if (row_insert(s, &r) != 0)
			return -1;
	}
	return 0;
}

static int insert_request(struct store *s, size_t id, const struct request *q)
{
	bool ports = q->proto != PROTO_ICMP;
	struct row r = row_begin(s, INSERT_REQUEST);
	put_u64(&r, id);
	put_int(&r, q->capture);
	put_int(&r, q->interface);
	put_u64(&r, q->frame);
	put_int(&r, q->ts_ns);
	put_int(&r, q->src.family);
	put_addr(&r, &q->src);
	put_addr(&r, &q->dst);
	put_text(&r, protocol_name(q->proto));
	put_int(&r, q->ttl);
	put_int_if(&r, ports, q->sport);
	put_int_if(&r, ports, q->dport);
	put_int_if(&r, q->proto == PROTO_TCP, q->seq);
	put_int_if(&r, !ports, q->echo_id);
	put_int_if(&r, !ports, q->echo_seq);
	put_int(&r, q->ip_id);
	put_int(&r, q->ip_len);
	put_index(&r, q->trace, s->cm->traces.len);
	const char *process = process_name_of(s->cm, q->process);
	if (process)
		put_text(&r, process);
	else
		put_null(&r);
	return row_insert(s, &r);
}

static bool is_icmp_error(enum reply_kind kind)
{
	return kind == REPLY_TIME_EXCEEDED || kind == REPLY_UNREACHABLE || kind == REPLY_OTHER_ERROR;
}

static bool is_tcp_answer(enum reply_kind kind)
{
	return kind == REPLY_SYN_ACK || kind == REPLY_RST;
}

/* The names of a set, space-separated; fits: every name at once is well under the buffer. */
static void format_anomalies(anomaly_set set, char *out, size_t size)
{
	size_t used = 0;
	out[0] = '\0';
	for (int a = 0; a < ANOMALY_COUNT; a++) {
		if (!anomaly_has(set, (enum anomaly)a))
			continue;
		int n = snprintf(out + used, size - used, "%s%s", used ? " " : "",
				 anomaly_name((enum anomaly)a));
		if (n < 0 || (size_t)n >= size - used)
			break;
		used += (size_t)n;
	}
}

static void put_anomalies(struct row *r, anomaly_set set)
{
	char names[1024];
	if (set == 0) {
		put_null(r);
		return;
	}
	format_anomalies(set, names, sizeof names);
	put_text_copy(r, names);
}

static int insert_reply(struct store *s, size_t id, const struct reply *p)
{
	bool quoted = p->quoted;
	bool quoted_ports = quoted && p->quoted_ports_known &&
			    (p->quoted_proto == IPPROTO_NUM_TCP || p->quoted_proto == IPPROTO_NUM_UDP);
	bool quoted_echo = quoted && p->quoted_echo_known &&
			   (p->quoted_proto == IPPROTO_NUM_ICMP || p->quoted_proto == IPPROTO_NUM_ICMPV6);
	bool tcp = is_tcp_answer(p->kind);
	bool echo = p->kind == REPLY_ECHO_REPLY;

	struct row r = row_begin(s, INSERT_REPLY);
	put_u64(&r, id);
	put_int(&r, p->capture);
	put_int(&r, p->interface);
	put_u64(&r, p->frame);
	put_int(&r, p->ts_ns);
	put_int(&r, p->src.family);
	put_addr(&r, &p->src);
	put_addr(&r, &p->dst);
	put_int(&r, p->ttl);
	put_text(&r, reply_kind_name(p->kind));
	put_int_if(&r, !tcp, p->icmp_type);
	put_int_if(&r, !tcp, p->icmp_code);
	put_bool(&r, quoted);
	put_int_if(&r, quoted, p->quoted_len);
	put_int_if(&r, quoted, p->quoted_ttl);
	put_int_if(&r, quoted, p->quoted_ip_id);
	if (quoted) {
		put_addr(&r, &p->quoted_src);
		put_addr(&r, &p->quoted_dst);
	} else {
		put_null(&r);
		put_null(&r);
	}
	put_int_if(&r, quoted, p->quoted_proto);
	put_int_if(&r, quoted_ports, p->quoted_sport);
	put_int_if(&r, quoted_ports, p->quoted_dport);
	put_int_if(&r, quoted && p->quoted_proto == IPPROTO_NUM_TCP && p->quoted_seq_known,
		   p->quoted_seq);
	put_int_if(&r, quoted_echo, p->quoted_echo_id);
	put_int_if(&r, quoted_echo, p->quoted_echo_seq);
	put_int_if(&r, tcp, p->ack);
	put_int_if(&r, tcp, p->sport);
	put_int_if(&r, tcp, p->dport);
	put_int_if(&r, echo, p->echo_id);
	put_int_if(&r, echo, p->echo_seq);
	put_anomalies(&r, p->anomalies);
	return row_insert(s, &r);
}

static bool valid_index(int32_t index, size_t count)
{
	assert(index < 0 || (size_t)index < count);
	return index >= 0 && (size_t)index < count;
}

static int insert_pair(struct store *s, size_t reply_id, const struct reply *p)
{
	struct row r = row_begin(s, INSERT_PAIR);
	put_u64(&r, reply_id);
	put_int(&r, p->request);
	put_text(&r, match_method_name(p->method));
	put_int(&r, p->rtt_ns);
	return row_insert(s, &r);
}

static int insert_mpls(struct store *s, size_t reply_id, const struct reply *p)
{
	for (uint32_t i = 0; i < p->mpls_count; i++) {
		if (p->mpls_first + i >= s->cm->mpls.len)
			break;
		const struct mpls_entry *m = &s->cm->mpls.items[p->mpls_first + i];
		struct row r = row_begin(s, INSERT_MPLS);
		put_u64(&r, reply_id);
		put_int(&r, i);
		put_int(&r, m->label);
		put_int(&r, m->tc);
		put_int(&r, m->bottom);
		put_int(&r, m->ttl);
		if (row_insert(s, &r) != 0)
			return -1;
	}
	return 0;
}

/* Everything read from one capture file, in one transaction. */
static int write_capture(struct store *s, uint32_t id)
{
	const struct case_model *cm = s->cm;
	if (exec(s, "BEGIN", "starting to write a capture") != 0)
		return -1;
	if (insert_capture(s, id) != 0 || insert_anomalies(s, id) != 0)
		return -1;
	for (size_t i = 0; i < cm->requests.len; i++) {
		const struct request *q = &cm->requests.items[i];
		if (q->capture == id && insert_request(s, i, q) != 0)
			return -1;
	}
	for (size_t i = 0; i < cm->replies.len; i++) {
		const struct reply *p = &cm->replies.items[i];
		if (p->capture != id)
			continue;
		if (insert_reply(s, i, p) != 0)
			return -1;
		if (valid_index(p->request, cm->requests.len) && insert_pair(s, i, p) != 0)
			return -1;
		if (p->mpls_count && insert_mpls(s, i, p) != 0)
			return -1;
	}
	return exec(s, "COMMIT", "committing a capture");
}

static int insert_correlation(struct store *s, enum insert insert, size_t guest, int32_t host)
{
	struct row r = row_begin(s, insert);
	put_u64(&r, guest);
	put_int(&r, host);
	return row_insert(s, &r);
}

static bool from_guest(const struct case_model *cm, uint32_t capture)
{
	return capture < cm->n_captures && cm->captures[capture].side == SIDE_GUEST;
}

/* Each pair once, seen from the guest, whose capture the diagnosis is about. */
static int write_correlations(struct store *s)
{
	const struct case_model *cm = s->cm;
	for (size_t i = 0; i < cm->requests.len; i++) {
		const struct request *q = &cm->requests.items[i];
		if (from_guest(cm, q->capture) && valid_index(q->counterpart, cm->requests.len) &&
		    insert_correlation(s, INSERT_CORRELATION, i, q->counterpart) != 0)
			return -1;
	}
	for (size_t i = 0; i < cm->replies.len; i++) {
		const struct reply *p = &cm->replies.items[i];
		if (from_guest(cm, p->capture) && valid_index(p->counterpart, cm->replies.len) &&
		    insert_correlation(s, INSERT_REPLY_CORRELATION, i, p->counterpart) != 0)
			return -1;
	}
	return 0;
}

static int insert_trace(struct store *s, size_t id, const struct trace *t)
{
	struct row r = row_begin(s, INSERT_TRACE);
	put_u64(&r, id);
	put_int(&r, t->capture);
	put_text(&r, protocol_name(t->proto));
	put_int(&r, t->src.family);
	put_addr(&r, &t->src);
	put_addr(&r, &t->dst);
	put_addr_text(&r, &t->src);
	put_addr_text(&r, &t->dst);
	put_int_if(&r, t->proto != PROTO_ICMP && t->dport != 0, t->dport);
	put_int(&r, t->first_ts_ns);
	put_int(&r, t->last_ts_ns);
	put_int(&r, t->probes);
	put_int(&r, t->answered);
	put_int(&r, t->max_ttl);
	put_int_if(&r, t->reached_ttl != 0, t->reached_ttl);
	put_text(&r, verdict_name(t->verdict));
	put_text(&r, t->direction == DIRECTION_UNKNOWN ? NULL : direction_name(t->direction));
	put_known(&r, t->reset_ttl);
	put_known(&r, t->egress_ttl);
	put_known(&r, t->ingress_ttl);
	put_known(&r, t->true_distance);
	put_text(&r, t->confidence);
	put_chars(&r, t->reason, sizeof t->reason, false);
	return row_insert(s, &r);
}

static int insert_hop(struct store *s, size_t trace_id, const struct hop *h)
{
	const struct case_model *cm = s->cm;
	bool answered = h->answers > 0;
	struct row r = row_begin(s, INSERT_HOP);
	put_u64(&r, trace_id);
	put_int(&r, h->ttl);
	put_addr(&r, &h->addr);
	put_addr_text(&r, &h->addr);
	put_int(&r, h->probes);
	put_int(&r, h->answers);
	put_bool(&r, h->several_addresses);
	put_bool(&r, h->is_destination);
	put_text(&r, answered ? reply_kind_name(h->kind) : NULL);
	put_int_if(&r, answered, h->reply_ttl);
	put_int_if(&r, answered && is_icmp_error(h->kind), h->quoted_ttl);
	put_int_if(&r, answered && h->rtt_ns >= 0, h->rtt_ns); /* -1: no probe to time it from */
	put_int_if(&r, h->probe_frame != 0, (int64_t)h->probe_frame);
	put_int_if(&r, answered && h->reply_frame != 0, (int64_t)h->reply_frame);
	put_index(&r, h->request, cm->requests.len);
	put_index(&r, answered ? h->reply : -1, cm->replies.len);
	return row_insert(s, &r);
}

static int write_traces(struct store *s)
{
	const struct case_model *cm = s->cm;
	for (size_t i = 0; i < cm->traces.len; i++) {
		const struct trace *t = &cm->traces.items[i];
		if (insert_trace(s, i, t) != 0)
			return -1;
		for (size_t h = 0; h < t->hops.len; h++)
			if (insert_hop(s, i, &t->hops.items[h]) != 0)
				return -1;
	}
	return 0;
}

static int insert_finding(struct store *s, size_t id, const struct finding *f)
{
	struct row r = row_begin(s, INSERT_FINDING);
	put_u64(&r, id);
	put_index(&r, f->trace, s->cm->traces.len);
	put_text(&r, finding_name(f->kind));
	put_chars(&r, f->text, sizeof f->text, false);
	return row_insert(s, &r);
}

static int insert_evidence(struct store *s, size_t finding_id, const struct evidence *e)
{
	struct row r = row_begin(s, INSERT_EVIDENCE);
	put_u64(&r, finding_id);
	put_int(&r, e->capture);
	put_u64(&r, e->frame);
	put_text(&r, e->role);
	return row_insert(s, &r);
}

static int write_findings(struct store *s)
{
	const struct case_model *cm = s->cm;
	for (size_t i = 0; i < cm->findings.len; i++) {
		const struct finding *f = &cm->findings.items[i];
		if (insert_finding(s, i, f) != 0)
			return -1;
		for (size_t e = 0; e < f->evidence.len; e++)
			if (insert_evidence(s, i, &f->evidence.items[e]) != 0)
				return -1;
	}
	return 0;
}

/* What the analysis made of the captures, and the indexes, in the last transaction. */
static int write_analysis(struct store *s)
{
	if (exec(s, "BEGIN", "starting to write the analysis") != 0)
		return -1;
	if (write_traces(s) != 0 || write_findings(s) != 0 || write_correlations(s) != 0 ||
	    insert_case(s) != 0)
		return -1;
	if (exec(s, index_sql, "creating the indexes") != 0)
		return -1;
	return exec(s, "COMMIT", "committing the analysis");
}

static int prepare_inserts(struct store *s)
{
	for (int i = 0; i < INSERT_COUNT; i++) {
		if (sqlite3_prepare_v2(s->db, inserts[i].sql, -1, &s->insert[i], NULL) != SQLITE_OK) {
			char doing[64];
			snprintf(doing, sizeof doing, "preparing the insert into %s", inserts[i].table);
			fail_sqlite(s, doing);
			return -1;
		}
	}
	return 0;
}

static int create_schema(struct store *s)
{
	if (exec(s, bulk_load_pragmas, "setting up the bulk load") != 0)
		return -1;
	if (exec(s, "BEGIN", "starting to create the schema") != 0)
		return -1;
	if (exec(s, schema_sql, "creating the schema") != 0)
		return -1;
	return exec(s, "COMMIT", "committing the schema");
}

static int write_all(struct store *s)
{
	if (create_schema(s) != 0 || prepare_inserts(s) != 0)
		return -1;
	for (uint32_t c = 0; c < s->cm->n_captures; c++)
		if (write_capture(s, c) != 0)
			return -1;
	/* Back to SQLite's ordinary, durable settings: the last commit syncs the whole file. */
	if (exec(s, normal_pragmas, "restoring the journal") != 0)
		return -1;
	return write_analysis(s);
}

/* Creates the file itself, so that an existing one is refused rather than opened. */
static int create_new_file(struct store *s)
{
	int fd = open(s->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		s->failed = true;
		if (s->err && s->err_size && errno == EEXIST)
			snprintf(s->err, s->err_size,
				 "%s: already exists; refusing to overwrite it", s->path);
		else if (s->err && s->err_size)
			snprintf(s->err, s->err_size, "%s: cannot create: %s", s->path,
				 strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

static void finalize_inserts(struct store *s)
{
	for (int i = 0; i < INSERT_COUNT; i++) {
		/* finalize repeats the last step's result, already checked by row_insert */
		sqlite3_finalize(s->insert[i]);
		s->insert[i] = NULL;
	}
}

/* After a failure: no partial file may look like a finished case. */
static void discard(struct store *s)
{
	if (s->db && !sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	finalize_inserts(s);
	sqlite3_close(s->db);
	s->db = NULL;
	unlink(s->path);
	size_t size = strlen(s->path) + sizeof "-journal";
	char *journal = malloc(size);
	if (journal) {
		snprintf(journal, size, "%s-journal", s->path);
		unlink(journal);
		free(journal);
	}
}

/*
 * SQLite counts every allocation under a global mutex unless told not to; that
 * was 5% of the store's instructions. sqlite3_config only works before SQLite
 * starts, so this runs ahead of the first open, and nothing else in ttlsleuth
 * uses SQLite. If SQLite had already started the call fails and is harmless.
 */
static void configure_sqlite(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int store_write_case(const struct case_model *cm, const char *path, char *err, size_t err_size)
{
	static pthread_once_t configured = PTHREAD_ONCE_INIT;
	pthread_once(&configured, configure_sqlite);
	assert(cm && path);
	struct store s = {.cm = cm, .path = path, .err = err, .err_size = err_size};
	if (err && err_size)
		err[0] = '\0';
	if (create_new_file(&s) != 0)
		return -1;

	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
	if (sqlite3_open_v2(path, &s.db, flags, NULL) != SQLITE_OK) {
		if (s.db)
			fail_sqlite(&s, "opening it");
		else
			store_fail(&s, "opening it", "out of memory");
		discard(&s);
		return -1;
	}
	if (write_all(&s) != 0) {
		discard(&s);
		return -1;
	}
	finalize_inserts(&s);
	if (sqlite3_close(s.db) != SQLITE_OK) {
		fail_sqlite(&s, "closing it");
		discard(&s);
		return -1;
	}
	return 0;
}
