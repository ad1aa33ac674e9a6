/*
 * The whole tool on the committed lab captures (samples/README.md is the
 * ground truth): verdicts, reset values and the exact hop list of every trace,
 * read back from the XML report and the SQLite store; and the refusals of bad
 * input, with their exit codes and no half-written output.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <libxml/parser.h>
#include <libxml/xmlschemas.h>
#include <libxml/xpath.h>
#include <pcap/pcap.h>
#include <sqlite3.h>

#include "support.h"
#include "support_packets.h"
#include "support_xml.h"

struct run {
	char *dir;
	char out[600], stdout_path[600], stderr_path[600];
	int rc;
};

static void run_analyze(struct run *r, const char *guest, const char *host)
{
	r->dir = make_temp_dir();
	snprintf(r->out, sizeof r->out, "%s/case", r->dir);
	snprintf(r->stdout_path, sizeof r->stdout_path, "%s/stdout", r->dir);
	snprintf(r->stderr_path, sizeof r->stderr_path, "%s/stderr", r->dir);
	char *g = source_path(guest);
	char *h = host ? source_path(host) : NULL;
	char args[2048];
	snprintf(args, sizeof args, "analyze '%s' %s%s%s -o '%s'", g, h ? "--host '" : "", h ? h : "",
		 h ? "'" : "", r->out);
	r->rc = run_ttlsleuth(args, r->stdout_path, r->stderr_path);
	free(g);
	free(h);
}

/* The text of what expr selects. */
static char *xpath_text(xmlDocPtr doc, const char *expr)
{
	char wrapped[512];
	snprintf(wrapped, sizeof wrapped, "string(%s)", expr);
	return xpath_string(doc, wrapped);
}

static double xpath_number(xmlDocPtr doc, const char *expr)
{
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	xmlXPathObjectPtr obj = xmlXPathEvalExpression((const xmlChar *)expr, ctx);
	double v = obj ? obj->floatval : -1;
	xmlXPathFreeObject(obj);
	xmlXPathFreeContext(ctx);
	return v;
}

static void assert_xpath(xmlDocPtr doc, const char *expr, const char *want)
{
	char *got = xpath_text(doc, expr);
	if (strcmp(got, want) != 0)
		print_error("%s: got '%s', want '%s'\n", expr, got, want);
	assert_string_equal(got, want);
	free(got);
}

/* "a,b,*,c": the hop addresses of trace n in TTL order, '*' for silent. */
static void assert_hops(xmlDocPtr doc, int trace, const char *want)
{
	char expr[256];
	snprintf(expr, sizeof expr, "count(/report/traces/trace[%d]/hop)", trace);
	int n = (int)xpath_number(doc, expr);
	char got[1024] = "";
	for (int i = 1; i <= n; i++) {
		snprintf(expr, sizeof expr, "/report/traces/trace[%d]/hop[%d]/@ttl", trace, i);
		char *ttl = xpath_text(doc, expr);
		assert_int_equal(atoi(ttl), i);
		free(ttl);
		snprintf(expr, sizeof expr, "/report/traces/trace[%d]/hop[%d]/@address", trace, i);
		char *addr = xpath_text(doc, expr);
		strcat(got, i > 1 ? "," : "");
		strcat(got, addr[0] ? addr : "*");
		free(addr);
	}
	if (strcmp(got, want) != 0)
		print_error("trace %d hops: got %s, want %s\n", trace, got, want);
	assert_string_equal(got, want);
}

/* Parses OUTDIR/report.xml and checks it against the schema the project ships. */
static xmlDocPtr load_report(const struct run *r)
{
	char path[700];
	snprintf(path, sizeof path, "%s/report.xml", r->out);
	xmlDocPtr doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
	assert_non_null(doc);
	char *xsd = source_path("reports/report.xsd");
	xmlSchemaParserCtxtPtr parser = xmlSchemaNewParserCtxt(xsd);
	xmlSchemaPtr schema = xmlSchemaParse(parser);
	assert_non_null(schema);
	xmlSchemaValidCtxtPtr valid = xmlSchemaNewValidCtxt(schema);
	assert_int_equal(xmlSchemaValidateDoc(valid, doc), 0);
	xmlSchemaFreeValidCtxt(valid);
	xmlSchemaFree(schema);
	xmlSchemaFreeParserCtxt(parser);
	free(xsd);
	return doc;
}

