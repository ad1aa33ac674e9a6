#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reports/escape.h"

static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD in UTF-8 */

static bool is_continuation(unsigned char c)
{
	return (c & 0xC0) == 0x80;
}

/*
 * XML 1.0 forbids C0 controls but tab, LF and CR, and U+FFFE/U+FFFF; HTML calls
 * DEL and the C1 controls parse errors. None belongs in a file name shown to a
 * customer, and a terminal escape (ESC) in one is an attack.
 */
static bool is_allowed(uint32_t cp)
{
	if (cp < 0x20)
		return cp == 0x09 || cp == 0x0A || cp == 0x0D;
	if (cp >= 0x7F && cp <= 0x9F)
		return false;
	return cp != 0xFFFE && cp != 0xFFFF;
}

/* The second byte's range depends on the lead: this is what rules out overlong
 * forms, surrogates and code points above U+10FFFF (RFC 3629, section 4). */
static bool second_byte_ok(unsigned char lead, unsigned char c)
{
	switch (lead) {
	case 0xE0:
		return c >= 0xA0 && c <= 0xBF;
	case 0xED:
		return c >= 0x80 && c <= 0x9F;
	case 0xF0:
		return c >= 0x90 && c <= 0xBF;
	case 0xF4:
		return c >= 0x80 && c <= 0x8F;
	default:
		return is_continuation(c);
	}
}

/*
 * Reads one character at s (which is not at its terminating NUL). Returns the
 * bytes it spans; *ok is false when those bytes must become one U+FFFD. A
 * broken sequence spans only its valid prefix, so the byte that broke it is
 * read again as the start of the next character.
 */
static size_t next_char(const unsigned char *s, bool *ok)
{
	unsigned char lead = s[0];
	size_t len;
	uint32_t cp;

	*ok = false;
	if (lead < 0x80) {
		*ok = is_allowed(lead);
		return 1;
	}
	if (lead >= 0xC2 && lead <= 0xDF) {
		len = 2;
		cp = lead & 0x1Fu;
	} else if (lead >= 0xE0 && lead <= 0xEF) {
		len = 3;
		cp = lead & 0x0Fu;
	} else if (lead >= 0xF0 && lead <= 0xF4) {
		len = 4;
		cp = lead & 0x07u;
	} else {
		return 1; /* a stray continuation byte, C0, C1 or F5..FF */
	}
	if (!second_byte_ok(lead, s[1]))
		return 1;
	for (size_t i = 1; i < len; i++) {
		if (!is_continuation(s[i]))
			return i;
		cp = cp << 6 | (s[i] & 0x3Fu);
	}
	*ok = is_allowed(cp);
	return len;
}

char *text_sanitize(const char *text)
{
	if (!text)
		text = "";
	/* Worst case: every byte becomes the three bytes of U+FFFD. */
	size_t in_len = strlen(text);
	char *out = malloc(in_len * 3 + 1);
	if (!out)
		return NULL;
	const unsigned char *s = (const unsigned char *)text;
	size_t n = 0;
	while (*s) {
		bool ok;
		size_t len = next_char(s, &ok);
		if (ok) {
			memcpy(out + n, s, len);
			n += len;
		} else {
			memcpy(out + n, replacement, 3);
			n += 3;
		}
		s += len;
	}
	out[n] = '\0';
	return out;
}

static const char *markup_entity(unsigned char c)
{
	switch (c) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&quot;";
	case '\'':
		return "&#39;"; /* &apos; is not HTML 4, and the page must parse as XML too */
	default:
		return NULL;
	}
}

void html_escape(FILE *out, const char *text)
{
	if (!text)
		return;
	const unsigned char *s = (const unsigned char *)text;
	while (*s) {
		bool ok;
		size_t len = next_char(s, &ok);
		const char *entity = len == 1 ? markup_entity(*s) : NULL;
		if (entity)
			fputs(entity, out);
		else if (ok)
			fwrite(s, 1, len, out);
		else
			fputs(replacement, out);
		s += len;
	}
}

void terminal_escape(char *out, size_t size, const char *text)
{
	if (size == 0)
		return;
	size_t n = 0;
	const unsigned char *s = (const unsigned char *)(text ? text : "");
	while (*s) {
		bool ok;
		size_t len = next_char(s, &ok);
		/* next_char lets tab, line feed and carriage return through (XML keeps them). */
		ok = ok && *s >= 0x20;
		size_t need = ok ? len : 4 * len;
		if (n + need >= size)
			break;
		if (ok) {
			memcpy(out + n, s, len);
			n += len;
		} else {
			for (size_t i = 0; i < len; i++)
				n += (size_t)snprintf(out + n, size - n, "\\x%02x", s[i]);
		}
		s += len;
	}
	out[n] = '\0';
}

void terminal_line(FILE *out, const char *fmt, ...)
{
	/* An error message holds a path or two and a reason: well under 2 kB. */
	char text[2048], shown[4 * sizeof text];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	terminal_escape(shown, sizeof shown, text);
	fputs(shown, out);
	fputc('\n', out);
}
