/*
 * Capture reading: pcapng built block by block (both byte orders, several
 * interfaces of different link types, if_tsresol and if_tsoffset, a cut in the
 * middle of a block), gzip-compressed captures, and the SHA-256 of the file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "analyzer/capture.h"
#include "analyzer/pipeline.h"
#include "support.h"

/* Linked with --wrap=read (tests/CMakeLists.txt): the reader's system calls, counted. */
ssize_t __real_read(int fd, void *buf, size_t n);
ssize_t __wrap_read(int fd, void *buf, size_t n);
static unsigned long read_calls;

ssize_t __wrap_read(int fd, void *buf, size_t n)
{
	read_calls++;
	return __real_read(fd, buf, n);
}

/* A growing pcapng image in one byte order. */
struct image {
	uint8_t bytes[8192];
	size_t len;
	bool big_endian;
};

static void put8(struct image *im, uint8_t v)
{
	assert_true(im->len < sizeof im->bytes);
	im->bytes[im->len++] = v;
}

static void put16(struct image *im, uint16_t v)
{
	if (im->big_endian) {
		put8(im, (uint8_t)(v >> 8));
		put8(im, (uint8_t)v);
	} else {
		put8(im, (uint8_t)v);
		put8(im, (uint8_t)(v >> 8));
	}
}

static void put32(struct image *im, uint32_t v)
{
	if (im->big_endian) {
		put16(im, (uint16_t)(v >> 16));
		put16(im, (uint16_t)v);
	} else {
		put16(im, (uint16_t)v);
		put16(im, (uint16_t)(v >> 16));
	}
}

static void put_bytes(struct image *im, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put8(im, b[i]);
	while (im->len % 4)
		put8(im, 0);
}

/* Opens a block: returns where its length goes; end_block fills both length fields. */
static size_t begin_block(struct image *im, uint32_t type)
{
	size_t start = im->len;
	put32(im, type);
	put32(im, 0);
	return start;
}

static void end_block(struct image *im, size_t start)
{
	uint32_t len = (uint32_t)(im->len - start + 4);
	put32(im, len);
	size_t end = im->len;
	im->len = start + 4;
	put32(im, len);
	im->len = end;
}

static void section(struct image *im)
{
	size_t b = begin_block(im, 0x0A0D0D0A);
	put32(im, 0x1A2B3C4D);
	put16(im, 1);
	put16(im, 0);
	put32(im, 0xffffffff);
	put32(im, 0xffffffff);
	end_block(im, b);
}

static void interface(struct image *im, uint16_t linktype, int tsresol, int64_t tsoffset)
{
	size_t b = begin_block(im, 1);
	put16(im, linktype);
	put16(im, 0);
	put32(im, 65535);
	if (tsresol >= 0) {
		put16(im, 9);
		put16(im, 1);
		put8(im, (uint8_t)tsresol);
		put8(im, 0);
		put8(im, 0);
		put8(im, 0);
	}
	if (tsoffset) {
		put16(im, 14);
		put16(im, 8);
		uint64_t v = (uint64_t)tsoffset;
		put32(im, im->big_endian ? (uint32_t)(v >> 32) : (uint32_t)v);
		put32(im, im->big_endian ? (uint32_t)v : (uint32_t)(v >> 32));
	}
	put16(im, 0);
	put16(im, 0);
	end_block(im, b);
}

static void packet(struct image *im, uint32_t if_id, uint64_t ts, const uint8_t *data, uint32_t n)
{
	size_t b = begin_block(im, 6);
	put32(im, if_id);
	put32(im, (uint32_t)(ts >> 32));
	put32(im, (uint32_t)ts);
	put32(im, n);
	put32(im, n);
	put_bytes(im, data, n);
	end_block(im, b);
}

/* An IPv4 echo request with TTL 1, raw (no link header). */
static const char echo_hex[] = "4500001c12340000010100000a0000010a0000020800f7ff00000000";

