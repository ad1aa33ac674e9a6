/*
 * Accuracy on the lab's ground truth: every guest capture in
 * samples/manifest.tsv is analysed twice, with its host capture and alone,
 * and each trace's verdict, direction, reset TTL and hop list is compared with
 * what the lab was built to produce (samples/README.md says how). A host
 * capture taken on the host's guest-facing link (host_capture_point
 * "guest-side") is analysed too, with its guest capture, against its own row
 * (it cannot show the reset TTL: the row expects none). Prints the confusion
 * tables (expected x found) and every mismatch; any mismatch fails.
 * tests/accuracy-table runs this for a person.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "support.h"
#include "support_xml.h"

enum { MAX_ROWS = 1024, MAX_COLUMNS = 40, MAX_RUNS = 512 };

struct table {
	char *text;
	char *header[MAX_COLUMNS];
	size_t columns;
	char *cells[MAX_ROWS][MAX_COLUMNS];
	size_t rows;
};

static void split_line(char *line, char **fields, size_t max, size_t *count)
{
	*count = 0;
	while (*count < max) {
		fields[(*count)++] = line;
		char *tab = strchr(line, '\t');
		if (!tab)
			break;
		*tab = '\0';
		line = tab + 1;
	}
}

static void load_table(struct table *t, const char *path)
{
	memset(t, 0, sizeof *t);
	t->text = slurp_file(path, NULL);
	assert_non_null(t->text);
	char *line = t->text;
	bool header = true;
	while (line && *line) {
		char *next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		size_t n;
		if (header) {
			split_line(line, t->header, MAX_COLUMNS, &t->columns);
			header = false;
		} else {
			assert_true(t->rows < MAX_ROWS);
			split_line(line, t->cells[t->rows], MAX_COLUMNS, &n);
			for (size_t i = n; i < MAX_COLUMNS; i++)
				t->cells[t->rows][i] = (char *)"";
			t->rows++;
		}
		line = next;
	}
}

static const char *cell(const struct table *t, size_t row, const char *column)
{
	for (size_t i = 0; i < t->columns; i++)
		if (!strcmp(t->header[i], column))
			return t->cells[row][i];
	fail_msg("manifest has no column %s", column);
	return "";
}

/* One analysis run, cached: the same capture pair is analysed once. */
struct run {
	char key[600];
	char *dir;
	xmlDocPtr doc;
};

static struct run runs[MAX_RUNS];
static size_t n_runs;

static xmlDocPtr analyse(const char *guest, const char *host)
{
	char key[600];
	snprintf(key, sizeof key, "%s|%s", guest, host ? host : "");
	for (size_t i = 0; i < n_runs; i++)
		if (!strcmp(runs[i].key, key))
			return runs[i].doc;
	assert_true(n_runs < MAX_RUNS);
	struct run *r = &runs[n_runs++];
	snprintf(r->key, sizeof r->key, "%s", key);
	r->dir = make_temp_dir();
	char args[2400], rel[700], *g, *h = NULL;
	snprintf(rel, sizeof rel, "samples/%s", guest);
	g = source_path(rel);
	if (host) {
		snprintf(rel, sizeof rel, "samples/%s", host);
		h = source_path(rel);
	}
	snprintf(args, sizeof args, "analyze '%s' %s%s%s -o '%s/out' -q", g, h ? "--host '" : "",
		 h ? h : "", h ? "'" : "", r->dir);
	int rc = run_ttlsleuth(args, NULL, NULL);
	if (rc != 0)
		fail_msg("ttlsleuth %s: exit %d", args, rc);
	char path[700];
	snprintf(path, sizeof path, "%s/out/report.xml", r->dir);
	r->doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
	assert_non_null(r->doc);
	free(g);
	free(h);
	return r->doc;
}

static int free_runs(void **state)
{
	(void)state;
	for (size_t i = 0; i < n_runs; i++) {
		xmlFreeDoc(runs[i].doc);
		remove_temp_dir(runs[i].dir);
	}
	n_runs = 0;
	return 0;
}

