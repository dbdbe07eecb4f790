/*
 * eng_simd.c — CPU detection, variant dispatch, the scalar kernels, the
 * baseline (SSE2 on x86-64) autovec/vecext instances, and quantization.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eng_simd.h"
#include "eng_simd_int.h"
#include "pl_err.h"

#if ENG__SIMD_X86
#include <cpuid.h>
#endif

/* ---- CPU detection ---- */

static eng_cpu cpu;
static pthread_once_t cpu_once = PTHREAD_ONCE_INIT;

#if ENG__SIMD_X86
static uint64_t xgetbv0(void) {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return ((uint64_t)hi << 32) | lo;
}
#endif

static void detect(void) {
  strcpy(cpu.vendor, "unknown");
  strcpy(cpu.brand, "unknown");
#if ENG__SIMD_X86
  unsigned a, b, c, d;
  if (!__get_cpuid(0, &a, &b, &c, &d)) return;
  unsigned maxleaf = a;
  memcpy(cpu.vendor, &b, 4);
  memcpy(cpu.vendor + 4, &d, 4);
  memcpy(cpu.vendor + 8, &c, 4);
  cpu.vendor[12] = '\0';
  __get_cpuid(1, &a, &b, &c, &d);
  int fam = (a >> 8) & 0xf, model = (a >> 4) & 0xf;
  if (fam == 0xf) fam += (a >> 20) & 0xff;
  if (fam == 0x6 || fam >= 0xf) model |= ((a >> 16) & 0xf) << 4;
  cpu.family = fam, cpu.model = model, cpu.stepping = a & 0xf;
  /* Wide registers are usable only when the OS saves them: XCR0 bits 1-2
   * for SSE/AVX state, 5-7 for the AVX-512 opmask and upper ZMM state. */
  int osxsave = (c >> 27) & 1;
  uint64_t xcr0 = osxsave ? xgetbv0() : 0;
  int os_avx = (xcr0 & 0x6) == 0x6, os_avx512 = os_avx && (xcr0 & 0xe0) == 0xe0;
  cpu.sse2 = (d >> 26) & 1;
  cpu.sse3 = c & 1;
  cpu.ssse3 = (c >> 9) & 1;
  cpu.sse41 = (c >> 19) & 1;
  cpu.sse42 = (c >> 20) & 1;
  cpu.avx = ((c >> 28) & 1) && os_avx;
  cpu.fma = ((c >> 12) & 1) && os_avx;
  cpu.f16c = ((c >> 29) & 1) && os_avx;
  if (maxleaf >= 7) {
    __get_cpuid_count(7, 0, &a, &b, &c, &d);
    cpu.avx2 = ((b >> 5) & 1) && os_avx;
    cpu.bmi2 = (b >> 8) & 1;
    cpu.avx512f = ((b >> 16) & 1) && os_avx512;
    cpu.avx512dq = ((b >> 17) & 1) && os_avx512;
    cpu.avx512cd = ((b >> 28) & 1) && os_avx512;
    cpu.avx512bw = ((b >> 30) & 1) && os_avx512;
    cpu.avx512vl = ((b >> 31) & 1) && os_avx512;
    cpu.avx512vnni = ((c >> 11) & 1) && os_avx512;
    cpu.avx512fp16 = ((d >> 23) & 1) && os_avx512;
    cpu.amx = ((d >> 24) & 1) && (xcr0 & 0x60000) == 0x60000;
    unsigned a1 = 0, b1 = 0, c1 = 0, d1 = 0;
    __get_cpuid_count(7, 1, &a1, &b1, &c1, &d1);
    cpu.avxvnni = ((a1 >> 4) & 1) && os_avx;
    cpu.avx512bf16 = ((a1 >> 5) & 1) && os_avx512;
  }
  unsigned ext = __get_cpuid_max(0x80000000, NULL);
  if (ext >= 0x80000004) {
    unsigned r[12];
    for (unsigned k = 0; k < 3; k++) __get_cpuid(0x80000002 + k, &r[4 * k], &r[4 * k + 1], &r[4 * k + 2], &r[4 * k + 3]);
    char raw[49];
    memcpy(raw, r, 48);
    raw[48] = '\0';
    /* Trim and squeeze the padding some CPUs put in the brand string. */
    size_t o = 0;
    for (const char *p = raw; *p && o < sizeof cpu.brand - 1; p++) {
      if (*p == ' ' && (o == 0 || cpu.brand[o - 1] == ' ')) continue;
      cpu.brand[o++] = *p;
    }
    while (o > 0 && cpu.brand[o - 1] == ' ') o--;
    cpu.brand[o] = '\0';
  }
#endif
  /* PARLAB_SIMD_DISABLE=avx512,avx2,sse2 hides extensions, so students (and
   * the tests) can see dispatch and refusal on a CPU that has them all. */
  const char *off = getenv("PARLAB_SIMD_DISABLE");
  if (off && (strstr(off, "avx2") || strstr(off, "avx512"))) {
    cpu.avx512f = cpu.avx512cd = cpu.avx512dq = cpu.avx512bw = cpu.avx512vl = 0;
    cpu.avx512vnni = cpu.avx512bf16 = cpu.avx512fp16 = 0;
  }
  if (off && strstr(off, "avx2")) cpu.avx2 = cpu.fma = cpu.avxvnni = 0;
  if (off && strstr(off, "sse2")) cpu.sse2 = 0;
}

