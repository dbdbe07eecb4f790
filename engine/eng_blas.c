/*
 * eng_blas.c — OpenBLAS loaded with dlopen() after the core-type check,
 * cblas wrappers, and the teaching GEMMs (see eng_blas.h).
 */
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <omp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "eng_blas.h"
#include "eng_measure.h"
#include "eng_pool.h"
#include "eng_simd.h"
#include "pl_err.h"

enum { ROW_MAJOR = 101, NO_TRANS = 111 };

typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *,
                         int, float, float *, int);
typedef double (*ddot_fn)(int, const double *, int, const double *, int);
typedef float (*sdot_fn)(int, const float *, int, const float *, int);
typedef void (*daxpy_fn)(int, double, const double *, int, double *, int);
typedef void (*saxpy_fn)(int, float, const float *, int, float *, int);
typedef char *(*str_fn)(void);
typedef void (*setn_fn)(int);
typedef int (*getn_fn)(void);

static struct {
  void *h;
  eng_cblas_dgemm_fn dgemm;
  sgemm_fn sgemm;
  ddot_fn ddot;
  sdot_fn sdot;
  daxpy_fn daxpy;
  saxpy_fn saxpy;
  str_fn corename, config;
  setn_fn set_threads;
  getn_fn get_threads;
  eng_blas_info info;
  int rc;
  int measure_n; /* requested by eng_blas_init_measure() */
} ob;

static pthread_once_t ob_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t ob_mu = PTHREAD_MUTEX_INITIALIZER;

/* ---- which core CPUID calls for ---- */

/* ISA level of an OpenBLAS x86-64 core name: 1 SSE3, 2 SSSE3/SSE4,
 * 3 AVX, 4 AVX2+FMA, 5 AVX-512; 0 unknown. */
static int core_level(const char *name) {
  static const struct { const char *n; int lv; } t[] = {
      {"prescott", 1},    {"katmai", 1},     {"coppermine", 1},  {"northwood", 1},
      {"banias", 1},      {"athlon", 1},     {"opteron", 1},     {"opteron_sse3", 1},
      {"core2", 2},       {"penryn", 2},     {"dunnington", 2},  {"nehalem", 2},
      {"atom", 2},        {"barcelona", 2},  {"bobcat", 2},      {"nano", 2},
      {"sandybridge", 3}, {"bulldozer", 3},  {"piledriver", 3},  {"haswell", 4},
      {"zen", 4},         {"steamroller", 4}, {"excavator", 4},  {"dhyana", 4},
      {"skylakex", 5},    {"cooperlake", 5}, {"sapphirerapids", 5}};
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
    if (!strcasecmp(name, t[i].n)) return t[i].lv;
  return 0;
}

static void expected_core(char *out, size_t size) {
  const eng_cpu *c = eng_cpu_get();
  int amd = !strcmp(c->vendor, "AuthenticAMD") || !strcmp(c->vendor, "HygonGenuine");
  const char *e = "";
  if (c->avx512f && c->avx512bw && c->avx512vl && c->avx512dq && c->avx512cd)
    e = c->avx512bf16 ? "Cooperlake" : "SkylakeX";
  else if (c->avx2 && c->fma) e = amd ? "Zen" : "Haswell";
  else if (c->avx) e = amd ? "Bulldozer" : "Sandybridge";
  else if (c->ssse3) e = amd ? "Barcelona" : "Core2";
  else if (c->sse3) e = "Prescott";
  snprintf(out, size, "%s", e);
}

/* ---- loading ---- */

static void *open_lib(char *path, size_t size) {
  const char *env = getenv("PARLAB_OPENBLAS");
  const char *cands[] = {env && *env ? env : NULL, "libopenblas.so.0", "libopenblas.so"};
  for (size_t i = 0; i < sizeof cands / sizeof cands[0]; i++) {
    if (!cands[i]) continue;
    void *h = dlopen(cands[i], RTLD_NOW | RTLD_LOCAL);
    if (h) {
      snprintf(path, size, "%s", cands[i]);
      return h;
    }
  }
  return NULL;
}

