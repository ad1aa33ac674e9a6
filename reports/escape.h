/*
 * Text that came from outside (file names, paths, libpcap's messages) may hold
 * bytes that are not UTF-8, or characters XML cannot carry. Both report writers
 * pass every string through here, so that what one writer shows the other
 * shows too, byte for byte; and every message to the terminal too (errors,
 * warnings, the progress line, the verdict), where an escape sequence in a
 * file name could recolour, retitle or rewrite what the user reads.
 *
 * Invalid input becomes U+FFFD: one per maximal ill-formed subsequence (the
 * Unicode and WHATWG practice), and one per control character or XML-forbidden
 * noncharacter (U+FFFE, U+FFFF). Tab, line feed and carriage return stay.
 */
#ifndef TTLSLEUTH_REPORTS_ESCAPE_H
#define TTLSLEUTH_REPORTS_ESCAPE_H

#include <stdio.h>

/* A sanitised copy (caller frees); "" for NULL; NULL only when out of memory. */
char *text_sanitize(const char *text);

/* Writes text sanitised, with & < > " ' escaped: safe in element content and
 * in quoted attribute values, in HTML and in XML alike. NULL writes nothing. */
void html_escape(FILE *out, const char *text);

/*
 * For a terminal: every control character (C0 with tab and line feed, DEL, C1)
 * and every byte that is not part of valid UTF-8 becomes \xNN, byte by byte,
 * so that the text shows what it holds and stays on one line. Writes at most
 * size bytes with the NUL, never cutting an escape or a character.
 */
void terminal_escape(char *out, size_t size, const char *text);

/* printf for a terminal: the formatted text through terminal_escape, then a line end. */
void terminal_line(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
