/*
 * bench_suites.c — the registry behind `parlab bench`: one entry per suite,
 * in the order `parlab bench` runs them.
 */
#include <stddef.h>

#include "bench.h"

extern const bench_suite bench_suite_pool;

const bench_suite *const bench_suites[] = {
    &bench_suite_pool,
    NULL,
};
