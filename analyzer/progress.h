/*
 * A one-line progress display for long runs: bytes read of the file's size,
 * packets per second and the time left, redrawn a few times a second on a
 * terminal. The caller decides whether there is a terminal (cli.c); the read
 * loop only calls progress_tick every few thousand packets, so a run without a
 * display pays one branch per packet and a run with one pays a clock read per
 * tick.
 */
#ifndef TTLSLEUTH_PROGRESS_H
#define TTLSLEUTH_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

/* Packets between two looks at the clock: about a millisecond at full speed. */
#define PROGRESS_TICK_PACKETS 4096u

struct progress {
	FILE *out;            /* NULL: no display */
	const char *name;     /* the capture's file name, as shown */
	uint64_t total_bytes; /* 0 when unknown (a pipe) */
	double started, last_drawn;
	int width_drawn; /* characters of the last line, to clear it */
};

/* Starts a display on out (a terminal), or a silent one when out is NULL. */
void progress_start(struct progress *p, FILE *out, const char *name, uint64_t total_bytes);

/* Redraws when a quarter of a second has passed since the last drawing. */
void progress_tick(struct progress *p, uint64_t bytes, uint64_t packets);

/* Clears the line, so that what is printed next starts on a clean one. */
void progress_end(struct progress *p);

/* The line itself (no control characters), for tests; elapsed in seconds. */
void progress_format(char *buf, size_t size, const char *name, uint64_t bytes, uint64_t total_bytes,
		     uint64_t packets, double elapsed);

#endif