static char *write_file(const char *dir, const char *name, const void *data, size_t n)
{
	size_t size = strlen(dir) + strlen(name) + 2;
	char *path = malloc(size);
	snprintf(path, size, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	fclose(f);
	return path;
}

struct read_result {
	uint64_t frames;
	int linktypes[8];
	uint32_t interfaces[8];
	int64_t ts[8];
	bool cut_short;
	char warning[512];
	char sha[65];
	int rc;
	char message[512];
	char refusal[512]; /* judged at the end: no packet on a link type we read */
};

static void read_all(const char *path, struct read_result *out)
{
	memset(out, 0, sizeof *out);
	struct capture info;
	memset(&info, 0, sizeof info);
	struct error err = { 0 };
	struct capture_reader *r = capture_open(path, &info, &err);
	if (!r) {
		out->rc = err.code;
		snprintf(out->message, sizeof out->message, "%s", err.message);
		free(info.path);
		free(info.name);
		return;
	}
	struct frame f;
	while (capture_next(r, &f) == 1) {
		if (out->frames < 8) {
			out->linktypes[out->frames] = f.linktype;
			out->interfaces[out->frames] = f.interface;
			out->ts[out->frames] = f.ts_ns;
		}
		assert_int_equal(f.number, out->frames + 1);
		out->frames++;
	}
	capture_close(r);
	snprintf(out->refusal, sizeof out->refusal, "%s", info.refusal);
	out->cut_short = info.cut_short;
	snprintf(out->warning, sizeof out->warning, "%s", info.warning);
	memcpy(out->sha, info.sha256_hex, sizeof out->sha);
	free(info.path);
	free(info.name);
}

static void build_mixed(struct image *im)
{
	uint8_t ip[64];
	size_t n = hex_to_bytes(echo_hex, ip, sizeof ip);
	uint8_t eth[128] = { 0 };
	eth[12] = 0x08;
	memcpy(eth + 14, ip, n);
	section(im);
	interface(im, 1, -1, 0);         /* Ethernet, microseconds */
	interface(im, 101, 9, 0);        /* raw IP, nanoseconds */
	interface(im, 101, 0x80 | 10, 1000); /* raw IP, 2^-10 s, offset 1000 s */
	packet(im, 0, 1500000ull, eth, (uint32_t)(n + 14));
	packet(im, 1, 1500000123ull, ip, (uint32_t)n);
	packet(im, 2, 512ull, ip, (uint32_t)n);
}

static void mixed_link_types_both_byte_orders(void **state)
{
	(void)state;
	for (int be = 0; be <= 1; be++) {
		struct image im = { .big_endian = be };
		build_mixed(&im);
		char *dir = make_temp_dir();
		char *path = write_file(dir, "mixed.pcapng", im.bytes, im.len);
		struct read_result res;
		read_all(path, &res);
		assert_int_equal(res.rc, 0);
		assert_int_equal(res.frames, 3);
		assert_false(res.cut_short);
		assert_int_equal(res.linktypes[0], 1);
		assert_int_equal(res.linktypes[1], 101);
		assert_int_equal(res.interfaces[2], 2);
		assert_int_equal(res.ts[0], 1500000000ll);         /* 1.5 s in microseconds */
		assert_int_equal(res.ts[1], 1500000123ll);         /* already nanoseconds */
		assert_int_equal(res.ts[2], 1000500000000ll);      /* 512/1024 s + 1000 s */
		free(path);
		remove_temp_dir(dir);
	}
}

/* The whole pipeline sees each packet through its own interface's link type. */
static void mixed_link_types_are_dissected(void **state)
{
	(void)state;
	struct image im = { 0 };
	build_mixed(&im);
	char *dir = make_temp_dir();
	char *path = write_file(dir, "mixed.pcapng", im.bytes, im.len);
	struct case_model cm;
	case_init(&cm);
	struct error err = { 0 };
	assert_int_equal(pipeline_read_capture(&cm, path, SIDE_GUEST, &err), 0);
	assert_int_equal(cm.captures[0].packets, 3);
	assert_int_equal(cm.captures[0].ip_packets, 3);
	assert_int_equal(cm.captures[0].interfaces, 3);
	assert_int_equal(cm.requests.len, 3);
	assert_int_equal(cm.requests.items[2].interface, 2);
	assert_int_equal(cm.captures[0].anomalous_packets, 0);
	case_free(&cm);
	free(path);
	remove_temp_dir(dir);
}

/* A file may claim any time; what the analysis sees stays within 1970..2116 (capture.h). */
static void timestamps_out_of_range_are_clamped(void **state)
{
	(void)state;
	uint8_t ip[64];
	size_t n = hex_to_bytes(echo_hex, ip, sizeof ip);
	struct image im = { 0 };
	section(&im);
	interface(&im, 101, 9, 0);
	interface(&im, 101, 9, -2000000000);  /* offset -2e9 s: before 1970 */
	packet(&im, 0, UINT64_MAX, ip, (uint32_t)n); /* past int64 */
	packet(&im, 1, 5ull, ip, (uint32_t)n);
	packet(&im, 0, 7ull, ip, (uint32_t)n);
	char *dir = make_temp_dir();
	char *path = write_file(dir, "times.pcapng", im.bytes, im.len);
	struct read_result res;
	read_all(path, &res);
	assert_int_equal(res.rc, 0);
	assert_int_equal(res.frames, 3);
	assert_int_equal(res.ts[0], FRAME_TS_LIMIT_NS);
	assert_int_equal(res.ts[1], 0);
	assert_int_equal(res.ts[2], 7);
	free(path);
	remove_temp_dir(dir);
}

/*
 * The modified pcap format of Kuznetsov's patched tcpdump (magic a1b2cd34):
 * 8 more bytes in each record header. Read through libpcap; a cut in the
 * second record is reported at that record's true offset (24 + 24 + 28).
 */
static void modified_pcap_is_read(void **state)
{
	(void)state;
	uint8_t ip[64];
	size_t n = hex_to_bytes(echo_hex, ip, sizeof ip);
	struct image im = { 0 };
	put32(&im, 0xa1b2cd34);
	put16(&im, 2);
	put16(&im, 4);
	put32(&im, 0);
	put32(&im, 0);
	put32(&im, 65535);
	put32(&im, 101); /* raw IP */
	for (int i = 0; i < 2; i++) {
		put32(&im, 1700000000u);
		put32(&im, 250000u);
		put32(&im, (uint32_t)n);
		put32(&im, (uint32_t)n);
		put32(&im, 2);  /* interface index */
		put16(&im, 8);  /* protocol */
		put8(&im, 4);   /* packet type: outgoing */
		put8(&im, 0);
		put_bytes(&im, ip, (uint32_t)n);
	}
	char *dir = make_temp_dir();
	char *path = write_file(dir, "modified.pcap", im.bytes, im.len - 5);
	struct read_result res;
	read_all(path, &res);
	assert_int_equal(res.rc, 0);
	assert_int_equal(res.frames, 1);
	assert_int_equal(res.ts[0], 1700000000250000000ll);
	assert_true(res.cut_short);
	assert_non_null(strstr(res.warning, "reading stopped at byte 76 (frame 2)"));
	assert_non_null(strstr(res.warning, "; the 1 frame before it was analysed"));
	free(path);
	remove_temp_dir(dir);
}

static void cut_inside_a_block(void **state)
{
	(void)state;
	struct image im = { 0 };
	build_mixed(&im);
	char *dir = make_temp_dir();
	/* Drop the last 10 bytes: the third packet block is incomplete. */
	char *path = write_file(dir, "cut.pcapng", im.bytes, im.len - 10);
	struct read_result res;
	read_all(path, &res);
	assert_int_equal(res.rc, 0);
	assert_int_equal(res.frames, 2);
	assert_true(res.cut_short);
	assert_non_null(strstr(res.warning, "frame 3"));
	assert_non_null(strstr(res.warning, "but the file ends 10 bytes short of that"));
	assert_non_null(strstr(res.warning, "; the 2 frames before it were analysed"));
	free(path);
	remove_temp_dir(dir);
}

static void hostile_block_lengths(void **state)
{
	(void)state;
	struct image im = { 0 };
	build_mixed(&im);
	const size_t first_interface = 28; /* the section header is 28 bytes */
	char *dir = make_temp_dir();
	const uint32_t lengths[] = { 0, 8, 13, 0x7ffffffc, 0xfffffff0 };
	for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
		struct image bad = im;
		bad.len = first_interface + 4;
		put32(&bad, lengths[i]);
		bad.len = im.len;
		char *path = write_file(dir, "bad.pcapng", bad.bytes, bad.len);
		struct read_result res;
		read_all(path, &res);
		/* Stopped at the bad block, before any packet: refused or empty, never a crash. */
		assert_int_equal(res.frames, 0);
		if (res.rc == 0)
			assert_true(res.cut_short);
		free(path);
	}
	/* A packet that names an interface the section never described. */
	struct image orphan = { 0 };
	section(&orphan);
	interface(&orphan, 101, -1, 0);
	uint8_t ip[64];
	size_t n = hex_to_bytes(echo_hex, ip, sizeof ip);
	packet(&orphan, 0, 1, ip, (uint32_t)n);
	packet(&orphan, 7, 2, ip, (uint32_t)n);
	char *path = write_file(dir, "orphan.pcapng", orphan.bytes, orphan.len);
	struct read_result res;
	read_all(path, &res);
	assert_int_equal(res.frames, 1);
	assert_true(res.cut_short);
	assert_non_null(strstr(res.warning, "interface 7"));
	free(path);
	remove_temp_dir(dir);
}

