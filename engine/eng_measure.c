/*
 * eng_measure.c — monotonic clock and order statistics over samples.
 *
 * Quantiles use linear interpolation between closest ranks (rank
 * p/100 * (n - 1), the "type 7" rule of R and NumPy's default), so figures
 * agree with what a student computes in Python from the same samples.
 */
#include "eng_measure.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pl_err.h"

uint64_t eng_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

double eng_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* NaNs sort last, so a stray NaN cannot break qsort's ordering contract. */
static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  if (isnan(x) || isnan(y)) return isnan(x) - isnan(y);
  return (x > y) - (x < y);
}

static double sorted_percentile(const double *s, int n, double p) {
  if (p <= 0) return s[0];
  if (p >= 100) return s[n - 1];
  double rank = p / 100.0 * (double)(n - 1);
  int lo = (int)rank;
  double frac = rank - (double)lo;
  if (lo + 1 >= n || frac == 0) return s[lo];
  return s[lo] + frac * (s[lo + 1] - s[lo]);
}

static double *sorted_copy(const double *samples, int n) {
  double *s = malloc((size_t)n * sizeof *s);
  if (!s) return NULL;
  memcpy(s, samples, (size_t)n * sizeof *s);
  qsort(s, (size_t)n, sizeof *s, cmp_double);
  return s;
}

int eng_stats_compute(const double *samples, int n, eng_stats *out) {
  if (!samples || !out || n < 1) return PL_EINVAL;
  double *s = sorted_copy(samples, n);
  if (!s) return PL_ENOMEM;
  double sum = 0;
  for (int i = 0; i < n; i++) sum += s[i];
  out->n = n;
  out->min = s[0];
  out->max = s[n - 1];
  out->mean = sum / n;
  out->median = sorted_percentile(s, n, 50);
  out->q1 = sorted_percentile(s, n, 25);
  out->q3 = sorted_percentile(s, n, 75);
  out->spread = out->median != 0 ? (out->q3 - out->q1) / out->median : 0;
  free(s);
  return 0;
}

double eng_percentile(const double *samples, int n, double p) {
  if (!samples || n < 1 || isnan(p)) return NAN;
  double *s = sorted_copy(samples, n);
  if (!s) return NAN;
  double v = sorted_percentile(s, n, p);
  free(s);
  return v;
}
