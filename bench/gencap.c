/*
 * gencap: writes a capture of a requested size, mostly ordinary traffic with
 * path traces sprinkled through it (or, in dense mode, a large share of
 * probes and answers), and the ground truth of every trace.
 *
 *   gencap --size 2G --mode mixed|dense --format pcap|pcapng --tsres us|ns
 *          --seed N --truth TRUTH.tsv -o FILE
 *
 * The clock: ordinary packets arrive with random gaps (25 µs on average, a
 * busy 200 Mbit/s link); before each one, every scheduled packet that is due
 * (probes, answers, DNS answers, ping replies) is written first, in time
 * order. A trace session starts whenever the trace packets fall behind the
 * requested share. Once the size is reached no new session starts and what
 * is scheduled is written out, so every trace in the file is complete.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gencap.h"

#define START_NS ((int64_t)1710408413 * 1000000000) /* 2024-03-14T09:26:53Z: a fixed start */
#define MEAN_GAP_NS 25000

enum {
	EXIT_OK = 0,
	EXIT_FAILED = 1,
	EXIT_USAGE = 2,
	SESSION_ESTIMATE = 100, /* packets of an average session, to pace their starts */
	TRUTH_BUFFER = 1 << 20,
};

struct options {
	uint64_t size;
	bool dense;
	enum capture_format format;
	bool nanoseconds;
	uint64_t seed;
	const char *truth_path, *out_path;
	double probe_share; /* < 0: the mode's default */
	int sites, hosts, dests, nat_percent, v6_percent, flows;
};

static const char usage_text[] =
	"Usage: gencap --size SIZE -o FILE [--mode mixed|dense] [--format pcap|pcapng]\n"
	"              [--tsres us|ns] [--seed N] [--truth FILE.tsv] [--probe-share F]\n"
	"              [--sites N] [--hosts N] [--dests N] [--nat-percent P] [--v6-percent P]\n"
	"              [--flows N]\n"
	"\n"
	"Writes a deterministic Ethernet capture of about SIZE bytes (suffix K, M, G: powers\n"
	"of 1024): ordinary traffic (HTTP flows, DNS, pings) with path traces (TCP, UDP and\n"
	"ICMP traceroutes, some through a TTL-resetting NAT). The same options and seed give\n"
	"a byte-identical file.\n"
	"\n"
	"  --mode mixed     path traces are about 1% of the packets (default)\n"
	"  --mode dense     about 40% of the packets are probes and answers\n"
	"  --probe-share F  the share of trace packets, 0 to 0.9, instead of the mode's\n"
	"  --truth FILE     the ground truth, one line per trace (see bench/README.md)\n"
	"  --sites N        guest subnets (default 8 mixed, 64 dense; at most 250)\n"
	"  --hosts N        guests per subnet (default 16)\n"
	"  --dests N        trace destinations shared by all sites (default 400 mixed, 4000 dense)\n"
	"  --nat-percent P  sites behind a TTL-resetting NAT (default 30)\n"
	"  --v6-percent P   IPv6 share of sessions and ordinary traffic (default 10)\n"
	"  --flows N        concurrent TCP flows (default 1000)\n"
	"\n"
	"Totals go to stderr.\n";

static int usage_error(const char *what, const char *value)
{
	fprintf(stderr, "gencap: %s%s%s\n%s", what, value ? ": " : "", value ? value : "", usage_text);
	return EXIT_USAGE;
}

/* "200M", "2G", "1048576": binary suffixes, an optional trailing B or iB. */
static bool parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return false;
	unsigned shift = 0;
	switch (*end) {
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	case 't':
	case 'T':
		shift = 40;
		break;
	default:
		break;
	}
	if (shift)
		end++;
	if (!strcmp(end, "iB") || !strcmp(end, "B"))
		end += strlen(end);
	if (*end || v == 0 || (shift && v > (UINT64_MAX >> shift)))
		return false;
	*out = (uint64_t)v << shift;
	return true;
}

static bool parse_int(const char *s, int lo, int hi, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return false;
	*out = (int)v;
	return true;
}