/* The first column of the first row; ?1 in the query is bound to text when it is not NULL. */
static long long sql_int_like(const struct run *r, const char *sql, const char *text)
{
	char path[700];
	snprintf(path, sizeof path, "%s/case.sqlite", r->out);
	sqlite3 *db;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (text)
		assert_int_equal(sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	long long v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static long long sql_int(const struct run *r, const char *sql)
{
	return sql_int_like(r, sql, NULL);
}

static const char routed_path[] = "192.0.2.1,198.18.1.2,198.18.2.2,198.18.3.2,203.0.113.10";
static const char slirp_udp_path[] = "10.0.2.2,198.18.1.2,198.18.2.2,198.18.3.2,203.0.113.10";

/* The three traces of each scenario run in the order TCP, ICMP, UDP (samples/README.md). */
static void slirp_with_host_capture(void **state)
{
	(void)state;
	struct run r;
	run_analyze(&r, "samples/slirp/guest.pcap", "samples/slirp/host.pcap");
	assert_int_equal(r.rc, 0);
	xmlDocPtr doc = load_report(&r);
	assert_xpath(doc, "/report/@version", "1");
	assert_xpath(doc, "/report/diagnosis/@verdict", "ttl-reset");
	/* slirp's gateway MAC 52:55:0a:00:02:02, slirp4netns' 10.0.2.100, its rebuilt errors. */
	assert_xpath(doc, "/report/diagnosis/@nat-confidence", "likely");
	assert_xpath(doc, "substring(/report/diagnosis/@nat-family, 1, 18)", "QEMU/slirp user ne");
	assert_int_equal((int)xpath_number(doc, "count(/report/traces/trace)"), 3);

	assert_xpath(doc, "/report/traces/trace[1]/@protocol", "tcp");
	assert_xpath(doc, "/report/traces/trace[1]/@verdict", "ttl-reset");
	assert_xpath(doc, "/report/traces/trace[1]/@reset-ttl", "64");
	assert_xpath(doc, "/report/traces/trace[1]/@direction", "both");
	assert_xpath(doc, "/report/traces/trace[1]/@destination", "203.0.113.10");
	assert_hops(doc, 1, "203.0.113.10");

	assert_xpath(doc, "/report/traces/trace[2]/@protocol", "icmp");
	assert_xpath(doc, "/report/traces/trace[2]/@verdict", "ttl-reset");
	assert_xpath(doc, "/report/traces/trace[2]/@reset-ttl", "64");
	assert_xpath(doc, "/report/traces/trace[2]/@direction", "both");
	assert_xpath(doc, "/report/traces/trace[2]/@ingress-ttl", "255");
	assert_hops(doc, 2, "203.0.113.10");

	/* slirp keeps UDP's TTL (less one, as a router would) and rebuilds the errors. */
	assert_xpath(doc, "/report/traces/trace[3]/@protocol", "udp");
	assert_xpath(doc, "/report/traces/trace[3]/@verdict", "no-ttl-reset");
	assert_xpath(doc, "/report/traces/trace[3]/@reset-ttl", "");
	assert_hops(doc, 3, slirp_udp_path);
	assert_true(xpath_number(doc, "count(/report/findings/finding[@kind='icmp.forged_time_exceeded'])") >= 1);
	/* Every finding names its evidence by capture and frame. */
	assert_int_equal(xpath_number(doc, "count(/report/findings/finding[not(evidence)])"), 0);
	xmlFreeDoc(doc);

	assert_int_equal(sql_int(&r, "PRAGMA user_version"), 1);
	assert_int_equal(sql_int(&r, "SELECT count(*) FROM captures"), 2);
	assert_int_equal(sql_int(&r, "SELECT packets FROM captures WHERE side = 'guest'"), 119);
	assert_int_equal(sql_int(&r, "SELECT packets FROM captures WHERE side = 'host'"), 164);
	assert_int_equal(sql_int(&r, "SELECT count(*) FROM traces WHERE verdict = 'ttl-reset'"), 2);
	/* 17 SYNs from the guest (README), each found again on the host side. */
	assert_int_equal(sql_int(&r, "SELECT count(*) FROM requests r JOIN traces t ON r.trace_id = t.id "
				     "WHERE t.protocol = 'tcp'"),
			 17);
	assert_int_equal(sql_int(&r, "SELECT count(*) FROM correlations c JOIN requests r "
				     "ON c.guest_request_id = r.id JOIN traces t ON r.trace_id = t.id "
				     "WHERE t.protocol = 'tcp'"),
			 17);
	/* slirp keeps the echo sequence (not the id): each ICMP probe pairs with its own copy. */
	assert_int_equal(sql_int(&r, "SELECT count(*) FROM correlations c"
				     " JOIN requests g ON g.id = c.guest_request_id"
				     " JOIN requests h ON h.id = c.host_request_id"
				     " WHERE g.protocol = 'icmp' AND g.echo_seq = h.echo_seq"),
			 17);
	/* UDP: slirp answers TTL 1 itself; the 13 others leave with TTL k-1 to the same port. */
	assert_int_equal(sql_int(&r, "SELECT count(*) FROM correlations c"
				     " JOIN requests g ON g.id = c.guest_request_id"
				     " JOIN requests h ON h.id = c.host_request_id"
				     " WHERE g.protocol = 'udp' AND g.dport = h.dport AND h.ttl = g.ttl - 1"),
			 13);
	remove_temp_dir(r.dir);
}

static void slirp_guest_only(void **state)
{
	(void)state;
	struct run r;
	run_analyze(&r, "samples/slirp/guest.pcap", NULL);
	assert_int_equal(r.rc, 0);
	xmlDocPtr doc = load_report(&r);
	assert_xpath(doc, "/report/diagnosis/@verdict", "ttl-reset");
	assert_xpath(doc, "/report/traces/trace[1]/@verdict", "ttl-reset");
	/* Without the host side the value the probes were reset to is not known... */
	assert_xpath(doc, "/report/traces/trace[1]/@reset-ttl", "");
	/* ...but the answers' rewritten TTL and the true distance (from the UDP trace) are. */
	assert_xpath(doc, "/report/traces/trace[1]/@ingress-ttl", "64");
	assert_xpath(doc, "/report/traces/trace[1]/@true-distance", "5");
	assert_xpath(doc, "/report/traces/trace[3]/@verdict", "no-ttl-reset");
	xmlFreeDoc(doc);
	remove_temp_dir(r.dir);
}

static void routed_control(void **state)
{
	(void)state;
	struct run r;
	run_analyze(&r, "samples/routed/guest.pcap", "samples/routed/host.pcap");
	assert_int_equal(r.rc, 0);
	xmlDocPtr doc = load_report(&r);
	assert_xpath(doc, "/report/diagnosis/@verdict", "no-ttl-reset");
	assert_xpath(doc, "/report/diagnosis/@nat-family", "");
	const char *protocols[] = { "tcp", "icmp", "udp" };
	for (int i = 1; i <= 3; i++) {
		char expr[128];
		snprintf(expr, sizeof expr, "/report/traces/trace[%d]/@protocol", i);
		assert_xpath(doc, expr, protocols[i - 1]);
		snprintf(expr, sizeof expr, "/report/traces/trace[%d]/@verdict", i);
		assert_xpath(doc, expr, "no-ttl-reset");
		snprintf(expr, sizeof expr, "/report/traces/trace[%d]/@reset-ttl", i);
		assert_xpath(doc, expr, "");
		assert_hops(doc, i, routed_path);
	}
	assert_true(xpath_number(doc, "count(/report/findings/finding[@kind='egress.ttl_preserved'])") == 3);
	xmlFreeDoc(doc);
	/* Through a router every host copy is the guest's probe itself: same ports or echo
	 * id and sequence, TTL one less. All 63 copies on the host side must be paired so. */
	assert_int_equal(sql_int(&r, "SELECT count(*) FROM correlations c"
				     " JOIN requests g ON g.id = c.guest_request_id"
				     " JOIN requests h ON h.id = c.host_request_id"
				     " WHERE g.ttl = h.ttl + 1 AND g.ip_id = h.ip_id"
				     " AND g.sport IS h.sport AND g.echo_seq IS h.echo_seq"),
			 63);
	assert_int_equal(sql_int(&r, "SELECT count(*) FROM correlations"), 63);
	remove_temp_dir(r.dir);
}

/* Guest and host captures merged into one file: every probe is there twice, counted once. */
static void merged_capture_counts_each_probe_once(void **state)
{
	(void)state;
	struct run r;
	run_analyze(&r, "samples/routed/guest-and-host-merged.pcapng", NULL);
	assert_int_equal(r.rc, 0);
	xmlDocPtr doc = load_report(&r);
	assert_xpath(doc, "/report/diagnosis/@verdict", "no-ttl-reset");
	for (int i = 1; i <= 3; i++)
		assert_hops(doc, i, routed_path);
	assert_xpath(doc, "/report/traces/trace[1]/@probes", "28");
	/* Frame 9 is the guest's SYN with TTL 2 (IP ID 0x42e5); frame 10 the same packet on the
	 * host's uplink with TTL 1 (tshark -r the file -Y "frame.number in {9 10}"). */
	assert_xpath(doc, "/report/findings/finding[@kind='capture.packets_seen_twice']/evidence[1]/@frame",
		     "9");
	assert_xpath(doc, "/report/findings/finding[@kind='capture.packets_seen_twice']/evidence[2]/@frame",
		     "10");
	xmlFreeDoc(doc);
	remove_temp_dir(r.dir);
}

/* The same inputs give the same report, and a rerun replaces the case cleanly. */
static void reports_are_reproducible(void **state)
{
	(void)state;
	struct run a, b;
	run_analyze(&a, "samples/slirp/guest.pcap", "samples/slirp/host.pcap");
	run_analyze(&b, "samples/slirp/guest.pcap", "samples/slirp/host.pcap");
	const char *names[] = { "report.xml", "report.html" };
	for (int i = 0; i < 2; i++) {
		char pa[700], pb[700];
		snprintf(pa, sizeof pa, "%s/%s", a.out, names[i]);
		snprintf(pb, sizeof pb, "%s/%s", b.out, names[i]);
		size_t la, lb;
		char *x = slurp_file(pa, &la), *y = slurp_file(pb, &lb);
		assert_non_null(x);
		assert_non_null(y);
		assert_int_equal(la, lb);
		assert_memory_equal(x, y, la);
		free(x);
		free(y);
	}
	/* Rerun into the first directory with the control capture: the case is replaced. */
	char *g = source_path("samples/routed/guest.pcap");
	char args[1400];
	snprintf(args, sizeof args, "analyze '%s' -o '%s' --quiet", g, a.out);
	assert_int_equal(run_ttlsleuth(args, a.stdout_path, NULL), 0);
	free(g);
	assert_int_equal(sql_int(&a, "SELECT count(*) FROM captures"), 1);
	assert_int_equal(sql_int(&a, "SELECT count(*) FROM traces WHERE verdict = 'ttl-reset'"), 0);
	size_t n;
	char *quiet = slurp_file(a.stdout_path, &n);
	assert_int_equal(n, 0);
	free(quiet);
	remove_temp_dir(a.dir);
	remove_temp_dir(b.dir);
}

/* Nothing but the final files in OUTDIR: no temporaries, no half-written store. */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void expect_refusal(const char *input_path, int want_rc, const char *want_text)
{
	char *dir = make_temp_dir();
	char out[600], err_path[600], args[2048];
	snprintf(out, sizeof out, "%s/case", dir);
	snprintf(err_path, sizeof err_path, "%s/stderr", dir);
	snprintf(args, sizeof args, "analyze '%s' -o '%s'", input_path, out);
	int rc = run_ttlsleuth(args, NULL, err_path);
	char *err = slurp_file(err_path, NULL);
	assert_non_null(err);
	if (rc != want_rc || !strstr(err, want_text) || !strstr(err, input_path))
		print_error("rc %d, stderr: %s\n", rc, err);
	assert_int_equal(rc, want_rc);
	assert_non_null(strstr(err, want_text));
	assert_non_null(strstr(err, input_path));
	/* One line. */
	assert_ptr_equal(strchr(err, '\n'), err + strlen(err) - 1);
	assert_true(count_entries(out) <= 0);
	free(err);
	remove_temp_dir(dir);
}

/* A file in a fresh temporary directory; free_temp_file removes both. */
static char *write_temp_file(const void *data, size_t n, const char *name)
{
	char *dir = make_temp_dir();
	size_t size = strlen(dir) + strlen(name) + 2;
	char *path = malloc(size);
	snprintf(path, size, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	if (n)
		assert_int_equal(fwrite(data, 1, n, f), n);
	fclose(f);
	free(dir);
	return path;
}

static void free_temp_file(char *path)
{
	char *slash = strrchr(path, '/');
	*slash = '\0';
	remove_temp_dir(path);
}

static void bad_input_is_refused(void **state)
{
	(void)state;
	char *p = write_temp_file("hello, this is not a capture\n", 29, "notes.pcap");
	expect_refusal(p, 3, "not a capture file");
	free_temp_file(p);

	p = write_temp_file("", 0, "empty.pcap");
	expect_refusal(p, 3, "empty file");
	free_temp_file(p);

	/* A pcap header whose link type (147, a user DLT) means nothing to us. */
	const uint8_t header[24] = { 0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0,
				     0, 0, 0, 0, 0xff, 0xff, 0, 0, 147, 0, 0, 0 };
	p = write_temp_file(header, sizeof header, "usr.pcap");
	expect_refusal(p, 3, "unsupported link type 147");
	free_temp_file(p);

	/* A header cut short. */
	p = write_temp_file(header, 10, "short.pcap");
	expect_refusal(p, 3, "pcap");
	free_temp_file(p);

	p = strdup("/nonexistent/ttlsleuth/guest.pcap");
	expect_refusal(p, 3, "cannot open");
	free(p);
}

/* Cut inside its very first record: no packet at all, and the words say why. */
static void capture_cut_inside_the_first_record(void **state)
{
	(void)state;
	const uint8_t bytes[] = { 0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0,
				  1, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0, 0x40, 0, 0, 0, 0x45, 0 };
	char *p = write_temp_file(bytes, sizeof bytes, "cut-first.pcap");
	char out[700], args[2048], out_path[700], err_path[700];
	snprintf(out, sizeof out, "%s.out", p);
	snprintf(out_path, sizeof out_path, "%s.stdout", p);
	snprintf(err_path, sizeof err_path, "%s.stderr", p);
	snprintf(args, sizeof args, "analyze '%s' -o '%s'", p, out);
	assert_int_equal(run_ttlsleuth(args, out_path, err_path), 0);
	char *said = slurp_file(out_path, NULL), *err = slurp_file(err_path, NULL);
	assert_non_null(strstr(err, "reading stopped at byte 24 (frame 1)"));
	assert_non_null(strstr(err, "; no frame before it to analyse"));
	assert_null(strstr(err, "the 0 frames"));
	assert_non_null(strstr(said, "the capture holds no whole packet (it is cut inside the first)"));
	free(said);
	free(err);
	free_temp_file(p);
}

/* Cut off in the middle of a record: analysed up to the cut, with a warning, exit 0. */
static void capture_cut_mid_record(void **state)
{
	(void)state;
	char *src = source_path("samples/routed/guest.pcap");
	size_t n;
	char *bytes = slurp_file(src, &n);
	assert_non_null(bytes);
	/* 15340 bytes in all (samples/README.md); cut 30 bytes into the last record. */
	char *p = write_temp_file(bytes, n - 40, "cut.pcap");
	char *dir = make_temp_dir();
	char out[600], err_path[600], args[2048];
	snprintf(out, sizeof out, "%s/case", dir);
	snprintf(err_path, sizeof err_path, "%s/stderr", dir);
	snprintf(args, sizeof args, "analyze '%s' -o '%s' -q", p, out);
	assert_int_equal(run_ttlsleuth(args, NULL, err_path), 0);
	char *err = slurp_file(err_path, NULL);
	assert_non_null(strstr(err, "warning"));
	assert_non_null(strstr(err, "cut.pcap"));
	assert_non_null(strstr(err, "frame 162"));
	struct run r;
	snprintf(r.out, sizeof r.out, "%s", out);
	assert_int_equal(sql_int(&r, "SELECT packets FROM captures"), 161);
	assert_int_equal(sql_int(&r, "SELECT cut_short FROM captures"), 1);
	free(err);
	remove_temp_dir(dir);
	free_temp_file(p);
	free(bytes);
	free(src);
}

struct frame_range {
	unsigned first, last;
	long shift_s;
};

static bool keep_range_shifted(unsigned number, struct pcap_pkthdr *h, uint8_t *frame, void *ctx)
{
	(void)frame;
	const struct frame_range *r = ctx;
	h->ts.tv_sec += r->shift_s;
	return number >= r->first && number <= r->last;
}

/* Frames first..last of a committed capture, shift_s seconds later, into dir/name. */
static char *rewrite_frames(const char *sample, unsigned first, unsigned last, long shift_s,
			    const char *dir, const char *name)
{
	struct frame_range r = { first, last, shift_s };
	return rewrite_capture(sample, dir, name, keep_range_shifted, &r);
}

/*
 * The slirp guest capture from frame 31: ICMP probes whose answers are not in
 * it, the host capture showing them leave with TTL 64. Reset, and nothing
 * answered: the words must not say "after 0 hops".
 */
static void reset_without_any_answer_is_worded_so(void **state)
{
	(void)state;
	char *dir = make_temp_dir();
	char *guest = rewrite_frames("samples/slirp/guest.pcap", 31, 60, 0, dir, "guest-31-60.pcap");
	char *host = source_path("samples/slirp/host.pcap");
	char out[600], out_path[600], args[2048];
	snprintf(out, sizeof out, "%s/case", dir);
	snprintf(out_path, sizeof out_path, "%s/stdout", dir);
	snprintf(args, sizeof args, "analyze '%s' --host '%s' -o '%s'", guest, host, out);
	assert_int_equal(run_ttlsleuth(args, out_path, NULL), 0);
	char *said = slurp_file(out_path, NULL);
	assert_non_null(strstr(said, "ttl-reset: "));
	assert_non_null(strstr(said, "so a trace to 203.0.113.10 cannot show the routers past the NAT"));
	assert_null(strstr(said, "0 hops"));
	struct run r;
	snprintf(r.out, sizeof r.out, "%s", out);
	assert_int_equal(sql_int(&r, "SELECT count(*) FROM traces WHERE verdict = 'ttl-reset'"
				     " AND reason LIKE '%did not answer in this capture%'"),
			 1);
	free(said);
	free(host);
	free(guest);
	remove_temp_dir(dir);
}

static void unwritable_output(void **state)
{
	(void)state;
	/* A regular file where the output directory's parent should be. */
	char *file = write_temp_file("x", 1, "plainfile");
	char out[700], args[2048], err_path[700];
	snprintf(out, sizeof out, "%s/case", file);
	snprintf(err_path, sizeof err_path, "%s.stderr", file);
	char *g = source_path("samples/routed/guest.pcap");
	snprintf(args, sizeof args, "analyze '%s' -o '%s'", g, out);
	assert_int_equal(run_ttlsleuth(args, NULL, err_path), 4);
	char *err = slurp_file(err_path, NULL);
	assert_non_null(strstr(err, file));
	free(err);
	free(g);
	free_temp_file(file);
}

/* The bytes of some files of an OUTDIR, to show later that a failed run left them as they were. */
struct kept_files {
	const char *const *names;
	int n;
	char *bytes[3];
	size_t len[3];
};

static void keep_files(struct kept_files *k, const char *dir, const char *const *names, int n)
{
	assert_true(n <= 3);
	k->names = names;
	k->n = n;
	char path[700];
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		k->bytes[i] = slurp_file(path, &k->len[i]);
		assert_non_null(k->bytes[i]);
	}
}

static void assert_files_kept(struct kept_files *k, const char *dir)
{
	char path[700];
	for (int i = 0; i < k->n; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, k->names[i]);
		size_t len;
		char *after = slurp_file(path, &len);
		assert_non_null(after);
		assert_int_equal(len, k->len[i]);
		assert_memory_equal(after, k->bytes[i], len);
		free(after);
		free(k->bytes[i]);
	}
}

/*
 * All three or none (README): a directory where report.html should go makes
 * the last rename fail after the other two succeeded. The earlier case stays
 * whole, byte for byte, and nothing of the failed run is left in OUTDIR.
 */
static void failed_rename_keeps_the_earlier_case(void **state)
{
	(void)state;
	struct run r;
	run_analyze(&r, "samples/routed/guest.pcap", NULL);
	assert_int_equal(r.rc, 0);
	static const char *const kept[] = { "case.sqlite", "report.xml" };
	struct kept_files before;
	keep_files(&before, r.out, kept, 2);
	char path[700];
	snprintf(path, sizeof path, "%s/report.html", r.out);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0755), 0);

	char *g = source_path("samples/slirp/guest.pcap");
	char args[1400];
	snprintf(args, sizeof args, "analyze '%s' -o '%s' -q", g, r.out);
	assert_int_equal(run_ttlsleuth(args, NULL, r.stderr_path), 4);
	free(g);
	char *err = slurp_file(r.stderr_path, NULL);
	assert_non_null(strstr(err, "report.html: cannot rename into place"));
	free(err);
	assert_files_kept(&before, r.out);
	struct stat st;
	snprintf(path, sizeof path, "%s/report.html", r.out);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(count_entries(r.out), 3); /* no temporary, no journal entry */
	assert_int_equal(sql_int(&r, "SELECT count(*) FROM traces WHERE verdict = 'ttl-reset'"), 0);

	/* With the way cleared, the next run replaces the case. */
	assert_int_equal(rmdir(path), 0);
	g = source_path("samples/slirp/guest.pcap");
	snprintf(args, sizeof args, "analyze '%s' -o '%s' -q", g, r.out);
	assert_int_equal(run_ttlsleuth(args, NULL, NULL), 0);
	free(g);
	assert_int_equal(count_entries(r.out), 3);
	assert_true(sql_int(&r, "SELECT count(*) FROM traces WHERE verdict = 'ttl-reset'") > 0);
	remove_temp_dir(r.dir);
}

