#define _GNU_SOURCE /* fopencookie */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyzer/capture.h"
#include "dissectors/dissect.h"

enum { READ_BUFFER = 256 * 1024 };

/*
 * The file as libpcap sees it: a stdio stream whose reads pass through the
 * hash. libpcap owns the FILE and closes it; the close finishes the hash.
 */
struct hashing_source {
	int fd;
	EVP_MD_CTX *sha;
	uint64_t bytes;
	struct capture *info;
};

struct capture_reader {
	pcap_t *pcap;
	struct hashing_source *source;
	struct capture *info;
	uint64_t next_number;
	bool finished;
};

static ssize_t source_read(void *cookie, char *buf, size_t size)
{
	struct hashing_source *s = cookie;
	ssize_t got;
	do
		got = read(s->fd, buf, size);
	while (got < 0 && errno == EINTR);
	if (got > 0) {
		EVP_DigestUpdate(s->sha, buf, (size_t)got);
		s->bytes += (uint64_t)got;
	}
	return got;
}

/* Hashes whatever libpcap did not read (trailing garbage, a cut record) and records the digest. */
static int source_close(void *cookie)
{
	struct hashing_source *s = cookie;
	char buf[64 * 1024];
	while (source_read(s, buf, sizeof buf) > 0)
		;
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	if (EVP_DigestFinal_ex(s->sha, digest, &len) == 1 && len == 32) {
		for (unsigned i = 0; i < len; i++)
			snprintf(s->info->sha256_hex + 2 * i, 3, "%02x", digest[i]);
	}
	EVP_MD_CTX_free(s->sha);
	close(s->fd);
	free(s);
	return 0;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* Names the format from the first bytes, so a refusal can say what the file is. */
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
		return "pcap";
	case 0x0a0d0d0a:
		return "pcapng";
	default:
		return NULL;
	}
}

static const char *known_other_format(const uint8_t m[4], size_t n)
{
	if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b)
		return "a gzip-compressed file (decompress it first, e.g. with gunzip)";
	if (n >= 4 && memcmp(m, "snoo", 4) == 0)
		return "a Solaris snoop capture (convert it with editcap -F pcapng)";
	if (n >= 4 && memcmp(m, "\x34\xcd\xb2\xa1", 4) == 0)
		return "a modified (Kuznetsov) pcap file (convert it with editcap -F pcap)";
	if (n >= 4 && memcmp(m, "XCP\0", 4) == 0)
		return "a NetXray/Sniffer capture (convert it with editcap -F pcapng)";
	return NULL;
}

static struct capture_reader *refuse(struct capture_reader *r, int fd)
{
	if (r) {
		if (r->pcap)
			pcap_close(r->pcap);
		free(r);
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

static int open_source(struct capture_reader *r, int fd, FILE **out)
{
	struct hashing_source *s = calloc(1, sizeof *s);
	if (!s)
		return -1;
	s->fd = fd;
	s->info = r->info;
	s->sha = EVP_MD_CTX_new();
	if (!s->sha || EVP_DigestInit_ex(s->sha, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(s->sha);
		free(s);
		return -1;
	}
	cookie_io_functions_t io = { .read = source_read, .close = source_close };
	FILE *f = fopencookie(s, "rb", io);
	if (!f) {
		EVP_MD_CTX_free(s->sha);
		free(s);
		return -1;
	}
	setvbuf(f, NULL, _IOFBF, READ_BUFFER);
	r->source = s;
	*out = f;
	return 0;
}

struct capture_reader *capture_open(const char *path, struct capture *info, struct error *err)
{
	info->path = strdup(path);
	info->name = strdup(base_name(path));
	if (!info->path || !info->name) {
		error_set(err, EXIT_INTERNAL, "%s: out of memory", path);
		return NULL;
	}

	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		error_set(err, EXIT_BAD_INPUT, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		error_set(err, EXIT_BAD_INPUT, "%s: not a regular file", path);
		return refuse(NULL, fd);
	}
	info->file_bytes = (uint64_t)st.st_size;
	if (st.st_size == 0) {
		error_set(err, EXIT_BAD_INPUT, "%s: empty file (0 bytes), not a capture", path);
		return refuse(NULL, fd);
	}

	uint8_t magic[4];
	ssize_t n = pread(fd, magic, sizeof magic, 0);
	const char *format = format_from_magic(magic, n > 0 ? (size_t)n : 0);
	if (!format) {
		const char *other = known_other_format(magic, n > 0 ? (size_t)n : 0);
		if (other)
			error_set(err, EXIT_BAD_INPUT, "%s: at byte 0: %s, not pcap or pcapng", path, other);
		else
			error_set(err, EXIT_BAD_INPUT,
			     "%s: at byte 0: not a capture file (no pcap or pcapng magic number)", path);
		return refuse(NULL, fd);
	}
	info->format = format;

	struct capture_reader *r = calloc(1, sizeof *r);
	if (!r) {
		error_set(err, EXIT_INTERNAL, "%s: out of memory", path);
		return refuse(NULL, fd);
	}
	r->info = info;
	r->next_number = 1;
	FILE *f;
	if (open_source(r, fd, &f) != 0) {
		error_set(err, EXIT_INTERNAL, "%s: out of memory", path);
		return refuse(r, fd);
	}

	char errbuf[PCAP_ERRBUF_SIZE] = "";
	r->pcap = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!r->pcap) {
		fclose(f); /* closes fd through the source */
		error_set(err, EXIT_BAD_INPUT, "%s: cannot read %s header: %s", path, format, errbuf);
		return refuse(r, -1);
	}
	info->linktype = dissect_linktype_from_dlt(pcap_datalink(r->pcap));
	info->snaplen = (uint32_t)pcap_snapshot(r->pcap);
	if (!dissect_link_supported(info->linktype)) {
		const char *name = pcap_datalink_val_to_name(pcap_datalink(r->pcap));
		error_set(err, EXIT_BAD_INPUT, "%s: unsupported link type %d (%s)", path, info->linktype,
		     name ? name : "unknown");
		return refuse(r, -1);
	}
	return r;
}

int capture_next(struct capture_reader *r, struct frame *f)
{
	if (r->finished)
		return 0;
	struct pcap_pkthdr *hdr;
	const u_char *data;
	int rc = pcap_next_ex(r->pcap, &hdr, &data);
	if (rc == 1) {
		f->number = r->next_number++;
		f->ts_ns = (int64_t)hdr->ts.tv_sec * 1000000000 + (int64_t)hdr->ts.tv_usec;
		f->caplen = hdr->caplen;
		f->wirelen = hdr->len;
		f->data = data;
		return 1;
	}
	r->finished = true;
	if (rc == PCAP_ERROR) {
		r->info->cut_short = true;
		snprintf(r->info->warning, sizeof r->info->warning,
			 "reading stopped at frame %llu: %s; the %llu frames before it were analysed",
			 (unsigned long long)r->next_number, pcap_geterr(r->pcap),
			 (unsigned long long)(r->next_number - 1));
	}
	return 0;
}

void capture_close(struct capture_reader *r)
{
	if (!r)
		return;
	pcap_close(r->pcap);
	free(r);
}
