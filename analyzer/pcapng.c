#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/pcapng.h"
#include "dissectors/cursor.h"
#include "dissectors/dissect.h"

enum {
	BLOCK_SECTION_HEADER = 0x0A0D0D0A,
	BLOCK_INTERFACE = 1,
	BLOCK_OBSOLETE_PACKET = 2,
	BLOCK_SIMPLE_PACKET = 3,
	BLOCK_ENHANCED_PACKET = 6,
	BYTE_ORDER_MAGIC = 0x1A2B3C4D, /* read big-endian: as written by a big-endian writer */
	BYTE_ORDER_MAGIC_SWAPPED = 0x4D3C2B1A,
	/* libpcap's ceiling too: no real block comes near it, a hostile length does. */
	MAX_BLOCK = 16 * 1024 * 1024,
	MIN_BLOCK = 12,
	MAX_INTERFACES = 4096,
	OPTION_END = 0,
	OPTION_TSRESOL = 9,
	OPTION_TSOFFSET = 14,
};

struct interface {
	int linktype;
	uint32_t snaplen;
	uint8_t tsresol; /* bit 7 set: 2^-n seconds, else 10^-n; default 6 (microseconds) */
	int64_t tsoffset_s;
	uint64_t block_offset; /* where its description block starts, for refusals */
};

struct pcapng_reader {
	struct byte_source *src;
	struct capture *info;
	bool big_endian;
	struct interface *ifs;
	size_t n_ifs;
	uint8_t *block;
	size_t block_cap;
	uint64_t block_offset; /* where the current block starts, for messages */
	char problem[200];     /* why reading stopped */
	uint64_t next_number;
	bool have_pending; /* a packet read while opening, served first */
	struct frame pending;
	bool finished;
	/* A file is judged by the link types of the interfaces its packets are on, known only at its end. */
	bool readable_frame; /* a packet on a link type we dissect */
	bool have_unread;
	struct interface unread; /* the first interface carrying packets we cannot dissect */
};

static bool cur32(const struct pcapng_reader *r, struct cursor *c, uint32_t *out)
{
	return r->big_endian ? cursor_be32(c, out) : cursor_le32(c, out);
}

static bool cur16(const struct pcapng_reader *r, struct cursor *c, uint16_t *out)
{
	return r->big_endian ? cursor_be16(c, out) : cursor_le16(c, out);
}

/* Stops the reading: what came before stays analysed, and the warning says where and why. */
static int stop(struct pcapng_reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int stop(struct pcapng_reader *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->problem, sizeof r->problem, fmt, ap);
	va_end(ap);
	r->finished = true;
	capture_mark_cut(r->info, r->block_offset, r->next_number, r->problem);
	return -1;
}

static bool grow_block(struct pcapng_reader *r, size_t need)
{
	if (need <= r->block_cap)
		return true;
	size_t cap = r->block_cap ? r->block_cap : 64 * 1024;
	while (cap < need)
		cap *= 2;
	uint8_t *b = realloc(r->block, cap);
	if (!b)
		return false;
	r->block = b;
	r->block_cap = cap;
	return true;
}

/*
 * Reads the next block into r->block; *body is the part between the length
 * fields. 1 for a block, 0 at a clean end of file, -1 when reading stopped.
 * Every field is read through a cursor over the bytes as read.
 */
