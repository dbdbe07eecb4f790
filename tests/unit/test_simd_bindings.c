/*
 * test_simd_bindings.c — the roofline arithmetic (eng_roofline.h) and the
 * Lua API labs use: engine.simd, engine.blas, engine.roofline and
 * engine.machine() (with a provider that returns a made-up probe, so the
 * figures are known and nothing is measured).
 */
#include <lauxlib.h>
#include <stdlib.h>

#include "eng_roofline.h"
#include "eng_simd.h"
#include "lx.h"
#include "lx_probe.h"
#include "pl_err.h"
#include "pl_test.h"

static void test_roofline_math(void) {
  eng_roof r = {100, 20}; /* 100 GFLOP/s, 20 GB/s: ridge 5 FLOP/byte */
  PT_NEAR(eng_roofline_ridge(&r), 5, 1e-12);
  PT_NEAR(eng_roofline_attainable(&r, 0.125), 2.5, 1e-12);
  PT_NEAR(eng_roofline_attainable(&r, 5), 100, 1e-12);
  PT_NEAR(eng_roofline_attainable(&r, 64), 100, 1e-12);
  PT_TRUE(isnan(eng_roofline_attainable(&r, 0)));
  eng_roof bad = {0, 20};
  PT_TRUE(isnan(eng_roofline_ridge(&bad)));
  eng_roof_place pl;
  PT_EQ_INT(eng_roofline_place(&r, 0.125, 2.0, &pl), 0);
  PT_NEAR(pl.fraction, 0.8, 1e-12);
  PT_EQ_INT(pl.memory_bound, 1);
  PT_EQ_INT(eng_roofline_place(&r, 10, 50, &pl), 0);
  PT_EQ_INT(pl.memory_bound, 0);
  PT_NEAR(pl.fraction, 0.5, 1e-12);
  PT_EQ_INT(eng_roofline_place(&r, -1, 50, &pl), PL_EINVAL);
  PT_EQ_INT(eng_roofline_place(&bad, 1, 50, &pl), PL_EINVAL);
  /* Intensities of the kernel table. */
  PT_NEAR(eng_roofline_ai(eng_roofline_find("dot_f64")), 0.125, 1e-12);
  PT_NEAR(eng_roofline_ai(eng_roofline_find("triad")), 2.0 / 24, 1e-12);
  PT_NEAR(eng_roofline_ai(eng_roofline_find("axpy_f32")), 2.0 / 12, 1e-12);
  PT_NEAR(eng_roofline_gemm_ai(1024), 64, 1e-12);
  PT_TRUE(eng_roofline_find("nope") == NULL);
  int n = 0;
  const eng_roof_kernel *k = eng_roofline_kernels(&n);
  PT_TRUE(n >= 10);
  for (int i = 0; i < n; i++) PT_TRUE(k[i].bytes > 0 && k[i].flops >= 0);
}

static int provider_calls;
static int fake_probe(void *ud, eng_probe *p) {
  (void)ud;
  provider_calls++;
  eng_probe_static(p);
  p->triad = 20, p->copy = 25, p->scale = 24, p->add = 21;
  p->peak_single = 50, p->peak_all = 100, p->ridge = 5;
  snprintf(p->blas.core, sizeof p->blas.core, "SkylakeX");
  p->blas.misdetected = 1;
  return 0;
}

static lua_State *open_state(void) {
  lua_State *L = NULL;
  lx_limits lim = {.mem_bytes = 0, .seconds = 60};
  PT_EQ_INT(lx_open(&lim, &L), 0);
  return L;
}

static void run_ok(lua_State *L, const char *code) {
  char *err = NULL;
  if (lx_dostring(L, code, "@snippet.lua", 0, &err)) PT_FAIL_("Lua: %s", err ? err : "?");
}

static void run_err(lua_State *L, const char *code, const char *needle) {
  char *err = NULL;
  if (!lx_dostring(L, code, "@snippet.lua", 0, &err)) PT_FAIL_("expected an error from: %s", code);
  PT_CONTAINS(err, needle);
  free(err);
}

static void test_lua_simd(void) {
  lua_State *L = open_state();
  run_ok(L,
         "local x = engine.array.random('f64', 1001, { seed = 3 })\n"
         "local y = engine.array.random('f64', 1001, { seed = 4 })\n"
         "local ref = 0\n"
         "for i = 1, #x do ref = ref + x[i] * y[i] end\n"
         "for _, v in ipairs(engine.simd.variants()) do\n"
         "  if v.supported then\n"
         "    local d = engine.simd.dot(x, y, { variant = v.name })\n"
         "    assert(math.abs(d - ref) < 1e-9 * #x, v.name .. ': ' .. d .. ' vs ' .. ref)\n"
         "    assert(math.abs(engine.simd.sum(x, { variant = v.name }) - x:sum()) < 1e-9 * #x)\n"
         "    local lo, hi = engine.simd.minmax(x, { variant = v.name })\n"
         "    assert(lo == x:min() and hi == x:max())\n"
         "  end\n"
         "end\n"
         "local f = engine.array.from('f32', { 1, 2, 3 })\n"
         "local g = engine.array.from('f32', { 1, 1, 1 })\n"
         "engine.simd.axpy(2, f, g)\n"
         "assert(g[3] == 7)\n"
         "assert(engine.simd.best() ~= nil)\n"
         "local q, s = engine.simd.quantize(x)\n"
         "assert(#q == #x and s > 0)\n"
         "local a = engine.simd.i8({ 1, -2, 3, 127, -128 })\n"
         "local b = engine.simd.i8({ 4, 5, -6, 1, -1 })\n"
         "assert(engine.simd.dot_i8(a, b) == 4 - 10 - 18 + 127 + 128)\n"
         "assert(a[2] == -2)\n");
  run_err(L, "engine.simd.dot(engine.array.zeros('f64', 3), engine.array.zeros('f64', 4))",
          "differ in length");
  run_err(L, "engine.simd.sum(engine.array.zeros('f64', 3), { variant = 'neon' })", "no variant named 'neon'");
  run_err(L, "engine.simd.i8({ 300 })", "[-128, 127]");
  lx_close(L);
}