static int parse_option(int c, const char *arg, struct options *o)
{
	char *end;
	switch (c) {
	case 's':
		return parse_size(arg, &o->size) ? 0 : usage_error("bad --size", arg);
	case 'm':
		if (strcmp(arg, "mixed") && strcmp(arg, "dense"))
			return usage_error("--mode is mixed or dense", arg);
		o->dense = !strcmp(arg, "dense");
		return 0;
	case 'f':
		if (strcmp(arg, "pcap") && strcmp(arg, "pcapng"))
			return usage_error("--format is pcap or pcapng", arg);
		o->format = strcmp(arg, "pcap") ? FORMAT_PCAPNG : FORMAT_PCAP;
		return 0;
	case 't':
		if (strcmp(arg, "us") && strcmp(arg, "ns"))
			return usage_error("--tsres is us or ns", arg);
		o->nanoseconds = !strcmp(arg, "ns");
		return 0;
	case 'S':
		errno = 0;
		o->seed = strtoull(arg, &end, 0);
		return errno || end == arg || *end ? usage_error("bad --seed", arg) : 0;
	case 'T':
		o->truth_path = arg;
		return 0;
	case 'o':
		o->out_path = arg;
		return 0;
	case 'p':
		o->probe_share = strtod(arg, &end);
		if (end == arg || *end || !(o->probe_share >= 0 && o->probe_share <= 0.9))
			return usage_error("--probe-share is between 0 and 0.9", arg);
		return 0;
	case 'a':
		return parse_int(arg, 1, PLAN_MAX_SITES, &o->sites) ? 0 : usage_error("bad --sites", arg);
	case 'h':
		return parse_int(arg, 1, PLAN_MAX_HOSTS, &o->hosts) ? 0 : usage_error("bad --hosts", arg);
	case 'd':
		return parse_int(arg, 1, PLAN_MAX_DESTS, &o->dests) ? 0 : usage_error("bad --dests", arg);
	case 'n':
		return parse_int(arg, 0, 100, &o->nat_percent) ? 0 : usage_error("bad --nat-percent", arg);
	case 'v':
		return parse_int(arg, 0, 100, &o->v6_percent) ? 0 : usage_error("bad --v6-percent", arg);
	case 'F':
		return parse_int(arg, 1, 1000000, &o->flows) ? 0 : usage_error("bad --flows", arg);
	default:
		return usage_error("unknown option", NULL);
	}
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longs[] = {
		{ "size", required_argument, NULL, 's' },       { "mode", required_argument, NULL, 'm' },
		{ "format", required_argument, NULL, 'f' },     { "tsres", required_argument, NULL, 't' },
		{ "seed", required_argument, NULL, 'S' },       { "truth", required_argument, NULL, 'T' },
		{ "output", required_argument, NULL, 'o' },     { "probe-share", required_argument, NULL, 'p' },
		{ "sites", required_argument, NULL, 'a' },      { "hosts", required_argument, NULL, 'h' },
		{ "dests", required_argument, NULL, 'd' },      { "nat-percent", required_argument, NULL, 'n' },
		{ "v6-percent", required_argument, NULL, 'v' }, { "flows", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'H' },             { NULL, 0, NULL, 0 },
	};
	*o = (struct options){ .seed = 1, .probe_share = -1, .hosts = 16, .nat_percent = 30,
			       .v6_percent = 10, .flows = 1000 };
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "o:", longs, NULL)) != -1) {
		if (c == 'H') {
			fputs(usage_text, stdout);
			exit(EXIT_OK);
		}
		if (c == '?' || c == ':')
			return usage_error("unknown option or missing value", argv[optind - 1]);
		int rc = parse_option(c, optarg, o);
		if (rc)
			return rc;
	}
	if (optind < argc)
		return usage_error("unexpected argument", argv[optind]);
	if (!o->size || !o->out_path)
		return usage_error("--size and -o are required", NULL);
	if (o->probe_share < 0)
		o->probe_share = o->dense ? 0.4 : 0.01;
	if (!o->sites)
		o->sites = o->dense ? 64 : 8;
	if (!o->dests)
		o->dests = o->dense ? 4000 : 400;
	return 0;
}

/* ---- The event heap: a binary min-heap on (time, order) ---- */

static bool event_before(const struct event *a, const struct event *b)
{
	return a->time_ns != b->time_ns ? a->time_ns < b->time_ns : a->order < b->order;
}

