#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyzer/analyze.h"
#include "analyzer/cli.h"
#include "reports/escape.h"

static const char usage_text[] =
	"Usage: ttlsleuth analyze GUEST.pcap [--host HOST.pcap] -o OUTDIR [--quiet] [--stats]\n"
	"       ttlsleuth --help | --version\n";

static const char help_text[] =
	"ttlsleuth reads packet captures of a path trace (traceroute, mtr, tcptraceroute...)\n"
	"taken in a virtual machine, and tells whether the hypervisor's NAT reset the TTL\n"
	"of the probes, with the evidence by frame number.\n"
	"\n"
	"Commands:\n"
	"  analyze GUEST.pcap   analyse a capture taken on the guest (pcap or pcapng)\n"
	"\n"
	"Options of analyze:\n"
	"  --host HOST.pcap     a capture taken on the host at the same time; the host copy\n"
	"                       of each probe shows the TTL it really left with\n"
	"  -o, --output OUTDIR  where to write case.sqlite, report.html and report.xml\n"
	"                       (created if missing; an earlier case there is replaced)\n"
	"  -q, --quiet          print nothing but errors and warnings (and no progress line)\n"
	"  --stats              also print the time per stage and the counts to stderr,\n"
	"                       one tab-separated line each: stats KEY VALUE\n"
	"\n"
	"Exit codes:\n"
	"  0  analysis done, whatever the verdict\n"
	"  2  usage error\n"
	"  3  a capture could not be read, or is not a capture ttlsleuth understands\n"
	"  4  the output directory or a file in it could not be written\n"
	"  5  out of memory, or a capture exceeds a limit of the tool\n"
	"\n"
	"Warnings about the captures go to stderr: one cut off mid-record (analysed up\n"
	"to the cut), answers cut by the snap length, a host capture with no copy of the\n"
	"probes, taken on the VM's side of the host, or given the wrong way round.\n"
	"When stderr is a terminal, a line there shows how far reading a capture has got.\n";

static void print_help(void)
{
	fputs(usage_text, stdout);
	fputc('\n', stdout);
	fputs(help_text, stdout);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	/* The arguments are the user's, but may be a file name with an escape sequence in it. */
	char message[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	terminal_line(stderr, "ttlsleuth: %s", message);
	fputs(usage_text, stderr);
	return EXIT_USAGE;
}

/* The same file twice would "prove" a perfect NAT-free path: refuse it. */
static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int set_once(const char **slot, const char *value, const char *option)
{
	if (*slot)
		return usage_error("%s given twice", option);
	if (!*value)
		return usage_error("%s needs a non-empty value", option);
	/* "--host -o out": getopt hands over "-o" as the value. A file named so is ./-o. */
	if (value[0] == '-' && value[1] != '\0')
		return usage_error("%s needs a value, not the option %s (a file named so: ./%s)", option,
				   value, value);
	*slot = value;
	return 0;
}

static int parse_analyze(int argc, char **argv, struct analyze_options *opt)
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "host", required_argument, NULL, 'H' },
		{ "output", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "stats", no_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	opterr = 0;
	optind = 1;
	int c, rc;
	while ((c = getopt_long(argc, argv, ":ho:q", options, NULL)) != -1) {
		switch (c) {
		case 'h':
			print_help();
			return -1;
		case 'H':
			if ((rc = set_once(&opt->host_path, optarg, "--host")) != 0)
				return rc;
			break;
		case 'o':
			if ((rc = set_once(&opt->out_dir, optarg, "-o/--output")) != 0)
				return rc;
			break;
		case 'q':
			opt->quiet = true;
			break;
		case 'S':
			opt->stats = true;
			break;
		case ':':
			return usage_error("option %s needs a value", argv[optind - 1]);
		default:
			return usage_error("unknown option %s", argv[optind - 1]);
		}
	}
	if (!opt->quiet && isatty(STDERR_FILENO))
		opt->progress_to = stderr;
	if (optind == argc)
		return usage_error("%s", "analyze needs the guest capture");
	if (argc - optind > 1)
		return usage_error("unexpected argument %s (one guest capture; the host one goes with --host)",
				   argv[optind + 1]);
	opt->guest_path = argv[optind];
	if (!*opt->guest_path)
		return usage_error("%s", "the guest capture path is empty");
	if (!opt->out_dir)
		return usage_error("%s", "analyze needs -o OUTDIR");
	if (opt->host_path && same_file(opt->guest_path, opt->host_path))
		return usage_error("%s is given as both the guest and the host capture", opt->host_path);
	return 0;
}