/*
 * Reads are buffered: 20,000 packet blocks of 60 bytes (1.2 MB) take a few
 * reads of the source's 256 kB, not two per block (/work/exp/big.pcapng: 1M
 * blocks made 2,000,034 reads).
 */
static void small_blocks_are_read_in_large_reads(void **state)
{
	(void)state;
	uint8_t ip[64];
	size_t n = hex_to_bytes(echo_hex, ip, sizeof ip);
	struct image head = { 0 }, block = { 0 };
	section(&head);
	interface(&head, 101, -1, 0);
	packet(&block, 0, 7000, ip, (uint32_t)n);
	char *dir = make_temp_dir();
	char *path = write_file(dir, "many.pcapng", head.bytes, head.len);
	FILE *f = fopen(path, "ab");
	assert_non_null(f);
	enum { BLOCKS = 20000 };
	for (int i = 0; i < BLOCKS; i++)
		assert_int_equal(fwrite(block.bytes, 1, block.len, f), block.len);
	assert_int_equal(fclose(f), 0);
	read_calls = 0;
	struct read_result res;
	read_all(path, &res);
	assert_int_equal(res.rc, 0);
	assert_int_equal(res.frames, BLOCKS);
	assert_false(res.cut_short);
	assert_int_equal(res.ts[7], 7000000);
	/* 1.2 MB in 256 kB reads, the magic, the end: about 7. */
	if (read_calls > 16)
		print_error("%lu reads for %zu bytes\n", read_calls, head.len + BLOCKS * block.len);
	assert_true(read_calls <= 16);
	free(path);
	remove_temp_dir(dir);
}

