/*
 * lx_probe.c — engine.machine() and engine.roofline (native part): the
 * cached machine probe as a Lua table, and the roofline arithmetic.
 */
#include <lauxlib.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "eng_roofline.h"
#include "lx_probe.h"
#include "pl_err.h"

static lx_probe_provider provider;
static void *provider_ud;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static eng_probe cached;
static int have_cached;

void lx_probe_set_provider(lx_probe_provider fn, void *ud) {
  pthread_mutex_lock(&mu);
  provider = fn, provider_ud = ud;
  have_cached = 0;
  pthread_mutex_unlock(&mu);
}

/* One probe per process: the provider (gradebook cache) or a measurement. */
static int get_probe(eng_probe *out) {
  pthread_mutex_lock(&mu);
  int rc = 0;
  if (!have_cached) {
    rc = provider ? provider(provider_ud, &cached) : eng_probe_run(NULL, &cached);
    have_cached = rc == 0;
  }
  if (!rc) *out = cached;
  pthread_mutex_unlock(&mu);
  return rc;
}

#define SETN(k, v) (lua_pushnumber(L, (v)), lua_setfield(L, -2, k))
#define SETI(k, v) (lua_pushinteger(L, (lua_Integer)(v)), lua_setfield(L, -2, k))
#define SETS(k, v) (lua_pushstring(L, (v)), lua_setfield(L, -2, k))
#define SETB(k, v) (lua_pushboolean(L, (v)), lua_setfield(L, -2, k))

void lx_probe_push(lua_State *L, const eng_probe *p) {
  lua_createtable(L, 0, 24);
  SETS("fingerprint", p->fingerprint);
  SETS("version", p->version);
  SETI("measured_at", p->measured_at);
  SETS("cpu", p->cpu);
  SETS("vendor", p->vendor);
  SETI("cores", p->cores);
  SETI("physical_cores", p->physical_cores);
  SETI("pus", p->pus);
  SETI("packages", p->packages);
  SETI("numa_nodes", p->numa_nodes);
  lua_createtable(L, 0, 4);
  SETI("l1d", p->l1d);
  SETI("l2", p->l2);
  SETI("l3", p->l3);
  SETI("llc_total", p->llc_total);
  lua_setfield(L, -2, "caches");
  SETN("memory_gib", p->mem_total_gib);
  /* isa: a set, isa.avx2 == true */
  lua_newtable(L);
  char isa[sizeof p->isa];
  memcpy(isa, p->isa, sizeof isa);
  isa[sizeof isa - 1] = '\0';
  for (char *save = NULL, *w = strtok_r(isa, " ", &save); w; w = strtok_r(NULL, " ", &save))
    SETB(w, 1);
  lua_setfield(L, -2, "isa");
  SETS("simd", p->simd_best);
  lua_createtable(L, 0, 6);
  SETN("copy", p->copy);
  SETN("scale", p->scale);
  SETN("add", p->add);
  SETN("triad", p->triad);
  SETI("n", p->stream_n);
  SETI("threads", p->stream_threads);
  lua_setfield(L, -2, "stream");
  lua_createtable(L, 0, 2);
  SETN("single", p->peak_single);
  SETN("all", p->peak_all);
  lua_setfield(L, -2, "peak");
  SETN("ridge", p->ridge);
  /* the engine's kernels as the probe measured them: { {name, ai, gflops}, ... } */
  lua_createtable(L, p->nkernels, 0);
  for (int i = 0; i < p->nkernels; i++) {
    lua_createtable(L, 0, 3);
    SETS("name", p->kernels[i].name);
    SETN("ai", p->kernels[i].ai);
    SETN("gflops", p->kernels[i].gflops);
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, "kernels");
  lua_createtable(L, 0, 8);
  SETS("core", p->blas.core);
  SETS("detected", p->blas.detected);
  SETS("expected", p->blas.expected);
  SETB("misdetected", p->blas.misdetected);
  SETB("corrected", p->blas.corrected);
  SETB("user_set", p->blas.user_set);
  SETS("config", p->blas.config);
  SETN("dgemm_before", p->blas.dgemm_detected_gflops);
  SETN("dgemm_after", p->blas.dgemm_gflops);
  lua_setfield(L, -2, "openblas");
  SETB("gpu", p->gpu > 0);
  SETS("gpu_name", p->gpu_name);
  SETB("mpi", p->mpi);
}

/* engine.machine() */
static int pr_machine(lua_State *L) {
  eng_probe p;
  int rc = get_probe(&p);
  if (rc) return luaL_error(L, "engine.machine: the machine probe failed: %s", pl_strerror(rc));
  lx_probe_push(L, &p);
  return 1;
}

/* roofline.attainable(peak, bw, ai) */
static int rf_attainable(lua_State *L) {
  eng_roof r = {luaL_checknumber(L, 1), luaL_checknumber(L, 2)};
  lua_pushnumber(L, eng_roofline_attainable(&r, luaL_checknumber(L, 3)));
  return 1;
}

/* roofline.ridge(peak, bw) */
static int rf_ridge(lua_State *L) {
  eng_roof r = {luaL_checknumber(L, 1), luaL_checknumber(L, 2)};
  lua_pushnumber(L, eng_roofline_ridge(&r));
  return 1;
}

/* roofline.place(peak, bw, ai, gflops) -> {ai, attainable, measured, fraction, bound} */
static int rf_place(lua_State *L) {
  eng_roof r = {luaL_checknumber(L, 1), luaL_checknumber(L, 2)};
  eng_roof_place pl;
  if (eng_roofline_place(&r, luaL_checknumber(L, 3), luaL_checknumber(L, 4), &pl))
    return luaL_error(L, "roofline.place: need peak > 0, bandwidth > 0, intensity > 0, rate >= 0");
  lua_createtable(L, 0, 5);
  SETN("ai", pl.ai);
  SETN("attainable", pl.attainable);
  SETN("measured", pl.measured);
  SETN("fraction", pl.fraction);
  SETS("bound", pl.memory_bound ? "memory" : "compute");
  return 1;
}

/* roofline.kernels() -> { {name, flops, bytes, ai, what}, ... } */
static int rf_kernels(lua_State *L) {
  int n;
  const eng_roof_kernel *k = eng_roofline_kernels(&n);
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    lua_createtable(L, 0, 5);
    SETS("name", k[i].name);
    SETN("flops", k[i].flops);
    SETN("bytes", k[i].bytes);
    SETN("ai", eng_roofline_ai(&k[i]));
    SETS("what", k[i].what);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static int rf_gemm_ai(lua_State *L) {
  lua_pushnumber(L, eng_roofline_gemm_ai((long)luaL_checkinteger(L, 1)));
  return 1;
}

static const luaL_Reg probe_funcs[] = {{"machine", pr_machine},       {"attainable", rf_attainable},
                                       {"ridge", rf_ridge},           {"place", rf_place},
                                       {"kernels", rf_kernels},       {"gemm_ai", rf_gemm_ai},
                                       {NULL, NULL}};

int luaopen_parlab_probe(lua_State *L) {
  luaL_newlib(L, probe_funcs);
  return 1;
}
