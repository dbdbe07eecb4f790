/*
 * eng_measure.h — monotonic timers and robust statistics.
 *
 * Timers read CLOCK_MONOTONIC (never jumps with wall-clock changes).
 * Statistics are order statistics over repetitions: medians and spreads,
 * not means, because shared machines produce long-tailed timings.
 * Thread-safe (no shared state).
 */
#ifndef ENG_MEASURE_H
#define ENG_MEASURE_H

#include <stdint.h>

uint64_t eng_now_ns(void);
double eng_now(void); /* seconds */

typedef struct eng_stats {
  int n;
  double min, max, median, mean;
  double q1, q3;   /* quartiles (linear interpolation) */
  double spread;   /* (q3 - q1) / median: relative interquartile range */
} eng_stats;

/* samples is not modified. PL_EINVAL when n < 1, PL_ENOMEM when the
 * sorted copy cannot be made. */
int eng_stats_compute(const double *samples, int n, eng_stats *out);

/* Percentile p in [0,100] of samples (linear interpolation; p outside is
 * clamped). samples is not modified. NaN when n < 1 or out of memory. */
double eng_percentile(const double *samples, int n, double p);

#endif
