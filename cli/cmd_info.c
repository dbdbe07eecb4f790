/*
 * cmd_info.c — `parlab info [--json] [--refresh] [--roofline] [--ascii]`:
 * the machine probe (eng_probe.h), measured once per machine and cached in
 * the gradebook as JSON keyed by the machine's fingerprint; the roofline
 * chart (tui_roofline.h). Also the provider behind engine.machine() in labs,
 * so a lab reads the same cached figures.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "eng_probe.h"
#include "eng_roofline.h"
#include "lx_probe.h"
#include "pl_err.h"
#include "tui_roofline.h"

/* ---- probe <-> JSON ---- */

static cJSON *probe_json(const eng_probe *p) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "fingerprint", p->fingerprint);
  cJSON_AddStringToObject(o, "version", p->version);
  cJSON_AddNumberToObject(o, "measured_at", (double)p->measured_at);
  cJSON_AddNumberToObject(o, "seconds", p->seconds);
  cJSON *cpu = cJSON_AddObjectToObject(o, "cpu");
  cJSON_AddStringToObject(cpu, "model", p->cpu);
  cJSON_AddStringToObject(cpu, "vendor", p->vendor);
  cJSON_AddNumberToObject(cpu, "family", p->family);
  cJSON_AddNumberToObject(cpu, "model_number", p->model);
  cJSON_AddNumberToObject(o, "cores", p->cores);
  cJSON_AddNumberToObject(o, "physical_cores", p->physical_cores);
  cJSON_AddNumberToObject(o, "pus", p->pus);
  cJSON_AddNumberToObject(o, "packages", p->packages);
  cJSON_AddNumberToObject(o, "numa_nodes", p->numa_nodes);
  cJSON *c = cJSON_AddObjectToObject(o, "caches");
  cJSON_AddNumberToObject(c, "l1d", (double)p->l1d);
  cJSON_AddNumberToObject(c, "l2", (double)p->l2);
  cJSON_AddNumberToObject(c, "l3", (double)p->l3);
  cJSON_AddNumberToObject(c, "llc_total", (double)p->llc_total);
  cJSON *mem = cJSON_AddObjectToObject(o, "memory");
  cJSON_AddNumberToObject(mem, "total_gib", p->mem_total_gib);
  cJSON_AddNumberToObject(mem, "available_gib", p->mem_avail_gib);
  cJSON *isa = cJSON_AddArrayToObject(o, "isa");
  char buf[sizeof p->isa];
  memcpy(buf, p->isa, sizeof buf);
  buf[sizeof buf - 1] = '\0';
  for (char *save = NULL, *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save))
    cJSON_AddItemToArray(isa, cJSON_CreateString(w));
  cJSON_AddStringToObject(o, "simd", p->simd_best);
  cJSON *s = cJSON_AddObjectToObject(o, "stream");
  cJSON_AddNumberToObject(s, "copy", p->copy);
  cJSON_AddNumberToObject(s, "scale", p->scale);
  cJSON_AddNumberToObject(s, "add", p->add);
  cJSON_AddNumberToObject(s, "triad", p->triad);
  cJSON_AddNumberToObject(s, "n", (double)p->stream_n);
  cJSON_AddNumberToObject(s, "threads", p->stream_threads);
  cJSON *pk = cJSON_AddObjectToObject(o, "peak");
  cJSON_AddNumberToObject(pk, "single", p->peak_single);
  cJSON_AddNumberToObject(pk, "all", p->peak_all);
  cJSON_AddNumberToObject(o, "ridge", p->ridge);
  cJSON *b = cJSON_AddObjectToObject(o, "openblas");
  cJSON_AddBoolToObject(b, "loaded", p->blas.loaded);
  cJSON_AddStringToObject(b, "core", p->blas.core);
  cJSON_AddStringToObject(b, "detected", p->blas.detected);
  cJSON_AddStringToObject(b, "expected", p->blas.expected);
  cJSON_AddBoolToObject(b, "misdetected", p->blas.misdetected);
  cJSON_AddBoolToObject(b, "corrected", p->blas.corrected);
  cJSON_AddBoolToObject(b, "user_set", p->blas.user_set);
  cJSON_AddStringToObject(b, "config", p->blas.config);
  cJSON_AddStringToObject(b, "library", p->blas.library);
  cJSON_AddNumberToObject(b, "threads", p->blas.threads);
  cJSON_AddNumberToObject(b, "dgemm_n", p->blas.dgemm_n);
  cJSON_AddNumberToObject(b, "dgemm_before", p->blas.dgemm_detected_gflops);
  cJSON_AddNumberToObject(b, "dgemm_after", p->blas.dgemm_gflops);
  cJSON_AddNumberToObject(b, "dgemm_all", p->dgemm_all);
  cJSON_AddNumberToObject(b, "dgemm_all_n", p->dgemm_n_all);
  cJSON *ks = cJSON_AddArrayToObject(o, "kernels");
  eng_roof roof = {p->peak_all, p->triad};
  for (int i = 0; i < p->nkernels; i++) {
    cJSON *k = cJSON_CreateObject();
    cJSON_AddStringToObject(k, "name", p->kernels[i].name);
    cJSON_AddNumberToObject(k, "ai", p->kernels[i].ai);
    cJSON_AddNumberToObject(k, "gflops", p->kernels[i].gflops);
    eng_roof_place pl;
    if (eng_roofline_place(&roof, p->kernels[i].ai, p->kernels[i].gflops, &pl) == 0) {
      cJSON_AddNumberToObject(k, "attainable", pl.attainable);
      cJSON_AddNumberToObject(k, "fraction", pl.fraction);
      cJSON_AddStringToObject(k, "bound", pl.memory_bound ? "memory" : "compute");
    }
    cJSON_AddItemToArray(ks, k);
  }
  cJSON *g = cJSON_AddObjectToObject(o, "gpu");
  cJSON_AddBoolToObject(g, "present", p->gpu > 0);
  cJSON_AddNumberToObject(g, "count", p->gpu);
  cJSON_AddStringToObject(g, "name", p->gpu_name);
  cJSON *m = cJSON_AddObjectToObject(o, "mpi");
  cJSON_AddBoolToObject(m, "present", p->mpi);
  cJSON_AddStringToObject(m, "mpirun", p->mpi_path);
  return o;
}