/*
 * The reports are written on a second thread while the store is written: when
 * only the store fails, its error is the one told, the reports written
 * meanwhile are thrown away, and the earlier case stays whole.
 */
static void failed_store_keeps_the_earlier_case_and_no_report(void **state)
{
	(void)state;
	struct run r;
	run_analyze(&r, "samples/routed/guest.pcap", NULL);
	assert_int_equal(r.rc, 0);
	static const char *const names[] = { "case.sqlite", "report.xml", "report.html" };
	struct kept_files before;
	keep_files(&before, r.out, names, 3);
	/* A directory where the store's temporary goes: only the store cannot be written. */
	char blocker[700];
	snprintf(blocker, sizeof blocker, "%s/.case.sqlite.tmp", r.out);
	assert_int_equal(mkdir(blocker, 0755), 0);

	char *g = source_path("samples/slirp/guest.pcap");
	char args[1400];
	snprintf(args, sizeof args, "analyze '%s' -o '%s' -q", g, r.out);
	assert_int_equal(run_ttlsleuth(args, NULL, r.stderr_path), 4);
	free(g);
	char *err = slurp_file(r.stderr_path, NULL);
	assert_non_null(strstr(err, ".case.sqlite.tmp: already exists"));
	assert_null(strstr(err, "report"));
	free(err);
	assert_files_kept(&before, r.out);
	assert_int_equal(count_entries(r.out), 4); /* the three and the blocker: no report temporary */
	assert_int_equal(rmdir(blocker), 0);
	remove_temp_dir(r.dir);
}