/*
 * The length fields of a block are read in the section's byte order, the
 * trailing one too: a trailing length that differs stops the reading with
 * both values named, in either byte order; an unknown byte-order magic is no
 * pcapng.
 */
static void block_lengths_in_both_byte_orders(void **state)
{
	(void)state;
	uint8_t ip[64];
	size_t n = hex_to_bytes(echo_hex, ip, sizeof ip);
	char *dir = make_temp_dir();
	for (int be = 0; be <= 1; be++) {
		struct image im = { .big_endian = be };
		section(&im);
		interface(&im, 101, -1, 0);
		packet(&im, 0, 1, ip, (uint32_t)n);
		size_t second = im.len;
		packet(&im, 0, 2, ip, (uint32_t)n);
		/* The second packet block's trailing length: 60, written as 64. */
		size_t end = im.len;
		im.len = end - 4;
		put32(&im, 64);
		char *path = write_file(dir, "trailing.pcapng", im.bytes, end);
		struct read_result res;
		read_all(path, &res);
		assert_int_equal(res.rc, 0);
		assert_int_equal(res.frames, 1);
		assert_true(res.cut_short);
		char want[160];
		snprintf(want, sizeof want,
			 "reading stopped at byte %zu (frame 2): block of type 0x00000006: its trailing "
			 "length 64 differs from its length 60",
			 second);
		if (!strstr(res.warning, want))
			print_error("%s\n", res.warning);
		assert_non_null(strstr(res.warning, want));
		free(path);
	}
	struct image bad = { 0 };
	section(&bad);
	bad.bytes[8] = 0x12; /* the byte-order magic */
	char *path = write_file(dir, "magic.pcapng", bad.bytes, bad.len);
	struct read_result res;
	read_all(path, &res);
	assert_int_equal(res.rc, 3);
	assert_non_null(strstr(res.message, "at byte 0: not a readable pcapng file: section header with "
					    "an unknown byte-order magic"));
	free(path);
	remove_temp_dir(dir);
}

