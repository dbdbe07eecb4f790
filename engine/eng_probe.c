/*
 * eng_probe.c — topology (hwloc), STREAM, FMA peak, OpenBLAS, GPU and MPI
 * presence (see eng_probe.h).
 */
#include <dirent.h>
#include <hwloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "eng_measure.h"
#include "eng_pool.h"
#include "eng_probe.h"
#include "eng_roofline.h"
#include "eng_simd.h"
#include "pl_err.h"

/* ---- static facts ---- */

static double meminfo_gib(const char *key) {
  FILE *f = fopen("/proc/meminfo", "r");
  if (!f) return 0;
  char line[256];
  double v = 0;
  size_t kl = strlen(key);
  while (fgets(line, sizeof line, f))
    if (!strncmp(line, key, kl) && line[kl] == ':') {
      v = atof(line + kl + 1) / (1024.0 * 1024.0); /* kB -> GiB */
      break;
    }
  fclose(f);
  return v;
}

int eng_probe_fingerprint(char *buf, size_t size) {
  const eng_cpu *c = eng_cpu_get();
  struct utsname u;
  if (uname(&u) != 0) strcpy(u.release, "unknown");
  int w = snprintf(buf, size, "%s|%d|%.0f|%s|%s", c->brand, eng_cores(), meminfo_gib("MemTotal"),
                   u.release, PL_VERSION);
  return w < 0 ? 0 : w;
}

static void topology(eng_probe *p) {
  hwloc_topology_t t;
  if (hwloc_topology_init(&t)) return;
  if (hwloc_topology_load(t)) {
    hwloc_topology_destroy(t);
    return;
  }
  p->pus = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PU);
  p->physical_cores = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_CORE);
  p->packages = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PACKAGE);
  p->numa_nodes = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_NUMANODE);
  static const hwloc_obj_type_t lv[3] = {HWLOC_OBJ_L1CACHE, HWLOC_OBJ_L2CACHE, HWLOC_OBJ_L3CACHE};
  long *dst[3] = {&p->l1d, &p->l2, &p->l3};
  for (int i = 0; i < 3; i++) {
    int n = hwloc_get_nbobjs_by_type(t, lv[i]);
    hwloc_obj_t o = hwloc_get_obj_by_type(t, lv[i], 0);
    if (!o || !o->attr) continue;
    *dst[i] = (long)o->attr->cache.size;
    if (*dst[i] > 0) p->llc_total = (long)o->attr->cache.size * n; /* the last level found wins */
  }
  hwloc_topology_destroy(t);
}

/* First "Model:" line of the NVIDIA driver's per-GPU information file. */
static void gpu(eng_probe *p) {
  DIR *d = opendir("/proc/driver/nvidia/gpus");
  if (!d) {
    struct stat st;
    p->gpu = stat("/dev/nvidia0", &st) == 0;
    if (p->gpu) snprintf(p->gpu_name, sizeof p->gpu_name, "NVIDIA GPU");
    return;
  }
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    char path[512], line[256];
    snprintf(path, sizeof path, "/proc/driver/nvidia/gpus/%s/information", e->d_name);
    FILE *f = fopen(path, "r");
    if (!f) continue;
    p->gpu++;
    while (fgets(line, sizeof line, f))
      if (!strncmp(line, "Model:", 6) && !p->gpu_name[0]) {
        char *s = line + 6;
        while (*s == ' ' || *s == '\t') s++;
        s[strcspn(s, "\n")] = '\0';
        snprintf(p->gpu_name, sizeof p->gpu_name, "%.127s", s);
      }
    fclose(f);
  }
  closedir(d);
}