/*
 * A sentence of an IPv6 trace's finding that begins with the hop limit begins
 * with a capital: it read ". hop limit 1 reaches it" (the lab's on-link ICMPv6
 * trace).
 */
static void ipv6_sentences_begin_with_a_capital(void **state)
{
	(void)state;
	struct run r;
	run_analyze(&r, "samples/extra/onlink-wide-v6/traceroute-icmp/guest.pcap", NULL);
	assert_int_equal(r.rc, 0);
	xmlDocPtr doc = load_report(&r);
	char *text = xpath_text(doc, "/report/findings/finding[@kind='path.destination_on_link']/text");
	assert_non_null(strstr(text, ". Hop limit 1 reaches it,"));
	free(text);
	xmlFreeDoc(doc);
	remove_temp_dir(r.dir);
}

/* No trace to judge although a host capture was given: the advice does not ask for one as if it were missing. */
static void advice_without_a_trace_knows_the_host_capture(void **state)
{
	(void)state;
	struct run r;
	run_analyze(&r, "samples/lab/pasta-v4/traceroute-tcp/host.pcap", "samples/lab/pasta-v4/traceroute-icmp/host.pcap");
	assert_int_equal(r.rc, 0);
	assert_int_equal(sql_int(&r, "SELECT count(*) FROM case_info WHERE verdict = 'inconclusive'"
				     " AND remedy LIKE '%on the host at the same time as before%'"),
			 1);
	remove_temp_dir(r.dir);
	/* A guest trace nothing judges (slirp drops ICMPv6 echo to others): the host capture is the gap. */
	run_analyze(&r, "samples/lab/slirp-v6/traceroute-icmp/guest.pcap", "samples/lab/slirp-v6/traceroute-icmp/host.pcap");
	assert_int_equal(r.rc, 0);
	assert_int_equal(sql_int(&r, "SELECT count(*) FROM case_info WHERE verdict = 'inconclusive'"
				     " AND remedy NOT LIKE '%as before%'"),
			 1);
	remove_temp_dir(r.dir);
}