/* Median GFLOP/s of 3 single-threaded n x n dgemms (after one warm-up). */
static double time_dgemm(eng_cblas_dgemm_fn dgemm, int n) {
  double *A = malloc(sizeof *A * (size_t)n * (size_t)n), *B = malloc(sizeof *B * (size_t)n * (size_t)n);
  double *C = calloc((size_t)n * (size_t)n, sizeof *C);
  double g = 0;
  if (!A || !B || !C) goto done;
  for (long i = 0; i < (long)n * n; i++) A[i] = 1.0 / (double)(i % 97 + 1), B[i] = (double)(i % 13) - 6;
  double s[3];
  dgemm(ROW_MAJOR, NO_TRANS, NO_TRANS, n, n, n, 1.0, A, n, B, n, 0.0, C, n);
  for (int r = 0; r < 3; r++) {
    uint64_t t0 = eng_now_ns();
    dgemm(ROW_MAJOR, NO_TRANS, NO_TRANS, n, n, n, 1.0, A, n, B, n, 0.0, C, n);
    s[r] = 2.0 * n * (double)n * n / (double)(eng_now_ns() - t0);
  }
  eng_stats st;
  if (eng_stats_compute(s, 3, &st) == 0) g = st.median;
done:
  free(A), free(B), free(C);
  return g;
}

typedef struct child_report {
  char core[32];
  double gflops;
} child_report;

/* What OpenBLAS picks by itself: a forked child unsets OPENBLAS_CORETYPE,
 * loads the library, reports openblas_get_corename() (and, if asked, a
 * dgemm rate) through a pipe and exits. 0 on success. */
static int ask_child(int measure_n, child_report *out) {
  int fds[2];
  if (pipe(fds)) return PL_EIO;
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]), close(fds[1]);
    return PL_EIO;
  }
  if (pid == 0) {
    close(fds[0]);
    child_report r = {{0}, 0};
    unsetenv("OPENBLAS_CORETYPE");
    char path[256];
    void *h = open_lib(path, sizeof path);
    str_fn cn = h ? (str_fn)dlsym(h, "openblas_get_corename") : NULL;
    if (cn && cn()) snprintf(r.core, sizeof r.core, "%s", cn());
    if (h && measure_n > 0) {
      setn_fn st = (setn_fn)dlsym(h, "openblas_set_num_threads");
      eng_cblas_dgemm_fn d = (eng_cblas_dgemm_fn)dlsym(h, "cblas_dgemm");
      if (st) st(1);
      if (d) r.gflops = time_dgemm(d, measure_n);
    }
    ssize_t w = write(fds[1], &r, sizeof r);
    _exit(w == (ssize_t)sizeof r ? 0 : 1);
  }
  close(fds[1]);
  int rc = PL_EIO;
  struct pollfd p = {fds[0], POLLIN, 0};
  if (poll(&p, 1, 60000) == 1 && read(fds[0], out, sizeof *out) == (ssize_t)sizeof *out) rc = 0;
  else kill(pid, SIGKILL);
  close(fds[0]);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
  out->core[sizeof out->core - 1] = '\0';
  return rc;
}

