/*
 * cluster_checks.c — the cluster backend's checks, run on every rank of an
 * mpirun job by tests/mpi/test_cluster.sh (1 to 4 ranks): the collective
 * wrappers against the raw MPI calls, MapReduce word count against a
 * serial count of the generated corpus (with and without a combiner,
 * with spills, partitioning, failure of one rank), and the parameter
 * server's consistency models (BSP staleness 0, SSP's bound, ASP's lack
 * of one, a failing worker).
 *
 * pl_test.h forks each test, which an MPI rank must not do; so each check
 * here runs on every rank in turn, the ranks agree on its verdict with an
 * allreduce, and rank 0 prints "ok"/"FAIL" lines and "N passed, N failed".
 * `cluster_checks NAME` runs the checks whose name contains NAME.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eng_cluster.h"
#include "eng_corpus.h"
#include "eng_dataparallel.h"
#include "eng_mapreduce.h"

static int rank, size;
static int failed_here; /* this rank's failures in the current check */
static char why[512];

static void fail_at(int line, const char *fmt, ...) {
  if (failed_here++) return;
  va_list ap;
  va_start(ap, fmt);
  int n = snprintf(why, sizeof why, "rank %d line %d: ", rank, line);
  vsnprintf(why + n, sizeof why - (size_t)n, fmt, ap);
  va_end(ap);
}
#define CHECK(c) do { if (!(c)) fail_at(__LINE__, "expected %s", #c); } while (0)
#define CHECK_EQ(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
  if (a_ != b_) fail_at(__LINE__, "%s == %s: got %lld, expected %lld", #a, #b, a_, b_); } while (0)

/* ---------------------------------------------------------- collectives */

static void check_collectives(void) {
  enum { N = 1000 };
  double d[N], want[N], got[N];
  for (int i = 0; i < N; i++) d[i] = (rank + 1) * 0.5 + i * 1e-3;
  MPI_Allreduce(d, want, N, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  CHECK_EQ(eng_cluster_allreduce(d, got, N, ENG_F64, ENG_RED_SUM, MPI_COMM_WORLD), 0);
  CHECK(!memcmp(got, want, sizeof got));
  /* in place */
  memcpy(got, d, sizeof got);
  CHECK_EQ(eng_cluster_allreduce(got, got, N, ENG_F64, ENG_RED_SUM, MPI_COMM_WORLD), 0);
  CHECK(!memcmp(got, want, sizeof got));
  /* max and min of i64 */
  int64_t v = 10 * rank - 3, mx = 0, mn = 0;
  CHECK_EQ(eng_cluster_allreduce(&v, &mx, 1, ENG_I64, ENG_RED_MAX, MPI_COMM_WORLD), 0);
  CHECK_EQ(eng_cluster_allreduce(&v, &mn, 1, ENG_I64, ENG_RED_MIN, MPI_COMM_WORLD), 0);
  CHECK_EQ(mx, 10 * (size - 1) - 3);
  CHECK_EQ(mn, -3);
  float f = 1.5f, fs = 0;
  CHECK_EQ(eng_cluster_allreduce(&f, &fs, 1, ENG_F32, ENG_RED_SUM, MPI_COMM_WORLD), 0);
  CHECK(fs == 1.5f * size);
  /* zero elements: still collective, still fine */
  CHECK_EQ(eng_cluster_allreduce(d, got, 0, ENG_F64, ENG_RED_SUM, MPI_COMM_WORLD), 0);
  CHECK_EQ(eng_cluster_allreduce(d, got, -1, ENG_F64, ENG_RED_SUM, MPI_COMM_WORLD), PL_EINVAL);
  /* broadcast from the last rank */
  int64_t b[3] = {rank, rank * 2, 7};
  CHECK_EQ(eng_cluster_bcast(b, 3, ENG_I64, size - 1, MPI_COMM_WORLD), 0);
  CHECK_EQ(b[0], size - 1);
  CHECK_EQ(b[1], 2 * (size - 1));
  /* averaging: sum / size, bit-identical on every rank */
  double g[4] = {rank, 1.0, -2.0 * rank, 1.0 / 3.0};
  CHECK_EQ(eng_cluster_allreduce_avg(g, 4, MPI_COMM_WORLD), 0);
  CHECK(fabs(g[0] - (size - 1) / 2.0) < 1e-12);
  CHECK(fabs(g[1] - 1.0) < 1e-15);
  double g0[4];
  memcpy(g0, g, sizeof g);
  MPI_Bcast(g0, 4, MPI_DOUBLE, 0, MPI_COMM_WORLD);
  CHECK(!memcmp(g0, g, sizeof g));
}

/* ------------------------------------------------------------ MapReduce */

typedef struct wc_arg {
  int fail_rank;  /* the map fails on this rank (-1: never) */
} wc_arg;

static int wc_map(const char *rec, size_t len, eng_mr_out *out, void *arg) {
  const wc_arg *a = arg;
  if (a && a->fail_rank == rank) return 1;
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
  long n = 0;
  while (eng_mr_next_i64(v, &x)) {
    s += x;
    n++;
  }
  if (n != eng_mr_count(v) || strlen(key) != klen) return 1; /* keys are NUL-terminated */
  return eng_mr_emit_i64(out, key, klen, s);
}

/* Serial reference: counts by spelling, sorted like eng_mr_gather. */
typedef struct wcount {
  char w[ENG_CORPUS_MAXWORD];
  int64_t n;
} wcount;

static int cmp_wc(const void *a, const void *b) {
  const wcount *x = a, *y = b;
  size_t lx = strlen(x->w), ly = strlen(y->w), n = lx < ly ? lx : ly;
  int c = memcmp(x->w, y->w, n);
  return c ? c : lx < ly ? -1 : lx > ly;
}

static int serial_counts(uint64_t seed, long words, long vocab, wcount **out) {
  wcount *c = calloc((size_t)vocab, sizeof *c);
  for (long k = 0; k < vocab; k++) eng_corpus_word(k, c[k].w);
  for (long j = 0; j < words; j++) c[eng_corpus_index(seed, (uint64_t)j, vocab)].n++;
  qsort(c, (size_t)vocab, sizeof *c, cmp_wc);
  /* merge equal spellings, drop unused words */
  int m = 0;
  for (long k = 0; k < vocab; k++) {
    if (m > 0 && !strcmp(c[m - 1].w, c[k].w)) c[m - 1].n += c[k].n;
    else c[m++] = c[k];
  }
  int z = 0;
  for (int k = 0; k < m; k++)
    if (c[k].n) c[z++] = c[k];
  *out = c;
  return z;
}

static void wordcount(long words, long vocab, int combine, size_t spill) {
  uint64_t seed = 42;
  long lines = eng_corpus_lines(words), first = lines * rank / size, last = lines * (rank + 1) / size;
  size_t len = 0;
  char *text = eng_corpus_text(seed, words, vocab, first, last - first, &len);
  CHECK(text != NULL);
  eng_mr *mr = NULL;
  eng_mr_spec spec = {.comm = MPI_COMM_WORLD, .map = wc_map, .combine = combine ? wc_sum : NULL,
                      .reduce = wc_sum, .spill_bytes = spill};
  CHECK_EQ(eng_mr_new(&spec, &mr), 0);
  CHECK_EQ(eng_mr_map_text(mr, text, len, '\n'), 0);
  CHECK_EQ(eng_mr_run(mr), 0);
  eng_mr_stats st;
  eng_mr_stats_get(mr, &st);
  CHECK_EQ(st.records, last - first);
  if (combine) CHECK(st.combined <= st.emitted);
  else CHECK_EQ(st.combined, st.emitted);
  if (size > 1 && words > 1000) CHECK(st.sent > 0 && st.sent_bytes > 0);
  /* Every key this rank reduced belongs to it. */
  for (long i = 0; i < eng_mr_outputs(mr); i++) {
    const char *k;
    size_t kl;
    eng_mr_output(mr, i, &k, &kl, NULL, NULL);
    if (eng_mr_partition(mr, k, kl) != rank) {
      fail_at(__LINE__, "key %s reduced on rank %d, partition says %d", k, rank, eng_mr_partition(mr, k, kl));
      break;
    }
  }
  long long emitted = st.emitted, all = 0;
  MPI_Allreduce(&emitted, &all, 1, MPI_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
  CHECK_EQ(all, words);
  CHECK_EQ(eng_mr_gather(mr, 0), 0);
  if (rank == 0) {
    wcount *ref = NULL;
    int nref = serial_counts(seed, words, vocab, &ref);
    CHECK_EQ(eng_mr_outputs(mr), nref);
    for (long i = 0; i < eng_mr_outputs(mr) && i < nref; i++) {
      const char *k;
      const void *v;
      size_t vl;
      int64_t c;
      eng_mr_output(mr, i, &k, NULL, &v, &vl);
      memcpy(&c, v, sizeof c);
      if (strcmp(k, ref[i].w) || c != ref[i].n) {
        fail_at(__LINE__, "output %ld: %s %lld, expected %s %lld", i, k, (long long)c, ref[i].w,
                (long long)ref[i].n);
        break;
      }
    }
    free(ref);
  } else {
    CHECK_EQ(eng_mr_outputs(mr), 0);
  }
  eng_mr_free(mr);
  free(text);
}

static void check_wordcount_combiner(void) { wordcount(200000, 3000, 1, 0); }
static void check_wordcount_plain(void) { wordcount(50000, 3000, 0, 0); }
/* A 4 KiB spill limit makes the combiner run many times during the map. */
static void check_wordcount_spills(void) { wordcount(60000, 500, 1, 4096); }
/* Fewer lines than ranks: some ranks map nothing. */
static void check_wordcount_tiny(void) { wordcount(13, 5, 1, 0); }

static void check_mapreduce_failure(void) {
  /* The map fails on the last rank only: every rank gets the error and
   * none is left waiting in the shuffle. */
  wc_arg a = {.fail_rank = size - 1};
  eng_mr *mr = NULL;
  eng_mr_spec spec = {.comm = MPI_COMM_WORLD, .map = wc_map, .combine = wc_sum, .reduce = wc_sum, .arg = &a};
  CHECK_EQ(eng_mr_new(&spec, &mr), 0);
  const char *line = "a b c";
  int rc = eng_mr_map_record(mr, line, strlen(line));
  CHECK_EQ(rc, rank == size - 1 ? PL_EINVAL : 0);
  CHECK_EQ(eng_mr_run(mr), PL_EINVAL);
  eng_mr_free(mr);
  eng_mr_spec bad = {.comm = MPI_COMM_WORLD, .map = wc_map};
  CHECK_EQ(eng_mr_new(&bad, &mr), PL_EINVAL);
}

/* --------------------------------------------------- parameter server */

#define DIM 4
static double target(int i) { return 1.0 + i; }

/* Loss 0.5 |w - target|^2: gradient w - target, the same for everyone. */
static int quad_grad(const double *w, int dim, int worker, int step, double *g, void *arg) {
  const int *fail_worker = arg;
  if (fail_worker && *fail_worker == worker && step == 2) return 1;
  for (int i = 0; i < dim; i++) g[i] = w[i] - target(i);
  return 0;
}

static double dist(const double *w) {
  double s = 0;
  for (int i = 0; i < DIM; i++) s += (w[i] - target(i)) * (w[i] - target(i));
  return sqrt(s);
}

static void ps(eng_ps_mode mode, int s, double straggle, eng_ps_stats *st, double *w) {
  double *delay = calloc((size_t)size, sizeof *delay);
  delay[0] = straggle;
  eng_ps_opts o = {.mode = mode, .staleness = s, .steps = 20, .dim = DIM, .lr = 0.2, .grad = quad_grad,
                   .delay_s = delay};
  memset(w, 0, sizeof(double) * DIM);
  CHECK_EQ(eng_ps_run(&o, MPI_COMM_WORLD, w, st), 0);
  free(delay);
}

static void check_ps_bsp(void) {
  if (size < 2) return;
  eng_ps_stats st;
  double w[DIM];
  ps(ENG_PS_BSP, 0, 0.002, &st, w);
  CHECK_EQ(st.workers, size - 1);
  CHECK_EQ(st.pushes, 20L * (size - 1));
  CHECK_EQ(st.updates, 20);
  CHECK_EQ(st.max_staleness, 0);
  CHECK_EQ(st.max_clock_gap, 0);
  CHECK_EQ(st.hist[0], st.pushes);
  /* BSP with identical gradients is plain gradient descent: |w - t| shrinks
   * by (1 - lr) per step. */
  CHECK(fabs(dist(w) - pow(0.8, 20) * sqrt(1 + 4 + 9 + 16)) < 1e-9);
  double w0[DIM];
  memcpy(w0, w, sizeof w0);
  MPI_Bcast(w0, DIM, MPI_DOUBLE, 0, MPI_COMM_WORLD);
  CHECK(!memcmp(w0, w, sizeof w0));
}

static void check_ps_ssp(void) {
  if (size < 3) return; /* a bound needs two workers to be between */
  eng_ps_stats st;
  double w[DIM];
  ps(ENG_PS_SSP, 1, 0.01, &st, w);
  CHECK_EQ(st.updates, 20L * (size - 1));
  CHECK(st.max_clock_gap <= 1);
  CHECK(st.blocked_pulls > 0); /* the straggler held the others back */
  CHECK(dist(w) < 0.05);
}

static void check_ps_asp(void) {
  if (size < 3) return;
  eng_ps_stats st;
  double w[DIM];
  ps(ENG_PS_ASP, 0, 0.03, &st, w);
  CHECK_EQ(st.blocked_pulls, 0);
  CHECK_EQ(st.updates, 20L * (size - 1));
  /* Nobody waits for the straggler: the others run far ahead of it, and
   * its gradients arrive many updates late. */
  CHECK(st.max_clock_gap >= 3);
  CHECK(st.max_staleness >= 3);
  long hist = 0;
  for (int i = 0; i < ENG_PS_HIST; i++) hist += st.hist[i];
  CHECK_EQ(hist, st.pushes);
}

static void check_ps_errors(void) {
  eng_ps_opts o = {.mode = ENG_PS_BSP, .steps = 5, .dim = DIM, .lr = 0.1, .grad = quad_grad};
  double w[DIM] = {0};
  if (size < 2) {
    CHECK_EQ(eng_ps_run(&o, MPI_COMM_WORLD, w, NULL), PL_EINVAL);
    return;
  }
  /* Worker 0 fails at its third step: every rank returns the error and
   * no worker waits forever for a BSP round that cannot complete. */
  int fail_worker = 0;
  o.arg = &fail_worker;
  CHECK_EQ(eng_ps_run(&o, MPI_COMM_WORLD, w, NULL), PL_EINVAL);
  eng_ps_mode m;
  CHECK_EQ(eng_ps_mode_parse("ssp", &m), 0);
  CHECK_EQ(m, ENG_PS_SSP);
  CHECK_EQ(eng_ps_mode_parse("nope", &m), PL_EINVAL);
}

/* ---------------------------------------------------------------- main */

typedef struct check {
  const char *name;
  void (*fn)(void);
} check;

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  static const check checks[] = {
    {"collectives", check_collectives},
    {"wordcount_combiner", check_wordcount_combiner},
    {"wordcount_plain", check_wordcount_plain},
    {"wordcount_spills", check_wordcount_spills},
    {"wordcount_tiny", check_wordcount_tiny},
    {"mapreduce_failure", check_mapreduce_failure},
    {"ps_bsp", check_ps_bsp},
    {"ps_ssp", check_ps_ssp},
    {"ps_asp", check_ps_asp},
    {"ps_errors", check_ps_errors},
  };
  int pass = 0, fail = 0;
  for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
    if (argc > 1 && !strstr(checks[i].name, argv[1])) continue;
    failed_here = 0;
    why[0] = 0;
    checks[i].fn();
    /* The first failing rank's message reaches rank 0. */
    int mine = failed_here ? rank : size, first = size;
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (first < size && first != 0) {
      if (rank == first) MPI_Send(why, (int)sizeof why, MPI_CHAR, 0, 1, MPI_COMM_WORLD);
      if (rank == 0) MPI_Recv(why, (int)sizeof why, MPI_CHAR, first, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    }
    if (rank == 0) {
      if (first < size) printf("FAIL  %s (%d ranks): %s\n", checks[i].name, size, why);
      else printf("ok    %s (%d ranks)\n", checks[i].name, size);
      fflush(stdout);
    }
    if (first < size) fail++;
    else pass++;
  }
  if (rank == 0) printf("%d passed, %d failed\n", pass, fail);
  MPI_Finalize();
  return fail ? 1 : 0;
}