/* An IPv6 trace's own values are worded with the hop limit on the terminal and in the page. */
static void ipv6_trace_says_hop_limit(void **state)
{
	(void)state;
	struct run r;
	run_analyze(&r, "samples/lab/nat-classic-v6/traceroute-tcp/guest.pcap",
		    "samples/lab/nat-classic-v6/traceroute-tcp/host.pcap");
	assert_int_equal(r.rc, 0);
	char *said = slurp_file(r.stdout_path, NULL);
	assert_non_null(strstr(said, "ttl-reset (reset to hop limit 64, both)"));
	free(said);
	char path[700];
	snprintf(path, sizeof path, "%s/report.html", r.out);
	char *html = slurp_file(path, NULL);
	assert_non_null(strstr(html, "Reset to hop limit"));
	assert_non_null(strstr(html, "<th>Quoted hop limit</th>"));
	free(html);
	remove_temp_dir(r.dir);
}

/* Bytes below space or DEL: what must never reach a terminal raw (README: names are escaped). */
static bool has_control_bytes(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p < 0x20 && *p != '\n') || *p == 0x7f)
			return true;
	return false;
}

/*
 * A file name with terminal escape sequences, a BEL and a line feed: every
 * message naming it shows them as \xNN, on one line. The reports have their
 * own escaping (test_report_html).
 */
static void hostile_file_names_reach_the_terminal_escaped(void **state)
{
	(void)state;
	char *dir = make_temp_dir();
	char err_path[600], out_path[600], args[4096];
	snprintf(err_path, sizeof err_path, "%s/stderr", dir);
	snprintf(out_path, sizeof out_path, "%s/stdout", dir);

	/* A refusal. */
	snprintf(args, sizeof args, "analyze '%s/evil\x1b]0;owned\x07\x1b[2J\n.pcap' -o '%s/o'", dir, dir);
	assert_int_equal(run_ttlsleuth(args, NULL, err_path), 3);
	char *err = slurp_file(err_path, NULL);
	assert_non_null(strstr(err, "evil\\x1b]0;owned\\x07\\x1b[2J\\x0a.pcap: cannot open"));
	assert_false(has_control_bytes(err));
	assert_ptr_equal(strchr(err, '\n'), err + strlen(err) - 1); /* still one line */
	free(err);

	/* A usage error quoting the argument. */
	snprintf(args, sizeof args, "analyze a.pcap 'b\x1b[31m.pcap' -o '%s/o'", dir);
	assert_int_equal(run_ttlsleuth(args, NULL, err_path), 2);
	err = slurp_file(err_path, NULL);
	assert_non_null(strstr(err, "unexpected argument b\\x1b[31m.pcap"));
	assert_false(has_control_bytes(err));
	free(err);

	/* A warning on a capture cut short, and the verdict's "Reports:" line with OUTDIR. */
	char *src = source_path("samples/routed/guest.pcap");
	size_t n;
	char *bytes = slurp_file(src, &n);
	char cut[700];
	snprintf(cut, sizeof cut, "%s/cut\x1b[31m.pcap", dir);
	FILE *f = fopen(cut, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(bytes, 1, n - 40, f), n - 40);
	fclose(f);
	snprintf(args, sizeof args, "analyze '%s' -o '%s/out\x1b[0m'", cut, dir);
	assert_int_equal(run_ttlsleuth(args, out_path, err_path), 0);
	err = slurp_file(err_path, NULL);
	assert_non_null(strstr(err, "warning: "));
	assert_non_null(strstr(err, "cut\\x1b[31m.pcap: reading stopped"));
	assert_false(has_control_bytes(err));
	char *said = slurp_file(out_path, NULL);
	assert_non_null(strstr(said, "out\\x1b[0m/report.html"));
	assert_false(has_control_bytes(said));
	free(said);
	free(err);
	free(bytes);
	free(src);
	remove_temp_dir(dir);
}

/*
 * pcapng link types are judged by the packets (README: what it reads): a
 * radiotap interface first and an Ethernet one after it is analysed; a file
 * whose packets are all on radiotap is refused in one line, nothing written.
 */
static void pcapng_refused_only_when_no_packet_is_readable(void **state)
{
	(void)state;
	static const uint8_t shb[28] = { 0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a,
					 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					 28, 0, 0, 0 };
	static const uint8_t radio_idb[20] = { 1, 0, 0, 0, 20, 0, 0, 0, 127, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0 };
	static const uint8_t raw_idb[20] = { 1, 0, 0, 0, 20, 0, 0, 0, 101, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0 };
	/* Enhanced packet blocks: 8 bytes of radiotap, then an echo request with TTL 1 (raw IP). */
	static const uint8_t radio_epb[40] = { 6, 0, 0, 0, 40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
					       8, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 40, 0, 0, 0 };
	uint8_t echo_epb[60] = { 6, 0, 0, 0, 60, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0,
				 28, 0, 0, 0 };
	hex_to_bytes("4500001c12340000010100000a0000010a0000020800f7ff00000000", echo_epb + 28, 28);
	echo_epb[56] = 60;
	uint8_t file[200];
	size_t n = 0;
#define APPEND(b) (memcpy(file + n, b, sizeof b), n += sizeof b)
	APPEND(shb);
	APPEND(radio_idb);
	APPEND(radio_epb);
	APPEND(raw_idb);
	size_t radio_only = n;
	APPEND(echo_epb);
#undef APPEND
	char *p = write_temp_file(file, n, "radio-then-raw.pcapng");
	char *dir = make_temp_dir();
	char out[600], args[2048];
	snprintf(out, sizeof out, "%s/case", dir);
	snprintf(args, sizeof args, "analyze '%s' -o '%s' -q", p, out);
	assert_int_equal(run_ttlsleuth(args, NULL, NULL), 0);
	struct run r;
	snprintf(r.out, sizeof r.out, "%s", out);
	assert_int_equal(sql_int(&r, "SELECT packets FROM captures"), 2);
	assert_int_equal(sql_int(&r, "SELECT frame FROM requests"), 2);
	remove_temp_dir(dir);
	free_temp_file(p);

	p = write_temp_file(file, radio_only, "radio-only.pcapng");
	expect_refusal(p, 3, "at byte 28: unsupported link type 127 (IEEE802_11_RADIO) in the interface "
			     "description; no packet of the file is on an interface of a link type "
			     "ttlsleuth reads");
	free_temp_file(p);
}