/* The trace of that protocol from that source to that target, as "verdict\tdirection\treset\thops". */
static void found_trace(xmlDocPtr doc, const char *protocol, const char *source, const char *target,
			char *out, size_t size)
{
	char base[400], expr[600];
	snprintf(base, sizeof base,
		 "/report/traces/trace[@protocol='%s' and @source='%s' and @destination='%s'][1]",
		 protocol, source, target);
	snprintf(expr, sizeof expr, "string(%s/@verdict)", base);
	char *verdict = xpath_string(doc, expr);
	snprintf(expr, sizeof expr, "string(%s/@direction)", base);
	char *direction = xpath_string(doc, expr);
	snprintf(expr, sizeof expr, "string(%s/@reset-ttl)", base);
	char *reset = xpath_string(doc, expr);
	snprintf(expr, sizeof expr, "string(%s/@ingress-ttl)", base);
	char *ingress = xpath_string(doc, expr);
	snprintf(expr, sizeof expr, "string(%s/@true-distance)", base);
	char *distance = xpath_string(doc, expr);
	snprintf(expr, sizeof expr, "string(count(%s/hop[@destination='true']))", base);
	char *destination_hops = xpath_string(doc, expr);
	/* Where the destination never answered no distance can be known: "-", not a miss. */
	const char *distance_found = distance[0] ? distance : strcmp(destination_hops, "0") ? "" : "-";
	char hops[1024] = "";
	for (int i = 1;; i++) {
		snprintf(expr, sizeof expr, "string(count(%s/hop[%d]))", base, i);
		char *present = xpath_string(doc, expr);
		bool there = strcmp(present, "1") == 0;
		free(present);
		if (!there)
			break;
		snprintf(expr, sizeof expr, "string(%s/hop[%d]/@address)", base, i);
		char *addr = xpath_string(doc, expr);
		size_t used = strlen(hops);
		snprintf(hops + used, sizeof hops - used, "%s%s", i > 1 ? "," : "", addr[0] ? addr : "*");
		free(addr);
	}
	snprintf(out, size, "%s\t%s\t%s\t%s\t%s\t%s", verdict[0] ? verdict : "(no trace)", direction, reset,
		 hops, distance_found, ingress);
	free(ingress);
	free(destination_hops);
	free(verdict);
	free(direction);
	free(reset);
	free(distance);
}

static int verdict_index(const char *v)
{
	if (!strcmp(v, "ttl-reset"))
		return 0;
	if (!strcmp(v, "no-ttl-reset"))
		return 1;
	if (!strcmp(v, "inconclusive"))
		return 2;
	return 3;
}

static const char *const verdict_labels[] = { "ttl-reset", "no-ttl-reset", "inconclusive", "(none)" };

struct tally {
	int confusion[4][4];
	int checks, mismatches;
};

static void print_confusion(const char *title, const struct tally *t)
{
	print_message("\n%s: %d traces, %d mismatches\n", title, t->checks, t->mismatches);
	print_message("%-22s %12s %12s %12s %12s\n", "expected \\ found", verdict_labels[0],
		      verdict_labels[1], verdict_labels[2], verdict_labels[3]);
	for (int e = 0; e < 3; e++)
		print_message("%-22s %12d %12d %12d %12d\n", verdict_labels[e], t->confusion[e][0],
			      t->confusion[e][1], t->confusion[e][2], t->confusion[e][3]);
}

/*
 * A guest row: its capture with its pair (with_host) or alone. A host row
 * (a guest-side host capture): its pair, the guest capture, with it.
 */