int sim_schedule(struct sim *s, int64_t time_ns, enum event_kind kind, uint64_t param)
{
	if (s->heap_len == s->heap_cap) {
		size_t cap = s->heap_cap ? 2 * s->heap_cap : 4096;
		struct event *heap = realloc(s->heap, cap * sizeof *heap);
		if (!heap)
			return -1;
		s->heap = heap;
		s->heap_cap = cap;
	}
	struct event e = { .time_ns = time_ns, .order = s->next_order++, .param = param, .kind = kind };
	size_t i = s->heap_len++;
	while (i > 0 && event_before(&e, &s->heap[(i - 1) / 2])) {
		s->heap[i] = s->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	s->heap[i] = e;
	return 0;
}

static struct event heap_pop(struct sim *s)
{
	struct event top = s->heap[0];
	struct event last = s->heap[--s->heap_len];
	size_t i = 0;
	for (;;) {
		size_t child = 2 * i + 1;
		if (child >= s->heap_len)
			break;
		if (child + 1 < s->heap_len && event_before(&s->heap[child + 1], &s->heap[child]))
			child++;
		if (!event_before(&s->heap[child], &last))
			break;
		s->heap[i] = s->heap[child];
		i = child;
	}
	if (s->heap_len)
		s->heap[i] = last;
	return top;
}

/* Writes every scheduled packet due at or before `until`, in time order. */
static int emit_due(struct sim *s, struct traces *tc, int64_t until)
{
	while (s->heap_len && s->heap[0].time_ns <= until) {
		struct event e = heap_pop(s);
		if (e.kind == EVENT_DNS_RESPONSE || e.kind == EVENT_PING_REPLY)
			traffic_emit(s, &e);
		else if (traces_emit(tc, s, &e) != 0)
			return -1;
	}
	return 0;
}

/* ---- The run ---- */

static int generate(const struct options *o, struct sim *s, struct traffic *tr, struct traces *tc)
{
	struct rng clock = { hash3(o->seed, 0x636c6f636b, 0) };
	int64_t now = START_NS;
	double credit = 0, per_packet = o->probe_share / (1.0 - o->probe_share);
	uint64_t stop_sessions = o->size - o->size / 100;
	bool pairs_left = true;
	while (writer_bytes(s->out) < o->size) {
		now += rng_below(&clock, 2 * MEAN_GAP_NS + 1);
		if (emit_due(s, tc, now) != 0 || traffic_step(tr, s, now) != 0)
			return -1;
		credit += per_packet;
		if (credit < SESSION_ESTIMATE || !pairs_left || writer_bytes(s->out) >= stop_sessions)
			continue;
		long packets = traces_start_session(tc, s, now);
		if (packets < 0)
			return -1;
		pairs_left = packets > 0;
		if (!pairs_left)
			fprintf(stderr, "gencap: warning: no guest/destination pair left that was not traced "
					"already; no more traces (raise --hosts or --dests)\n");
		credit -= (double)packets;
	}
	return emit_due(s, tc, INT64_MAX);
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void print_totals(const struct options *o, const struct sim *s, double seconds)
{
	uint64_t packets = writer_packets(s->out);
	fprintf(stderr,
		"gencap: %s: packets=%llu bytes=%llu probes=%llu answers=%llu traces=%llu "
		"nat_traces=%llu v6_traces=%llu trace_packets=%llu trace_share=%.3f flows=%llu "
		"dns=%llu pings=%llu seconds=%.2f\n",
		o->out_path, (unsigned long long)packets, (unsigned long long)writer_bytes(s->out),
		(unsigned long long)s->n.probes, (unsigned long long)s->n.answers,
		(unsigned long long)s->n.traces, (unsigned long long)s->n.nat_traces,
		(unsigned long long)s->n.v6_traces, (unsigned long long)s->n.trace_packets,
		packets ? (double)s->n.trace_packets / (double)packets : 0.0,
		(unsigned long long)s->n.flows, (unsigned long long)s->n.dns,
		(unsigned long long)s->n.pings, seconds);
}

static FILE *open_truth(const char *path)
{
	FILE *f = fopen(path, "w");
	if (f)
		setvbuf(f, NULL, _IOFBF, TRUTH_BUFFER);
	else
		fprintf(stderr, "gencap: %s: %s\n", path, strerror(errno));
	return f;
}

int main(int argc, char **argv)
{
	struct options o;
	int rc = parse_args(argc, argv, &o);
	if (rc)
		return rc;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);

	struct plan plan = { .seed = o.seed, .sites = (unsigned)o.sites, .hosts_per_site = (unsigned)o.hosts,
			     .dests = (unsigned)o.dests, .nat_percent = (unsigned)o.nat_percent,
			     .v6_percent = (unsigned)o.v6_percent };
	wire_init_pattern(o.seed);
	char err[512];
	struct sim s = { .plan = &plan };
	s.out = writer_open(o.out_path, o.format, o.nanoseconds, err, sizeof err);
	if (!s.out) {
		fprintf(stderr, "gencap: %s\n", err);
		return EXIT_FAILED;
	}
	FILE *truth = o.truth_path ? open_truth(o.truth_path) : NULL;
	struct traffic *tr = traffic_new(&plan, hash3(o.seed, 0x74726166, 0), (unsigned)o.flows);
	struct traces *tc = traces_new(&plan, hash3(o.seed, 0x74726163, 0), truth);
	rc = EXIT_OK;
	if ((o.truth_path && !truth) || !tr || !tc) {
		rc = EXIT_FAILED;
	} else if (generate(&o, &s, tr, tc) != 0) {
		fprintf(stderr, "gencap: out of memory, or the truth file could not be written\n");
		rc = EXIT_FAILED;
	} else if (traces_active(tc) != 0) {
		fprintf(stderr, "gencap: internal error: %zu traces left unfinished\n", traces_active(tc));
		rc = EXIT_FAILED;
	}
	if (rc == EXIT_OK)
		print_totals(&o, &s, seconds_since(&t0));
	if (writer_close(s.out, err, sizeof err) != 0) {
		fprintf(stderr, "gencap: %s: %s\n", o.out_path, err);
		rc = EXIT_FAILED;
	}
	if (truth && fclose(truth) != 0) {
		fprintf(stderr, "gencap: %s: %s\n", o.truth_path, strerror(errno));
		rc = EXIT_FAILED;
	}
	traces_free(tc);
	traffic_free(tr);
	free(s.heap);
	return rc;
}
