/*
 * cmd_bench.c — `parlab bench [SUITE...] [--json]`: run the suites of
 * tests/bench/ and print their figures (JSON schema of DESIGN.md §8).
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "bench.h"
#include "cmd.h"
#include "eng_pool.h"
#include "pl_err.h"

struct bench_report {
  bench_result *r;
  int n, cap;
  int json;
};

int bench_report_add(bench_report *rep, const bench_result *res) {
  if (rep->n == rep->cap) {
    int cap = rep->cap ? rep->cap * 2 : 16;
    bench_result *r = realloc(rep->r, sizeof *r * (size_t)cap);
    if (!r) return PL_ENOMEM;
    rep->r = r;
    rep->cap = cap;
  }
  rep->r[rep->n++] = *res;
  if (!rep->json) {
    printf("  %-44s %10.3f %-5s  %s %10.3f  ratio %.2f (%s is better, spread %.0f%%)\n", res->name,
           res->value, res->unit, res->reference, res->reference_value, res->ratio, res->better,
           res->spread * 100);
    fflush(stdout);
  }
  return 0;
}

int cmd_bench(cmd_ctx *c, int argc, char **argv) {
  (void)c;
  int json = cmd_take_flag(&argc, argv, "--json");
  bench_report rep = {.json = json};
  int rc = 0;
  for (int i = 1; i < argc; i++) {
    int found = 0;
    for (const bench_suite *const *s = bench_suites; *s; s++) found |= !strcmp((*s)->name, argv[i]);
    if (!found) {
      fprintf(stderr, "parlab: unknown benchmark suite '%s'; suites:", argv[i]);
      for (const bench_suite *const *s = bench_suites; *s; s++) fprintf(stderr, " %s", (*s)->name);
      fprintf(stderr, "\n");
      return EXIT_USAGE;
    }
  }
  for (const bench_suite *const *s = bench_suites; *s; s++) {
    int want = argc == 1;
    for (int i = 1; i < argc; i++) want |= !strcmp((*s)->name, argv[i]);
    if (!want) continue;
    if (!json) printf("%s: %s\n", (*s)->name, (*s)->summary);
    int r = (*s)->run(&rep);
    if (r) {
      fprintf(stderr, "parlab: bench %s failed: %s\n", (*s)->name, pl_strerror(r));
      rc = EXIT_ENV;
    }
  }
  if (json) {
    cJSON *doc = cJSON_CreateObject();
    cJSON *m = cJSON_AddObjectToObject(doc, "machine");
    struct utsname u;
    if (uname(&u) == 0) {
      cJSON_AddStringToObject(m, "hostname", u.nodename);
      cJSON_AddStringToObject(m, "kernel", u.release);
      cJSON_AddStringToObject(m, "arch", u.machine);
    }
    cJSON_AddNumberToObject(m, "cores", eng_cores());
    cJSON_AddNumberToObject(m, "threads", eng_default_threads());
    cJSON *res = cJSON_AddArrayToObject(doc, "results");
    for (int i = 0; i < rep.n; i++) {
      const bench_result *b = &rep.r[i];
      cJSON *o = cJSON_CreateObject();
      cJSON_AddStringToObject(o, "suite", b->suite);
      cJSON_AddStringToObject(o, "name", b->name);
      cJSON_AddStringToObject(o, "unit", b->unit);
      cJSON_AddNumberToObject(o, "value", b->value);
      cJSON_AddNumberToObject(o, "spread", b->spread);
      cJSON_AddStringToObject(o, "reference", b->reference);
      cJSON_AddNumberToObject(o, "reference_value", b->reference_value);
      cJSON_AddNumberToObject(o, "ratio", b->ratio);
      cJSON_AddStringToObject(o, "better", b->better);
      cJSON_AddItemToArray(res, o);
    }
    char *s = cJSON_Print(doc);
    puts(s);
    free(s);
    cJSON_Delete(doc);
  }
  free(rep.r);
  return rc;
}
