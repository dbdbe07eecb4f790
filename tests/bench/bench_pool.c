/*
 * bench_pool.c — the "pool" suite: eng_pool against libgomp, EPCC style.
 *
 * (a) Fork-join overhead: a block of INNER empty regions is timed and
 *     divided by INNER, as in the EPCC syncbench (with an empty body there
 *     is no reference delay to subtract). Both sides use the same thread
 *     count and one loop index per thread.
 * (b) Parallel sum of 1e7 doubles (80 MB, beyond the caches): the same
 *     plain loop folded by eng_parallel_sum and by an OpenMP reduction.
 *
 * The two sides alternate block by block (A B A B ...) and each figure is
 * the median of OUTER blocks, so drifting machine load hits both alike.
 * Between blocks the suite waits until every other thread of the process
 * is asleep: idle libgomp threads spin for milliseconds after a region
 * (GOMP_SPINCOUNT), and on a small machine those spinning threads would eat
 * the cores the next block needs (ours spin too, more briefly). Waiting for
 * quiet, rather than a fixed pause, is fair to both sides.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* gettid */
#endif
#include <dirent.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "eng_array.h"
#include "eng_measure.h"
#include "eng_pool.h"
#include "pl_err.h"

#define INNER 10000
#define OUTER 15
#define SUM_N 10000000L
#define SETTLE_STEP_NS 1000000L
#define SETTLE_MAX_STEPS 500

/* The empty bodies still contain a compiler barrier so neither side's
 * region can be optimised into nothing. */
static void empty_body(void *arg, long b, long e, int w) {
  (void)arg, (void)b, (void)e, (void)w;
  __asm__ __volatile__("" ::: "memory");
}

/* 1 when some thread of this process other than the caller is running
 * (state R in /proc/self/task/TID/stat); 0 when all sleep or unknown. */
static int others_running(void) {
  DIR *d = opendir("/proc/self/task");
  if (!d) return 0;
  int running = 0;
  long self = (long)gettid();
  struct dirent *e;
  while (!running && (e = readdir(d))) {
    if (e->d_name[0] == '.' || atol(e->d_name) == self) continue;
    char path[300], buf[512];
    snprintf(path, sizeof path, "/proc/self/task/%s/stat", e->d_name);
    FILE *f = fopen(path, "r");
    if (!f) continue;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* "tid (comm) S ...": the state follows the last ')'. */
    const char *p = strrchr(buf, ')');
    if (p && p[1] == ' ' && p[2] == 'R') running = 1;
  }
  closedir(d);
  return running;
}

/* Sleep until the other side's idle threads have stopped spinning (at most
 * half a second: a busy machine must not stall the suite). */
static void settle(void) {
  struct timespec ts = {0, SETTLE_STEP_NS};
  for (int i = 0; i < SETTLE_MAX_STEPS; i++) {
    nanosleep(&ts, NULL);
    if (!others_running()) return;
  }
}

static double ours_forkjoin_us(eng_pool *p, int nt) {
  uint64_t t0 = eng_now_ns();
  for (int i = 0; i < INNER; i++) eng_parallel_for(p, 0, nt, empty_body, NULL);
  return (double)(eng_now_ns() - t0) / INNER / 1e3;
}

static double omp_forkjoin_us(int nt) {
  uint64_t t0 = eng_now_ns();
  for (int i = 0; i < INNER; i++) {
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int j = 0; j < nt; j++) __asm__ __volatile__("" ::: "memory");
  }
  return (double)(eng_now_ns() - t0) / INNER / 1e3;
}

static void sum_fold(void *arg, long b, long e, int w, void *acc) {
  (void)w;
  const double *x = arg;
  double s = 0;
  for (long i = b; i < e; i++) s += x[i];
  *(double *)acc += s;
}

static double omp_sum(const double *x, long n, int nt) {
  double s = 0;
#pragma omp parallel for num_threads(nt) schedule(static) reduction(+ : s)
  for (long i = 0; i < n; i++) s += x[i];
  return s;
}