static int read_block(struct pcapng_reader *r, uint32_t *type, struct cursor *body)
{
	uint8_t head[8];
	size_t got;
	r->block_offset = source_offset(r->src);
	if (!source_read_exact(r->src, head, sizeof head, &got)) {
		if (got == 0 && !source_problem(r->src))
			return 0;
		return source_problem(r->src) ? stop(r, "%s", source_problem(r->src))
					       : stop(r, "the file ends inside a block header");
	}
	struct cursor h = cursor_make(head, sizeof head);
	uint32_t length;
	/* The section header's type reads the same in both byte orders. */
	cur32(r, &h, type);
	size_t header = sizeof head;
	if (*type == BLOCK_SECTION_HEADER) {
		/* A new section may switch byte order: its magic says which, and so how to read its length. */
		uint8_t magic[4];
		if (!source_read_exact(r->src, magic, sizeof magic, &got))
			return stop(r, "the file ends inside a section header");
		struct cursor m = cursor_make(magic, sizeof magic);
		uint32_t order;
		cursor_be32(&m, &order);
		if (order == BYTE_ORDER_MAGIC)
			r->big_endian = true;
		else if (order == BYTE_ORDER_MAGIC_SWAPPED)
			r->big_endian = false;
		else
			return stop(r, "section header with an unknown byte-order magic");
		header += sizeof magic;
	}
	cur32(r, &h, &length);
	if (length < MIN_BLOCK || length % 4 != 0 || length > MAX_BLOCK || length < header + 4)
		return stop(r, "block of type 0x%08x claims a length of %u bytes", *type, length);
	size_t rest = length - header; /* body and trailing length */
	if (!grow_block(r, rest))
		return stop(r, "out of memory for a block of %u bytes", length);
	if (!source_read_exact(r->src, r->block, rest, &got))
		return source_problem(r->src)
			       ? stop(r, "%s", source_problem(r->src))
			       : stop(r,
				      "block of type 0x%08x claims %u bytes, but the file ends %zu bytes "
				      "short of that (the file was cut, or the length is damaged)",
				      *type, length, rest - got);
	struct cursor block = cursor_make(r->block, rest);
	*body = cursor_take(&block, rest - 4, NULL);
	uint32_t trailing;
	cur32(r, &block, &trailing);
	if (trailing != length)
		return stop(r, "block of type 0x%08x: its trailing length %u differs from its length %u",
			    *type, trailing, length);
	return 1;
}

static int read_section_header(struct pcapng_reader *r, struct cursor body)
{
	uint16_t major, minor;
	if (!cur16(r, &body, &major) || !cur16(r, &body, &minor))
		return stop(r, "section header too short");
	if (major != 1)
		return stop(r, "unsupported pcapng version %u.%u", major, minor);
	/* Interface ids are per section. */
	r->n_ifs = 0;
	return 0;
}

static void read_interface_options(struct pcapng_reader *r, struct cursor opts, struct interface *in)
{
	uint16_t code, len;
	while (cur16(r, &opts, &code) && cur16(r, &opts, &len) && code != OPTION_END) {
		size_t padded = ((size_t)len + 3) & ~(size_t)3;
		struct cursor value = cursor_take(&opts, padded, NULL);
		cursor_limit(&value, len);
		if (code == OPTION_TSRESOL && len == 1) {
			cursor_u8(&value, &in->tsresol);
		} else if (code == OPTION_TSOFFSET && len == 8) {
			uint32_t a, b;
			cur32(r, &value, &a);
			cur32(r, &value, &b);
			uint64_t v = r->big_endian ? (uint64_t)a << 32 | b : (uint64_t)b << 32 | a;
			in->tsoffset_s = (int64_t)v;
		}
	}
}

static int read_interface(struct pcapng_reader *r, struct cursor body)
{
	uint16_t linktype, reserved;
	uint32_t snaplen;
	if (!cur16(r, &body, &linktype) || !cur16(r, &body, &reserved) || !cur32(r, &body, &snaplen))
		return stop(r, "interface description too short");
	if (r->n_ifs == MAX_INTERFACES)
		return stop(r, "more than %d interfaces", MAX_INTERFACES);
	struct interface *grown = realloc(r->ifs, (r->n_ifs + 1) * sizeof *grown);
	if (!grown)
		return stop(r, "out of memory for interface %zu", r->n_ifs);
	r->ifs = grown;
	struct interface *in = &r->ifs[r->n_ifs++];
	in->linktype = dissect_linktype_from_dlt(linktype);
	in->snaplen = snaplen;
	in->tsresol = 6;
	in->tsoffset_s = 0;
	in->block_offset = r->block_offset;
	read_interface_options(r, body, in);
	r->info->interfaces++;
	return 0;
}

