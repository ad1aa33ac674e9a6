/*
 * pcap_floor: the fastest a libpcap program can read a capture, the floor
 * the analyzer is measured against. It reads every record and touches
 * nothing but the record header (the caplen is summed so the loop cannot be
 * optimised away).
 *
 *   pcap_floor FILE               pcap_open_offline, libpcap's own stdio buffer
 *   pcap_floor --stdio BYTES FILE pcap_fopen_offline on a FILE with a setvbuf buffer
 *
 * Both open with nanosecond precision, as the analyzer does. Prints one line:
 * "floor<TAB>MODE<TAB>packets<TAB>caplen_bytes<TAB>seconds".
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int usage(void)
{
	fputs("Usage: pcap_floor [--stdio BUFFER_BYTES] FILE\n", stderr);
	return 2;
}

/* Opens the file through a stdio stream with a buffer of the given size; libpcap owns the FILE. */
static pcap_t *open_with_buffer(const char *path, size_t buffer, char *errbuf)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(errbuf, PCAP_ERRBUF_SIZE, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (setvbuf(f, NULL, _IOFBF, buffer) != 0) {
		snprintf(errbuf, PCAP_ERRBUF_SIZE, "setvbuf %zu failed", buffer);
		fclose(f);
		return NULL;
	}
	pcap_t *p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!p)
		fclose(f);
	return p;
}

int main(int argc, char **argv)
{
	size_t buffer = 0;
	int arg = 1;
	if (argc == 4 && !strcmp(argv[1], "--stdio")) {
		char *end;
		unsigned long long v = strtoull(argv[2], &end, 10);
		if (*end || v == 0)
			return usage();
		buffer = (size_t)v;
		arg = 3;
	} else if (argc != 2) {
		return usage();
	}
	const char *path = argv[arg];
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	double t0 = now_seconds();
	pcap_t *p = buffer ? open_with_buffer(path, buffer, errbuf)
			   : pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!p) {
		fprintf(stderr, "pcap_floor: %s\n", errbuf);
		return 1;
	}
	struct pcap_pkthdr *h;
	const unsigned char *data;
	unsigned long long packets = 0, bytes = 0;
	int rc;
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		packets++;
		bytes += h->caplen;
	}
	if (rc == PCAP_ERROR) {
		fprintf(stderr, "pcap_floor: %s: %s\n", path, pcap_geterr(p));
		pcap_close(p);
		return 1;
	}
	pcap_close(p);
	char mode[32];
	if (buffer)
		snprintf(mode, sizeof mode, "stdio-%zu", buffer);
	else
		snprintf(mode, sizeof mode, "plain");
	printf("floor\t%s\t%llu\t%llu\t%.6f\n", mode, packets, bytes, now_seconds() - t0);
	return 0;
}
