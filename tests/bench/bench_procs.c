/*
 * bench_procs.c — the "procs" suite: engine.procs against Python's
 * multiprocessing and concurrent.futures, both measured in this run.
 *
 * The Python side is tests/bench/procs_ref.py, started here with python3;
 * the parlab side is the same work through engine.procs in a Lua state
 * (functions sent to workers as bytecode, as Python sends functions by
 * pickle; the bytecode goes once per pool and is loaded once per worker,
 * later tasks name it by a hash, as a pickled function names its module
 * and qualified name), so both sides pay an interpreter on each end:
 *
 *   start     a pool of `cores` workers until its first task has returned
 *   latency   round trip of one small task (x + 1), one at a time:
 *             Pool.apply and ProcessPoolExecutor.submit().result();
 *             p50, p95 and p99 of every sample of every round
 *   map       100,000 tiny tasks, chunk size 1, vs Pool.map(chunksize=1);
 *             per task vs ProcessPoolExecutor.map (10,000 tasks: it is
 *             slow)
 *   big       a 100 MB array to a worker and back, one element changed
 *             there: shared memory (a descriptor each way) vs pickling
 *             through Pool.apply
 *
 * and the engine alone (a C handler, no Lua) for the round trip, to show
 * where its floor is. Python and parlab alternate round by round
 * (A B A B), so a change in the machine's load hits both.
 *
 * The script is found as $PARLAB_SRC/tests/bench/procs_ref.py, then
 * ./tests/bench/procs_ref.py, then under the source tree parlab was built
 * from. Without python3 the suite fails with a clear message.
 */
#include <cjson/cJSON.h>
#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "eng_measure.h"
#include "eng_pool.h"
#include "eng_procs.h"
#include "lx.h"
#include "pl_err.h"

#define ROUNDS 2
#define LAT_N 3000
#define MAP_N 100000
#define MAP_REPS 3
#define BIG_REPS 5
#define STARTS 5
#define NATIVE_N 20000

typedef struct samples {
  double *v;
  int n, cap;
} samples;

static int add(samples *s, double x) {
  if (s->n == s->cap) {
    int cap = s->cap ? s->cap * 2 : 64;
    double *v = realloc(s->v, sizeof *v * (size_t)cap);
    if (!v) return PL_ENOMEM;
    s->v = v;
    s->cap = cap;
  }
  s->v[s->n++] = x;
  return 0;
}

static const char lua_side[] =
    "local P = engine.procs\n"
    "local function tiny(x) return x + 1 end\n"
    "local function touch(a) a[1] = a[1] + 1; return a end\n"
    "bench = {}\n"
    "function bench.start(n, reps)\n"
    "  local s = {}\n"
    "  for r = 1, reps do\n"
    "    local t0 = engine.time()\n"
    "    local p = P.pool{ workers = n }\n"
    "    p:apply(tiny, 1)\n"
    "    s[r] = engine.time() - t0\n"
    "    p:terminate()\n"
    "  end\n"
    "  return s\n"
    "end\n"
    "function bench.round(n, lat_n, map_n, map_reps, big_reps)\n"
    "  local pool = P.pool{ workers = n }\n"
    "  local out = {}\n"
    "  for i = 1, 200 do pool:apply(tiny, i) end\n"
    "  local lat = {}\n"
    "  for i = 1, lat_n do\n"
    "    local t0 = engine.time()\n"
    "    pool:apply(tiny, i)\n"
    "    lat[i] = engine.time() - t0\n"
    "  end\n"
    "  out.latency = lat\n"
    "  local items = {}\n"
    "  for i = 1, map_n do items[i] = i end\n"
    "  pool:map(tiny, { 1, 2, 3 }, { chunksize = 1 })\n"
    "  local m = {}\n"
    "  for r = 1, map_reps do\n"
    "    local t0 = engine.time()\n"
    "    local res = pool:map(tiny, items, { chunksize = 1 })\n"
    "    m[r] = engine.time() - t0\n"
    "    assert(#res == map_n and res[map_n] == map_n + 1)\n"
    "  end\n"
    "  out.map = m\n"
    "  local a = engine.array.zeros('f64', 12500000)\n"
    "  local big = {}\n"
    "  for r = 1, big_reps do\n"
    "    local t0 = engine.time()\n"
    "    local back = pool:apply(touch, a)\n"
    "    big[r] = engine.time() - t0\n"
    "    assert(back[1] == r)\n"
    "    a = back\n"
    "  end\n"
    "  out.big = big\n"
    "  pool:terminate()\n"
    "  return out\n"
    "end\n";

