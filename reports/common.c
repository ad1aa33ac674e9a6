#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "reports/common.h"

static const int64_t ns_per_s = 1000000000;

bool format_timestamp(int64_t ns, char *out, size_t size)
{
	/* Floor division, so that times before 1970 keep a positive fraction. */
	int64_t seconds = ns / ns_per_s;
	int64_t fraction = ns % ns_per_s;
	if (fraction < 0) {
		fraction += ns_per_s;
		seconds--;
	}
	time_t t = (time_t)seconds;
	struct tm tm;
	out[0] = '\0';
	if ((int64_t)t != seconds || !gmtime_r(&t, &tm))
		return false;
	/* xs:dateTime wants at least four year digits and no year zero or below */
	if (tm.tm_year + 1900 < 1 || tm.tm_year + 1900 > 9999)
		return false;
	int n = snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%09" PRId64 "Z",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec, fraction);
	if (n < 0 || (size_t)n >= size) {
		out[0] = '\0';
		return false;
	}
	return true;
}

void format_ms(int64_t ns, char *out, size_t size)
{
	const char *sign = ns < 0 ? "-" : "";
	/* In unsigned arithmetic so that INT64_MIN has a magnitude too. */
	uint64_t magnitude = ns < 0 ? 0 - (uint64_t)ns : (uint64_t)ns;
	uint64_t us = magnitude / 1000 + (magnitude % 1000 >= 500);
	snprintf(out, size, "%s%" PRIu64 ".%03" PRIu64, sign, us / 1000, us % 1000);
}

bool reply_is_icmp_error(enum reply_kind kind)
{
	return kind == REPLY_TIME_EXCEEDED || kind == REPLY_UNREACHABLE ||
	       kind == REPLY_OTHER_ERROR;
}

const char *capture_side_of(const struct case_model *cm, uint32_t capture)
{
	if (capture >= cm->n_captures || capture >= 2)
		return NULL;
	return side_name(cm->captures[capture].side);
}

int known_ttl(int value)
{
	return value >= 0 && value <= 255 ? value : -1;
}

void tally_protocols(const struct case_model *cm, struct protocol_tally tally[PROTOCOL_KINDS])
{
	memset(tally, 0, sizeof *tally * PROTOCOL_KINDS);
	for (size_t i = 0; i < cm->traces.len; i++) {
		const struct trace *t = &cm->traces.items[i];
		if ((unsigned)t->proto >= PROTOCOL_KINDS || (unsigned)t->verdict >= VERDICT_KINDS)
			continue;
		tally[t->proto].traces++;
		tally[t->proto].by_verdict[t->verdict]++;
	}
}
