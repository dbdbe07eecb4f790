/*
 * bench_suites.c — the registry behind `parlab bench`: one entry per suite,
 * in the order `parlab bench` runs them.
 */
#include <stddef.h>

#include "bench.h"

extern const bench_suite bench_suite_pool;
extern const bench_suite bench_suite_simd;
extern const bench_suite bench_suite_threads;
extern const bench_suite bench_suite_procs;
extern const bench_suite bench_suite_grader;
extern const bench_suite bench_suite_jail;
extern const bench_suite bench_suite_tui;
extern const bench_suite bench_suite_gpu;
extern const bench_suite bench_suite_mpi;

const bench_suite *const bench_suites[] = {
    &bench_suite_pool,
    &bench_suite_simd,
    &bench_suite_threads,
    &bench_suite_procs,
    &bench_suite_grader,
    &bench_suite_jail,
    &bench_suite_tui,
    &bench_suite_gpu,
    &bench_suite_mpi,
    NULL,
};