static void usage_errors(void **state)
{
	(void)state;
	assert_int_equal(run_ttlsleuth("", NULL, NULL), 2);
	assert_int_equal(run_ttlsleuth("analyze", NULL, NULL), 2);
	assert_int_equal(run_ttlsleuth("analyze x.pcap", NULL, NULL), 2);
	assert_int_equal(run_ttlsleuth("analyze x.pcap -o", NULL, NULL), 2);
	assert_int_equal(run_ttlsleuth("analyze x.pcap -o d --bogus", NULL, NULL), 2);
	assert_int_equal(run_ttlsleuth("frobnicate", NULL, NULL), 2);
	assert_int_equal(run_ttlsleuth("--help", NULL, NULL), 0);
	assert_int_equal(run_ttlsleuth("--version", NULL, NULL), 0);
	assert_int_equal(run_ttlsleuth("--version extra", NULL, NULL), 2);

	/* "--host -o d": the option is not taken for the host capture's name. */
	char *dir = make_temp_dir();
	char err_path[600];
	snprintf(err_path, sizeof err_path, "%s/stderr", dir);
	assert_int_equal(run_ttlsleuth("analyze x.pcap --host -o d", NULL, err_path), 2);
	char *err = slurp_file(err_path, NULL);
	assert_non_null(strstr(err, "--host needs a value, not the option -o"));
	free(err);
	remove_temp_dir(dir);
}

/*
 * A host clock 14 hours behind (local time on one side, UTC on the other):
 * still lined up, the reset value still known. A host capture of another
 * place and time: a warning, and a finding saying the verdicts rest on the
 * guest alone.
 */
static void host_clock_a_time_zone_away(void **state)
{
	(void)state;
	const char *pair = "samples/lab/nat-network-v6/traceroute-tcp/";
	char guest_rel[200], host_rel[200];
	snprintf(guest_rel, sizeof guest_rel, "%sguest.pcap", pair);
	snprintf(host_rel, sizeof host_rel, "%shost.pcap", pair);
	char *dir = make_temp_dir();
	char *host = rewrite_frames(host_rel, 1, 100000, -14 * 3600, dir, "host-utc-14.pcap");
	char *guest = source_path(guest_rel);
	char out[600], err_path[600], args[2048];
	snprintf(out, sizeof out, "%s/case", dir);
	snprintf(err_path, sizeof err_path, "%s/stderr", dir);
	snprintf(args, sizeof args, "analyze '%s' --host '%s' -o '%s' -q", guest, host, out);
	assert_int_equal(run_ttlsleuth(args, NULL, err_path), 0);
	struct run r;
	snprintf(r.out, sizeof r.out, "%s", out);
	assert_int_equal(sql_int(&r, "SELECT correlated_requests > 0 FROM case_info"), 1);
	assert_int_equal(sql_int(&r, "SELECT round(clock_offset_ns / 1e9) FROM case_info"), -14 * 3600);
	assert_int_equal(sql_int(&r, "SELECT count(*) FROM traces WHERE reset_ttl = 64"), 1);

	char *other = source_path("samples/routed/host.pcap");
	snprintf(args, sizeof args, "analyze '%s' --host '%s' -o '%s' -q", guest, other, out);
	assert_int_equal(run_ttlsleuth(args, NULL, err_path), 0);
	char *err = slurp_file(err_path, NULL);
	assert_non_null(strstr(err, "no copy of the guest's probes in it"));
	assert_int_equal(sql_int(&r, "SELECT count(*) FROM findings WHERE kind = 'host.no_copies_of_the_probes'"), 1);
	free(err);
	free(other);
	free(guest);
	free(host);
	remove_temp_dir(dir);
}

/*
 * Classic NAT mode with the host captured by tcpdump -i any: the TTL-1 probe
 * is only seen arriving (it expires at the host), the others leave with 64.
 * Arrivals say nothing of egress: the reset value is still certain.
 */
static void host_any_capture_keeps_the_reset_value(void **state)
{
	(void)state;
	struct run r;
	run_analyze(&r, "samples/lab/nat-classic-v4/traceroute-tcp/guest.pcap",
		    "samples/lab/nat-classic-v4/traceroute-tcp/host-any.pcap");
	assert_int_equal(r.rc, 0);
	assert_int_equal(sql_int(&r, "SELECT count(*) FROM traces WHERE verdict = 'ttl-reset'"
				     " AND reset_ttl = 64 AND confidence = 'certain'"),
			 1);
	remove_temp_dir(r.dir);
}

/*
 * A host capture taken on the VM's tap or bridge interface sees the guest's
 * packets as they left the guest: every copy with the guest's own TTL, the
 * answers already routed to the guest. Kernel NAT keeping the TTL (healthy),
 * its guest capture one second later standing in for such a host capture:
 * still healthy, and a finding says the host capture shows nothing of egress.
 */
static void host_capture_on_the_guest_side(void **state)
{
	(void)state;
	const char *tools[] = { "traceroute-udp", "traceroute-tcp", "traceroute-icmp" };
	for (size_t i = 0; i < 3; i++) {
		char guest_rel[200];
		snprintf(guest_rel, sizeof guest_rel, "samples/lab/kernel-nat-v4/%s/guest.pcap", tools[i]);
		char *dir = make_temp_dir();
		char *host = rewrite_frames(guest_rel, 1, 100000, 1, dir, "tap-side.pcap");
		char *guest = source_path(guest_rel);
		char args[2048];
		struct run r;
		snprintf(r.out, sizeof r.out, "%s/case", dir);
		snprintf(args, sizeof args, "analyze '%s' --host '%s' -o '%s' -q", guest, host, r.out);
		assert_int_equal(run_ttlsleuth(args, NULL, NULL), 0);
		assert_int_equal(sql_int(&r, "SELECT count(*) FROM traces t JOIN captures c ON c.id = t.capture_id"
					     " WHERE c.side = 'guest' AND t.verdict = 'no-ttl-reset'"),
				 1);
		assert_int_equal(sql_int(&r, "SELECT count(*) FROM findings WHERE kind = 'host.capture_on_guest_side'"), 1);
		assert_int_equal(sql_int(&r, "SELECT count(*) FROM findings WHERE kind = 'path.destination_answers_too_early'"), 0);
		free(guest);
		free(host);
		remove_temp_dir(dir);
	}
}

/*
 * Classic NAT mode recorded with a third capture on the host's guest-facing
 * veth (samples/extra): the answers there already carry the NAT's TTL 64, so
 * that capture tells neither the reset value nor the distance (it said 1).
 */
static void host_capture_on_the_guest_side_of_a_nat(void **state)
{
	(void)state;
	struct run r;
	run_analyze(&r, "samples/extra/nat-classic-v4/traceroute-tcp/guest.pcap",
		    "samples/extra/nat-classic-v4/traceroute-tcp/host-guestside.pcap");
	assert_int_equal(r.rc, 0);
	assert_int_equal(sql_int(&r, "SELECT count(*) FROM traces t JOIN captures c ON c.id = t.capture_id"
				     " WHERE c.side = 'guest' AND t.verdict = 'ttl-reset'"
				     " AND t.reset_ttl IS NULL AND t.true_distance IS NULL"),
			 1);
	assert_int_equal(sql_int(&r, "SELECT count(*) FROM findings WHERE kind = 'host.capture_on_guest_side'"), 1);
	remove_temp_dir(r.dir);
}

/* A destination on the guest's /16, recorded with its ARP exchange (samples/extra): one hop for real. */
static void destination_on_the_guests_link(void **state)
{
	(void)state;
	struct run r;
	run_analyze(&r, "samples/extra/onlink-wide-v4/traceroute-tcp/guest.pcap", NULL);
	assert_int_equal(r.rc, 0);
	assert_int_equal(sql_int(&r, "SELECT verdict = 'no-ttl-reset' FROM case_info"), 1);
	assert_int_equal(sql_int(&r, "SELECT count(*) FROM case_info WHERE summary LIKE"
				     " '%the destination is on the guest''s own link, one hop away.'"),
			 1);
	assert_int_equal(sql_int(&r, "SELECT count(*) FROM findings WHERE kind = 'path.destination_on_link'"), 1);
	remove_temp_dir(r.dir);
}

