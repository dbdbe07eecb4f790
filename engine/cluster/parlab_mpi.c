/*
 * parlab_mpi.c — `parlab-mpi`, the cluster backend's own MPI program,
 * run under mpirun by `parlab bench mpi` and by hand (lectures l16, l17):
 *
 *   parlab-mpi osu allreduce|bcast [MIN MAX]
 *       OSU-style latency of the engine's wrapper and of the raw MPI call,
 *       interleaved: for every message size from MIN to MAX bytes (default
 *       8 B to 1 MiB, doubling), a warm-up, then timed iterations between
 *       barriers, averaged over ranks, in BLOCKS short blocks alternating
 *       raw and engine; rank 0 prints the medians:
 *         osu SIZE RAW_US ENGINE_US
 *   parlab-mpi wordcount WORDS [SEED [VOCAB]]
 *       MapReduce word count (with the combiner) of the generated corpus
 *       (eng_corpus.h), each rank generating its own lines first; the
 *       MapReduce itself is timed between barriers (slowest rank):
 *         wordcount ranks P words W keys K total T seconds S
 *   parlab-mpi ps bsp|asp|ssp [--staleness S] [--steps N] [--straggler SECONDS]
 *       the parameter server of eng_dataparallel.h training a linear
 *       regression, worker 0 slowed down by SECONDS per step; prints the
 *       loss before and after and the staleness it measured.
 *
 * Exit status 0 on success, 1 when a self-check fails (word count totals),
 * 2 for bad arguments, 3 when MPI fails.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eng_cluster.h"
#include "eng_corpus.h"
#include "eng_dataparallel.h"
#include "eng_mapreduce.h"

#define BLOCKS 31

static int rank, size;

static int usage(void) {
  if (rank == 0)
    fprintf(stderr, "usage: parlab-mpi osu allreduce|bcast [MIN MAX]\n"
                    "       parlab-mpi wordcount WORDS [SEED [VOCAB]]\n"
                    "       parlab-mpi ps bsp|asp|ssp [--staleness S] [--steps N] [--straggler SECONDS]\n");
  return 2;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_d);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ------------------------------------------------------------------ osu */

typedef struct osu {
  int bcast;
  char *sbuf, *rbuf;
  long count;   /* doubles (allreduce) or bytes (bcast) */
} osu;

static int op_raw(osu *o) {
  if (o->bcast) return MPI_Bcast(o->rbuf, (int)(o->count / 8), MPI_DOUBLE, 0, MPI_COMM_WORLD) != MPI_SUCCESS;
  return MPI_Allreduce(o->sbuf, o->rbuf, (int)o->count, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD) != MPI_SUCCESS;
}

static int op_eng(osu *o) {
  if (o->bcast) return eng_cluster_bcast(o->rbuf, o->count / 8, ENG_F64, 0, MPI_COMM_WORLD);
  return eng_cluster_allreduce(o->sbuf, o->rbuf, o->count, ENG_F64, ENG_RED_SUM, MPI_COMM_WORLD);
}

/* OSU's method: skip warm-up iterations, time `iters` between barriers,
 * latency = mean over ranks of each rank's time per call (microseconds). */