static void check_row(const struct table *m, size_t row, bool with_host, struct tally *t)
{
	bool host_row = strcmp(cell(m, row, "side"), "host") == 0;
	const char *guest = cell(m, row, host_row ? "pair_capture" : "capture");
	const char *host = cell(m, row, host_row ? "capture" : "pair_capture");
	if (with_host && !host[0])
		return;
	xmlDocPtr doc = analyse(guest, with_host ? host : NULL);
	char found[1400];
	found_trace(doc, cell(m, row, "protocol"), cell(m, row, "probe_source_in_capture"),
		    cell(m, row, "target_address"), found, sizeof found);
	char *fields[6] = { (char *)"", (char *)"", (char *)"", (char *)"", (char *)"", (char *)"" };
	size_t n;
	split_line(found, fields, 6, &n);
	const char *want_verdict = with_host ? cell(m, row, "expected_verdict")
					     : cell(m, row, "expected_verdict_guest_only");
	/* traceroute prints link-local hops with their zone ("fe80::2%tap0"); the packet has none. */
	char want_hops[1024];
	const char *printed = cell(m, row, "expected_hops_as_printed");
	size_t w = 0;
	for (const char *p = printed; *p && w + 1 < sizeof want_hops; p++) {
		if (*p == '%')
			while (p[1] && p[1] != ',')
				p++;
		else
			want_hops[w++] = *p;
	}
	want_hops[w] = '\0';
	t->checks++;
	t->confusion[verdict_index(want_verdict)][verdict_index(fields[0])]++;

	char problems[4096] = "";
	if (strcmp(fields[0], want_verdict))
		snprintf(problems + strlen(problems), sizeof problems - strlen(problems),
			 " verdict %s (want %s);", fields[0], want_verdict);
	/* A kept TTL has a direction too: slirp's rebuilt answers ("ingress"). */
	if (with_host && strcmp(want_verdict, "inconclusive") &&
	    strcmp(fields[1], cell(m, row, "expected_direction")))
		snprintf(problems + strlen(problems), sizeof problems - strlen(problems),
			 " direction '%s' (want '%s');", fields[1], cell(m, row, "expected_direction"));
	if (with_host && !strcmp(want_verdict, "ttl-reset")) {
		if (strcmp(fields[2], cell(m, row, "expected_reset_ttl")))
			snprintf(problems + strlen(problems), sizeof problems - strlen(problems),
				 " reset-ttl '%s' (want '%s');", fields[2],
				 cell(m, row, "expected_reset_ttl"));
	}
	/* How many hops a reset hides rests on the distance: with the host's view of the
	 * destination's answer (on the uplink, not the guest's side) it is the distance as built. */
	if (with_host && !host_row && !strcmp(want_verdict, "ttl-reset") && strcmp(fields[4], "-") &&
	    strcmp(fields[4], cell(m, row, "true_distance")))
		snprintf(problems + strlen(problems), sizeof problems - strlen(problems),
			 " true-distance '%s' (want '%s');", fields[4], cell(m, row, "true_distance"));
	/* The TTL the lab gives everything sent to the guest: known from the guest capture alone. */
	const char *want_ingress = cell(m, row, "expected_ingress_ttl");
	if (want_ingress[0] && !strcmp(want_verdict, "ttl-reset") && strcmp(fields[5], want_ingress))
		snprintf(problems + strlen(problems), sizeof problems - strlen(problems),
			 " ingress-ttl '%s' (want '%s');", fields[5], want_ingress);
	if (want_hops[0] && strcmp(fields[3], want_hops))
		snprintf(problems + strlen(problems), sizeof problems - strlen(problems),
			 " hops %s (want %s);", fields[3], want_hops);
	if (problems[0]) {
		t->mismatches++;
		print_message("MISMATCH %s %s %s %s%s%s:%s\n",
			      host_row ? "with-host-guestside" : with_host ? "with-host " : "guest-only",
			      cell(m, row, "scenario"), cell(m, row, "ip_version"), guest,
			      host_row ? " --host " : "", host_row ? host : "", problems);
	}
}

static void lab_ground_truth(void **state)
{
	(void)state;
	char *path = source_path("samples/manifest.tsv");
	struct table *m = malloc(sizeof *m);
	assert_non_null(m);
	load_table(m, path);
	struct tally with_host = { 0 }, guest_only = { 0 }, guest_side = { 0 };
	for (size_t row = 0; row < m->rows; row++) {
		if (!strcmp(cell(m, row, "side"), "guest")) {
			check_row(m, row, true, &with_host);
			check_row(m, row, false, &guest_only);
		} else if (!strcmp(cell(m, row, "host_capture_point"), "guest-side")) {
			check_row(m, row, true, &guest_side);
		}
	}
	print_confusion("With the host capture", &with_host);
	print_confusion("Guest capture alone", &guest_only);
	print_confusion("With a host capture on the guest's side of the host", &guest_side);
	free(m->text);
	free(m);
	free(path);
	assert_true(with_host.checks > 0);
	assert_int_equal(with_host.mismatches, 0);
	assert_int_equal(guest_only.mismatches, 0);
	assert_true(guest_side.checks > 0);
	assert_int_equal(guest_side.mismatches, 0);
}