/* Guest and host given the wrong way round: the host copies carry one TTL more. */
static void swapped_captures_are_named(void **state)
{
	(void)state;
	struct run r;
	run_analyze(&r, "samples/slirp/host.pcap", "samples/slirp/guest.pcap");
	assert_int_equal(r.rc, 0);
	char *err = slurp_file(r.stderr_path, NULL);
	assert_non_null(strstr(err, "the guest and host captures look swapped"));
	assert_int_equal(sql_int(&r, "SELECT verdict = 'inconclusive' FROM case_info"), 1);
	assert_int_equal(sql_int(&r, "SELECT count(*) FROM findings WHERE kind = 'capture.sides_swapped'"), 1);
	/* No trace is judged either (the trace said ttl-reset under an inconclusive case). */
	assert_int_equal(sql_int(&r, "SELECT count(*) FROM traces t JOIN captures c ON c.id = t.capture_id"
				     " WHERE c.side = 'guest' AND t.verdict <> 'inconclusive'"),
			 0);
	assert_int_equal(sql_int(&r, "SELECT count(*) FROM findings WHERE kind LIKE 'egress.%'"
				     " OR kind LIKE 'ingress.%'"),
			 0);
	/* The command to run again names the files by the paths given, not their base names,
	 * and is whole: pasted as it stands (without the quotes around it) it runs. */
	char *guest = source_path("samples/slirp/guest.pcap");
	char *host = source_path("samples/slirp/host.pcap");
	char want[1200];
	snprintf(want, sizeof want, "`ttlsleuth analyze %s --host %s -o OUTDIR`", guest, host);
	assert_int_equal(sql_int_like(&r, "SELECT count(*) FROM case_info WHERE instr(remedy, ?1) > 0", want), 1);
	free(host);
	free(guest);
	free(err);
	/* Behind a NAT that re-originates the probes (pasta: the host sees only its own TTL-64
	 * connections) no copy carries one TTL more; the trace is in the "host" capture. */
	struct run pasta;
	run_analyze(&pasta, "samples/lab/pasta-v4/traceroute-tcp/host.pcap",
		    "samples/lab/pasta-v4/traceroute-tcp/guest.pcap");
	assert_int_equal(pasta.rc, 0);
	char *pasta_err = slurp_file(pasta.stderr_path, NULL);
	assert_non_null(strstr(pasta_err, "guest.pcap holds the path trace and"));
	assert_non_null(strstr(pasta_err, "the guest and host captures may be swapped"));
	free(pasta_err);
	assert_int_equal(sql_int(&pasta, "SELECT count(*) FROM findings WHERE kind = 'capture.trace_in_host_capture'"
					 " AND text LIKE '%holds no path trace, while the host capture guest.pcap holds one%'"),
			 1);
	assert_int_equal(sql_int(&pasta, "SELECT count(*) FROM case_info WHERE summary LIKE"
					 " 'Inconclusive: the path trace is in the host capture guest.pcap%may be swapped.'"),
			 1);
	assert_int_equal(sql_int(&pasta, "SELECT count(*) FROM case_info WHERE remedy LIKE"
					 " 'If they were given the wrong way round, run again%'"),
			 1);
	remove_temp_dir(pasta.dir);
	/* ...and the right way round, no such finding. */
	struct run ok;
	run_analyze(&ok, "samples/slirp/guest.pcap", "samples/slirp/host.pcap");
	assert_int_equal(sql_int(&ok, "SELECT count(*) FROM findings WHERE kind = 'capture.sides_swapped'"), 0);
	remove_temp_dir(ok.dir);
	remove_temp_dir(r.dir);
}

/* A copy of the guest capture given as the host one: refused, nothing written. */
static void host_copy_of_the_guest_is_refused(void **state)
{
	(void)state;
	char *src = source_path("samples/slirp/guest.pcap");
	size_t n;
	char *bytes = slurp_file(src, &n);
	char *copy = write_temp_file(bytes, n, "copy.pcap");
	char *dir = make_temp_dir();
	char out[600], err_path[600], args[2048];
	snprintf(out, sizeof out, "%s/case", dir);
	snprintf(err_path, sizeof err_path, "%s/stderr", dir);
	snprintf(args, sizeof args, "analyze '%s' --host '%s' -o '%s'", src, copy, out);
	assert_int_equal(run_ttlsleuth(args, NULL, err_path), 2);
	char *err = slurp_file(err_path, NULL);
	assert_non_null(strstr(err, "copy.pcap: the same bytes as the guest capture"));
	char report[700];
	snprintf(report, sizeof report, "%s/report.xml", out);
	assert_int_not_equal(access(report, F_OK), 0);
	free(err);
	remove_temp_dir(dir);
	free_temp_file(copy);
	free(bytes);
	free(src);
}

/* A run on a capture the test wrote into its own temporary directory (r->dir). */
static void run_analyze_built(struct run *r, const char *capture)
{
	snprintf(r->out, sizeof r->out, "%s/case", r->dir);
	snprintf(r->stdout_path, sizeof r->stdout_path, "%s/stdout", r->dir);
	snprintf(r->stderr_path, sizeof r->stderr_path, "%s/stderr", r->dir);
	char args[2048];
	snprintf(args, sizeof args, "analyze '%s' -o '%s'", capture, r->out);
	r->rc = run_ttlsleuth(args, r->stdout_path, r->stderr_path);
}

/*
 * A TCP trace written in timestamp order by a capture that stamped each
 * answer 20 us before its probe: the answers come first in the file. The
 * router's time exceeded and the destination's SYN-ACK both pair, with an
 * RTT of 0 rather than a negative one.
 */
static void answers_stamped_before_their_probes(void **state)
{
	(void)state;
	struct run r;
	r.dir = make_temp_dir();
	char path[700];
	snprintf(path, sizeof path, "%s/reordered.pcap", r.dir);
	struct pcap_file pf;
	pcap_file_open(&pf, path);
	uint8_t b[128];
	for (uint8_t ttl = 1; ttl <= 2; ttl++) {
		struct probe_spec p = { "192.0.2.10", "203.0.113.10", ttl, (uint16_t)(0x1000 + ttl),
					(uint16_t)(40000 + ttl), 80, 0x10000000u + ttl, 6 };
		int64_t sent = 1764806400000000000 + ttl * 1000000;
		size_t n = ttl == 1 ? build_icmp_error(&p, "192.0.2.1", 64, 11, 0, 1, b, sizeof b)
				    : build_answer(&p, 63, b, sizeof b);
		pcap_file_add(&pf, sent - 20000, b, n);
		pcap_file_add(&pf, sent, b, build_probe(&p, b, sizeof b));
	}
	pcap_file_close(&pf);
	run_analyze_built(&r, path);
	assert_int_equal(r.rc, 0);
	xmlDocPtr doc = load_report(&r);
	assert_hops(doc, 1, "192.0.2.1,203.0.113.10");
	assert_xpath(doc, "/report/traces/trace[1]/hop[2]/@rtt-ms", "0.000");
	xmlFreeDoc(doc);
	assert_int_equal(sql_int(&r, "SELECT count(*) FROM pairs WHERE rtt_ns = 0"), 2);
	remove_temp_dir(r.dir);
}