const eng_cpu *eng_cpu_get(void) {
  pthread_once(&cpu_once, detect);
  return &cpu;
}

int eng_cpu_isa_string(char *buf, size_t size) {
  const eng_cpu *c = eng_cpu_get();
  struct { unsigned on; const char *name; } f[] = {
      {c->sse2, "sse2"},         {c->sse3, "sse3"},         {c->ssse3, "ssse3"},
      {c->sse41, "sse4.1"},      {c->sse42, "sse4.2"},      {c->avx, "avx"},
      {c->f16c, "f16c"},         {c->fma, "fma"},           {c->avx2, "avx2"},
      {c->bmi2, "bmi2"},         {c->avxvnni, "avx-vnni"},  {c->avx512f, "avx512f"},
      {c->avx512cd, "avx512cd"}, {c->avx512dq, "avx512dq"}, {c->avx512bw, "avx512bw"},
      {c->avx512vl, "avx512vl"}, {c->avx512vnni, "avx512vnni"},
      {c->avx512bf16, "avx512bf16"}, {c->avx512fp16, "avx512fp16"}, {c->amx, "amx"}};
  size_t o = 0;
  if (size) buf[0] = '\0';
  for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
    if (!f[i].on) continue;
    int w = snprintf(buf + o, o < size ? size - o : 0, "%s%s", o ? " " : "", f[i].name);
    if (w > 0) o += (size_t)w;
  }
  return (int)(o < size ? o : size ? size - 1 : 0);
}

/* ---- variants ---- */

static const char *const vnames[ENG_SIMD_NVARIANTS] = {"auto", "scalar", "autovec", "vecext",
                                                      "sse2", "avx2",   "avx512"};

const char *eng_simd_variant_name(eng_simd_variant v) {
  return (unsigned)v < ENG_SIMD_NVARIANTS ? vnames[v] : "?";
}

int eng_simd_variant_parse(const char *name, eng_simd_variant *out) {
  if (!name || !out) return PL_EINVAL;
  for (int i = 0; i < ENG_SIMD_NVARIANTS; i++)
    if (!strcmp(name, vnames[i])) {
      *out = (eng_simd_variant)i;
      return 0;
    }
  return PL_EINVAL;
}

static int has_avx2(const eng_cpu *c) { return c->avx2 && c->fma; }
static int has_avx512(const eng_cpu *c) {
  return c->avx512f && c->avx512bw && c->avx512vl && c->avx512dq;
}

int eng_simd_supported(eng_simd_variant v) {
  const eng_cpu *c = eng_cpu_get();
  switch (v) {
  case ENG_SIMD_AUTO: case ENG_SIMD_SCALAR: case ENG_SIMD_AUTOVEC: case ENG_SIMD_VECEXT: return 1;
  case ENG_SIMD_SSE2: return ENG__SIMD_X86 && c->sse2;
  case ENG_SIMD_AVX2: return ENG__SIMD_X86 && has_avx2(c);
  case ENG_SIMD_AVX512: return ENG__SIMD_X86 && has_avx512(c);
  default: return 0;
  }
}

