/*
 * Host time minus guest time as it changes over a capture.
 *
 * Two clocks nobody keeps in step drift apart by up to a few hundred parts
 * per million (a cheap crystal, a VM's clock that lost ticks), up to a few
 * thousand when badly off: 0.1 ms a second is 60 ms over ten minutes, more
 * than the NAT's delay varies. One offset for the whole capture then fits only
 * its middle. The curve is fitted to the delays of copies already found (a
 * field the NAT kept, or the times): the median of every run of nearby ones,
 * joined by straight lines, and beyond the ends the trend of the whole; each
 * piece no steeper than MAX_DRIFT_PPM, so the order of the probes is kept.
 */
#ifndef TTLSLEUTH_CLOCK_CURVE_H
#define TTLSLEUTH_CLOCK_CURVE_H

#include <stddef.h>
#include <stdint.h>

/* How fast the two clocks may drift apart: 0.5 %, ten times what a clock left alone does. */
#define MAX_DRIFT_PPM 5000

/* One delay measured: `key` is the guest time in sortable form (clock_point_key), `d` host minus guest. */
struct clock_point {
	uint64_t key;
	int64_t d;
};

static inline uint64_t clock_point_key(int64_t t)
{
	return (uint64_t)t ^ (uint64_t)1 << 63;
}

static inline int64_t clock_point_time(uint64_t key)
{
	return (int64_t)(key ^ (uint64_t)1 << 63);
}

struct clock_knot {
	int64_t t, d;
};

struct clock_curve {
	struct clock_knot *knots; /* t ascending; none: the offset is `constant` everywhere */
	size_t n;
	int64_t constant;
	double slope; /* before the first knot and after the last */
};

/* The same offset at every time (no memory to free). */
struct clock_curve clock_curve_constant(int64_t offset);

/* Fits c to the n points, which it sorts by time; -1 when out of memory (c is then constant 0). */
int clock_curve_fit(struct clock_curve *c, struct clock_point *points, size_t n);

/*
 * Fits c to the n points as one straight line: the median of the slopes
 * between points some seconds apart, through the median of what is left.
 * Two alignments of the same copies a probe apart are parallel lines, and
 * fitted so, a mixture of them keeps their common slope, where the pieces of
 * a curve would follow each. -1 when out of memory (c is then constant 0).
 */
int clock_curve_fit_line(struct clock_curve *c, struct clock_point *points, size_t n);

void clock_curve_free(struct clock_curve *c);

/* The same curve, `by` later everywhere. */
void clock_curve_shift(struct clock_curve *c, int64_t by);

/* Host minus guest time at guest time t. */
int64_t clock_curve_at(const struct clock_curve *c, int64_t t);

/* The guest time a host time h corresponds to. */
int64_t clock_curve_guest_time(const struct clock_curve *c, int64_t h);

/* How much the offset changes between guest times a and b (a <= b). */
int64_t clock_curve_change(const struct clock_curve *c, int64_t a, int64_t b);

/* Most a drift within MAX_DRIFT_PPM moves the offset over `span` (never negative). */
int64_t clock_max_drift(int64_t span);

#endif
