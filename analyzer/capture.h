/*
 * Reading one capture file, pcap or pcapng, plain or gzip-compressed: pcap
 * through libpcap with nanosecond timestamps, pcapng through our own reader
 * (libpcap refuses files whose interfaces differ in link type). The file's
 * bytes are hashed (SHA-256) on their way through, see source.h.
 */
#ifndef TTLSLEUTH_CAPTURE_H
#define TTLSLEUTH_CAPTURE_H

#include <stdint.h>

#include "analyzer/errors.h"
#include "analyzer/model.h"

struct capture_reader;

/*
 * Timestamps are kept within 0..2^62 ns (1970 to 2116): a hostile file may
 * claim any time, and the analysis subtracts timestamps and adds windows of
 * seconds to them; inside this range none of that can overflow.
 */
#define FRAME_TS_LIMIT_NS ((int64_t)1 << 62)

struct frame {
	uint64_t number; /* 1-based */
	int64_t ts_ns;   /* 0..FRAME_TS_LIMIT_NS */
	uint32_t caplen, wirelen;
	int linktype;       /* pcapng may change it from one interface to the next */
	uint32_t interface; /* pcapng interface id; 0 in pcap */
	const uint8_t *data;
};

/*
 * Opens path and fills the descriptive fields of *info (path, name, format,
 * link type, snap length, size). Returns NULL with *err set when the file is no
 * capture we can read.
 */
struct capture_reader *capture_open(const char *path, struct capture *info, struct error *err);

/*
 * The next frame: 1 with *f filled, 0 at the end of the file. A file that ends
 * inside a record also returns 0, with info->cut_short and info->warning set:
 * everything before the cut is kept.
 */
int capture_next(struct capture_reader *r, struct frame *f);

/* Finishes the hash (reading what libpcap left unread) and frees the reader. */
void capture_close(struct capture_reader *r);

/*
 * Bytes of the file done so far, for progress: read (compressed bytes for a
 * gzip file) and hashed, whichever is behind. hash_pending: the hash thread
 * has not finished, so closing the reader will wait for it.
 */
uint64_t capture_bytes_done(const struct capture_reader *r, bool *hash_pending);

/*
 * Marks info as cut short at byte offset (of the decompressed data when
 * compressed) while reading frame `frame`, for why; the warning names what
 * was analysed before. For the pcap and pcapng readers alike.
 */
void capture_mark_cut(struct capture *info, uint64_t offset, uint64_t frame, const char *why);

#endif