/* Append the numbers of the Lua list at the top of L to s; pops it. */
static int take_list(lua_State *L, samples *s) {
  int rc = 0;
  if (lua_istable(L, -1)) {
    lua_Integer n = luaL_len(L, -1);
    for (lua_Integer i = 1; i <= n && !rc; i++) {
      lua_rawgeti(L, -1, i);
      rc = add(s, lua_tonumber(L, -1));
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
  return rc;
}

static int take_json(cJSON *doc, const char *key, samples *s) {
  cJSON *a = cJSON_GetObjectItemCaseSensitive(doc, key);
  if (!cJSON_IsArray(a)) return PL_EPROTO;
  cJSON *x;
  cJSON_ArrayForEach(x, a) {
    if (!cJSON_IsNumber(x) || add(s, x->valuedouble)) return PL_EPROTO;
  }
  return 0;
}

static char *find_script(void) {
  const char *env = getenv("PARLAB_SRC");
  char path[4096];
  if (env && *env) {
    snprintf(path, sizeof path, "%s/tests/bench/procs_ref.py", env);
    if (access(path, R_OK) == 0) return strdup(path);
  }
  if (access("tests/bench/procs_ref.py", R_OK) == 0) return strdup("tests/bench/procs_ref.py");
#ifdef PARLAB_SOURCE_DIR
  snprintf(path, sizeof path, "%s/tests/bench/procs_ref.py", PARLAB_SOURCE_DIR);
  if (access(path, R_OK) == 0) return strdup(path);
#endif
  return NULL;
}

/* Run the Python side once; its samples are appended. */
typedef struct pyside { samples start, lat, cflat, map, cfmap, big; } pyside;

static int run_python(const char *script, int workers, pyside *py) {
  char cmd[4300];
  snprintf(cmd, sizeof cmd,
           "python3 '%s' --workers %d --starts %d --latency %d --map-n %d --map-reps 1 "
           "--big-reps 2 </dev/null",
           script, workers, STARTS, LAT_N, MAP_N);
  FILE *f = popen(cmd, "r");
  if (!f) return PL_EIO;
  size_t cap = 1 << 20, len = 0;
  char *buf = malloc(cap);
  int rc = 0;
  while (buf) {
    if (cap - len < 65536) {
      char *b = realloc(buf, cap * 2);
      if (!b) break;
      buf = b;
      cap *= 2;
    }
    size_t n = fread(buf + len, 1, cap - len - 1, f);
    if (n == 0) break;
    len += n;
  }
  int st = pclose(f);
  if (!buf) return PL_ENOMEM;
  buf[len] = 0;
  cJSON *doc = st == 0 ? cJSON_Parse(buf) : NULL;
  free(buf);
  if (!doc) {
    fprintf(stderr, "parlab bench procs: %s failed (is python3 installed?)\n", script);
    return PL_ENOSYS;
  }
  cJSON *cfn = cJSON_GetObjectItemCaseSensitive(doc, "cf_map_n");
  double per = cJSON_IsNumber(cfn) && cfn->valuedouble > 0 ? cfn->valuedouble : 1;
  samples cfm = {0};
  if (!rc) rc = take_json(doc, "start", &py->start);
  if (!rc) rc = take_json(doc, "latency", &py->lat);
  if (!rc) rc = take_json(doc, "cf_latency", &py->cflat);
  if (!rc) rc = take_json(doc, "map", &py->map);
  if (!rc) rc = take_json(doc, "cf_map", &cfm);
  if (!rc) rc = take_json(doc, "big", &py->big);
  for (int i = 0; i < cfm.n && !rc; i++) rc = add(&py->cfmap, cfm.v[i] / per);
  free(cfm.v);
  cJSON_Delete(doc);
  return rc;
}

static int native_handler(void *ctx, eng_procs_task *t, eng_procs_out *out) {
  (void)ctx;
  int64_t v;
  memcpy(&v, t->data, sizeof v);
  v++;
  return eng_procs_out_write(out, &v, sizeof v);
}

static int run_native(int workers, samples *lat) {
  eng_procs_opts o = {.workers = workers, .retries = 2, .spin_us = -1};
  eng_procs *p;
  int rc = eng_procs_new(&o, native_handler, NULL, &p);
  if (rc) return rc;
  for (int i = 0; i < NATIVE_N + 500 && !rc; i++) {
    int64_t v = i;
    eng_procs_sub s = {.data = &v, .len = sizeof v};
    uint64_t id;
    eng_procs_result r;
    uint64_t t0 = eng_now_ns();
    rc = eng_procs_submit(p, &s, 10, &id);
    if (!rc) rc = eng_procs_wait(p, id, 10, &r);
    double dt = (double)(eng_now_ns() - t0) * 1e-9;
    if (!rc) eng_procs_result_clear(&r);
    if (!rc && i >= 500) rc = add(lat, dt);
  }
  eng_procs_free(p);
  return rc;
}

static double pct(const samples *s, double p) { return eng_percentile(s->v, s->n, p); }

static double spread_of(const samples *s) {
  eng_stats st;
  if (eng_stats_compute(s->v, s->n, &st)) return 0;
  return st.spread;
}

static int report(bench_report *rep, const char *name, const char *unit, double scale, double value,
                  double spread, const char *ref, double refv, const char *better) {
  bench_result r;
  memset(&r, 0, sizeof r);
  snprintf(r.suite, sizeof r.suite, "procs");
  snprintf(r.name, sizeof r.name, "%s", name);
  snprintf(r.unit, sizeof r.unit, "%s", unit);
  r.value = value * scale;
  r.spread = spread;
  snprintf(r.reference, sizeof r.reference, "%s", ref);
  r.reference_value = refv * scale;
  r.ratio = r.reference_value != 0 ? r.value / r.reference_value : 0;
  snprintf(r.better, sizeof r.better, "%s", better);
  return bench_report_add(rep, &r);
}

static int run(bench_report *rep) {
  int rc = 0;
  lua_State *L = NULL;
  char *script = find_script();
  pyside py;
  memset(&py, 0, sizeof py);
  samples start = {0}, lat = {0}, map = {0}, big = {0}, nat = {0};
  int workers = eng_cores();
  if (!script) {
    fprintf(stderr, "parlab bench procs: tests/bench/procs_ref.py not found (set PARLAB_SRC)\n");
    return PL_ENOTFOUND;
  }
  lx_limits lim = {(size_t)1 << 30, 0};
  if ((rc = lx_open(&lim, &L))) goto done;
  char *err = NULL;
  if (lx_dostring(L, lua_side, "=bench_procs", 0, &err)) {
    fprintf(stderr, "parlab bench procs: %s\n", err ? err : "?");
    free(err);
    rc = PL_ELUA;
    goto done;
  }
  for (int round = 0; round < ROUNDS && !rc; round++) {
    rc = run_python(script, workers, &py);
    if (rc) break;
    lua_getglobal(L, "bench");
    lua_getfield(L, -1, "start");
    lua_pushinteger(L, workers);
    lua_pushinteger(L, STARTS);
    if (lx_pcall(L, 2, 1, &err)) goto lua_failed;
    if ((rc = take_list(L, &start))) break;
    lua_getfield(L, -1, "round");
    lua_pushinteger(L, workers);
    lua_pushinteger(L, LAT_N);
    lua_pushinteger(L, MAP_N);
    lua_pushinteger(L, MAP_REPS);
    lua_pushinteger(L, BIG_REPS);
    if (lx_pcall(L, 5, 1, &err)) goto lua_failed;
    lua_getfield(L, -1, "latency");
    rc = take_list(L, &lat);
    lua_getfield(L, -1, "map");
    if (!rc) rc = take_list(L, &map);
    else lua_pop(L, 1);
    lua_getfield(L, -1, "big");
    if (!rc) rc = take_list(L, &big);
    else lua_pop(L, 1);
    lua_pop(L, 2);
    if (!rc) rc = run_native(workers, &nat);
    continue;
  lua_failed:
    fprintf(stderr, "parlab bench procs: %s\n", err ? err : "?");
    free(err);
    rc = PL_ELUA;
  }
  if (rc) goto done;

  char refname[64];
  rc = report(rep, "pool start-up, until its first task returns", "ms", 1e3, pct(&start, 50),
              spread_of(&start), "python multiprocessing.Pool", pct(&py.start, 50), "lower");
  const double ps[3] = {50, 95, 99};
  for (int k = 0; k < 3 && !rc; k++) {
    char name[96];
    snprintf(name, sizeof name, "round trip of one small task, p%.0f", ps[k]);
    rc = report(rep, name, "us", 1e6, pct(&lat, ps[k]), spread_of(&lat), "python Pool.apply",
                pct(&py.lat, ps[k]), "lower");
  }
  for (int k = 0; k < 3 && !rc; k++) {
    char name[96];
    snprintf(name, sizeof name, "round trip of one small task, p%.0f", ps[k]);
    snprintf(refname, sizeof refname, "python ProcessPoolExecutor.submit");
    rc = report(rep, name, "us", 1e6, pct(&lat, ps[k]), spread_of(&lat), refname,
                pct(&py.cflat, ps[k]), "lower");
  }
  if (!rc)
    rc = report(rep, "round trip, engine only (C handler), p50", "us", 1e6, pct(&nat, 50),
                spread_of(&nat), "python Pool.apply", pct(&py.lat, 50), "lower");
  if (!rc)
    rc = report(rep, "round trip, engine only (C handler), p99", "us", 1e6, pct(&nat, 99),
                spread_of(&nat), "python Pool.apply", pct(&py.lat, 99), "lower");
  if (!rc)
    rc = report(rep, "100,000 tiny tasks, chunk size 1", "s", 1, pct(&map, 50), spread_of(&map),
                "python Pool.map(chunksize=1)", pct(&py.map, 50), "lower");
  if (!rc) {
    samples per = {0};
    for (int i = 0; i < map.n && !rc; i++) rc = add(&per, map.v[i] / MAP_N);
    if (!rc)
      rc = report(rep, "tiny tasks, chunk size 1, per task", "us", 1e6, pct(&per, 50),
                  spread_of(&per), "python ProcessPoolExecutor.map", pct(&py.cfmap, 50), "lower");
    free(per.v);
  }
  if (!rc)
    rc = report(rep, "100 MB array to a worker and back", "ms", 1e3, pct(&big, 50), spread_of(&big),
                "python Pool.apply (pickled)", pct(&py.big, 50), "lower");

done:
  if (L) lx_close(L);
  free(script);
  free(start.v);
  free(lat.v);
  free(map.v);
  free(big.v);
  free(nat.v);
  free(py.start.v);
  free(py.lat.v);
  free(py.cflat.v);
  free(py.map.v);
  free(py.cfmap.v);
  free(py.big.v);
  return rc;
}

const bench_suite bench_suite_procs = {
  .name = "procs",
  .summary = "process pool: start-up, round trip (p50/p95/p99), 100k tiny tasks, a 100 MB array, vs Python multiprocessing and concurrent.futures",
  .run = run,
};