eng_simd_variant eng_simd_best(void) {
  if (eng_simd_supported(ENG_SIMD_AVX512)) return ENG_SIMD_AVX512;
  if (eng_simd_supported(ENG_SIMD_AVX2)) return ENG_SIMD_AVX2;
  if (eng_simd_supported(ENG_SIMD_SSE2)) return ENG_SIMD_SSE2;
  return ENG_SIMD_AUTOVEC;
}

int eng_simd_explain(eng_simd_variant v, char *buf, size_t size) {
  static const char *const needs[ENG_SIMD_NVARIANTS] = {
      [ENG_SIMD_SSE2] = "SSE2", [ENG_SIMD_AVX2] = "AVX2 and FMA",
      [ENG_SIMD_AVX512] = "AVX-512 (F, BW, VL and DQ, enabled by the OS)"};
  const eng_cpu *c = eng_cpu_get();
  char avail[128] = "";
  size_t o = 0;
  for (int i = 1; i < ENG_SIMD_NVARIANTS; i++)
    if (eng_simd_supported((eng_simd_variant)i))
      o += (size_t)snprintf(avail + o, sizeof avail - o, "%s%s", o ? ", " : "", vnames[i]);
  int w;
  if ((unsigned)v >= ENG_SIMD_NVARIANTS)
    w = snprintf(buf, size, "unknown SIMD variant; available here: %s", avail);
  else if (eng_simd_supported(v))
    w = snprintf(buf, size, "variant %s runs on this CPU", vnames[v]);
  else
    w = snprintf(buf, size, "variant '%s' needs %s, which this CPU (%s) does not offer; available here: %s",
                 vnames[v], needs[v] ? needs[v] : "an ISA", c->brand, avail);
  if (w < 0) return 0;
  return (size_t)w < size ? w : size ? (int)size - 1 : 0;
}

static const eng__simd_impl *impl_resolve(eng_simd_variant v) {
  if (!eng_simd_supported(v)) return NULL;
  const eng_cpu *c = eng_cpu_get();
  (void)c;
  if (v == ENG_SIMD_AUTO) v = eng_simd_best();
  switch (v) {
  case ENG_SIMD_SCALAR: return &eng__simd_scalar;
#if ENG__SIMD_X86
  case ENG_SIMD_AUTOVEC:
    return has_avx512(c) ? &eng__simd_autovec_avx512 : has_avx2(c) ? &eng__simd_autovec_avx2 : &eng__simd_autovec_base;
  case ENG_SIMD_VECEXT:
    return has_avx512(c) ? &eng__simd_vecext_avx512 : has_avx2(c) ? &eng__simd_vecext_avx2 : &eng__simd_vecext_base;
  case ENG_SIMD_SSE2: return &eng__simd_sse2;
  case ENG_SIMD_AVX2: return &eng__simd_avx2;
  case ENG_SIMD_AVX512: return &eng__simd_avx512;
#else
  case ENG_SIMD_AUTOVEC: return &eng__simd_autovec_base;
  case ENG_SIMD_VECEXT: return &eng__simd_vecext_base;
#endif
  default: return NULL;
  }
}

/* Every variant's table, resolved once: a kernel call then costs one
 * acquire load and an index, not a chain of support checks (each with its
 * own pthread_once), which took a tenth of an in-L1 dot product's time. */
static const eng__simd_impl *impls[ENG_SIMD_NVARIANTS];
static pthread_once_t impls_once = PTHREAD_ONCE_INIT;
static _Atomic int impls_ready;

static void resolve_all(void) {
  for (int v = 0; v < ENG_SIMD_NVARIANTS; v++) impls[v] = impl_resolve((eng_simd_variant)v);
  atomic_store_explicit(&impls_ready, 1, memory_order_release);
}

static const eng__simd_impl *impl_of(eng_simd_variant v) {
  if (!atomic_load_explicit(&impls_ready, memory_order_acquire)) pthread_once(&impls_once, resolve_all);
  return (unsigned)v < ENG_SIMD_NVARIANTS ? impls[v] : NULL;
}

int eng_simd_lanes(eng_simd_variant v, size_t elem_size) {
  const eng__simd_impl *k = impl_of(v);
  if (!k || !elem_size || v == ENG_SIMD_SCALAR) return 1;
  return (int)((size_t)k->vbytes / elem_size);
}