static double jnum(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsNumber(v) ? v->valuedouble : cJSON_IsBool(v) ? cJSON_IsTrue(v) : 0;
}

static void jstr(const cJSON *o, const char *k, char *dst, size_t size) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  snprintf(dst, size, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

/* 0, or PL_EINVAL for JSON that is not a probe (then it is re-measured). */
static int probe_parse(const char *text, eng_probe *p) {
  memset(p, 0, sizeof *p);
  cJSON *o = cJSON_Parse(text);
  if (!o || !cJSON_GetObjectItem(o, "stream") || !cJSON_GetObjectItem(o, "peak")) {
    cJSON_Delete(o);
    return PL_EINVAL;
  }
  jstr(o, "fingerprint", p->fingerprint, sizeof p->fingerprint);
  jstr(o, "version", p->version, sizeof p->version);
  p->measured_at = (long)jnum(o, "measured_at");
  p->seconds = jnum(o, "seconds");
  const cJSON *cpu = cJSON_GetObjectItem(o, "cpu");
  jstr(cpu, "model", p->cpu, sizeof p->cpu);
  jstr(cpu, "vendor", p->vendor, sizeof p->vendor);
  p->family = (int)jnum(cpu, "family"), p->model = (int)jnum(cpu, "model_number");
  p->cores = (int)jnum(o, "cores");
  p->physical_cores = (int)jnum(o, "physical_cores");
  p->pus = (int)jnum(o, "pus");
  p->packages = (int)jnum(o, "packages");
  p->numa_nodes = (int)jnum(o, "numa_nodes");
  const cJSON *c = cJSON_GetObjectItem(o, "caches");
  p->l1d = (long)jnum(c, "l1d"), p->l2 = (long)jnum(c, "l2"), p->l3 = (long)jnum(c, "l3");
  p->llc_total = (long)jnum(c, "llc_total");
  const cJSON *mem = cJSON_GetObjectItem(o, "memory");
  p->mem_total_gib = jnum(mem, "total_gib"), p->mem_avail_gib = jnum(mem, "available_gib");
  const cJSON *isa = cJSON_GetObjectItem(o, "isa"), *w;
  size_t used = 0;
  cJSON_ArrayForEach(w, isa) if (cJSON_IsString(w)) {
    int n = snprintf(p->isa + used, sizeof p->isa - used, "%s%s", used ? " " : "", w->valuestring);
    if (n < 0 || (size_t)n >= sizeof p->isa - used) break;
    used += (size_t)n;
  }
  jstr(o, "simd", p->simd_best, sizeof p->simd_best);
  const cJSON *s = cJSON_GetObjectItem(o, "stream");
  p->copy = jnum(s, "copy"), p->scale = jnum(s, "scale"), p->add = jnum(s, "add");
  p->triad = jnum(s, "triad");
  p->stream_n = (long)jnum(s, "n"), p->stream_threads = (int)jnum(s, "threads");
  const cJSON *pk = cJSON_GetObjectItem(o, "peak");
  p->peak_single = jnum(pk, "single"), p->peak_all = jnum(pk, "all");
  p->ridge = jnum(o, "ridge");
  const cJSON *b = cJSON_GetObjectItem(o, "openblas");
  p->blas.loaded = (int)jnum(b, "loaded");
  jstr(b, "core", p->blas.core, sizeof p->blas.core);
  jstr(b, "detected", p->blas.detected, sizeof p->blas.detected);
  jstr(b, "expected", p->blas.expected, sizeof p->blas.expected);
  p->blas.misdetected = (int)jnum(b, "misdetected");
  p->blas.corrected = (int)jnum(b, "corrected");
  p->blas.user_set = (int)jnum(b, "user_set");
  jstr(b, "config", p->blas.config, sizeof p->blas.config);
  jstr(b, "library", p->blas.library, sizeof p->blas.library);
  p->blas.threads = (int)jnum(b, "threads");
  p->blas.dgemm_n = (int)jnum(b, "dgemm_n");
  p->blas.dgemm_detected_gflops = jnum(b, "dgemm_before");
  p->blas.dgemm_gflops = jnum(b, "dgemm_after");
  p->dgemm_all = jnum(b, "dgemm_all");
  p->dgemm_n_all = (int)jnum(b, "dgemm_all_n");
  const cJSON *ks = cJSON_GetObjectItem(o, "kernels"), *k;
  cJSON_ArrayForEach(k, ks) {
    if (p->nkernels >= ENG_PROBE_MAX_KERNELS) break;
    struct eng_probe_kernel *pk2 = &p->kernels[p->nkernels++];
    jstr(k, "name", pk2->name, sizeof pk2->name);
    pk2->ai = jnum(k, "ai"), pk2->gflops = jnum(k, "gflops");
  }
  const cJSON *g = cJSON_GetObjectItem(o, "gpu");
  p->gpu = (int)jnum(g, "count");
  jstr(g, "name", p->gpu_name, sizeof p->gpu_name);
  const cJSON *m = cJSON_GetObjectItem(o, "mpi");
  p->mpi = (int)jnum(m, "present");
  jstr(m, "mpirun", p->mpi_path, sizeof p->mpi_path);
  cJSON_Delete(o);
  return 0;
}

/* The cached probe for this machine, or a fresh measurement stored in the
 * gradebook. *cached tells which. Prints nothing on success. */
static int get_probe(cmd_ctx *c, int refresh, int verbose, eng_probe *p, int *cached) {
  char fp[256];
  eng_probe_fingerprint(fp, sizeof fp);
  db *d = NULL;
  int rc = cmd_open_db(c, &d);
  if (rc) return rc;
  char *json = NULL;
  *cached = 0;
  if (!refresh && db_probe_get(d, fp, &json, NULL) == 0 && json && probe_parse(json, p) == 0) {
    *cached = 1;
    goto done;
  }
  if (verbose) fprintf(stderr, "parlab: measuring this machine (about 10 s, once: the result is cached)\n");
  rc = eng_probe_run(NULL, p);
  if (rc) {
    fprintf(stderr, "parlab: the machine probe failed: %s\n", pl_strerror(rc));
    rc = cmd_exit_for(rc);
    goto done;
  }
  cJSON *o = probe_json(p);
  char *s = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  if (s && db_probe_put(d, p->fingerprint, p->version, s) != 0)
    fprintf(stderr, "parlab: warning: could not cache the probe in the gradebook\n");
  free(s);
done:
  free(json);
  db_close(d);
  return rc;
}

int cmd_info_machine(void *ud, eng_probe *out) {
  int cached;
  return get_probe(ud, 0, 0, out, &cached) ? PL_EIO : 0;
}

/* ---- text output ---- */

static void print_size(const char *label, long bytes) {
  if (bytes <= 0) return;
  if (bytes >= 1L << 20) printf("  %-6s %ld MiB\n", label, bytes >> 20);
  else printf("  %-6s %ld KiB\n", label, bytes >> 10);
}

static void print_text(const eng_probe *p, int cached) {
  char when[64] = "";
  time_t t = (time_t)p->measured_at;
  struct tm tm;
  if (localtime_r(&t, &tm)) strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
  printf("Machine\n");
  printf("  CPU    %s (%s, family %d model %d)\n", p->cpu, p->vendor, p->family, p->model);
  printf("  cores  %d usable by parlab; %d cores, %d hardware threads, %d package(s), %d NUMA node(s)\n",
         p->cores, p->physical_cores, p->pus, p->packages, p->numa_nodes);
  print_size("L1d", p->l1d);
  print_size("L2", p->l2);
  print_size("L3", p->l3);
  printf("  memory %.1f GiB (%.1f GiB available)\n", p->mem_total_gib, p->mem_avail_gib);
  printf("  ISA    %s\n", p->isa);
  printf("  SIMD   variant \"auto\" runs %s\n", p->simd_best);
  printf("Bandwidth (STREAM, %ld doubles per array = %.0f MiB, %d threads, best of passes)\n",
         p->stream_n, (double)p->stream_n * 8 / 1048576.0, p->stream_threads);
  printf("  copy %.1f  scale %.1f  add %.1f  triad %.1f GB/s\n", p->copy, p->scale, p->add, p->triad);
  printf("Peak (f64 FMA loop, %s)\n", p->simd_best);
  printf("  one core %.1f GFLOP/s, all cores %.1f GFLOP/s; ridge point %.2f FLOP/byte\n",
         p->peak_single, p->peak_all, p->ridge);
  printf("OpenBLAS\n");
  printf("  %s\n", p->blas.config[0] ? p->blas.config : "not loaded");
  if (p->blas.user_set)
    printf("  core type %s, from OPENBLAS_CORETYPE in your environment\n", p->blas.core);
  else if (p->blas.misdetected)
    printf("  core type: OpenBLAS picks %s by itself, but this CPU runs %s kernels;\n"
           "  parlab sets OPENBLAS_CORETYPE=%s for its own runs (in use: %s)\n",
           p->blas.detected, p->blas.expected, p->blas.expected, p->blas.core);
  else
    printf("  core type %s (detected correctly)\n", p->blas.core);
  if (p->blas.dgemm_gflops > 0) {
    if (p->blas.dgemm_detected_gflops > 0 && strcmp(p->blas.detected, p->blas.core))
      printf("  dgemm %dx%d, one thread: %.1f GFLOP/s with %s, %.1f GFLOP/s with %s (%.1fx)\n",
             p->blas.dgemm_n, p->blas.dgemm_n, p->blas.dgemm_detected_gflops, p->blas.detected,
             p->blas.dgemm_gflops, p->blas.core, p->blas.dgemm_gflops / p->blas.dgemm_detected_gflops);
    else
      printf("  dgemm %dx%d, one thread: %.1f GFLOP/s\n", p->blas.dgemm_n, p->blas.dgemm_n,
             p->blas.dgemm_gflops);
  }
  if (p->dgemm_all > 0)
    printf("  dgemm %dx%d, %d threads: %.1f GFLOP/s (%.0f%% of peak)\n", p->dgemm_n_all, p->dgemm_n_all,
           p->blas.threads, p->dgemm_all, 100 * p->dgemm_all / p->peak_all);
  printf("GPU    %s\n", p->gpu ? p->gpu_name : "none (no NVIDIA driver)");
  printf("MPI    %s\n", p->mpi ? p->mpi_path : "none (no mpirun on PATH)");
  printf("(%s %s; `parlab info --refresh` measures again)\n",
         cached ? "cached, measured" : "measured now,", when);
}

/* ---- roofline ---- */

/* The probe's own kernels under the machine's roofs (tui_roofline.h,
 * the same figure the labs attach to their results). */
static int print_roofline(const eng_probe *p, int ascii, int width, int ansi) {
  eng_roof roof = {p->peak_all, p->triad};
  if (!(eng_roofline_ridge(&roof) > 0)) {
    fprintf(stderr, "parlab: no bandwidth or peak measured; run `parlab info --refresh`\n");
    return EXIT_ENV;
  }
  tui_roof_kernel ks[ENG_PROBE_MAX_KERNELS];
  int nk = 0, has_i8 = 0;
  for (int i = 0; i < p->nkernels && nk < ENG_PROBE_MAX_KERNELS; i++) {
    const struct eng_probe_kernel *k = &p->kernels[i];
    if (!(k->ai > 0) || !(k->gflops > 0)) continue;
    ks[nk++] = (tui_roof_kernel){k->name, k->ai, k->gflops, NAN};
    has_i8 |= !strcmp(k->name, "dot_i8");
  }
  tui_roof_fig fig = {NULL, p->peak_all, p->triad, "triad", ks, nk};
  tui_roof_text t;
  if (tui_roofline_render(&fig, width, 22, ascii, &t)) return EXIT_INTERNAL;
  tui_roofline_print(stdout, &t, ansi);
  tui_roofline_text_free(&t);
  printf("(all cores, STREAM-sized arrays; dgemm at n = %d%s)\n", p->dgemm_n_all,
         has_i8 ? "; dot_i8 counts integer operations" : "");
  return 0;
}

int cmd_info(cmd_ctx *c, int argc, char **argv) {
  int json = cmd_take_flag(&argc, argv, "--json");
  int refresh = cmd_take_flag(&argc, argv, "--refresh");
  int roofline = cmd_take_flag(&argc, argv, "--roofline");
  int ascii = cmd_take_flag(&argc, argv, "--ascii");
  if (argc > 1) {
    fprintf(stderr, "parlab: info takes no argument '%s' (options: --json --refresh --roofline --ascii)\n",
            argv[1]);
    return EXIT_USAGE;
  }
  eng_probe p;
  int cached = 0;
  int rc = get_probe(c, refresh, 1, &p, &cached);
  if (rc) return rc;
  if (json) {
    cJSON *o = probe_json(&p);
    cJSON_AddBoolToObject(o, "cached", cached);
    char *s = cJSON_Print(o);
    puts(s ? s : "{}");
    free(s);
    cJSON_Delete(o);
    return 0;
  }
  if (!roofline) {
    print_text(&p, cached);
    return 0;
  }
  /* UTF-8 braille unless asked for ASCII or the locale cannot show it. */
  return print_roofline(&p, ascii || !tui_roofline_utf8(), 100, cmd_use_color(c));
}
