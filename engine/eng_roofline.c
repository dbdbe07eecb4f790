/*
 * eng_roofline.c — roofline arithmetic and the engine's kernel table.
 */
#include <math.h>
#include <string.h>

#include "eng_roofline.h"
#include "pl_err.h"

/* Bytes count each array element read or written once, as STREAM does
 * (write-allocate traffic is not counted, so measured rates compare with
 * STREAM's). */
static const eng_roof_kernel kernels[] = {
    {"sum_f64", 1, 8, "s += x[i]"},
    {"sum_f32", 1, 4, "s += x[i]"},
    {"dot_f64", 2, 16, "s += x[i] * y[i]"},
    {"dot_f32", 2, 8, "s += x[i] * y[i]"},
    {"axpy_f64", 2, 24, "y[i] += a * x[i]"},
    {"axpy_f32", 2, 12, "y[i] += a * x[i] (saxpy)"},
    {"minmax_f64", 2, 8, "lo = min(lo, x[i]); hi = max(hi, x[i])"},
    {"minmax_f32", 2, 4, "lo = min(lo, x[i]); hi = max(hi, x[i])"},
    {"dot_i8", 2, 2, "s += (int)x[i] * y[i] (integer ops)"},
    {"copy", 0, 16, "c[i] = a[i]"},
    {"scale", 1, 16, "b[i] = q * c[i]"},
    {"add", 1, 24, "c[i] = a[i] + b[i]"},
    {"triad", 2, 24, "a[i] = b[i] + q * c[i]"},
};

const eng_roof_kernel *eng_roofline_kernels(int *n) {
  if (n) *n = (int)(sizeof kernels / sizeof kernels[0]);
  return kernels;
}

const eng_roof_kernel *eng_roofline_find(const char *name) {
  if (!name) return NULL;
  for (size_t i = 0; i < sizeof kernels / sizeof kernels[0]; i++)
    if (!strcmp(kernels[i].name, name)) return &kernels[i];
  return NULL;
}

double eng_roofline_ai(const eng_roof_kernel *k) {
  return k && k->bytes > 0 ? k->flops / k->bytes : NAN;
}

double eng_roofline_gemm_ai(long n) { return n > 0 ? (double)n / 16.0 : NAN; }

static int roof_ok(const eng_roof *r) {
  return r && r->peak_gflops > 0 && r->bw_gbs > 0 && isfinite(r->peak_gflops) && isfinite(r->bw_gbs);
}

double eng_roofline_attainable(const eng_roof *r, double ai) {
  if (!roof_ok(r) || !(ai > 0)) return NAN;
  double mem = ai * r->bw_gbs;
  return mem < r->peak_gflops ? mem : r->peak_gflops;
}

double eng_roofline_ridge(const eng_roof *r) {
  return roof_ok(r) ? r->peak_gflops / r->bw_gbs : NAN;
}

int eng_roofline_place(const eng_roof *r, double ai, double gflops, eng_roof_place *out) {
  if (!roof_ok(r) || !(ai > 0) || !(gflops >= 0) || !out) return PL_EINVAL;
  out->ai = ai;
  out->attainable = eng_roofline_attainable(r, ai);
  out->measured = gflops;
  out->fraction = gflops / out->attainable;
  out->memory_bound = ai < eng_roofline_ridge(r);
  return 0;
}