/* Common argument checks; returns the implementation or sets *rc. */
static const eng__simd_impl *begin(eng_simd_variant v, long n, const void *p1, const void *p2,
                                   int *rc) {
  if ((unsigned)v >= ENG_SIMD_NVARIANTS || n < 0 || (n > 0 && (!p1 || !p2))) {
    *rc = PL_EINVAL;
    return NULL;
  }
  const eng__simd_impl *k = impl_of(v);
  *rc = k ? 0 : PL_ENOSYS;
  return k;
}

int eng_simd_sum_f64(eng_simd_variant v, const double *x, long n, double *out) {
  int rc;
  const eng__simd_impl *k = begin(v, n, x, x, &rc);
  if (!k || !out) return k ? PL_EINVAL : rc;
  *out = n ? k->sum_f64(x, n) : 0;
  return 0;
}

int eng_simd_sum_f32(eng_simd_variant v, const float *x, long n, float *out) {
  int rc;
  const eng__simd_impl *k = begin(v, n, x, x, &rc);
  if (!k || !out) return k ? PL_EINVAL : rc;
  *out = n ? k->sum_f32(x, n) : 0;
  return 0;
}

int eng_simd_dot_f64(eng_simd_variant v, const double *x, const double *y, long n, double *out) {
  int rc;
  const eng__simd_impl *k = begin(v, n, x, y, &rc);
  if (!k || !out) return k ? PL_EINVAL : rc;
  *out = n ? k->dot_f64(x, y, n) : 0;
  return 0;
}

int eng_simd_dot_f32(eng_simd_variant v, const float *x, const float *y, long n, float *out) {
  int rc;
  const eng__simd_impl *k = begin(v, n, x, y, &rc);
  if (!k || !out) return k ? PL_EINVAL : rc;
  *out = n ? k->dot_f32(x, y, n) : 0;
  return 0;
}

int eng_simd_axpy_f64(eng_simd_variant v, double a, const double *x, double *y, long n) {
  int rc;
  const eng__simd_impl *k = begin(v, n, x, y, &rc);
  if (!k) return rc;
  if (n) k->axpy_f64(a, x, y, n);
  return 0;
}

int eng_simd_axpy_f32(eng_simd_variant v, float a, const float *x, float *y, long n) {
  int rc;
  const eng__simd_impl *k = begin(v, n, x, y, &rc);
  if (!k) return rc;
  if (n) k->axpy_f32(a, x, y, n);
  return 0;
}

int eng_simd_minmax_f64(eng_simd_variant v, const double *x, long n, double *mn, double *mx) {
  int rc;
  const eng__simd_impl *k = begin(v, n, x, x, &rc);
  if (!k || !mn || !mx) return k ? PL_EINVAL : rc;
  if (n) k->minmax_f64(x, n, mn, mx);
  else *mn = INFINITY, *mx = -INFINITY;
  return 0;
}

int eng_simd_minmax_f32(eng_simd_variant v, const float *x, long n, float *mn, float *mx) {
  int rc;
  const eng__simd_impl *k = begin(v, n, x, x, &rc);
  if (!k || !mn || !mx) return k ? PL_EINVAL : rc;
  if (n) k->minmax_f32(x, n, mn, mx);
  else *mn = INFINITY, *mx = -INFINITY;
  return 0;
}

int eng_simd_dot_i8(eng_simd_variant v, const int8_t *x, const int8_t *y, long n, int64_t *out) {
  int rc;
  const eng__simd_impl *k = begin(v, n, x, y, &rc);
  if (!k || !out) return k ? PL_EINVAL : rc;
  *out = n ? k->dot_i8(x, y, n) : 0;
  return 0;
}

int eng_simd_fma_loop(eng_simd_variant v, long iters, double *out_flops) {
  int rc;
  const eng__simd_impl *k = begin(v, 0, NULL, NULL, &rc);
  if (!k || !out_flops || iters < 0) return k ? PL_EINVAL : rc;
  if (!k->fma_loop) return PL_ENOSYS;
  *out_flops = k->fma_loop(iters);
  return 0;
}

/* ---- quantization ---- */