static void load(void) {
  eng_blas_info *I = &ob.info;
  const char *user = getenv("OPENBLAS_CORETYPE");
  I->user_set = user && *user;
  expected_core(I->expected, sizeof I->expected);
  if (!I->user_set) {
    child_report r;
    if (ask_child(ob.measure_n, &r) == 0 && r.core[0]) {
      snprintf(I->detected, sizeof I->detected, "%s", r.core);
      I->dgemm_detected_gflops = r.gflops;
      int want = core_level(I->expected), got = core_level(r.core);
      I->misdetected = want > 0 && got < want;
    }
    /* Must happen before dlopen: OpenBLAS reads it in its constructor. */
    if (I->misdetected && setenv("OPENBLAS_CORETYPE", I->expected, 1) == 0) I->corrected = 1;
  }
  ob.h = open_lib(I->library, sizeof I->library);
  if (!ob.h) {
    snprintf(I->config, sizeof I->config, "OpenBLAS not found: %s", dlerror());
    ob.rc = PL_ENOSYS;
    return;
  }
  ob.dgemm = (eng_cblas_dgemm_fn)dlsym(ob.h, "cblas_dgemm");
  ob.sgemm = (sgemm_fn)dlsym(ob.h, "cblas_sgemm");
  ob.ddot = (ddot_fn)dlsym(ob.h, "cblas_ddot");
  ob.sdot = (sdot_fn)dlsym(ob.h, "cblas_sdot");
  ob.daxpy = (daxpy_fn)dlsym(ob.h, "cblas_daxpy");
  ob.saxpy = (saxpy_fn)dlsym(ob.h, "cblas_saxpy");
  ob.corename = (str_fn)dlsym(ob.h, "openblas_get_corename");
  ob.config = (str_fn)dlsym(ob.h, "openblas_get_config");
  ob.set_threads = (setn_fn)dlsym(ob.h, "openblas_set_num_threads");
  ob.get_threads = (getn_fn)dlsym(ob.h, "openblas_get_num_threads");
  if (!ob.dgemm || !ob.sgemm || !ob.ddot || !ob.sdot || !ob.daxpy || !ob.saxpy) {
    snprintf(I->config, sizeof I->config, "%.200s lacks the cblas functions", I->library);
    ob.rc = PL_ENOSYS;
    return;
  }
  I->loaded = 1;
  if (ob.corename && ob.corename()) snprintf(I->core, sizeof I->core, "%s", ob.corename());
  if (ob.config && ob.config()) snprintf(I->config, sizeof I->config, "%s", ob.config());
  if (ob.set_threads) ob.set_threads(eng_default_threads());
  I->threads = ob.get_threads ? ob.get_threads() : 1;
  if (!I->detected[0] && !I->user_set) snprintf(I->detected, sizeof I->detected, "%s", I->core);
  if (ob.measure_n > 0) {
    if (ob.set_threads) ob.set_threads(1);
    I->dgemm_gflops = time_dgemm(ob.dgemm, ob.measure_n);
    I->dgemm_n = ob.measure_n;
    if (ob.set_threads) ob.set_threads(I->threads);
  }
}

int eng_blas_init(void) {
  pthread_once(&ob_once, load);
  return ob.rc;
}

int eng_blas_init_measure(int n) {
  pthread_mutex_lock(&ob_mu);
  ob.measure_n = n > 0 ? n : 1536;
  pthread_mutex_unlock(&ob_mu);
  return eng_blas_init();
}

void eng_blas_get_info(eng_blas_info *out) {
  pthread_mutex_lock(&ob_mu);
  *out = ob.info;
  pthread_mutex_unlock(&ob_mu);
}

int eng_blas_set_threads(int n) {
  if (n < 1) return PL_EINVAL;
  int rc = eng_blas_init();
  if (rc) return rc;
  if (!ob.set_threads) return PL_ENOSYS;
  ob.set_threads(n);
  pthread_mutex_lock(&ob_mu);
  ob.info.threads = ob.get_threads ? ob.get_threads() : n;
  pthread_mutex_unlock(&ob_mu);
  return 0;
}

eng_cblas_dgemm_fn eng_blas_raw_dgemm(void) { return eng_blas_init() ? NULL : ob.dgemm; }

/* cblas takes int sizes. */
static int sizes_ok(long m, long n, long k) {
  return m >= 0 && n >= 0 && k >= 0 && m <= 0x7fffffff && n <= 0x7fffffff && k <= 0x7fffffff;
}

int eng_blas_dgemm(long m, long n, long k, double alpha, const double *A, const double *B,
                   double beta, double *C) {
  if (!sizes_ok(m, n, k) || (m && n && !C) || (m && n && k && (!A || !B))) return PL_EINVAL;
  int rc = eng_blas_init();
  if (rc) return rc;
  if (!m || !n) return 0;
  ob.dgemm(ROW_MAJOR, NO_TRANS, NO_TRANS, (int)m, (int)n, (int)k, alpha, A, k ? (int)k : 1, B,
           (int)n, beta, C, (int)n);
  return 0;
}

