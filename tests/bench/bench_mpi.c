/*
 * bench_mpi.c — the "mpi" suite: the cluster backend against raw MPI,
 * measured in the same run. It drives `parlab-mpi` (engine/cluster) under
 * mpirun through the engine's launcher:
 *
 * (a) latency of the engine's allreduce and broadcast wrappers
 *     (eng_cluster.h) against MPI_Allreduce and MPI_Bcast on the same
 *     buffers, by the OSU method: sizes 8 B to 1 MiB (doubling), a
 *     warm-up, then 1,000 timed iterations (100 above 8 KiB) between
 *     barriers, averaged over the ranks; seven blocks alternate raw and
 *     engine and the medians are reported. Target: at most 1.1x raw.
 *     2 ranks (oversubscribed on a 1-core machine).
 * (b) MapReduce word count (with the combiner) of the generated corpus,
 *     8,000,000 words: 2 ranks against 1 rank, runs interleaved, median
 *     of 5; the job is timed inside the program between barriers, so
 *     mpirun's start-up is not counted.
 *
 * Without mpirun, or in a build without the cluster backend (no
 * parlab-mpi next to parlab), the suite says why on stderr and reports
 * nothing: `parlab bench` still runs the others.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "eng_measure.h"
#include "eng_mpirun.h"
#include "pl_err.h"

#define WC_WORDS 8000000
#define WC_REPS 5

static int add(bench_report *r, const char *name, const char *unit, const char *ref, double value,
               double spread, double ref_value, const char *better) {
  bench_result res;
  memset(&res, 0, sizeof res);
  snprintf(res.suite, sizeof res.suite, "mpi");
  snprintf(res.name, sizeof res.name, "%s", name);
  snprintf(res.unit, sizeof res.unit, "%s", unit);
  snprintf(res.reference, sizeof res.reference, "%s", ref);
  snprintf(res.better, sizeof res.better, "%s", better);
  res.value = value;
  res.spread = spread;
  res.reference_value = ref_value;
  res.ratio = ref_value > 0 ? value / ref_value : 0;
  return bench_report_add(r, &res);
}

/* parlab-mpi sits next to the running parlab. */
static int find_prog(char *out, size_t len) {
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return PL_ENOTFOUND;
  exe[n] = 0;
  char *slash = strrchr(exe, '/');
  if (slash) *slash = 0;
  if (snprintf(out, len, "%s/parlab-mpi", exe) >= (int)len) return PL_ENOTFOUND;
  return access(out, X_OK) == 0 ? 0 : PL_ENOTFOUND;
}

static int run(char *const *argv, int ranks, eng_mpi_run_result *res) {
  eng_mpi_run_opts o = {.ranks = ranks, .argv = argv, .oversubscribe = -1, .timeout_s = 300};
  int rc = eng_mpi_run(&o, res);
  if (rc) return rc;
  if (res->status != 0) {
    fprintf(stderr, "bench mpi: %s %s failed (exit %d):\n%s\n", argv[1], argv[2] ? argv[2] : "", res->status,
            res->output);
    eng_mpi_run_result_free(res);
    return PL_EIO;
  }
  return 0;
}

static int osu(bench_report *r, const char *prog, const char *op) {
  char *argv[] = {(char *)prog, "osu", (char *)op, "8", "1048576", NULL};
  eng_mpi_run_result res;
  int rc = run(argv, 2, &res);
  if (rc) return rc;
  int sizes = 0, within = 0;
  double worst = 0;
  for (const char *p = res.rank_out[0]; p && *p;) {
    long bytes;
    double raw, eng;
    if (sscanf(p, "osu %ld %lf %lf", &bytes, &raw, &eng) == 3) {
      char name[96];
      snprintf(name, sizeof name, "%s latency, %ld B, 2 ranks", op, bytes);
      if ((rc = add(r, name, "us", !strcmp(op, "bcast") ? "raw MPI_Bcast" : "raw MPI_Allreduce", eng, 0, raw,
                    "lower")))
        break;
      sizes++;
      within += eng <= 1.1 * raw;
      if (raw > 0 && eng / raw > worst) worst = eng / raw;
    }
    const char *e = strchr(p, '\n');
    p = e ? e + 1 : NULL;
  }
  if (!rc)
    fprintf(stderr, "bench mpi: %s: engine within 1.1x of raw MPI at %d of %d sizes (worst %.2fx)\n", op, within,
            sizes, worst);
  eng_mpi_run_result_free(&res);
  return rc ? rc : sizes ? 0 : PL_EIO;
}

static int wc_seconds(const char *prog, int ranks, double *secs) {
  char words[32];
  snprintf(words, sizeof words, "%d", WC_WORDS);
  char *argv[] = {(char *)prog, "wordcount", words, "1", NULL};
  eng_mpi_run_result res;
  int rc = run(argv, ranks, &res);
  if (rc) return rc;
  const char *line = strstr(res.rank_out[0], "seconds ");
  rc = line && sscanf(line, "seconds %lf", secs) == 1 ? 0 : PL_EIO;
  eng_mpi_run_result_free(&res);
  return rc;
}

static int wordcount(bench_report *r, const char *prog) {
  double one[WC_REPS], two[WC_REPS], s;
  int rc = wc_seconds(prog, 1, &s); /* warm-up: page cache, allocator */
  for (int i = 0; i < WC_REPS && !rc; i++) {
    if (!(rc = wc_seconds(prog, 1, &one[i]))) rc = wc_seconds(prog, 2, &two[i]);
  }
  if (rc) return rc;
  eng_stats s1, s2;
  if ((rc = eng_stats_compute(one, WC_REPS, &s1)) || (rc = eng_stats_compute(two, WC_REPS, &s2))) return rc;
  if ((rc = add(r, "MapReduce word count, 8M words, 2 ranks", "s", "the same job on 1 rank", s2.median, s2.spread,
                s1.median, "lower")))
    return rc;
  return add(r, "MapReduce word count speedup, 1 -> 2 ranks", "x", "ideal (2 ranks)", s1.median / s2.median, 0, 2.0,
             "higher");
}

static int bench_mpi_run(bench_report *r) {
  char why[256], prog[PATH_MAX];
  if (!eng_mpi_available(why, sizeof why)) {
    fprintf(stderr, "bench mpi: skipped: %s\n", why);
    return 0;
  }
  if (find_prog(prog, sizeof prog)) {
    fprintf(stderr, "bench mpi: skipped: no cluster backend in this build (parlab-mpi not found next to parlab)\n");
    return 0;
  }
  int rc = osu(r, prog, "allreduce");
  if (!rc) rc = osu(r, prog, "bcast");
  if (!rc) rc = wordcount(r, prog);
  return rc;
}

const bench_suite bench_suite_mpi = {
    "mpi",
    "engine allreduce/bcast vs raw MPI (OSU method); MapReduce word count 1 -> 2 ranks",
    bench_mpi_run,
};