static double osu_latency(osu *o, int eng, int skip, int iters) {
  for (int i = 0; i < skip; i++) eng ? op_eng(o) : op_raw(o);
  MPI_Barrier(MPI_COMM_WORLD);
  double t0 = MPI_Wtime();
  for (int i = 0; i < iters; i++) eng ? op_eng(o) : op_raw(o);
  double mine = (MPI_Wtime() - t0) * 1e6 / iters, sum = 0;
  MPI_Allreduce(&mine, &sum, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  return sum / size;
}

static int cmd_osu(int argc, char **argv) {
  if (argc < 1 || (strcmp(argv[0], "allreduce") && strcmp(argv[0], "bcast"))) return usage();
  long lo = argc > 1 ? atol(argv[1]) : 8, hi = argc > 2 ? atol(argv[2]) : 1L << 20;
  if (lo < 8 || hi < lo) return usage();
  osu o = {.bcast = !strcmp(argv[0], "bcast")};
  o.sbuf = malloc((size_t)hi);
  o.rbuf = malloc((size_t)hi);
  if (!o.sbuf || !o.rbuf) return 3;
  for (long i = 0; i < hi / 8; i++) ((double *)o.sbuf)[i] = ((double *)o.rbuf)[i] = (double)(i % 97);
  for (long bytes = lo; bytes <= hi; bytes *= 2) {
    o.count = o.bcast ? bytes : bytes / 8;
    /* OSU's defaults (1,000 iterations, 100 above 8 KiB, a tenth as
     * warm-up), cut into BLOCKS short blocks that alternate raw and
     * engine: a burst of load on a shared machine then hits both. */
    int big = bytes > 8192, skip = big ? 10 : 100, iters = (big ? 100 : 1000) / 10;
    double raw[BLOCKS], eng[BLOCKS];
    osu_latency(&o, 0, skip, 1);
    osu_latency(&o, 1, skip, 1);
    for (int b = 0; b < BLOCKS; b++) {
      if (b % 2) {
        eng[b] = osu_latency(&o, 1, 0, iters);
        raw[b] = osu_latency(&o, 0, 0, iters);
      } else {
        raw[b] = osu_latency(&o, 0, 0, iters);
        eng[b] = osu_latency(&o, 1, 0, iters);
      }
    }
    if (rank == 0) printf("osu %ld %.4f %.4f\n", bytes, median(raw, BLOCKS), median(eng, BLOCKS));
    fflush(stdout);
  }
  free(o.sbuf);
  free(o.rbuf);
  return 0;
}

/* ------------------------------------------------------------ wordcount */

static int wc_map(const char *rec, size_t len, eng_mr_out *out, void *arg) {
  (void)arg;
  size_t i = 0;
  while (i < len) {
    while (i < len && rec[i] == ' ') i++;
    size_t s = i;
    while (i < len && rec[i] != ' ') i++;
    if (i > s && eng_mr_emit_i64(out, rec + s, i - s, 1)) return 1;
  }
  return 0;
}

static int wc_sum(const char *key, size_t klen, eng_mr_values *v, eng_mr_out *out, void *arg) {
  (void)arg;
  int64_t x, s = 0;
  while (eng_mr_next_i64(v, &x)) s += x;
  return eng_mr_emit_i64(out, key, klen, s);
}

static int cmd_wordcount(int argc, char **argv) {
  if (argc < 1) return usage();
  long words = atol(argv[0]);
  uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 10) : 1;
  long vocab = argc > 2 ? atol(argv[2]) : 5000;
  if (words < 1 || vocab < 1) return usage();
  long lines = eng_corpus_lines(words);
  long first = lines * rank / size, last = lines * (rank + 1) / size;
  size_t len;
  char *text = eng_corpus_text(seed, words, vocab, first, last - first, &len);
  if (!text) return 3;
  eng_mr *mr = NULL;
  eng_mr_spec spec = {.comm = MPI_COMM_WORLD, .map = wc_map, .combine = wc_sum, .reduce = wc_sum};
  if (eng_mr_new(&spec, &mr)) return 3;
  MPI_Barrier(MPI_COMM_WORLD);
  double t0 = MPI_Wtime();
  int rc = eng_mr_map_text(mr, text, len, '\n');
  if (!rc) rc = eng_mr_run(mr);
  double mine = MPI_Wtime() - t0, slowest = 0;
  MPI_Reduce(&mine, &slowest, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
  if (rc) {
    if (rank == 0) fprintf(stderr, "wordcount: MapReduce failed (%d)\n", rc);
    return 3;
  }
  /* Self-check: the counts add up to the number of words. */
  long long local[2] = {eng_mr_outputs(mr), 0}, all[2] = {0, 0};
  for (long i = 0; i < eng_mr_outputs(mr); i++) {
    const void *v;
    int64_t c;
    eng_mr_output(mr, i, NULL, NULL, &v, NULL);
    memcpy(&c, v, sizeof c);
    local[1] += c;
  }
  MPI_Reduce(local, all, 2, MPI_LONG_LONG, MPI_SUM, 0, MPI_COMM_WORLD);
  eng_mr_free(mr);
  free(text);
  if (rank == 0) {
    printf("wordcount ranks %d words %ld keys %lld total %lld seconds %.6f\n", size, words, all[0], all[1],
           slowest);
    if (all[1] != words) {
      fprintf(stderr, "wordcount: counts add up to %lld, not %ld\n", all[1], words);
      return 1;
    }
  }
  return 0;
}

/* ------------------------------------------------------------------- ps */

#define PS_DIM 8
#define PS_ROWS 2000 /* samples per worker */

/* y = x . w_true + noise, x uniform in [-1, 1): a well-conditioned least
 * squares problem whose gradient every worker computes on its own rows. */
static double unit(uint64_t h) { return (double)(h >> 11) * 0x1.0p-53 * 2.0 - 1.0; }
static double w_true(int i) { return (i % 2 ? -1.0 : 1.0) * (1.0 + i) / PS_DIM; }

static void sample(long row, double *x, double *y) {
  *y = 0;
  for (int i = 0; i < PS_DIM; i++) {
    x[i] = unit(eng_corpus_mix((uint64_t)row * PS_DIM + (uint64_t)i));
    *y += x[i] * w_true(i);
  }
  *y += 0.01 * unit(eng_corpus_mix(~(uint64_t)row));
}

static int ps_grad(const double *w, int dim, int worker, int step, double *g, void *arg) {
  (void)step;
  (void)arg;
  memset(g, 0, sizeof(double) * (size_t)dim);
  double x[PS_DIM], y;
  for (long r = 0; r < PS_ROWS; r++) {
    sample((long)worker * PS_ROWS + r, x, &y);
    double e = -y;
    for (int i = 0; i < dim; i++) e += x[i] * w[i];
    for (int i = 0; i < dim; i++) g[i] += e * x[i] / PS_ROWS;
  }
  return 0;
}

static double ps_loss(const double *w, int workers) {
  double x[PS_DIM], y, s = 0;
  long n = (long)workers * PS_ROWS;
  for (long r = 0; r < n; r++) {
    sample(r, x, &y);
    double e = -y;
    for (int i = 0; i < PS_DIM; i++) e += x[i] * w[i];
    s += e * e;
  }
  return s / (2.0 * n);
}

static int cmd_ps(int argc, char **argv) {
  eng_ps_opts o = {.staleness = 2, .steps = 40, .dim = PS_DIM, .lr = 0.5, .grad = ps_grad};
  double straggle = 0;
  if (argc < 1 || eng_ps_mode_parse(argv[0], &o.mode)) return usage();
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--staleness")) o.staleness = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--steps")) o.steps = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--straggler")) straggle = atof(argv[i + 1]);
    else return usage();
  }
  if (size < 2) {
    if (rank == 0) fprintf(stderr, "ps: needs at least 2 ranks (rank 0 is the server)\n");
    return 2;
  }
  double *delay = calloc((size_t)size, sizeof *delay);
  if (!delay) return 3;
  delay[0] = straggle;
  o.delay_s = delay;
  double w[PS_DIM] = {0};
  double before = ps_loss(w, size - 1);
  eng_ps_stats st;
  int rc = eng_ps_run(&o, MPI_COMM_WORLD, w, &st);
  free(delay);
  if (rc) {
    if (rank == 0) fprintf(stderr, "ps: the run failed (%d)\n", rc);
    return 3;
  }
  if (rank == 0) {
    printf("ps %s", eng_ps_mode_name(o.mode));
    if (o.mode == ENG_PS_SSP) printf(" s=%d", o.staleness);
    printf(": %d workers x %d steps, straggler +%.3f s/step\n", st.workers, o.steps, straggle);
    printf("  loss %.6f -> %.6f\n", before, ps_loss(w, size - 1));
    printf("  updates %ld  pushes %ld  wall %.3f s  waiting %.3f s  blocked pulls %ld\n", st.updates,
           st.pushes, st.seconds, st.wait_s, st.blocked_pulls);
    printf("  staleness mean %.2f max %d  clock gap max %d\n", st.mean_staleness, st.max_staleness,
           st.max_clock_gap);
    printf("  staleness histogram:");
    for (int i = 0; i < ENG_PS_HIST; i++)
      if (st.hist[i]) printf(" %d%s:%ld", i, i == ENG_PS_HIST - 1 ? "+" : "", st.hist[i]);
    printf("\n");
  }
  return 0;
}

int main(int argc, char **argv) {
  if (MPI_Init(&argc, &argv) != MPI_SUCCESS) return 3;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int rc;
  if (argc < 2) rc = usage();
  else if (!strcmp(argv[1], "osu")) rc = cmd_osu(argc - 2, argv + 2);
  else if (!strcmp(argv[1], "wordcount")) rc = cmd_wordcount(argc - 2, argv + 2);
  else if (!strcmp(argv[1], "ps")) rc = cmd_ps(argc - 2, argv + 2);
  else rc = usage();
  MPI_Finalize();
  return rc;
}