int eng_blas_sgemm(long m, long n, long k, float alpha, const float *A, const float *B,
                   float beta, float *C) {
  if (!sizes_ok(m, n, k) || (m && n && !C) || (m && n && k && (!A || !B))) return PL_EINVAL;
  int rc = eng_blas_init();
  if (rc) return rc;
  if (!m || !n) return 0;
  ob.sgemm(ROW_MAJOR, NO_TRANS, NO_TRANS, (int)m, (int)n, (int)k, alpha, A, k ? (int)k : 1, B,
           (int)n, beta, C, (int)n);
  return 0;
}

int eng_blas_ddot(long n, const double *x, const double *y, double *out) {
  if (!sizes_ok(n, 0, 0) || !out || (n && (!x || !y))) return PL_EINVAL;
  int rc = eng_blas_init();
  if (rc) return rc;
  *out = n ? ob.ddot((int)n, x, 1, y, 1) : 0;
  return 0;
}

int eng_blas_sdot(long n, const float *x, const float *y, float *out) {
  if (!sizes_ok(n, 0, 0) || !out || (n && (!x || !y))) return PL_EINVAL;
  int rc = eng_blas_init();
  if (rc) return rc;
  *out = n ? ob.sdot((int)n, x, 1, y, 1) : 0;
  return 0;
}

int eng_blas_daxpy(long n, double a, const double *x, double *y) {
  if (!sizes_ok(n, 0, 0) || (n && (!x || !y))) return PL_EINVAL;
  int rc = eng_blas_init();
  if (rc) return rc;
  if (n) ob.daxpy((int)n, a, x, 1, y, 1);
  return 0;
}

int eng_blas_saxpy(long n, float a, const float *x, float *y) {
  if (!sizes_ok(n, 0, 0) || (n && (!x || !y))) return PL_EINVAL;
  int rc = eng_blas_init();
  if (rc) return rc;
  if (n) ob.saxpy((int)n, a, x, 1, y, 1);
  return 0;
}

/* ---- teaching GEMMs ---- */

static const char *const gemm_names[ENG_GEMM_NVARIANTS] = {"naive", "interchange", "blocked",
                                                           "simd_omp", "openblas"};

const char *eng_gemm_name(eng_gemm_variant v) {
  return (unsigned)v < ENG_GEMM_NVARIANTS ? gemm_names[v] : "?";
}

int eng_gemm_parse(const char *name, eng_gemm_variant *out) {
  if (!name || !out) return PL_EINVAL;
  for (int i = 0; i < ENG_GEMM_NVARIANTS; i++)
    if (!strcmp(name, gemm_names[i])) {
      *out = (eng_gemm_variant)i;
      return 0;
    }
  return PL_EINVAL;
}

/* C = beta * C, with beta == 0 clearing (so NaNs in C do not survive). */
static void scale_rows(double *C, long r0, long r1, long n, double beta) {
  for (long i = r0; i < r1; i++)
    for (long j = 0; j < n; j++) C[i * n + j] = beta == 0 ? 0 : beta * C[i * n + j];
}

static void gemm_naive(long m, long n, long k, double alpha, const double *A, const double *B,
                       double beta, double *C) {
  for (long i = 0; i < m; i++)
    for (long j = 0; j < n; j++) {
      double s = 0;
      for (long p = 0; p < k; p++) s += A[i * k + p] * B[p * n + j];
      C[i * n + j] = alpha * s + (beta == 0 ? 0 : beta * C[i * n + j]);
    }
}

/* The j loops below are unit-stride and alias-free (restrict), so the
 * compiler vectorizes them: that is half the lesson of loop order. */
#define TEACH_OPT __attribute__((optimize("O3")))

TEACH_OPT static void gemm_interchange(long m, long n, long k, double alpha, const double *A,
                             const double *B, double beta, double *C) {
  scale_rows(C, 0, m, n, beta);
  for (long i = 0; i < m; i++)
    for (long p = 0; p < k; p++) {
      double a = alpha * A[i * k + p];
      const double *restrict b = B + p * n;
      double *restrict c = C + i * n;
      for (long j = 0; j < n; j++) c[j] += a * b[j];
    }
}

