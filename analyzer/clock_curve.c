#include <stdlib.h>

#include "analyzer/clock_curve.h"
#include "analyzer/radix_sort.h"

enum {
	/* A knot is the median of at least this many delays... */
	RUN_POINTS = 8,
	/* ...sorted here by insertion, more by radix. */
	SMALL_RUN = 32,
};
/* ...over at least this long: drift shows over seconds, a NAT's jitter within a burst. */
#define RUN_SPAN_NS ((int64_t)2 * 1000 * 1000 * 1000)
/* The knots tell a trend to go on with past their ends only over at least this long... */
#define TREND_SPAN_NS ((int64_t)60 * 1000 * 1000 * 1000)
/* ...a line through delays within their span, over this long. */
#define LINE_SPAN_NS ((int64_t)10 * 1000 * 1000 * 1000)

static int64_t saturate(double v)
{
	if (v >= 9.2e18)
		return INT64_MAX;
	if (v <= -9.2e18)
		return INT64_MIN;
	return (int64_t)v;
}

static int64_t add(int64_t t, int64_t d)
{
	if (d > 0 && t > INT64_MAX - d)
		return INT64_MAX;
	if (d < 0 && t < INT64_MIN - d)
		return INT64_MIN;
	return t + d;
}

static int64_t sub(int64_t t, int64_t d)
{
	return d == INT64_MIN ? add(add(t, INT64_MAX), 1) : add(t, -d);
}

/* b - a for a <= b, exact whatever the values (timestamps come from hostile files). */
static uint64_t distance(int64_t a, int64_t b)
{
	return (uint64_t)b - (uint64_t)a;
}

/* Halfway between a <= b, without overflow. */
static int64_t halfway(int64_t a, int64_t b)
{
	return (int64_t)((uint64_t)a + distance(a, b) / 2);
}

int64_t clock_max_drift(int64_t span)
{
	if (span <= 0)
		return 0;
	return span / 1000000 * MAX_DRIFT_PPM + span % 1000000 * MAX_DRIFT_PPM / 1000000;
}

struct clock_curve clock_curve_constant(int64_t offset)
{
	return (struct clock_curve){ NULL, 0, offset, 0.0 };
}

void clock_curve_free(struct clock_curve *c)
{
	free(c->knots);
	*c = clock_curve_constant(0);
}

void clock_curve_shift(struct clock_curve *c, int64_t by)
{
	c->constant = add(c->constant, by);
	for (size_t i = 0; i < c->n; i++)
		c->knots[i].d = add(c->knots[i].d, by);
}

static void insertion_sort(int64_t *v, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		int64_t x = v[i];
		size_t j = i;
		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

static int median(int64_t *v, size_t n, int64_t *out)
{
	if (n <= SMALL_RUN)
		insertion_sort(v, n);
	else if (radix_sort_i64(v, n) != 0)
		return -1;
	*out = n % 2 ? v[n / 2] : halfway(v[n / 2 - 1], v[n / 2]);
	return 0;
}

/* Where the run that starts at `first` ends: enough points over enough time, the rest if too few are left. */
static size_t run_end(const struct clock_point *p, size_t n, size_t first)
{
	int64_t start = clock_point_time(p[first].key);
	size_t end = first + RUN_POINTS < n ? first + RUN_POINTS : n;
	while (end < n && distance(start, clock_point_time(p[end - 1].key)) < (uint64_t)RUN_SPAN_NS)
		end++;
	if (end < n && (n - end < RUN_POINTS || distance(clock_point_time(p[end].key),
							 clock_point_time(p[n - 1].key)) < (uint64_t)RUN_SPAN_NS))
		end = n;
	return end;
}

/* Each knot within MAX_DRIFT_PPM of the one before it. */
static void limit_slopes(struct clock_knot *k, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		uint64_t dt = distance(k[i - 1].t, k[i].t);
		int64_t most = dt > INT64_MAX ? INT64_MAX : clock_max_drift((int64_t)dt);
		int64_t lo = add(k[i - 1].d, -most), hi = add(k[i - 1].d, most);
		k[i].d = k[i].d < lo ? lo : k[i].d > hi ? hi : k[i].d;
	}
}

/*
 * The median of the slopes from each point to the first one an eighth of the
 * span (and RUN_SPAN_NS) later, held within MAX_DRIFT_PPM; 0 over less than
 * min_span. Over that gap a NAT's jitter of tens of microseconds is a
 * few ppm, and few of the slopes straddle a change from one alignment of the
 * copies to another a probe apart (which slopes between points half the set
 * apart would, half of them). v is scratch for n values. -1 when out of memory.
 */
static int robust_slope(const struct clock_point *p, size_t n, int64_t min_span, int64_t *v, double *slope)
{
	/* Slopes in parts per 10^12, held within MAX_DRIFT_PPM (which the median then is too). */
	const double scale = 1e12, most = MAX_DRIFT_PPM / 1e6;
	*slope = 0;
	uint64_t span = n ? distance(clock_point_time(p[0].key), clock_point_time(p[n - 1].key)) : 0;
	if (span < (uint64_t)min_span)
		return 0;
	uint64_t gap = span / 8 > (uint64_t)RUN_SPAN_NS ? span / 8 : (uint64_t)RUN_SPAN_NS;
	size_t m = 0;
	for (size_t i = 0, j = 0; i < n; i++) {
		int64_t ti = clock_point_time(p[i].key);
		while (j < n && distance(ti, clock_point_time(p[j].key)) < gap)
			j++;
		if (j == n)
			break;
		double dt = (double)distance(ti, clock_point_time(p[j].key));
		double s = ((double)p[j].d - (double)p[i].d) / dt;
		v[m++] = (int64_t)((s > most ? most : s < -most ? -most : s) * scale);
	}
	int64_t mid = 0;
	if (m > 0 && median(v, m, &mid) != 0)
		return -1;
	*slope = (double)mid / scale;
	return 0;
}