static void mpi(eng_probe *p) {
  const char *path = getenv("PATH");
  if (!path) return;
  char *dup = strdup(path), *save = NULL;
  if (!dup) return;
  for (char *dir = strtok_r(dup, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
    char f[512];
    snprintf(f, sizeof f, "%s/mpirun", dir);
    if (access(f, X_OK) == 0) {
      p->mpi = 1;
      snprintf(p->mpi_path, sizeof p->mpi_path, "%.127s", f);
      break;
    }
  }
  free(dup);
}

int eng_probe_static(eng_probe *p) {
  if (!p) return PL_EINVAL;
  memset(p, 0, sizeof *p);
  const eng_cpu *c = eng_cpu_get();
  snprintf(p->cpu, sizeof p->cpu, "%s", c->brand);
  snprintf(p->vendor, sizeof p->vendor, "%s", c->vendor);
  p->family = c->family, p->model = c->model;
  p->cores = eng_cores();
  eng_cpu_isa_string(p->isa, sizeof p->isa);
  snprintf(p->simd_best, sizeof p->simd_best, "%s", eng_simd_variant_name(eng_simd_best()));
  p->mem_total_gib = meminfo_gib("MemTotal");
  p->mem_avail_gib = meminfo_gib("MemAvailable");
  snprintf(p->version, sizeof p->version, "%s", PL_VERSION);
  eng_probe_fingerprint(p->fingerprint, sizeof p->fingerprint);
  topology(p);
  gpu(p);
  mpi(p);
  return 0;
}

/* ---- STREAM ---- */

typedef struct stream_arg {
  double *a, *b, *c;
  double q;
  int op; /* 0 init, 1 copy, 2 scale, 3 add, 4 triad */
} stream_arg;

/* Fault in the pages of x[lo, hi) with one system call, from the thread
 * that will use them (so NUMA placement is first touch's). Touching 3 GiB
 * page by page costs one fault per 4 KiB; in a virtual machine on a busy
 * host that took 1.5 s quiet and up to 6 s loaded, a third of the probe;
 * MADV_POPULATE_WRITE (Linux 5.14) does the same work in a third less
 * time quiet, and far less loaded. Older kernels refuse it and the writes
 * fault the pages in. */
static void populate(double *x, long lo, long hi) {
#ifdef MADV_POPULATE_WRITE
  const long per_page = 4096 / (long)sizeof(double);
  long l0 = lo / per_page * per_page, h0 = (hi + per_page - 1) / per_page * per_page;
  madvise(x + l0, (size_t)(h0 - l0) * sizeof(double), MADV_POPULATE_WRITE);
#else
  (void)x, (void)lo, (void)hi;
#endif
}

static void stream_body(void *arg, long lo, long hi, int w) {
  (void)w;
  stream_arg *s = arg;
  double *restrict a = s->a, *restrict b = s->b, *restrict c = s->c;
  const double q = s->q;
  switch (s->op) {
  case 0:
    populate(a, lo, hi), populate(b, lo, hi), populate(c, lo, hi);
    for (long i = lo; i < hi; i++) a[i] = 1.0, b[i] = 2.0, c[i] = 0.0;
    break;
  case 1: for (long i = lo; i < hi; i++) c[i] = a[i]; break;
  case 2: for (long i = lo; i < hi; i++) b[i] = q * c[i]; break;
  case 3: for (long i = lo; i < hi; i++) c[i] = a[i] + b[i]; break;
  case 4: for (long i = lo; i < hi; i++) a[i] = b[i] + q * c[i]; break;
  }
}

static long stream_rule_n(const eng_probe *p) {
  long llc = p->llc_total > 0 ? p->llc_total : 32L << 20;
  long n = 4 * llc / (long)sizeof(double);
  if (n < 10000000L) n = 10000000L;
  double cap = p->mem_avail_gib > 0 ? p->mem_avail_gib * 0.5 * 1073741824.0 / 24.0 : 1e8;
  if ((double)n > cap) n = (long)cap;
  return n;
}

/* mmap, not malloc: the arrays are large and go straight back to the
 * kernel when the probe ends. (Asking for transparent huge pages made the
 * first touch slower here: the kernel compacts memory to find them.) */
static double *big_alloc(long n) {
  size_t bytes = (size_t)n * sizeof(double);
  void *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return NULL;
  return m;
}

static void big_free(double *a, long n) {
  if (a) munmap(a, (size_t)n * sizeof(double));
}

/* The engine's own kernels on the same out-of-cache arrays, split over
 * the pool like STREAM; each rate is the better of two passes. */
typedef struct kern_arg {
  const double *a, *b, *c;
  double *y;
  int op;
  double sink[1024];
} kern_arg;

static void kern_body(void *arg, long lo, long hi, int w) {
  kern_arg *k = arg;
  double r = 0, lo_v, hi_v;
  int64_t ri = 0;
  switch (k->op) {
  case 0: eng_simd_sum_f64(ENG_SIMD_AUTO, k->a + lo, hi - lo, &r); break;
  case 1: eng_simd_dot_f64(ENG_SIMD_AUTO, k->a + lo, k->b + lo, hi - lo, &r); break;
  case 2: eng_simd_axpy_f64(ENG_SIMD_AUTO, 1e-9, k->c + lo, k->y + lo, hi - lo); break;
  case 3: eng_simd_minmax_f64(ENG_SIMD_AUTO, k->a + lo, hi - lo, &lo_v, &hi_v), r = hi_v - lo_v; break;
  case 4: /* the same bytes seen as int8: 8 per double */
    eng_simd_dot_i8(ENG_SIMD_AUTO, (const int8_t *)(k->a + lo), (const int8_t *)(k->b + lo),
                    (hi - lo) * 8, &ri);
    r = (double)ri;
    break;
  }
  if (w < 1024) k->sink[w] += r;
}

static void kernels(eng_probe *p, eng_pool *pool, double *a, double *b, double *c, long n) {
  static const struct { const char *name, *model; double per_elem; } ks[] = {
      {"sum_f64", "sum_f64", 1}, {"dot_f64", "dot_f64", 2}, {"axpy_f64", "axpy_f64", 2},
      {"minmax_f64", "minmax_f64", 2}, {"dot_i8", "dot_i8", 16}};
  kern_arg *k = calloc(1, sizeof *k);
  if (!k) return;
  k->a = a, k->b = b, k->c = c, k->y = b;
  for (int i = 0; i < (int)(sizeof ks / sizeof ks[0]) && p->nkernels < ENG_PROBE_MAX_KERNELS; i++) {
    k->op = i;
    double g = 0;
    for (int r = 0; r < 2; r++) {
      uint64_t t0 = eng_now_ns();
      eng_parallel_for(pool, 0, n, kern_body, k);
      double rate = ks[i].per_elem * (double)n / (double)(eng_now_ns() - t0);
      if (rate > g) g = rate;
    }
    struct eng_probe_kernel *pk = &p->kernels[p->nkernels++];
    snprintf(pk->name, sizeof pk->name, "%s", ks[i].name);
    pk->ai = eng_roofline_ai(eng_roofline_find(ks[i].model));
    pk->gflops = g;
  }
  /* triad is STREAM's own */
  if (p->nkernels < ENG_PROBE_MAX_KERNELS) {
    struct eng_probe_kernel *pk = &p->kernels[p->nkernels++];
    snprintf(pk->name, sizeof pk->name, "triad");
    pk->ai = eng_roofline_ai(eng_roofline_find("triad"));
    pk->gflops = p->triad * pk->ai;
  }
  free(k);
}

static int stream(eng_probe *p, long n, int reps) {
  eng_pool *pool = eng_pool_default();
  if (!pool) return PL_ENOMEM;
  double *a = NULL, *b = NULL, *c = NULL;
  /* Halve the size until the arrays fit (never below 1M elements). */
  for (; n >= 1000000L; n /= 2) {
    a = big_alloc(n), b = big_alloc(n), c = big_alloc(n);
    if (a && b && c) break;
    big_free(a, n), big_free(b, n), big_free(c, n);
    a = b = c = NULL;
  }
  if (!a) return PL_ENOMEM;
  stream_arg s = {a, b, c, 3.0, 0};
  eng_parallel_for(pool, 0, n, stream_body, &s); /* first touch, by the users */
  double best[4] = {0, 0, 0, 0};
  static const double bytes[4] = {16, 16, 24, 24};
  for (int r = 0; r < reps; r++)
    for (int k = 0; k < 4; k++) {
      s.op = k + 1;
      uint64_t t0 = eng_now_ns();
      eng_parallel_for(pool, 0, n, stream_body, &s);
      double gbs = bytes[k] * (double)n / (double)(eng_now_ns() - t0);
      if (r > 0 && gbs > best[k]) best[k] = gbs; /* pass 0 warms up */
    }
  p->copy = best[0], p->scale = best[1], p->add = best[2], p->triad = best[3];
  kernels(p, pool, a, b, c, n);
  p->stream_n = n;
  p->stream_threads = eng_pool_size(pool);
  big_free(a, n), big_free(b, n), big_free(c, n);
  return 0;
}

/* ---- peak ---- */

typedef struct peak_arg {
  eng_simd_variant v;
  long iters;
  double flops[1024];
} peak_arg;

static void peak_body(void *arg, long lo, long hi, int w) {
  peak_arg *pa = arg;
  for (long i = lo; i < hi; i++) {
    double f = 0;
    eng_simd_fma_loop(pa->v, pa->iters, &f);
    pa->flops[w] += f;
  }
}

static void peak(eng_probe *p) {
  eng_simd_variant v = eng_simd_best();
  double f = 0;
  /* Size the loop to ~50 ms on one core. */
  long iters = 100000;
  uint64_t t0 = eng_now_ns();
  eng_simd_fma_loop(v, iters, &f);
  double sec = (double)(eng_now_ns() - t0) * 1e-9;
  if (sec > 0) iters = (long)((double)iters * 0.05 / sec) + 1;
  for (int r = 0; r < 3; r++) {
    t0 = eng_now_ns();
    eng_simd_fma_loop(v, iters, &f);
    double g = f / (double)(eng_now_ns() - t0);
    if (g > p->peak_single) p->peak_single = g;
  }
  eng_pool *pool = eng_pool_default();
  if (!pool) return;
  int nt = eng_pool_size(pool);
  peak_arg *pa = calloc(1, sizeof *pa);
  if (!pa) return;
  pa->v = v, pa->iters = iters;
  for (int r = 0; r < 3; r++) {
    memset(pa->flops, 0, sizeof pa->flops);
    t0 = eng_now_ns();
    eng_parallel_for(pool, 0, nt, peak_body, pa);
    double total = 0;
    for (int w = 0; w < nt && w < 1024; w++) total += pa->flops[w];
    double g = total / (double)(eng_now_ns() - t0);
    if (g > p->peak_all) p->peak_all = g;
  }
  free(pa);
}

int eng_probe_run(const eng_probe_opts *o, eng_probe *p) {
  eng_probe_opts d = {0, 0, 0};
  /* PARLAB_PROBE_QUICK: small arrays and matrices, for tests (the figures
   * are then not STREAM's). */
  const char *quick = getenv("PARLAB_PROBE_QUICK");
  if (!o && quick && *quick && strcmp(quick, "0")) d = (eng_probe_opts){2000000, 2, 256};
  if (!o) o = &d;
  int rc = eng_probe_static(p);
  if (rc) return rc;
  uint64_t t0 = eng_now_ns();
  p->measured_at = (long)time(NULL);
  rc = stream(p, o->stream_n > 0 ? o->stream_n : stream_rule_n(p), o->reps >= 2 ? o->reps : 3);
  if (rc) return rc;
  peak(p);
  if (p->triad > 0) p->ridge = p->peak_all / p->triad;
  if (o->dgemm_n >= 0) eng_blas_init_measure(o->dgemm_n ? o->dgemm_n : 1024);
  else eng_blas_init();
  eng_blas_get_info(&p->blas);
  /* dgemm on all threads: the compute-bound end of the roofline. */
  int gn = o->dgemm_n > 0 && o->dgemm_n < 1536 ? o->dgemm_n : 1536;
  double *A = malloc(sizeof *A * (size_t)gn * gn), *B = malloc(sizeof *B * (size_t)gn * gn);
  double *C = calloc((size_t)gn * gn, sizeof *C);
  if (A && B && C && p->blas.loaded) {
    for (long i = 0; i < (long)gn * gn; i++) A[i] = 1.0 / (double)(i % 31 + 1), B[i] = (double)(i % 7);
    eng_blas_dgemm(gn, gn, gn, 1, A, B, 0, C); /* warm-up: threads, pages */
    for (int r = 0; r < 2; r++) {
      uint64_t g0 = eng_now_ns();
      eng_blas_dgemm(gn, gn, gn, 1, A, B, 0, C);
      double g = 2.0 * gn * (double)gn * gn / (double)(eng_now_ns() - g0);
      if (g > p->dgemm_all) p->dgemm_all = g;
    }
    p->dgemm_n_all = gn;
    if (p->nkernels < ENG_PROBE_MAX_KERNELS) {
      struct eng_probe_kernel *pk = &p->kernels[p->nkernels++];
      snprintf(pk->name, sizeof pk->name, "dgemm");
      pk->ai = eng_roofline_gemm_ai(gn);
      pk->gflops = p->dgemm_all;
    }
  }
  free(A), free(B), free(C);
  p->seconds = (double)(eng_now_ns() - t0) * 1e-9;
  return 0;
}