/*
 * if_tsresol other than micro- and nanoseconds, against tshark 4.0.17 reading
 * the same bytes (frame.time_epoch, truncated to the nanosecond as Wireshark
 * does): 2^-20 s, 10^-3 s, 2^-30 s. And 2^-64 s, which the old reader took for
 * 0 although 128 bits hold units * 10^9: 3 * 2^62 + 12345 units are 0.75 s
 * (tshark 4.0 shows 0 there too: its units per second overflow 64 bits).
 */
static void odd_timestamp_resolutions(void **state)
{
	(void)state;
	uint8_t ip[64];
	size_t n = hex_to_bytes(echo_hex, ip, sizeof ip);
	struct image im = { 0 };
	section(&im);
	interface(&im, 101, 0x80 | 20, 0);
	interface(&im, 101, 3, 0);
	interface(&im, 101, 0x80 | 30, 0);
	interface(&im, 101, 0x80 | 64, 0);
	packet(&im, 0, 1700000000ull * (1ull << 20) + 777777u, ip, (uint32_t)n);
	packet(&im, 1, 1700000000123ull, ip, (uint32_t)n);
	packet(&im, 2, 1700000000ull * (1ull << 30) + 123456789u, ip, (uint32_t)n);
	packet(&im, 3, 3ull * (1ull << 62) + 12345u, ip, (uint32_t)n);
	char *dir = make_temp_dir();
	char *path = write_file(dir, "tsresol.pcapng", im.bytes, im.len);
	struct read_result res;
	read_all(path, &res);
	assert_int_equal(res.rc, 0);
	assert_int_equal(res.frames, 4);
	assert_int_equal(res.ts[0], 1700000000741745948ll); /* tshark: 1700000000.741745948 */
	assert_int_equal(res.ts[1], 1700000000123000000ll); /* tshark: 1700000000.123000000 */
	assert_int_equal(res.ts[2], 1700000000114978094ll); /* tshark: 1700000000.114978094 */
	assert_int_equal(res.ts[3], 750000000ll);
	free(path);
	remove_temp_dir(dir);
}

/*
 * A file is judged by the interfaces its packets are on, not by those described
 * before its first packet (/work/exp/k.pcapng: a radiotap interface with one
 * packet, then an Ethernet one, was refused). Packets on the radiotap one are
 * read and numbered as Wireshark numbers them, and counted as unsupported.
 */