/* Tiles: a KB x NB block of B (256 x 512 doubles = 1 MiB) stays in L2
 * while MB rows of A stream past it. */
enum { MB = 64, KB = 256, NB = 512 };

TEACH_OPT static void gemm_blocked(long m, long n, long k, double alpha, const double *A, const double *B,
                         double beta, double *C) {
  scale_rows(C, 0, m, n, beta);
  for (long jj = 0; jj < n; jj += NB) {
    long je = jj + NB < n ? jj + NB : n;
    for (long pp = 0; pp < k; pp += KB) {
      long pe = pp + KB < k ? pp + KB : k;
      for (long ii = 0; ii < m; ii += MB) {
        long ie = ii + MB < m ? ii + MB : m;
        for (long i = ii; i < ie; i++)
          for (long p = pp; p < pe; p++) {
            double a = alpha * A[i * k + p];
            const double *restrict b = B + p * n;
            double *restrict c = C + i * n;
            for (long j = jj; j < je; j++) c[j] += a * b[j];
          }
      }
    }
  }
}

/* ---- blocked + SIMD + OpenMP: packed panels and a register-blocked
 * micro-kernel (the structure of GotoBLAS/BLIS, kept short). ---- */

enum { MR = 6, NR = 16, MC = 96, KC = 256, NC = 2048 };
typedef double v8d __attribute__((vector_size(64)));

/* MR x NR tile of (packed A panel) x (packed B panel) over kc: 12 vector
 * accumulators, per step 2 loads of B, MR broadcasts of A, 12 FMAs. */
static inline __attribute__((always_inline)) void micro_body(long kc, const double *a,
                                                              const double *b, double *t) {
  v8d c[MR][2];
  for (int r = 0; r < MR; r++) c[r][0] = c[r][1] = (v8d){0};
  for (long p = 0; p < kc; p++) {
    v8d b0, b1;
    memcpy(&b0, b + p * NR, sizeof b0);
    memcpy(&b1, b + p * NR + 8, sizeof b1);
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++) {
      v8d ar = a[p * MR + r] - (v8d){0};
      c[r][0] += ar * b0;
      c[r][1] += ar * b1;
    }
  }
  for (int r = 0; r < MR; r++) {
    memcpy(t + r * NR, &c[r][0], sizeof c[r][0]);
    memcpy(t + r * NR + 8, &c[r][1], sizeof c[r][1]);
  }
}

__attribute__((target("avx512f,avx512dq,fma"))) static void micro_avx512(long kc, const double *a,
                                                                       const double *b, double *t) {
  micro_body(kc, a, b, t);
}
__attribute__((target("avx2,fma"))) static void micro_avx2(long kc, const double *a, const double *b,
                                                          double *t) {
  micro_body(kc, a, b, t);
}
static void micro_base(long kc, const double *a, const double *b, double *t) {
  micro_body(kc, a, b, t);
}

typedef void (*micro_fn)(long, const double *, const double *, double *);

static micro_fn pick_micro(void) {
  if (eng_simd_supported(ENG_SIMD_AVX512)) return micro_avx512;
  if (eng_simd_supported(ENG_SIMD_AVX2)) return micro_avx2;
  return micro_base;
}

/* Pack rows [i0, i0+mc) x cols [p0, p0+kc) of A into MR-row panels,
 * zero-padded: panel q holds a[p * MR + r] = A[i0 + q*MR + r][p0 + p]. */
static void pack_a(const double *A, long k, long i0, long mc, long p0, long kc, double *out) {
  for (long q = 0; q < mc; q += MR)
    for (long p = 0; p < kc; p++)
      for (long r = 0; r < MR; r++)
        *out++ = q + r < mc ? A[(i0 + q + r) * k + p0 + p] : 0;
}

/* Panel q (NR columns from j0 + q) of rows [p0, p0+kc) of B, zero-padded
 * past column nc: out[p * NR + c] = B[p0 + p][j0 + q + c]. */