static int add_result(bench_report *r, const char *name, const char *unit, const char *better,
                      const double *ours, const double *ref) {
  eng_stats so, sr;
  int rc = eng_stats_compute(ours, OUTER, &so);
  if (rc < 0) return rc;
  rc = eng_stats_compute(ref, OUTER, &sr);
  if (rc < 0) return rc;
  bench_result res;
  memset(&res, 0, sizeof res);
  snprintf(res.suite, sizeof res.suite, "pool");
  snprintf(res.name, sizeof res.name, "%s", name);
  snprintf(res.unit, sizeof res.unit, "%s", unit);
  snprintf(res.reference, sizeof res.reference, "libgomp");
  snprintf(res.better, sizeof res.better, "%s", better);
  res.value = so.median;
  res.spread = so.spread;
  res.reference_value = sr.median;
  res.ratio = sr.median != 0 ? so.median / sr.median : 0;
  return bench_report_add(r, &res);
}

static int bench_forkjoin(bench_report *r, eng_pool *p) {
  int nt = eng_pool_size(p);
  double ours[OUTER], ref[OUTER];
  char name[96];
  /* Warm-up: threads created, pages and caches touched on both sides. */
  ours_forkjoin_us(p, nt);
  omp_forkjoin_us(nt);
  for (int i = 0; i < OUTER; i++) {
    settle();
    ours[i] = ours_forkjoin_us(p, nt);
    settle();
    ref[i] = omp_forkjoin_us(nt);
  }
  snprintf(name, sizeof name, "fork-join overhead, empty parallel for, %d threads", nt);
  return add_result(r, name, "us", "lower", ours, ref);
}

static int bench_sum(bench_report *r, eng_pool *p) {
  int rc = 0, nt = eng_pool_size(p);
  eng_array *a = NULL;
  double ours[OUTER], ref[OUTER];
  char name[96];
  rc = eng_array_new(ENG_F64, SUM_N, 0, &a);
  if (rc < 0) goto done;
  rc = eng_array_fill_random(a, 1, 0.0, 1.0);
  if (rc < 0) goto done;
  double *x = eng_array_data(a);
  const double gb = (double)SUM_N * sizeof(double) / 1e9;
  double s_ours = 0, s_ref = omp_sum(x, SUM_N, nt);
  eng_parallel_sum(p, 0, SUM_N, sum_fold, x, &s_ours);
  for (int i = 0; i < OUTER; i++) {
    settle();
    uint64_t t0 = eng_now_ns();
    rc = eng_parallel_sum(p, 0, SUM_N, sum_fold, x, &s_ours);
    ours[i] = gb / ((double)(eng_now_ns() - t0) * 1e-9);
    if (rc < 0) goto done;
    settle();
    t0 = eng_now_ns();
    s_ref = omp_sum(x, SUM_N, nt);
    ref[i] = gb / ((double)(eng_now_ns() - t0) * 1e-9);
  }
  /* Same static split, same loop: a different answer means a broken pool. */
  if (!(fabs(s_ours - s_ref) <= 1e-9 * fabs(s_ref))) {
    fprintf(stderr, "bench pool: sum mismatch: %.17g vs libgomp %.17g\n", s_ours, s_ref);
    rc = PL_EINVAL;
    goto done;
  }
  snprintf(name, sizeof name, "parallel sum of 1e7 doubles, %d threads", nt);
  rc = add_result(r, name, "GB/s", "higher", ours, ref);

done:
  eng_array_free(a);
  return rc;
}

static int bench_pool_run(bench_report *r) {
  eng_pool *p = eng_pool_default();
  if (!p) return PL_ENOMEM;
  int rc = bench_forkjoin(r, p);
  if (rc < 0) return rc;
  return bench_sum(r, p);
}

const bench_suite bench_suite_pool = {
    "pool",
    "fork-join overhead and parallel sum: eng_pool vs libgomp",
    bench_pool_run,
};