static void link_types_are_judged_by_the_packets(void **state)
{
	(void)state;
	uint8_t ip[64], eth[128] = { 0 }, radio[8] = { 0 };
	size_t n = hex_to_bytes(echo_hex, ip, sizeof ip);
	eth[12] = 0x08;
	memcpy(eth + 14, ip, n);
	char *dir = make_temp_dir();

	struct image im = { 0 };
	section(&im);
	interface(&im, 127, -1, 0); /* 802.11 radiotap */
	packet(&im, 0, 1, radio, sizeof radio);
	interface(&im, 1, -1, 0);
	packet(&im, 1, 2, eth, (uint32_t)(n + 14));
	char *path = write_file(dir, "radio-then-ethernet.pcapng", im.bytes, im.len);
	struct read_result res;
	read_all(path, &res);
	assert_int_equal(res.rc, 0);
	assert_string_equal(res.refusal, "");
	assert_int_equal(res.frames, 2);
	assert_int_equal(res.linktypes[0], 127);
	assert_int_equal(res.linktypes[1], 1);
	struct case_model cm;
	case_init(&cm);
	struct error err = { 0 };
	assert_int_equal(pipeline_read_capture(&cm, path, SIDE_GUEST, &err), 0);
	assert_int_equal(cm.captures[0].packets, 2);
	assert_int_equal(cm.captures[0].anomaly_counts[ANOMALY_LINK_UNSUPPORTED_TYPE], 1);
	assert_int_equal(cm.requests.len, 1);
	assert_int_equal(cm.requests.items[0].frame, 2); /* Wireshark's number too */
	case_free(&cm);
	free(path);

	/* The Ethernet interface carries no packet: nothing here is readable. */
	struct image none = { 0 };
	section(&none);
	interface(&none, 127, -1, 0);
	packet(&none, 0, 1, radio, sizeof radio);
	interface(&none, 1, -1, 0);
	path = write_file(dir, "radio-only.pcapng", none.bytes, none.len);
	read_all(path, &res);
	assert_int_equal(res.rc, 0); /* the reader delivers; analyze_captures refuses (exit 3) */
	assert_int_equal(res.frames, 1);
	assert_non_null(strstr(res.refusal, "radio-only.pcapng: at byte 28: unsupported link type 127 "
					    "(IEEE802_11_RADIO) in the interface description; no packet "
					    "of the file is on an interface of a link type ttlsleuth reads"));
	free(path);

	/* Interfaces and no packet at all: judged at once, as before. */
	struct image empty = { 0 };
	section(&empty);
	interface(&empty, 127, -1, 0);
	path = write_file(dir, "radio-empty.pcapng", empty.bytes, empty.len);
	read_all(path, &res);
	assert_int_equal(res.rc, 3);
	assert_non_null(strstr(res.message, "at byte 28: unsupported link type 127"));
	free(path);
	remove_temp_dir(dir);
}

/* The limit message names the ceiling that was reached (it always quoted requests.max). */
static void limit_message_names_the_limit(void **state)
{
	(void)state;
	char *path = source_path("samples/slirp/guest.pcap");
	struct case_model cm;
	case_init(&cm);
	cm.replies.max = 3;
	struct error err = { 0 };
	assert_int_equal(pipeline_read_capture(&cm, path, SIDE_GUEST, &err), EXIT_INTERNAL);
	assert_non_null(strstr(err.message, "more replies than one case can hold (3)"));
	case_free(&cm);

	case_init(&cm);
	cm.requests.max = 2;
	assert_int_equal(pipeline_read_capture(&cm, path, SIDE_GUEST, &err), EXIT_INTERNAL);
	assert_non_null(strstr(err.message, ": frame "));
	assert_non_null(strstr(err.message, "more requests than one case can hold (2)"));
	case_free(&cm);
	free(path);
}