static const uint64_t powers_of_ten[20] = {
	1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull, 100000000ull,
	1000000000ull, 10000000000ull, 100000000000ull, 1000000000000ull, 10000000000000ull,
	100000000000000ull, 1000000000000000ull, 10000000000000000ull, 100000000000000000ull,
	1000000000000000000ull, 10000000000000000000ull,
};

/*
 * Units of the interface's clock to nanoseconds since the epoch, clamped to
 * int64; truncated, as Wireshark does. units * 10^9 < 2^94 fits in 128 bits,
 * so every 2^-n resolution (n up to 127) is exact; from 2^-94 on, even 2^64
 * units make less than a nanosecond.
 */
static int64_t to_ns(const struct interface *in, uint64_t units)
{
	unsigned exp = in->tsresol & 0x7f;
	__int128 ns;
	if (in->tsresol & 0x80)
		ns = (__int128)(((unsigned __int128)units * 1000000000u) >> exp);
	else if (exp <= 9)
		ns = (__int128)units * powers_of_ten[9 - exp];
	else if (exp - 9 < 20)
		ns = units / powers_of_ten[exp - 9];
	else
		ns = 0; /* 10^-29 s and finer: 2^64 units are less than a nanosecond */
	ns += (__int128)in->tsoffset_s * 1000000000;
	if (ns > INT64_MAX)
		return INT64_MAX;
	if (ns < INT64_MIN)
		return INT64_MIN;
	return (int64_t)ns;
}

static int fill_frame(struct pcapng_reader *r, struct frame *f, uint32_t if_id, uint64_t units,
		      uint32_t caplen, uint32_t wirelen, struct cursor *body)
{
	if (if_id >= r->n_ifs)
		return stop(r, "packet of interface %u, but the section describes %zu", if_id, r->n_ifs);
	if (!cursor_has(body, caplen))
		return stop(r, "packet claims %u captured bytes, its block holds %zu", caplen, body->left);
	const struct interface *in = &r->ifs[if_id];
	f->number = r->next_number++;
	f->ts_ns = to_ns(in, units);
	f->caplen = caplen;
	f->wirelen = wirelen;
	f->linktype = in->linktype;
	f->interface = if_id;
	f->data = body->p;
	if (dissect_link_supported(in->linktype)) {
		r->readable_frame = true;
	} else if (!r->have_unread) {
		r->unread = *in;
		r->have_unread = true;
	}
	return 1;
}

/* Reads blocks until a packet: 1 with *f, 0 at the end, -1 stopped. */
static int next_packet(struct pcapng_reader *r, struct frame *f)
{
	for (;;) {
		uint32_t type;
		struct cursor body;
		int rc = read_block(r, &type, &body);
		if (rc <= 0)
			return rc;
		uint32_t if_id, hi, lo, caplen, wirelen;
		uint16_t if16, drops;
		switch (type) {
		case BLOCK_SECTION_HEADER:
			if (read_section_header(r, body) != 0)
				return -1;
			break;
		case BLOCK_INTERFACE:
			if (read_interface(r, body) != 0)
				return -1;
			break;
		case BLOCK_ENHANCED_PACKET:
			if (!cur32(r, &body, &if_id) || !cur32(r, &body, &hi) || !cur32(r, &body, &lo) ||
			    !cur32(r, &body, &caplen) || !cur32(r, &body, &wirelen))
				return stop(r, "enhanced packet block too short");
			return fill_frame(r, f, if_id, (uint64_t)hi << 32 | lo, caplen, wirelen, &body);
		case BLOCK_SIMPLE_PACKET:
			if (!cur32(r, &body, &wirelen))
				return stop(r, "simple packet block too short");
			if (r->n_ifs == 0)
				return stop(r, "simple packet before any interface description");
			caplen = wirelen;
			if (caplen > body.left)
				caplen = (uint32_t)body.left;
			if (r->ifs[0].snaplen && caplen > r->ifs[0].snaplen)
				caplen = r->ifs[0].snaplen;
			return fill_frame(r, f, 0, 0, caplen, wirelen, &body);
		case BLOCK_OBSOLETE_PACKET:
			if (!cur16(r, &body, &if16) || !cur16(r, &body, &drops) || !cur32(r, &body, &hi) ||
			    !cur32(r, &body, &lo) || !cur32(r, &body, &caplen) || !cur32(r, &body, &wirelen))
				return stop(r, "packet block too short");
			return fill_frame(r, f, if16, (uint64_t)hi << 32 | lo, caplen, wirelen, &body);
		default:
			/* Name resolution, statistics, secrets, custom blocks: nothing for us. */
			break;
		}
	}
}

