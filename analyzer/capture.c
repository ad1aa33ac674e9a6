#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyzer/capture.h"
#include "analyzer/pcapng.h"
#include "analyzer/source.h"
#include "dissectors/dissect.h"

/* Alexey Kuznetsov's patched tcpdump added 8 bytes to each record header; libpcap reads those too. */
enum { PCAP_FILE_HEADER = 24, PCAP_RECORD_HEADER = 16, MODIFIED_PCAP_RECORD_HEADER = 24 };

struct capture_reader {
	struct byte_source *src;
	struct capture *info;
	/* pcap: libpcap over a stream of the source */
	pcap_t *pcap;
	uint64_t next_number;
	uint64_t record_offset; /* where the next pcap record starts */
	unsigned record_header; /* bytes before each pcap record's data */
	/* pcapng: our reader */
	struct pcapng_reader *ng;
	bool finished;
};

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* Names the format from the first bytes (after decompression), so a refusal can say what the file is. */
static const char *format_from_magic(const uint8_t m[4], size_t n)
{
	if (n < 4)
		return NULL;
	uint32_t be = (uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 | (uint32_t)m[2] << 8 | m[3];
	switch (be) {
	case 0xa1b2c3d4:
	case 0xd4c3b2a1:
	case 0xa1b23c4d:
	case 0x4d3cb2a1:
	case 0xa1b2cd34:
	case 0x34cdb2a1:
		return "pcap";
	case 0x0a0d0d0a:
		return "pcapng";
	default:
		return NULL;
	}
}

/* Only called once format_from_magic has seen 4 bytes. */
static bool modified_pcap(const uint8_t m[4])
{
	uint32_t be = (uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 | (uint32_t)m[2] << 8 | m[3];
	return be == 0xa1b2cd34 || be == 0x34cdb2a1;
}

static const char *known_other_format(const uint8_t *m, size_t n)
{
	static const struct {
		const char *magic;
		size_t len;
		const char *what;
	} formats[] = {
		{ "snoop\0\0\0", 8, "a Solaris snoop capture (convert it with editcap -F pcapng)" },
		{ "XCP\0", 4, "a NetXray/Sniffer capture (convert it with editcap -F pcapng)" },
		{ "\x4d\x53\x4e\x4d", 4, "a Microsoft Network Monitor capture (convert it with editcap -F pcapng)" },
		{ "BZh", 3, "a bzip2-compressed file (decompress it first)" },
		{ "\xfd" "7zXZ", 5, "an xz-compressed file (decompress it first)" },
		{ "\x28\xb5\x2f\xfd", 4, "a zstd-compressed file (decompress it first)" },
		{ "PK\x03\x04", 4, "a zip archive (unpack it first)" },
	};
	for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
		if (n >= formats[i].len && memcmp(m, formats[i].magic, formats[i].len) == 0)
			return formats[i].what;
	return NULL;
}

static struct capture_reader *refuse(struct capture_reader *r)
{
	if (r->pcap)
		pcap_close(r->pcap);
	pcapng_close(r->ng);
	source_close(r->src, NULL); /* a refused file's digest is not needed: stop hashing */
	free(r);
	return NULL;
}

static bool open_pcap(struct capture_reader *r, struct error *err)
{
	const char *path = r->info->path;
	FILE *stream = source_stream(r->src);
	if (!stream) {
		error_set(err, EXIT_INTERNAL, "%s: cannot open a stream over the file", path);
		return false;
	}
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	r->pcap = pcap_fopen_offline_with_tstamp_precision(stream, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!r->pcap) {
		fclose(stream);
		error_set(err, EXIT_BAD_INPUT, "%s: at byte 0: cannot read the pcap file header: %s", path,
			  errbuf);
		return false;
	}
	r->record_offset = PCAP_FILE_HEADER;
	r->info->linktype = dissect_linktype_from_dlt(pcap_datalink(r->pcap));
	r->info->snaplen = (uint32_t)pcap_snapshot(r->pcap);
	r->info->interfaces = 1;
	if (!dissect_link_supported(r->info->linktype)) {
		const char *name = pcap_datalink_val_to_name(pcap_datalink(r->pcap));
		/* The link type is the last field of the 24-byte file header. */
		error_set(err, EXIT_BAD_INPUT, "%s: at byte 20%s: unsupported link type %d (%s) in the file header",
			  path, r->info->compressed ? " inside the gzip compression" : "", r->info->linktype,
			  name ? name : "unknown");
		return false;
	}
	return true;
}

struct capture_reader *capture_open(const char *path, struct capture *info, struct error *err)
{
	info->path = strdup(path);
	info->name = strdup(base_name(path));
	if (!info->path || !info->name) {
		error_set(err, EXIT_INTERNAL, "%s: out of memory", path);
		return NULL;
	}
	struct capture_reader *r = calloc(1, sizeof *r);
	if (!r) {
		error_set(err, EXIT_INTERNAL, "%s: out of memory", path);
		return NULL;
	}
	r->info = info;
	r->next_number = 1;
	r->src = source_open(path, err);
	if (!r->src) {
		free(r);
		return NULL;
	}
	info->file_bytes = source_file_bytes(r->src);
	info->compressed = source_compressed(r->src);

	uint8_t magic[8];
	size_t n = source_peek(r->src, magic, sizeof magic);
	const char *format = format_from_magic(magic, n);
	if (!format) {
		const char *inside = info->compressed ? " inside the gzip compression" : "";
		const char *other = known_other_format(magic, n);
		if (source_problem(r->src))
			error_set(err, EXIT_BAD_INPUT, "%s: %s", path, source_problem(r->src));
		else if (n == 0)
			error_set(err, EXIT_BAD_INPUT, "%s: empty%s, not a capture", path, inside);
		else if (other)
			error_set(err, EXIT_BAD_INPUT, "%s: at byte 0%s: %s, not pcap or pcapng", path,
				  inside, other);
		else
			error_set(err, EXIT_BAD_INPUT,
				  "%s: at byte 0%s: not a capture file (no pcap or pcapng magic number)",
				  path, inside);
		return refuse(r);
	}
	r->record_header = modified_pcap(magic) ? MODIFIED_PCAP_RECORD_HEADER : PCAP_RECORD_HEADER;
	info->format = format;
	if (!strcmp(format, "pcapng")) {
		r->ng = pcapng_open(r->src, info, err);
		if (!r->ng)
			return refuse(r);
	} else if (!open_pcap(r, err)) {
		return refuse(r);
	}
	return r;
}

static int next_pcap(struct capture_reader *r, struct frame *f)
{
	struct pcap_pkthdr *hdr;
	const u_char *data;
	int rc = pcap_next_ex(r->pcap, &hdr, &data);
	if (rc == 1) {
		f->number = r->next_number++;
		f->ts_ns = (int64_t)hdr->ts.tv_sec * 1000000000 + (int64_t)hdr->ts.tv_usec;
		f->caplen = hdr->caplen;
		f->wirelen = hdr->len;
		f->linktype = r->info->linktype;
		f->interface = 0;
		f->data = data;
		r->record_offset += r->record_header + (uint64_t)hdr->caplen;
		return 1;
	}
	if (rc == PCAP_ERROR) {
		const char *why = source_problem(r->src) ? source_problem(r->src) : pcap_geterr(r->pcap);
		capture_mark_cut(r->info, r->record_offset, r->next_number, why);
	}
	return 0;
}

int capture_next(struct capture_reader *r, struct frame *f)
{
	if (r->finished)
		return 0;
	int rc = r->ng ? pcapng_next(r->ng, f) : next_pcap(r, f);
	if (rc != 1)
		r->finished = true;
	else if (f->ts_ns > FRAME_TS_LIMIT_NS)
		f->ts_ns = FRAME_TS_LIMIT_NS;
	else if (f->ts_ns < 0)
		f->ts_ns = 0;
	return rc;
}

void capture_mark_cut(struct capture *info, uint64_t offset, uint64_t frame, const char *why)
{
	uint64_t before = frame ? frame - 1 : 0;
	char analysed[64];
	if (before == 0)
		snprintf(analysed, sizeof analysed, "no frame before it to analyse");
	else
		snprintf(analysed, sizeof analysed, "the %llu frame%s before it %s analysed",
			 (unsigned long long)before, before == 1 ? "" : "s", before == 1 ? "was" : "were");
	info->cut_short = true;
	snprintf(info->warning, sizeof info->warning, "reading stopped at byte %llu%s (frame %llu): %s; %s",
		 (unsigned long long)offset, info->compressed ? " of the decompressed data" : "",
		 (unsigned long long)frame, why, analysed);
}

void capture_close(struct capture_reader *r)
{
	if (!r)
		return;
	if (r->pcap)
		pcap_close(r->pcap);
	pcapng_close(r->ng);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	source_close(r->src, r->info->sha256_hex);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	r->info->sha256_wait_s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	free(r);
}

uint64_t capture_bytes_done(const struct capture_reader *r, bool *hash_pending)
{
	uint64_t read = source_file_offset(r->src), hashed = 0;
	*hash_pending = source_hash_pending(r->src, &hashed);
	return *hash_pending && hashed < read ? hashed : read;
}
