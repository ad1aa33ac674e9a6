/*
 * The one way packet bytes are read.
 *
 * A cursor is a window {p, left} over captured bytes. Every getter checks the
 * window first and, when the bytes are not there, leaves the cursor untouched
 * and returns false, so a dissector can stop at the exact point where a capture
 * ran out and record how far it got. Nothing outside this header does pointer
 * arithmetic on packet data, and packet bytes are never cast to structs (they
 * are unaligned and may be short).
 */
#ifndef TTLSLEUTH_CURSOR_H
#define TTLSLEUTH_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct cursor {
	const uint8_t *p;
	size_t left;
};

static inline struct cursor cursor_make(const uint8_t *data, size_t len)
{
	struct cursor c = { data, data ? len : 0 };
	return c;
}

static inline bool cursor_has(const struct cursor *c, size_t n)
{
	return c->left >= n;
}

static inline bool cursor_skip(struct cursor *c, size_t n)
{
	if (c->left < n)
		return false;
	c->p += n;
	c->left -= n;
	return true;
}

static inline bool cursor_u8(struct cursor *c, uint8_t *out)
{
	if (c->left < 1)
		return false;
	*out = c->p[0];
	c->p += 1;
	c->left -= 1;
	return true;
}

static inline bool cursor_be16(struct cursor *c, uint16_t *out)
{
	if (c->left < 2)
		return false;
	*out = (uint16_t)((unsigned)c->p[0] << 8 | c->p[1]);
	c->p += 2;
	c->left -= 2;
	return true;
}

static inline bool cursor_le16(struct cursor *c, uint16_t *out)
{
	if (c->left < 2)
		return false;
	*out = (uint16_t)((unsigned)c->p[1] << 8 | c->p[0]);
	c->p += 2;
	c->left -= 2;
	return true;
}

static inline bool cursor_be32(struct cursor *c, uint32_t *out)
{
	if (c->left < 4)
		return false;
	*out = (uint32_t)c->p[0] << 24 | (uint32_t)c->p[1] << 16 |
	       (uint32_t)c->p[2] << 8 | c->p[3];
	c->p += 4;
	c->left -= 4;
	return true;
}

static inline bool cursor_le32(struct cursor *c, uint32_t *out)
{
	if (c->left < 4)
		return false;
	*out = (uint32_t)c->p[3] << 24 | (uint32_t)c->p[2] << 16 |
	       (uint32_t)c->p[1] << 8 | c->p[0];
	c->p += 4;
	c->left -= 4;
	return true;
}

static inline bool cursor_copy(struct cursor *c, void *out, size_t n)
{
	if (c->left < n)
		return false;
	if (n)
		memcpy(out, c->p, n);
	c->p += n;
	c->left -= n;
	return true;
}

/* Reads a byte at an offset without moving; for peeking at a version nibble. */
static inline bool cursor_peek_u8(const struct cursor *c, size_t offset, uint8_t *out)
{
	if (c->left <= offset)
		return false;
	*out = c->p[offset];
	return true;
}

/*
 * Splits off the next n bytes as a window of their own and moves past them.
 * When fewer than n bytes are left the window gets what there is and *short_by
 * says how much is missing: a nested packet (a quote, a payload) is cut to the
 * length its header claims, never allowed to run into what follows it.
 */
static inline struct cursor cursor_take(struct cursor *c, size_t n, size_t *short_by)
{
	size_t got = n <= c->left ? n : c->left;
	struct cursor sub = { c->p, got };
	if (short_by)
		*short_by = n - got;
	c->p += got;
	c->left -= got;
	return sub;
}

/* Narrows a window to at most n bytes (drops padding beyond a length field). */
static inline void cursor_limit(struct cursor *c, size_t n)
{
	if (c->left > n)
		c->left = n;
}

#endif