/* The NAT family named from the fingerprints each lab scenario really has. */
static void nat_family_in_the_lab(void **state)
{
	(void)state;
	static const struct {
		const char *guest, *host, *family_prefix, *confidence;
	} cases[] = {
		{ "lab/pasta-v4/traceroute-tcp/guest.pcap", "lab/pasta-v4/traceroute-tcp/host.pcap", "pasta",
		  "likely" },
		{ "lab/slirp-v6/traceroute-tcp/guest.pcap", NULL, "QEMU/slirp", "likely" },
		{ "lab/routed-v4/traceroute-tcp/guest.pcap", NULL, "", "" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		xmlDocPtr doc = analyse(cases[i].guest, cases[i].host);
		char *family = xpath_string(doc, "string(/report/diagnosis/@nat-family)");
		char *confidence = xpath_string(doc, "string(/report/diagnosis/@nat-confidence)");
		if (strncmp(family, cases[i].family_prefix, strlen(cases[i].family_prefix)) ||
		    (!cases[i].family_prefix[0] && family[0]))
			fail_msg("%s: nat-family '%s', want '%s...'", cases[i].guest, family,
				 cases[i].family_prefix);
		assert_string_equal(confidence, cases[i].confidence);
		free(family);
		free(confidence);
	}
}

/*
 * The classic pcap files one after the other, as one capture (one file
 * header: they share magic, link type and snap length): what a person gets
 * who runs several path traces while one tcpdump records.
 */
static char *join_captures(const char *dir, const char *name, const char *const *samples, size_t n)
{
	char *path = malloc(strlen(dir) + strlen(name) + 2);
	assert_non_null(path);
	sprintf(path, "%s/%s", dir, name);
	FILE *out = fopen(path, "wb");
	assert_non_null(out);
	char first_header[24];
	for (size_t i = 0; i < n; i++) {
		char rel[400];
		snprintf(rel, sizeof rel, "samples/%s", samples[i]);
		char *src = source_path(rel);
		size_t len;
		char *bytes = slurp_file(src, &len);
		assert_non_null(bytes);
		assert_true(len >= sizeof first_header);
		if (i == 0)
			memcpy(first_header, bytes, sizeof first_header);
		else
			assert_memory_equal(first_header, bytes, sizeof first_header);
		size_t skip = i ? sizeof first_header : 0;
		assert_int_equal(fwrite(bytes + skip, 1, len - skip, out), len - skip);
		free(bytes);
		free(src);
	}
	assert_int_equal(fclose(out), 0);
	return path;
}

/*
 * nat-classic, TCP, ICMP and UDP traced one after the other in one capture
 * pair: every trace shows the gateway, then the target at TTL 2, so none of
 * them tells the distance, but the host capture does (the target's answers
 * reach h-r1 with 61: 3 routers, plus the host, plus the target, TTL 5 as
 * built). Each trace is a witness for the others' distance; a witness cut
 * short by the same NAT must not overrule the host capture.
 */
static void nat_classic_three_protocols_in_one_capture(void **state)
{
	(void)state;
	static const char *const guest[] = { "lab/nat-classic-v4/traceroute-tcp/guest.pcap",
					     "lab/nat-classic-v4/traceroute-icmp/guest.pcap",
					     "lab/nat-classic-v4/traceroute-udp/guest.pcap" };
	static const char *const host[] = { "lab/nat-classic-v4/traceroute-tcp/host.pcap",
					    "lab/nat-classic-v4/traceroute-icmp/host.pcap",
					    "lab/nat-classic-v4/traceroute-udp/host.pcap" };
	char *dir = make_temp_dir();
	char *g = join_captures(dir, "guest.pcap", guest, 3);
	char *h = join_captures(dir, "host.pcap", host, 3);
	char args[1600];
	snprintf(args, sizeof args, "analyze '%s' --host '%s' -o '%s/out' -q", g, h, dir);
	assert_int_equal(run_ttlsleuth(args, NULL, NULL), 0);
	char report[600];
	snprintf(report, sizeof report, "%s/out/report.xml", dir);
	xmlDocPtr doc = xmlReadFile(report, NULL, XML_PARSE_NONET);
	assert_non_null(doc);
	char *count = xpath_string(doc, "string(count(/report/traces/trace))");
	assert_string_equal(count, "3");
	free(count);
	static const char *const protocols[] = { "tcp", "icmp", "udp" };
	for (size_t i = 0; i < 3; i++) {
		char expr[200];
		snprintf(expr, sizeof expr,
			 "string(/report/traces/trace[@protocol='%s']/@true-distance)", protocols[i]);
		char *distance = xpath_string(doc, expr);
		if (strcmp(distance, "5"))
			fail_msg("%s trace: true-distance '%s', want 5", protocols[i], distance);
		free(distance);
	}
	char *summary = xpath_string(doc, "string(/report/diagnosis/summary)");
	if (!strstr(summary, "after only 2 hops while 3 more hops lie on the real path"))
		fail_msg("summary does not show the 3 hidden hops: %s", summary);
	free(summary);
	xmlFreeDoc(doc);
	free(g);
	free(h);
	remove_temp_dir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lab_ground_truth),
		cmocka_unit_test(nat_family_in_the_lab),
		cmocka_unit_test(nat_classic_three_protocols_in_one_capture),
	};
	return cmocka_run_group_tests(tests, NULL, free_runs);
}