/* A named variant the CPU lacks is refused with a clear message (the
 * lack is simulated; detection runs once per process and this test runs
 * in its own). */
static void test_lua_refusal(void) {
  setenv("PARLAB_SIMD_DISABLE", "avx2", 1);
  lua_State *L = open_state();
  run_err(L, "engine.simd.sum(engine.array.zeros('f64', 3), { variant = 'avx2' })",
          "variant 'avx2' needs AVX2 and FMA");
  run_err(L, "engine.simd.sum(engine.array.zeros('f64', 3), { variant = 'avx512' })", "does not offer");
  run_ok(L, "assert(engine.simd.sum(engine.array.from('f64', {1, 2}), { variant = 'sse2' }) == 3)");
  lx_close(L);
}

static void test_lua_blas(void) {
  lua_State *L = open_state();
  run_ok(L,
         "local m, n, k = 7, 5, 9\n"
         "local A = engine.array.random('f64', m * k, { seed = 1 })\n"
         "local B = engine.array.random('f64', k * n, { seed = 2 })\n"
         "local C = engine.array.zeros('f64', m * n)\n"
         "engine.blas.dgemm(A, B, C, m, n, k)\n"
         "for i = 0, m - 1 do for j = 0, n - 1 do\n"
         "  local s = 0\n"
         "  for p = 0, k - 1 do s = s + A[i * k + p + 1] * B[p * n + j + 1] end\n"
         "  assert(math.abs(C[i * n + j + 1] - s) < 1e-12, 'dgemm')\n"
         "end end\n"
         "for _, v in ipairs(engine.blas.variants) do\n"
         "  local D = engine.array.zeros('f64', m * n)\n"
         "  engine.blas.gemm(A, B, D, m, n, k, { variant = v })\n"
         "  for i = 1, #D do assert(math.abs(D[i] - C[i]) < 1e-12, v) end\n"
         "end\n"
         "local Af = engine.array.from('f32', { 1, 2, 3, 4 })\n"
         "local Cf = engine.array.zeros('f32', 4)\n"
         "engine.blas.sgemm(Af, Af, Cf, 2, 2, 2)\n"
         "assert(Cf[1] == 7 and Cf[4] == 22)\n"
         "assert(engine.blas.dot(Af, Af) == 30)\n"
         "local info = engine.blas.info()\n"
         "assert(info.loaded and info.core ~= '')\n");
  run_err(L, "engine.blas.dgemm(engine.array.zeros('f64', 3), engine.array.zeros('f64', 4), "
             "engine.array.zeros('f64', 4), 2, 2, 2)",
          "needs 4");
  run_err(L, "engine.blas.dgemm(engine.array.zeros('f32', 4), engine.array.zeros('f64', 4), "
             "engine.array.zeros('f64', 4), 2, 2, 2)",
          "must be an f64 array");
  lx_close(L);
}

static void test_lua_machine(void) {
  lx_probe_set_provider(fake_probe, NULL);
  lua_State *L = open_state();
  run_ok(L,
         "local m = engine.machine()\n"
         "assert(m.cores == engine.cores())\n"
         "assert(m.stream.triad == 20 and m.stream.copy == 25)\n"
         "assert(m.peak.single == 50 and m.peak.all == 100 and m.ridge == 5)\n"
         "assert(m.openblas.core == 'SkylakeX' and m.openblas.misdetected == true)\n"
         "assert(type(m.caches.l1d) == 'number' and type(m.isa) == 'table')\n"
         "assert(engine.roofline.ridge() == 5)\n"
         "assert(math.abs(engine.roofline.attainable(0.125) - 2.5) < 1e-12)\n"
         "local p = engine.roofline.place(0.125, 2.0)\n"
         "assert(p.bound == 'memory' and math.abs(p.fraction - 0.8) < 1e-12)\n"
         "assert(engine.roofline.place(64, 50).bound == 'compute')\n"
         "local found = false\n"
         "for _, k in ipairs(engine.roofline.kernels()) do\n"
         "  if k.name == 'dot_f64' then found = k.ai == 0.125 end\n"
         "end\n"
         "assert(found)\n"
         "engine.machine()\n");
  PT_EQ_INT(provider_calls, 1); /* cached after the first call */
  lx_close(L);
}

int main(int argc, char **argv) {
  static const pt_case cases[] = {PT_CASE(test_roofline_math), PT_CASE(test_lua_simd),
                                  PT_CASE(test_lua_refusal),   PT_CASE(test_lua_blas),
                                  PT_CASE(test_lua_machine),   {0}};
  return pt_main(argc, argv, cases);
}
