/*
 * The progress line's wording and arithmetic (drawing it needs a terminal),
 * and what reaches the terminal of a file name: no control character raw.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "analyzer/progress.h"
#include "reports/escape.h"

static void assert_no_control_bytes(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		assert_true(*p >= 0x20 && *p != 0x7f);
}

static void with_known_size(void **state)
{
	(void)state;
	char line[200];
	/* 0.5 GB of 2 GB in 2 s at 1.7 M packets/s: 6 s left */
	progress_format(line, sizeof line, "big.pcap", 500000000u, 2000000000u, 3400000u, 2.0);
	assert_string_equal(line, "big.pcap: 500 MB of 2.00 GB (25%), 1.7 M packets/s, 0:06 left");
	progress_format(line, sizeof line, "big.pcap", 1999000000u, 2000000000u, 13600000u, 150.0);
	assert_string_equal(line, "big.pcap: 2.00 GB of 2.00 GB (99%), 91 k packets/s, 0:00 left");
	progress_format(line, sizeof line, "slow.pcap.gz", 12500000u, 50000000u, 900u, 100.0);
	assert_string_equal(line, "slow.pcap.gz: 12.5 MB of 50.0 MB (25%), 9 packets/s, 5:00 left");
}

/* A pipe has no size: no percentage and no time left, only what was read. */
static void with_unknown_size(void **state)
{
	(void)state;
	char line[200];
	progress_format(line, sizeof line, "-", 64000u, 0, 10u, 1.0);
	assert_string_equal(line, "-: 64.0 kB read, 10 packets/s");
}

/* Nothing read yet, or a reader ahead of the size it was given: no division by zero, no 101%. */
static void at_the_edges(void **state)
{
	(void)state;
	char line[200];
	progress_format(line, sizeof line, "a.pcap", 0, 1000u, 0, 0.0);
	assert_string_equal(line, "a.pcap: 0 B of 1.00 kB (0%), 0 packets/s");
	progress_format(line, sizeof line, "a.pcap", 5000u, 1000u, 10u, 1.0);
	assert_string_equal(line, "a.pcap: 1.00 kB of 1.00 kB (100%), 10 packets/s, 0:00 left");
}

/* A silent display never draws (the read loop calls it regardless). */
static void silent_display(void **state)
{
	(void)state;
	struct progress p;
	progress_start(&p, NULL, "a.pcap", 1000u);
	progress_tick(&p, 10u, 10u);
	progress_end(&p);
	assert_int_equal(p.width_drawn, 0);
}

/* ESC, BEL, a line feed, C1 CSI (U+009B), a stray byte: \xNN each; UTF-8 text stays. */
static void control_characters_are_escaped(void **state)
{
	(void)state;
	char out[200];
	terminal_escape(out, sizeof out, "a\x1b]0;owned\x07\x1b[2J\nb\tc\x7f\xc2\x9b\xff caf\xc3\xa9.pcap");
	assert_string_equal(out, "a\\x1b]0;owned\\x07\\x1b[2J\\x0ab\\x09c\\x7f\\xc2\\x9b\\xff caf\xc3\xa9.pcap");
	assert_no_control_bytes(out);
	/* Cut short to fit, never inside an escape or a character. */
	terminal_escape(out, 7, "ab\x1b[31m");
	assert_string_equal(out, "ab\\x1b");
	terminal_escape(out, 6, "ab\x1b[31m");
	assert_string_equal(out, "ab");
	terminal_escape(out, 5, "abc\xc3\xa9");
	assert_string_equal(out, "abc");
	terminal_escape(out, sizeof out, NULL);
	assert_string_equal(out, "");
}

static void progress_line_escapes_the_name(void **state)
{
	(void)state;
	char line[200];
	progress_format(line, sizeof line, "evil\x1b[2K\r.pcap", 500u, 1000u, 10u, 1.0);
	assert_string_equal(line, "evil\\x1b[2K\\x0d.pcap: 500 B of 1.00 kB (50%), 10 packets/s, 0:01 left");
	assert_no_control_bytes(line);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(with_known_size),
		cmocka_unit_test(with_unknown_size),
		cmocka_unit_test(at_the_edges),
		cmocka_unit_test(silent_display),
		cmocka_unit_test(control_characters_are_escaped),
		cmocka_unit_test(progress_line_escapes_the_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
