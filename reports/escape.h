/*
 * Text that came from outside (file names, paths, libpcap's messages) may hold
 * bytes that are not UTF-8, or characters XML cannot carry. Both report writers
 * pass every string through here, so that what one writer shows the other
 * shows too, byte for byte.
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

#endif
