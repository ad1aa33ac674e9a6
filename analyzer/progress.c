#include <string.h>

#include "analyzer/analyze.h"
#include "analyzer/progress.h"
#include "reports/escape.h"

enum { REDRAW_EVERY_MS = 250, FIRST_DRAW_AFTER_MS = 500 };

void progress_start(struct progress *p, FILE *out, const char *name, uint64_t total_bytes)
{
	memset(p, 0, sizeof *p);
	p->out = out;
	p->name = name;
	p->total_bytes = total_bytes;
	if (out)
		p->started = p->last_drawn = monotonic_seconds();
}

/* "734 MB", "1.95 GB": three significant digits are plenty for a glance. */
static void format_bytes(char *buf, size_t size, uint64_t bytes)
{
	static const char *const units[] = { "B", "kB", "MB", "GB", "TB" };
	double v = (double)bytes;
	size_t u = 0;
	while (v >= 1000 && u + 1 < sizeof units / sizeof units[0]) {
		v /= 1000;
		u++;
	}
	snprintf(buf, size, u && v < 10 ? "%.2f %s" : u && v < 100 ? "%.1f %s" : "%.0f %s", v, units[u]);
}

static void format_rate(char *buf, size_t size, double per_second)
{
	if (per_second >= 1e6)
		snprintf(buf, size, "%.1f M", per_second / 1e6);
	else if (per_second >= 1e3)
		snprintf(buf, size, "%.0f k", per_second / 1e3);
	else
		snprintf(buf, size, "%.0f", per_second);
}

void progress_format(char *buf, size_t size, const char *name, uint64_t bytes, uint64_t total_bytes,
		     uint64_t packets, double elapsed)
{
	char done[16], total[16], rate[16], shown[200];
	/* The name is the user's file's: an escape sequence in it must not reach the terminal. */
	terminal_escape(shown, sizeof shown, name);
	name = shown;
	if (total_bytes && bytes > total_bytes) /* read-ahead past a size taken earlier */
		bytes = total_bytes;
	format_bytes(done, sizeof done, bytes);
	format_rate(rate, sizeof rate, elapsed > 0 ? (double)packets / elapsed : 0);
	if (total_bytes == 0) {
		snprintf(buf, size, "%s: %s read, %s packets/s", name, done, rate);
		return;
	}
	format_bytes(total, sizeof total, total_bytes);
	unsigned percent = (unsigned)(100.0 * (double)bytes / (double)total_bytes);
	if (bytes == 0 || elapsed <= 0) {
		snprintf(buf, size, "%s: %s of %s (%u%%), %s packets/s", name, done, total, percent, rate);
		return;
	}
	double left = elapsed * (double)(total_bytes - bytes) / (double)bytes;
	unsigned long s = (unsigned long)(left + 0.5);
	snprintf(buf, size, "%s: %s of %s (%u%%), %s packets/s, %lu:%02lu left", name, done, total, percent,
		 rate, s / 60, s % 60);
}

void progress_tick(struct progress *p, uint64_t bytes, uint64_t packets)
{
	if (!p->out)
		return;
	double now = monotonic_seconds();
	/* Short runs never draw: a flash of text that vanishes helps nobody. */
	if (now - p->started < FIRST_DRAW_AFTER_MS / 1000.0 || now - p->last_drawn < REDRAW_EVERY_MS / 1000.0)
		return;
	p->last_drawn = now;
	char line[200];
	progress_format(line, sizeof line, p->name, bytes, p->total_bytes, packets, now - p->started);
	/* \r and erase-to-end-of-line: the line is redrawn in place. */
	fprintf(p->out, "\r%s\033[K", line);
	fflush(p->out);
	p->width_drawn = (int)strlen(line);
}

void progress_end(struct progress *p)
{
	if (p->out && p->width_drawn) {
		fputs("\r\033[K", p->out);
		fflush(p->out);
	}
	p->width_drawn = 0;
}