/* The median of p[0..n)'s delays moved along `slope` to time t. v is scratch for n values. */
static int median_at(const struct clock_point *p, size_t n, double slope, int64_t t, int64_t *v, int64_t *out)
{
	for (size_t i = 0; i < n; i++) {
		int64_t ti = clock_point_time(p[i].key);
		double along = ti < t ? -(double)distance(ti, t) : (double)distance(t, ti);
		v[i] = add(p[i].d, saturate(-slope * along));
	}
	return median(v, n, out);
}

int clock_curve_fit(struct clock_curve *c, struct clock_point *p, size_t n)
{
	*c = clock_curve_constant(0);
	if (n == 0)
		return 0;
	int64_t *scratch = malloc(n * sizeof *scratch);
	struct clock_knot *k = malloc((n / RUN_POINTS + 1) * sizeof *k);
	double slope;
	if (!scratch || !k || radix_sort_by_key(p, n, sizeof *p) != 0 || robust_slope(p, n, TREND_SPAN_NS, scratch, &slope) != 0) {
		free(scratch);
		free(k);
		return -1;
	}
	/* Each run's delays moved along the trend to its middle: a chance value or two
	 * among them then shifts the median by no more than the NAT's jitter. */
	size_t knots = 0;
	for (size_t first = 0, end; first < n; first = end) {
		end = run_end(p, n, first);
		k[knots].t = halfway(clock_point_time(p[first].key), clock_point_time(p[end - 1].key));
		if (median_at(p + first, end - first, slope, k[knots].t, scratch, &k[knots].d) != 0) {
			free(scratch);
			free(k);
			return -1;
		}
		knots++;
	}
	free(scratch);
	limit_slopes(k, knots);
	c->knots = k;
	c->n = knots;
	c->constant = k[0].d;
	c->slope = slope;
	return 0;
}

int clock_curve_fit_line(struct clock_curve *c, struct clock_point *p, size_t n)
{
	*c = clock_curve_constant(0);
	if (n == 0)
		return 0;
	struct clock_knot *k = malloc(sizeof *k);
	int64_t *v = malloc(n * sizeof *v);
	double slope;
	if (!k || !v || radix_sort_by_key(p, n, sizeof *p) != 0 || robust_slope(p, n, LINE_SPAN_NS, v, &slope) != 0) {
		free(k);
		free(v);
		return -1;
	}
	/* The line through the middle time, at the median of what the slope leaves. */
	k->t = halfway(clock_point_time(p[0].key), clock_point_time(p[n - 1].key));
	int rc = median_at(p, n, slope, k->t, v, &k->d);
	free(v);
	if (rc != 0) {
		free(k);
		return -1;
	}
	c->knots = k;
	c->n = 1;
	c->constant = k->d;
	c->slope = slope;
	return 0;
}

int64_t clock_curve_at(const struct clock_curve *c, int64_t t)
{
	if (c->n == 0)
		return c->constant;
	const struct clock_knot *k = c->knots;
	if (t <= k[0].t)
		return add(k[0].d, saturate(-c->slope * (double)distance(t, k[0].t)));
	if (t >= k[c->n - 1].t)
		return add(k[c->n - 1].d, saturate(c->slope * (double)distance(k[c->n - 1].t, t)));
	size_t lo = 0, hi = c->n - 1; /* k[lo].t <= t < k[hi].t */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (k[mid].t <= t)
			lo = mid;
		else
			hi = mid;
	}
	double along = (double)distance(k[lo].t, t) / (double)distance(k[lo].t, k[hi].t);
	return add(k[lo].d, saturate(along * ((double)k[hi].d - (double)k[lo].d)));
}

int64_t clock_curve_guest_time(const struct clock_curve *c, int64_t h)
{
	/* t = h - offset(t): each step takes the error down by the slope (0.5 % at most),
	 * so a day's offset is exact to the nanosecond within six. */
	int64_t t = sub(h, clock_curve_at(c, h));
	for (int step = 0; step < 8; step++) {
		int64_t next = sub(h, clock_curve_at(c, t));
		if (next == t)
			break;
		t = next;
	}
	return t;
}

int64_t clock_curve_change(const struct clock_curve *c, int64_t a, int64_t b)
{
	int64_t lo = clock_curve_at(c, a), hi = lo;
	for (size_t i = 0; i < c->n; i++)
		if (c->knots[i].t > a && c->knots[i].t < b) {
			lo = c->knots[i].d < lo ? c->knots[i].d : lo;
			hi = c->knots[i].d > hi ? c->knots[i].d : hi;
		}
	int64_t end = clock_curve_at(c, b);
	lo = end < lo ? end : lo;
	hi = end > hi ? end : hi;
	return (int64_t)(distance(lo, hi) > INT64_MAX ? INT64_MAX : distance(lo, hi));
}