static void sha256_of_file(const char *path, char hex[65])
{
	size_t n;
	char *data = slurp_file(path, &n);
	assert_non_null(data);
	unsigned char d[32];
	unsigned int len = 0;
	EVP_Digest(data, n, d, &len, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	free(data);
}

/* A gzip-compressed sample reads like the plain one; the hash is of the file as sent. */
static void gzip_compressed_sample(void **state)
{
	(void)state;
	char *plain = source_path("samples/routed/guest.pcap");
	size_t n;
	char *data = slurp_file(plain, &n);
	assert_non_null(data);
	char *dir = make_temp_dir();
	char gz_path[600];
	snprintf(gz_path, sizeof gz_path, "%s/guest.pcap.gz", dir);
	gzFile gz = gzopen(gz_path, "wb9");
	assert_non_null(gz);
	/* Two members, as `cat a.gz b.gz` would make: one stream to the reader. */
	assert_int_equal(gzwrite(gz, data, (unsigned)(n / 2)), (int)(n / 2));
	gzclose(gz);
	gz = gzopen(gz_path, "ab9");
	assert_int_equal(gzwrite(gz, data + n / 2, (unsigned)(n - n / 2)), (int)(n - n / 2));
	gzclose(gz);

	struct read_result a, b;
	read_all(plain, &a);
	read_all(gz_path, &b);
	assert_int_equal(a.rc, 0);
	assert_int_equal(b.rc, 0);
	assert_int_equal(a.frames, 162);
	assert_int_equal(b.frames, 162);
	assert_false(b.cut_short);
	char want[65];
	sha256_of_file(gz_path, want);
	assert_string_equal(b.sha, want);
	sha256_of_file(plain, want);
	assert_string_equal(a.sha, want);

	/* Corrupt the compressed bytes in the middle: analysed up to there, with a warning. */
	size_t gz_len;
	char *gz_bytes = slurp_file(gz_path, &gz_len);
	for (size_t i = gz_len / 2; i < gz_len / 2 + 64 && i < gz_len; i++)
		gz_bytes[i] = (char)0x55;
	char *broken = write_file(dir, "broken.pcap.gz", gz_bytes, gz_len);
	struct read_result c;
	read_all(broken, &c);
	assert_int_equal(c.rc, 0);
	assert_true(c.cut_short);
	assert_true(c.frames < 162);
	assert_non_null(strstr(c.warning, "gzip"));

	/* Cut the compressed file: the warning says the gzip data was cut, and where. */
	char *cut = write_file(dir, "cut.pcap.gz", gz_bytes, 1000);
	struct read_result e;
	read_all(cut, &e);
	assert_int_equal(e.rc, 0);
	assert_true(e.cut_short);
	assert_true(e.frames > 0 && e.frames < 162);
	assert_non_null(strstr(e.warning, "of the decompressed data"));
	assert_non_null(strstr(e.warning, "the compressed file was cut at byte 1000"));
	free(cut);

	/* Text inside gzip is still no capture, and the refusal says so. */
	char text_gz[600];
	snprintf(text_gz, sizeof text_gz, "%s/notes.gz", dir);
	gz = gzopen(text_gz, "wb");
	gzputs(gz, "just some notes, not a capture\n");
	gzclose(gz);
	struct read_result d;
	read_all(text_gz, &d);
	assert_int_equal(d.rc, 3);
	assert_non_null(strstr(d.message, "inside the gzip compression"));

	free(broken);
	free(gz_bytes);
	free(data);
	free(plain);
	remove_temp_dir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mixed_link_types_both_byte_orders),
		cmocka_unit_test(mixed_link_types_are_dissected),
		cmocka_unit_test(timestamps_out_of_range_are_clamped),
		cmocka_unit_test(modified_pcap_is_read),
		cmocka_unit_test(cut_inside_a_block),
		cmocka_unit_test(hostile_block_lengths),
		cmocka_unit_test(gzip_compressed_sample),
		cmocka_unit_test(small_blocks_are_read_in_large_reads),
		cmocka_unit_test(block_lengths_in_both_byte_orders),
		cmocka_unit_test(odd_timestamp_resolutions),
		cmocka_unit_test(link_types_are_judged_by_the_packets),
		cmocka_unit_test(limit_message_names_the_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