static const struct finding *find(const struct case_model *cm, enum finding_kind kind)
{
	for (size_t i = 0; i < cm->findings.len; i++)
		if (cm->findings.items[i].kind == kind)
			return &cm->findings.items[i];
	return NULL;
}

/* What is wrong with the captures themselves gets a line on stderr besides its finding. */
static void warn_about_the_captures(const struct case_model *cm)
{
	for (uint32_t i = 0; i < cm->n_captures; i++)
		if (cm->captures[i].cut_short)
			terminal_line(stderr, "ttlsleuth: warning: %s: %s", cm->captures[i].path,
				      cm->captures[i].warning);
	if (find(cm, FINDING_HOST_CAPTURE_UNMATCHED))
		terminal_line(stderr, "ttlsleuth: warning: %s: no copy of the guest's probes in it; "
				      "the verdicts rest on the guest capture alone",
			      cm->captures[1].path);
	if (find(cm, FINDING_CAPTURES_SWAPPED))
		terminal_line(stderr, "ttlsleuth: warning: %s sees the probes before %s does: the "
				      "guest and host captures look swapped",
			      cm->captures[1].path, cm->captures[0].path);
	if (find(cm, FINDING_TRACE_IN_HOST_CAPTURE))
		terminal_line(stderr, "ttlsleuth: warning: %s holds the path trace and %s none: the "
				      "guest and host captures may be swapped",
			      cm->captures[1].path, cm->captures[0].path);
	if (find(cm, FINDING_HOST_CAPTURE_GUEST_SIDE))
		terminal_line(stderr, "ttlsleuth: warning: %s: every copy of the probes in it has the "
				      "guest's own TTL (taken on the VM's side of the host), so it shows "
				      "nothing of what left the host",
			      cm->captures[1].path);
	for (size_t i = 0; i < cm->findings.len; i++) {
		const struct finding *f = &cm->findings.items[i];
		if (f->kind != FINDING_ANSWERS_CUT_BY_SNAPLEN || !f->evidence.len)
			continue;
		const struct capture *c = &cm->captures[f->evidence.items[0].capture];
		terminal_line(stderr, "ttlsleuth: warning: %s: ICMP errors cut by the snap length before "
				      "their quote cannot be paired; capture with -s 0",
			      c->path);
	}
}

static int run_analyze(int argc, char **argv)
{
	struct analyze_options opt = { 0 };
	int rc = parse_analyze(argc, argv, &opt);
	if (rc < 0)
		return EXIT_DONE; /* --help */
	if (rc)
		return rc;
	double start = monotonic_seconds();
	struct case_model cm;
	case_init(&cm);
	struct error err = { 0 };
	struct stage_times times = { 0 };
	rc = analyze_captures(&cm, &opt, &times, &err);
	if (!rc) {
		warn_about_the_captures(&cm);
		rc = analyze_write_outputs(&cm, opt.out_dir, &times, &err);
	}
	if (rc)
		terminal_line(stderr, "ttlsleuth: %s", err.message);
	else if (!opt.quiet)
		analyze_print_verdict(&cm, opt.out_dir, stdout);
	if (!rc && opt.stats)
		analyze_print_stats(&cm, &times, monotonic_seconds() - start, stderr);
	case_free(&cm);
	return rc;
}

int cli_main(int argc, char **argv)
{
	if (argc < 2)
		return usage_error("%s", "no command given");
	bool help = !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help");
	bool version = !strcmp(argv[1], "--version");
	if ((help || version) && argc > 2)
		return usage_error("%s takes no argument (got %s)", argv[1], argv[2]);
	if (help) {
		print_help();
		return EXIT_DONE;
	}
	if (version) {
		printf("ttlsleuth %s\n", TTLSLEUTH_VERSION);
		return EXIT_DONE;
	}
	if (!strcmp(argv[1], "analyze"))
		return run_analyze(argc - 1, argv + 1);
	return usage_error("unknown command %s", argv[1]);
}