/*
 * The refusal of a file whose packets are all on interfaces we cannot
 * dissect (802.11 radio, CAN...), naming the first such interface. Packets on
 * such an interface beside readable ones are read, numbered like the others
 * (as Wireshark numbers them) and counted as link.unsupported_type.
 */
static void refuse_links(struct pcapng_reader *r, const struct interface *in)
{
	const char *name = pcap_datalink_val_to_name(in->linktype);
	snprintf(r->info->refusal, sizeof r->info->refusal,
		 "%s: at byte %llu%s: unsupported link type %d (%s) in the interface description%s",
		 r->info->path, (unsigned long long)in->block_offset,
		 r->info->compressed ? " inside the gzip compression" : "", in->linktype,
		 name ? name : "unknown",
		 r->n_ifs > 1 ? "; no packet of the file is on an interface of a link type ttlsleuth reads"
			      : "");
}

struct pcapng_reader *pcapng_open(struct byte_source *src, struct capture *info, struct error *err)
{
	struct pcapng_reader *r = calloc(1, sizeof *r);
	if (!r) {
		error_set(err, EXIT_INTERNAL, "%s: out of memory", info->path);
		return NULL;
	}
	r->src = src;
	r->info = info;
	r->next_number = 1;

	uint32_t type;
	struct cursor body;
	int rc = read_block(r, &type, &body);
	if (rc > 0 && type != BLOCK_SECTION_HEADER)
		stop(r, "the first block is not a section header");
	if (rc <= 0 || r->finished || read_section_header(r, body) != 0) {
		error_set(err, EXIT_BAD_INPUT, "%s: at byte %llu: not a readable pcapng file: %s",
			  info->path, (unsigned long long)r->block_offset,
			  r->problem[0] ? r->problem : "no section header");
		pcapng_close(r);
		return NULL;
	}
	info->cut_short = false;
	info->warning[0] = '\0';

	/* Read ahead to the first packet: a file of interfaces and no packet is judged now. */
	rc = next_packet(r, &r->pending);
	r->have_pending = rc == 1;
	if (r->n_ifs > 0) {
		info->linktype = r->ifs[0].linktype;
		info->snaplen = r->ifs[0].snaplen;
	}
	bool supported = false;
	for (size_t i = 0; i < r->n_ifs; i++)
		supported |= dissect_link_supported(r->ifs[i].linktype);
	if (!r->have_pending && r->n_ifs > 0 && !supported) {
		refuse_links(r, &r->ifs[0]);
		error_set(err, EXIT_BAD_INPUT, "%s", info->refusal);
		info->refusal[0] = '\0';
		pcapng_close(r);
		return NULL;
	}
	return r;
}

int pcapng_next(struct pcapng_reader *r, struct frame *f)
{
	if (r->have_pending) {
		r->have_pending = false;
		*f = r->pending;
		return 1;
	}
	if (r->finished)
		return 0;
	int rc = next_packet(r, f);
	if (rc <= 0) {
		r->finished = true;
		if (!r->readable_frame && r->have_unread)
			refuse_links(r, &r->unread);
	}
	return rc == 1 ? 1 : 0;
}

void pcapng_close(struct pcapng_reader *r)
{
	if (!r)
		return;
	free(r->ifs);
	free(r->block);
	free(r);
}