static void pack_b_panel(const double *B, long n, long p0, long kc, long j0, long q, long nc,
                         double *out) {
  for (long p = 0; p < kc; p++)
    for (long c = 0; c < NR; c++) *out++ = q + c < nc ? B[(p0 + p) * n + j0 + q + c] : 0;
}

/* One parallel region for the whole product: the threads pack B together,
 * then share the row blocks of A, with no serial phase in between (on a
 * small, busy machine an idle OpenMP thread spinning at a barrier steals
 * the core the serial part needs). */
static int gemm_simd_omp(long m, long n, long k, double alpha, const double *A, const double *B,
                         double beta, double *C, int threads) {
  if (threads <= 0) threads = eng_default_threads();
  micro_fn micro = pick_micro();
  long nc_max = n < NC ? n : NC;
  size_t bsize = sizeof(double) * (size_t)KC * (size_t)((nc_max + NR - 1) / NR * NR);
  size_t asize = sizeof(double) * (size_t)MC * KC;
  double *bp = aligned_alloc(64, bsize), *ap_all = aligned_alloc(64, asize * (size_t)threads);
  if (!bp || !ap_all) {
    free(bp), free(ap_all);
    return PL_ENOMEM;
  }
#pragma omp parallel num_threads(threads)
  {
    double *ap = ap_all + (size_t)omp_get_thread_num() * (size_t)MC * KC;
    double tile[MR * NR] __attribute__((aligned(64)));
#pragma omp for schedule(static)
    for (long i = 0; i < m; i++) scale_rows(C, i, i + 1, n, beta);
    for (long jc = 0; jc < n; jc += NC) {
      long nc = n - jc < NC ? n - jc : NC;
      for (long pc = 0; pc < k; pc += KC) {
        long kc = k - pc < KC ? k - pc : KC;
#pragma omp for schedule(static)
        for (long q = 0; q < nc; q += NR) pack_b_panel(B, n, pc, kc, jc, q, nc, bp + q * kc);
#pragma omp for schedule(dynamic, 1)
        for (long ic = 0; ic < m; ic += MC) {
          long mc = m - ic < MC ? m - ic : MC;
          pack_a(A, k, ic, mc, pc, kc, ap);
          for (long jr = 0; jr < nc; jr += NR)
            for (long ir = 0; ir < mc; ir += MR) {
              micro(kc, ap + ir * kc, bp + jr * kc, tile);
              long rows = mc - ir < MR ? mc - ir : MR, cols = nc - jr < NR ? nc - jr : NR;
              for (long r = 0; r < rows; r++) {
                double *c = C + (ic + ir + r) * n + jc + jr;
                for (long cc = 0; cc < cols; cc++) c[cc] += alpha * tile[r * NR + cc];
              }
            }
        }
      }
    }
  }
  free(bp), free(ap_all);
  return 0;
}

int eng_gemm(eng_gemm_variant v, long m, long n, long k, double alpha, const double *A,
             const double *B, double beta, double *C, int threads) {
  if ((unsigned)v >= ENG_GEMM_NVARIANTS || m < 0 || n < 0 || k < 0) return PL_EINVAL;
  if ((m && n && !C) || (m && n && k && (!A || !B))) return PL_EINVAL;
  if (!m || !n) return 0;
  switch (v) {
  case ENG_GEMM_NAIVE: gemm_naive(m, n, k, alpha, A, B, beta, C); return 0;
  case ENG_GEMM_INTERCHANGE: gemm_interchange(m, n, k, alpha, A, B, beta, C); return 0;
  case ENG_GEMM_BLOCKED: gemm_blocked(m, n, k, alpha, A, B, beta, C); return 0;
  case ENG_GEMM_SIMD_OMP: return gemm_simd_omp(m, n, k, alpha, A, B, beta, C, threads);
  case ENG_GEMM_OPENBLAS: return eng_blas_dgemm(m, n, k, alpha, A, B, beta, C);
  default: return PL_EINVAL;
  }
}
