/*
 * bench.h — benchmark suites behind `parlab bench [SUITE...] [--json]`.
 *
 * A suite measures parlab against a reference measured in the same run
 * (libgomp, Python, STREAM, OpenBLAS, raw MPI) and reports each figure as a
 * ratio, as in DESIGN.md §8. Suites never judge absolute times.
 */
#ifndef PL_BENCH_H
#define PL_BENCH_H

typedef struct bench_result {
  char suite[32];
  char name[96];
  char unit[16];           /* "ns", "us", "GB/s", ... */
  double value;            /* parlab's median */
  double spread;           /* relative IQR of parlab's samples */
  char reference[64];      /* "libgomp", "python multiprocessing", ... */
  double reference_value;  /* reference median, same run */
  double ratio;            /* value / reference_value */
  char better[8];          /* "lower" or "higher" */
} bench_result;

typedef struct bench_report bench_report;
/* Append one result (copied). */
int bench_report_add(bench_report *r, const bench_result *res);

typedef struct bench_suite {
  const char *name;        /* "pool" */
  const char *summary;
  int (*run)(bench_report *r); /* 0 ok; negative PL_E* */
} bench_suite;

/* NULL-terminated list of every suite (tests/bench/bench_suites.c). */
extern const bench_suite *const bench_suites[];

#endif
