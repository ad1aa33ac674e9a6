/*
 * Capture files: classic pcap (microsecond or nanosecond magic) and pcapng
 * (one section, one Ethernet interface with if_tsresol, Enhanced Packet
 * Blocks). Frames are built in place inside one large buffer and the buffer
 * goes out in big writes: no copy and no allocation per packet.
 *
 * Every field is written little-endian byte by byte, so the file does not
 * depend on the machine that wrote it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gencap.h"

enum {
	BUFFER_BYTES = 8 * 1024 * 1024,
	SNAPLEN = 262144,
	LINKTYPE_ETHERNET = 1,
	PCAP_RECORD_HEADER = 16,
	EPB_HEADER = 28,
	EPB_TRAILER = 4,
	RECORD_ROOM = EPB_HEADER + FRAME_MAX + 3 + EPB_TRAILER,
};

struct writer {
	FILE *file;
	enum capture_format format;
	bool nanoseconds;
	uint8_t *buf;
	size_t used;
	uint64_t bytes, packets;
	int error; /* first errno of a failed write, 0 if none */
};

static void le16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void le32(uint8_t *p, uint32_t v)
{
	le16(p, v);
	le16(p + 2, v >> 16);
}

static size_t header_bytes(const struct writer *w)
{
	return w->format == FORMAT_PCAPNG ? EPB_HEADER : PCAP_RECORD_HEADER;
}

static void flush(struct writer *w)
{
	if (w->used && !w->error && fwrite(w->buf, 1, w->used, w->file) != w->used)
		w->error = errno ? errno : EIO;
	w->used = 0;
}

/* Appends file-level bytes (headers) to the buffer. */
static void append(struct writer *w, const uint8_t *p, size_t n)
{
	memcpy(w->buf + w->used, p, n);
	w->used += n;
	w->bytes += n;
}

static void write_pcap_header(struct writer *w)
{
	uint8_t h[24];
	le32(h, w->nanoseconds ? 0xa1b23c4d : 0xa1b2c3d4);
	le16(h + 4, 2);
	le16(h + 6, 4);
	le32(h + 8, 0);  /* thiszone */
	le32(h + 12, 0); /* sigfigs */
	le32(h + 16, SNAPLEN);
	le32(h + 20, LINKTYPE_ETHERNET);
	append(w, h, sizeof h);
}

static void write_pcapng_headers(struct writer *w)
{
	static const char app[] = "ttlsleuth bench/gencap"; /* 22 bytes, padded to 24 */
	uint8_t shb[28 + 4 + 24 + 4 + 4];
	memset(shb, 0, sizeof shb);
	le32(shb, 0x0a0d0d0a);
	le32(shb + 4, sizeof shb);
	le32(shb + 8, 0x1a2b3c4d);
	le16(shb + 12, 1);
	le16(shb + 14, 0);
	memset(shb + 16, 0xff, 8); /* section length unknown */
	le16(shb + 24, 4);         /* shb_userappl */
	le16(shb + 26, sizeof app - 1);
	memcpy(shb + 28, app, sizeof app - 1);
	/* opt_endofopt is the zeroed 4 bytes after the padded string */
	le32(shb + sizeof shb - 4, sizeof shb);
	append(w, shb, sizeof shb);

	uint8_t idb[20 + 8 + 4 + 4];
	memset(idb, 0, sizeof idb);
	le32(idb, 1);
	le32(idb + 4, sizeof idb);
	le16(idb + 8, LINKTYPE_ETHERNET);
	le32(idb + 12, SNAPLEN);
	le16(idb + 16, 9); /* if_tsresol */
	le16(idb + 18, 1);
	idb[20] = w->nanoseconds ? 9 : 6;
	/* 3 bytes of padding, then opt_endofopt: zeros */
	le32(idb + sizeof idb - 4, sizeof idb);
	append(w, idb, sizeof idb);
}

struct writer *writer_open(const char *path, enum capture_format format, bool nanoseconds,
			   char *err, size_t err_size)
{
	struct writer *w = calloc(1, sizeof *w);
	if (w)
		w->buf = malloc(BUFFER_BYTES);
	if (!w || !w->buf) {
		snprintf(err, err_size, "out of memory");
		free(w);
		return NULL;
	}
	w->file = fopen(path, "wb");
	if (!w->file) {
		snprintf(err, err_size, "%s: %s", path, strerror(errno));
		free(w->buf);
		free(w);
		return NULL;
	}
	setvbuf(w->file, NULL, _IONBF, 0); /* the buffer here is the only one */
	w->format = format;
	w->nanoseconds = nanoseconds;
	if (format == FORMAT_PCAPNG)
		write_pcapng_headers(w);
	else
		write_pcap_header(w);
	return w;
}

uint8_t *writer_frame(struct writer *w)
{
	if (w->used + RECORD_ROOM > BUFFER_BYTES)
		flush(w);
	return w->buf + w->used + header_bytes(w);
}

static uint64_t commit_pcap(struct writer *w, int64_t ts_ns, size_t len)
{
	uint8_t *h = w->buf + w->used;
	uint64_t sec = (uint64_t)ts_ns / 1000000000u;
	uint64_t frac = (uint64_t)ts_ns % 1000000000u;
	le32(h, (uint32_t)sec);
	le32(h + 4, (uint32_t)(w->nanoseconds ? frac : frac / 1000));
	le32(h + 8, (uint32_t)len);
	le32(h + 12, (uint32_t)len);
	return PCAP_RECORD_HEADER + len;
}

static uint64_t commit_pcapng(struct writer *w, int64_t ts_ns, size_t len)
{
	size_t padded = (len + 3) & ~(size_t)3;
	size_t total = EPB_HEADER + padded + EPB_TRAILER;
	uint8_t *h = w->buf + w->used;
	uint64_t ts = w->nanoseconds ? (uint64_t)ts_ns : (uint64_t)ts_ns / 1000;
	le32(h, 6);
	le32(h + 4, (uint32_t)total);
	le32(h + 8, 0); /* interface 0 */
	le32(h + 12, (uint32_t)(ts >> 32));
	le32(h + 16, (uint32_t)ts);
	le32(h + 20, (uint32_t)len);
	le32(h + 24, (uint32_t)len);
	memset(h + EPB_HEADER + len, 0, padded - len);
	le32(h + EPB_HEADER + padded, (uint32_t)total);
	return total;
}

uint64_t writer_commit(struct writer *w, int64_t ts_ns, size_t len)
{
	uint64_t n = w->format == FORMAT_PCAPNG ? commit_pcapng(w, ts_ns, len) : commit_pcap(w, ts_ns, len);
	w->used += n;
	w->bytes += n;
	return ++w->packets;
}

uint64_t writer_bytes(const struct writer *w)
{
	return w->bytes;
}

uint64_t writer_packets(const struct writer *w)
{
	return w->packets;
}

int writer_close(struct writer *w, char *err, size_t err_size)
{
	flush(w);
	if (fclose(w->file) != 0 && !w->error)
		w->error = errno ? errno : EIO;
	int rc = 0;
	if (w->error) {
		snprintf(err, err_size, "write failed: %s", strerror(w->error));
		rc = -1;
	}
	free(w->buf);
	free(w);
	return rc;
}