int eng_quantize_f32(const float *x, long n, int8_t *q, float *scale) {
  if (n < 0 || !scale || (n > 0 && (!x || !q))) return PL_EINVAL;
  float m = 0;
  for (long i = 0; i < n; i++) {
    if (!isfinite(x[i])) return PL_EINVAL;
    m = fmaxf(m, fabsf(x[i]));
  }
  float s = m > 0 ? m / 127.0f : 1.0f;
  for (long i = 0; i < n; i++) {
    float r = roundf(x[i] / s);
    q[i] = (int8_t)(r > 127 ? 127 : r < -127 ? -127 : r);
  }
  *scale = s;
  return 0;
}

int eng_quantize_f64(const double *x, long n, int8_t *q, double *scale) {
  if (n < 0 || !scale || (n > 0 && (!x || !q))) return PL_EINVAL;
  double m = 0;
  for (long i = 0; i < n; i++) {
    if (!isfinite(x[i])) return PL_EINVAL;
    m = fmax(m, fabs(x[i]));
  }
  double s = m > 0 ? m / 127.0 : 1.0;
  for (long i = 0; i < n; i++) {
    double r = round(x[i] / s);
    q[i] = (int8_t)(r > 127 ? 127 : r < -127 ? -127 : r);
  }
  *scale = s;
  return 0;
}

/* ---- scalar: one element at a time, vectorizer off ---- */

#define SCALAR __attribute__((optimize("no-tree-vectorize", "no-tree-slp-vectorize")))

SCALAR static double sc_sum_f64(const double *x, long n) {
  double s = 0;
  for (long i = 0; i < n; i++) s += x[i];
  return s;
}

SCALAR static float sc_sum_f32(const float *x, long n) {
  float s = 0;
  for (long i = 0; i < n; i++) s += x[i];
  return s;
}

SCALAR static double sc_dot_f64(const double *x, const double *y, long n) {
  double s = 0;
  for (long i = 0; i < n; i++) s += x[i] * y[i];
  return s;
}

SCALAR static float sc_dot_f32(const float *x, const float *y, long n) {
  float s = 0;
  for (long i = 0; i < n; i++) s += x[i] * y[i];
  return s;
}

SCALAR static void sc_axpy_f64(double a, const double *x, double *y, long n) {
  for (long i = 0; i < n; i++) y[i] += a * x[i];
}

SCALAR static void sc_axpy_f32(float a, const float *x, float *y, long n) {
  for (long i = 0; i < n; i++) y[i] += a * x[i];
}

SCALAR static void sc_minmax_f64(const double *x, long n, double *mn, double *mx) {
  double a = INFINITY, b = -INFINITY;
  for (long i = 0; i < n; i++) {
    if (x[i] < a) a = x[i];
    if (x[i] > b) b = x[i];
  }
  *mn = a, *mx = b;
}

SCALAR static void sc_minmax_f32(const float *x, long n, float *mn, float *mx) {
  float a = INFINITY, b = -INFINITY;
  for (long i = 0; i < n; i++) {
    if (x[i] < a) a = x[i];
    if (x[i] > b) b = x[i];
  }
  *mn = a, *mx = b;
}

SCALAR static int64_t sc_dot_i8(const int8_t *x, const int8_t *y, long n) {
  int64_t s = 0;
  for (long i = 0; i < n; i++) s += (int32_t)x[i] * (int32_t)y[i];
  return s;
}

/* Scalar peak: 8 independent multiply-add chains, 2 FLOPs each. */
SCALAR static double sc_fma_loop(long iters) {
  double a[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  const double m = 0.999999, c = 1e-6;
  for (long i = 0; i < iters; i++)
#pragma GCC unroll 16
    for (int k = 0; k < 8; k++) a[k] = a[k] * m + c;
  volatile double sink = 0;
#pragma GCC unroll 16
  for (int k = 0; k < 8; k++) sink += a[k]; /* keeps the chains alive */
  return 16.0 * (double)iters;
}

const eng__simd_impl eng__simd_scalar = {sc_sum_f64,    sc_sum_f32,    sc_dot_f64, sc_dot_f32,
                                         sc_axpy_f64,   sc_axpy_f32,   sc_minmax_f64,
                                         sc_minmax_f32, sc_dot_i8,     sc_fma_loop, 8};

/* ---- baseline autovec and vecext (SSE2 on x86-64) ---- */

#define GEN_SFX base
#define GEN_VBYTES 16
#include "eng_simd_gen.h"
#undef GEN_SFX
#undef GEN_VBYTES