/*
 * traceroute -f 3 on a 4-hop path: TTLs 1 and 2 were never probed. The XML
 * report has no hop for them (a hop with an empty address is a silent one),
 * and the HTML says which TTLs were probed.
 */
static void first_ttl_above_one_shows_no_silent_hops(void **state)
{
	(void)state;
	struct run r;
	r.dir = make_temp_dir();
	char path[700];
	snprintf(path, sizeof path, "%s/first-ttl-3.pcap", r.dir);
	struct pcap_file pf;
	pcap_file_open(&pf, path);
	uint8_t b[128];
	for (uint8_t ttl = 3; ttl <= 5; ttl++) {
		struct probe_spec p = { "192.0.2.10", "203.0.113.10", ttl, (uint16_t)(0x1000 + ttl),
					45000, (uint16_t)(33434 + ttl), 0, 17 };
		int64_t sent = 1764806400000000000 + ttl * 1000000;
		pcap_file_add(&pf, sent, b, build_probe(&p, b, sizeof b));
		size_t n = ttl < 5 ? build_icmp_error(&p, ttl == 3 ? "198.51.100.3" : "198.51.100.4",
						      (uint8_t)(256 - ttl), 11, 0, 1, b, sizeof b)
				   : build_icmp_error(&p, "203.0.113.10", 60, 3, 3, 1, b, sizeof b);
		pcap_file_add(&pf, sent + 300000, b, n);
	}
	pcap_file_close(&pf);
	run_analyze_built(&r, path);
	assert_int_equal(r.rc, 0);
	xmlDocPtr doc = load_report(&r);
	assert_int_equal((int)xpath_number(doc, "count(/report/traces/trace[1]/hop)"), 3);
	assert_xpath(doc, "/report/traces/trace[1]/hop[1]/@ttl", "3");
	assert_xpath(doc, "/report/traces/trace[1]/hop[1]/@address", "198.51.100.3");
	assert_xpath(doc, "/report/traces/trace[1]/hop[3]/@ttl", "5");
	assert_xpath(doc, "/report/traces/trace[1]/hop[3]/@destination", "true");
	assert_xpath(doc, "/report/traces/trace[1]/@verdict", "no-ttl-reset");
	xmlFreeDoc(doc);
	char html[700];
	snprintf(html, sizeof html, "%s/report.html", r.out);
	char *page = slurp_file(html, NULL);
	assert_non_null(page);
	assert_non_null(strstr(page, "<dt>TTLs probed</dt><dd>3\xe2\x80\x93" "5</dd>"));
	assert_null(strstr(page, "TTL 1: no answer"));
	free(page);
	remove_temp_dir(r.dir);
}

/*
 * A capture that holds only the answers of a TCP traceroute (a filter kept
 * what reached the guest): time exceededs from two routers, then SYN-ACKs
 * from the destination. The SYN-ACKs answer no probe of the capture, yet
 * they are kept and end the rebuilt trace; the HTML counts answers without
 * an "of 0 probes".
 */
static void reply_only_capture_keeps_the_destinations_answers(void **state)
{
	(void)state;
	struct run r;
	r.dir = make_temp_dir();
	char path[700];
	snprintf(path, sizeof path, "%s/answers-only.pcap", r.dir);
	struct pcap_file pf;
	pcap_file_open(&pf, path);
	uint8_t b[128];
	const char *routers[] = { "192.0.2.1", "198.51.100.1" };
	for (int i = 0; i < 9; i++) {
		uint8_t ttl = (uint8_t)(1 + i / 3);
		struct probe_spec p = { "192.0.2.10", "203.0.113.10", ttl, (uint16_t)(0x1000 + i),
					(uint16_t)(40000 + i), 80, 0x10000000u + (uint32_t)i, 6 };
		size_t n = ttl < 3 ? build_icmp_error(&p, routers[ttl - 1], (uint8_t)(256 - ttl), 11, 0, 1,
						      b, sizeof b)
				   : build_answer(&p, 62, b, sizeof b);
		pcap_file_add(&pf, 1764806400000000000 + i * 1000000, b, n);
	}
	pcap_file_close(&pf);
	run_analyze_built(&r, path);
	assert_int_equal(r.rc, 0);
	xmlDocPtr doc = load_report(&r);
	assert_xpath(doc, "/report/traces/trace[1]/@rebuilt-from-replies", "true");
	assert_hops(doc, 1, "192.0.2.1,198.51.100.1,203.0.113.10");
	assert_xpath(doc, "/report/traces/trace[1]/hop[3]/@kind", "syn-ack");
	assert_xpath(doc, "/report/traces/trace[1]/hop[3]/@answers", "3");
	/* Its time span is that of its answers (the XML left it out for want of probes). */
	assert_xpath(doc, "/report/traces/trace[1]/@first", "2025-12-04T00:00:00.000000000Z");
	assert_xpath(doc, "/report/traces/trace[1]/@last", "2025-12-04T00:00:00.008000000Z");
	assert_int_equal(xpath_number(doc, "count(/report/findings/finding[@kind='path.destination_not_reached'])"), 0);
	xmlFreeDoc(doc);
	assert_int_equal(sql_int(&r, "SELECT count(*) FROM replies WHERE kind = 'syn-ack'"), 3);
	char html[700];
	snprintf(html, sizeof html, "%s/report.html", r.out);
	char *page = slurp_file(html, NULL);
	assert_non_null(page);
	assert_non_null(strstr(page, "203.0.113.10 \xe2\x80\x94 destination</td><td class=\"num\">3</td>"));
	assert_null(strstr(page, "<td class=\"num\">3/0</td>"));
	free(page);
	remove_temp_dir(r.dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(slirp_with_host_capture),
		cmocka_unit_test(slirp_guest_only),
		cmocka_unit_test(routed_control),
		cmocka_unit_test(merged_capture_counts_each_probe_once),
		cmocka_unit_test(reports_are_reproducible),
		cmocka_unit_test(bad_input_is_refused),
		cmocka_unit_test(capture_cut_mid_record),
		cmocka_unit_test(reset_without_any_answer_is_worded_so),
		cmocka_unit_test(unwritable_output),
		cmocka_unit_test(ipv6_trace_says_hop_limit),
		cmocka_unit_test(advice_without_a_trace_knows_the_host_capture),
		cmocka_unit_test(ipv6_sentences_begin_with_a_capital),
		cmocka_unit_test(capture_cut_inside_the_first_record),
		cmocka_unit_test(failed_store_keeps_the_earlier_case_and_no_report),
		cmocka_unit_test(failed_rename_keeps_the_earlier_case),
		cmocka_unit_test(usage_errors),
		cmocka_unit_test(pcapng_refused_only_when_no_packet_is_readable),
		cmocka_unit_test(hostile_file_names_reach_the_terminal_escaped),
		cmocka_unit_test(host_copy_of_the_guest_is_refused),
		cmocka_unit_test(host_clock_a_time_zone_away),
		cmocka_unit_test(host_any_capture_keeps_the_reset_value),
		cmocka_unit_test(host_capture_on_the_guest_side),
		cmocka_unit_test(host_capture_on_the_guest_side_of_a_nat),
		cmocka_unit_test(destination_on_the_guests_link),
		cmocka_unit_test(swapped_captures_are_named),
		cmocka_unit_test(answers_stamped_before_their_probes),
		cmocka_unit_test(first_ttl_above_one_shows_no_silent_hops),
		cmocka_unit_test(reply_only_capture_keeps_the_destinations_answers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
