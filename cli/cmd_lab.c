/*
 * cmd_lab.c — `parlab lab show|start|run|test|lint`.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cmd.h"
#include "grd.h"
#include "pl_err.h"
#include "tui.h"
#include "tui_roofline.h"

static int term_width(void) {
  struct winsize ws;
  if (ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40) return ws.ws_col > 100 ? 100 : ws.ws_col;
  return 80;
}

static int print_file_md(cmd_ctx *c, const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) { fprintf(stderr, "parlab: cannot read %s\n", path); return EXIT_USAGE; }
  char *buf = NULL;
  size_t cap = 0, len = 0, n;
  char tmp[65536];
  while ((n = fread(tmp, 1, sizeof tmp, f)) > 0) {
    if (len + n > cap) {
      cap = (len + n) * 2;
      char *b = realloc(buf, cap);
      if (!b) { free(buf); fclose(f); return EXIT_INTERNAL; }
      buf = b;
    }
    memcpy(buf + len, tmp, n);
    len += n;
  }
  fclose(f);
  int rc = tui_md_print(stdout, buf ? buf : "", len, term_width(), cmd_use_color(c));
  free(buf);
  if (rc) { fprintf(stderr, "parlab: %s: cannot render Markdown\n", path); return EXIT_USAGE; }
  return 0;
}

/* ---- progress printing for `lab run` ---- */

typedef struct printer {
  FILE *out;
  int color;
  int verbose_output;
  int charts; /* draw a check's roofline figure under it (lab run, not --json) */
  int ascii;  /* ... in ASCII (--ascii, or a locale without UTF-8) */
} printer;

/* A check's t:roofline figure (grd.h) drawn as text (tui_roofline.h). */
static void print_roofline(const printer *p, const grd_check_result *r) {
  tui_roof_text t;
  int w = term_width() - 6;
  if (tui_roofline_render_check(r->roofline, w < 40 ? 40 : w, 20, p->ascii, &t)) {
    fprintf(p->out, "      (the roofline figure could not be drawn)\n");
    return;
  }
  fputc('\n', p->out);
  for (int i = 0; i < t.n; i++) {
    /* indented under the check, like its message */
    tui_roof_text one = {t.lines + i, 1, t.width, t.role + (size_t)i * (size_t)t.width};
    fputs("      ", p->out);
    tui_roofline_print(p->out, &one, p->color);
  }
  fputc('\n', p->out);
  tui_roofline_text_free(&t);
}

static void print_check(FILE *out, int color, const grd_check_result *r) {
  const char *mark = r->skipped ? "-" : r->passed ? "✓" : "✗";
  const char *on = "", *off = "";
  if (color) { on = r->skipped ? "\033[33m" : r->passed ? "\033[32m" : "\033[31m"; off = "\033[0m"; }
  fprintf(out, "  %s%s%s %-44s %4g/%g%s\n", on, mark, off, r->name, r->score, r->max_score,
          r->attempts > 1 ? "  (re-measured)" : "");
  if (r->hidden) {
    if (!r->passed) fprintf(out, "      (hidden check: details are not shown)\n");
    return;
  }
  const char *m = r->message;
  while (m && *m) {
    const char *e = strchr(m, '\n');
    int n = e ? (int)(e - m) : (int)strlen(m);
    fprintf(out, "      %.*s\n", n, m);
    if (!e) break;
    m = e + 1;
  }
}

static void on_progress(void *arg, const grd_event *ev) {
  printer *p = arg;
  switch (ev->kind) {
  case GRD_EV_COMPILE_START: fprintf(p->out, "compiling ... "); fflush(p->out); break;
  case GRD_EV_COMPILE_DONE: fprintf(p->out, "%s\n", ev->ok ? "ok" : "failed"); break;
  case GRD_EV_CHECK_START: break;
  case GRD_EV_CHECK_DONE:
    print_check(p->out, p->color, ev->check);
    if (p->charts && ev->check->roofline && (!ev->check->hidden || ev->check->passed))
      print_roofline(p, ev->check);
    fflush(p->out);
    break;
  case GRD_EV_OUTPUT:
    if (p->verbose_output) fprintf(p->out, "      | %s\n", ev->text);
    break;
  }
}

/* --weak-jail: the instructor accepts a jail without namespaces where the
 * kernel refuses them; the attempt records it. */
static int weak_jail;
/* --ascii: draw charts without braille (also when the locale is not UTF-8). */
static int ascii_charts;

/* charts: draw the checks' figures as they finish (`lab run`, not `lab
 * test`, whose two runs would print each figure twice). */
static int run_one(cmd_ctx *c, const lx_lab *lab, const char *sub, int json, int quiet_json,
                   int attempts, int charts, grd_result **out) {
  printer p = {.out = json ? stderr : stdout, .color = !json && cmd_use_color(c), .verbose_output = 1,
               .charts = charts && !json && !quiet_json,
               .ascii = ascii_charts || !tui_roofline_utf8()};
  if (!quiet_json) fprintf(p.out, "%s: grading %s\n", lab->id, sub);
  grd_opts o = {.submission = sub, .timed_attempts = attempts, .weak_jail = weak_jail,
                .progress = quiet_json ? NULL : on_progress, .progress_arg = &p};
  char *err = NULL;
  int rc = grd_run(lab, &o, out, &err);
  if (rc) {
    if (rc == PL_ESANDBOX)
      fprintf(stderr,
              "parlab: refusing to grade: the sandbox cannot be set up here: %s\n"
              "parlab: an instructor may accept a weaker jail (rlimits and seccomp, no namespaces)\n"
              "parlab: with --weak-jail; the attempt records that choice.\n",
              err ? err : "");
    else
      fprintf(stderr, "parlab: %s\n", err ? err : pl_strerror(rc));
    free(err);
    return cmd_exit_for(rc);
  }
  return 0;
}

/* Every check that ran passed (skipped GPU checks are neither). */
static int all_ran_passed(const grd_result *r) {
  if (!r->compiled) return 0;
  for (int i = 0; i < r->nchecks; i++)
    if (!r->checks[i].skipped && !r->checks[i].passed) return 0;
  return 1;
}

static int lab_run(cmd_ctx *c, int argc, char **argv) {
  int json = cmd_take_flag(&argc, argv, "--json");
  const char *sub = cmd_take_opt(&argc, argv, "--submission");
  ascii_charts = cmd_take_flag(&argc, argv, "--ascii");
  if (argc != 2) {
    fprintf(stderr, "usage: parlab lab run LAB [--submission PATH] [--json] [--ascii]\n");
    return EXIT_USAGE;
  }
  lx_lab *lab = NULL;
  char *ws = NULL;
  grd_result *r = NULL;
  db *d = NULL;
  int rc = cmd_load_lab(c, argv[1], &lab);
  if (rc) return rc;
  if (!sub) {
    if ((rc = cmd_home(c))) goto done;
    grd_workspace_path(c->home, lab, &ws);
    if (access(ws, R_OK)) {
      fprintf(stderr, "parlab: %s does not exist yet; run `parlab lab start %s` first, or pass "
                      "--submission PATH\n", ws, lab->id);
      rc = EXIT_USAGE;
      goto done;
    }
    sub = ws;
  }
  if ((rc = run_one(c, lab, sub, json, 0, 0, 1, &r))) goto done;
  if ((rc = cmd_open_db(c, &d))) goto done;
  if (db_attempt_add(d, NULL, r, NULL))
    fprintf(stderr, "parlab: warning: could not record the attempt in the gradebook\n");
  if (json) {
    char *s = grd_result_json(r, 0);
    if (!s) { rc = EXIT_INTERNAL; goto done; }
    puts(s);
    free(s);
  } else {
    for (int i = 0; i < r->ndiagnostics; i++) printf("  %s\n", r->diagnostics[i]);
    double skipped = 0;
    for (int i = 0; i < r->nchecks; i++)
      if (r->checks[i].skipped) skipped += r->checks[i].max_score;
    printf("score %g/%g%s\n", r->score, r->max_score,
           r->score >= r->max_score ? " — full marks" : "");
    if (skipped > 0)
      printf("%g point%s skipped: %s a GPU, which this machine does not have\n", skipped,
             skipped == 1 ? " was" : "s were", skipped == 1 ? "its check needs" : "their checks need");
  }
  rc = all_ran_passed(r) ? EXIT_OK : EXIT_FAILED;
done:
  db_close(d);
  grd_result_free(r);
  free(ws);
  lx_lab_free(lab);
  return rc;
}

static int lab_show(cmd_ctx *c, int argc, char **argv) {
  if (argc != 2) { fprintf(stderr, "usage: parlab lab show LAB\n"); return EXIT_USAGE; }
  lx_lab *lab = NULL;
  int rc = cmd_load_lab(c, argv[1], &lab);
  if (rc) return rc;
  rc = print_file_md(c, lab->brief);
  lx_lab_free(lab);
  return rc;
}

static int lab_start(cmd_ctx *c, int argc, char **argv) {
  int force = cmd_take_flag(&argc, argv, "--force");
  if (argc != 2) { fprintf(stderr, "usage: parlab lab start LAB [--force]\n"); return EXIT_USAGE; }
  lx_lab *lab = NULL;
  char *path = NULL;
  int rc = cmd_load_lab(c, argv[1], &lab);
  if (rc) return rc;
  if ((rc = cmd_home(c))) goto done;
  if ((rc = grd_workspace_start(c->home, lab, force, &path))) {
    fprintf(stderr, "parlab: cannot copy %s into the workspace: %s\n", lab->starter, pl_strerror(rc));
    rc = EXIT_ENV;
    goto done;
  }
  puts(path);
done:
  free(path);
  lx_lab_free(lab);
  return rc;
}

static int lab_lint(cmd_ctx *c, int argc, char **argv) {
  if (argc != 2) { fprintf(stderr, "usage: parlab lab lint PATH\n"); return EXIT_USAGE; }
  lx_lab *lab = NULL;
  int rc = cmd_load_lab(c, argv[1], &lab);
  if (rc) return rc;
  printf("%s: ok (%d checks, %g points, %d hints)\n", lab->dir, lab->nchecks, lab->max_score, lab->nhints);
  lx_lab_free(lab);
  return 0;
}

/* Instructor check: the starter must not get full marks, the reference
 * must, and every check must have run (none skipped). Timed checks get
 * three tries so a loaded machine does not make the suite flaky. */
static int test_one(cmd_ctx *c, const char *id, int json, cJSON *arr) {
  lx_lab *lab = NULL;
  grd_result *rs = NULL, *rr = NULL;
  int rc = cmd_load_lab(c, id, &lab);
  cJSON *o = cJSON_CreateObject();
  cJSON *problems = cJSON_CreateArray();
  cJSON_AddStringToObject(o, "lab", id);
  if (rc) {
    cJSON_AddItemToArray(problems, cJSON_CreateString("the lab does not load (see stderr)"));
    goto done;
  }
  FILE *out = json ? stderr : stdout;
  fprintf(out, "== %s: starter (%s)\n", lab->id, lab->starter);
  if ((rc = run_one(c, lab, lab->starter, json, 0, 3, 0, &rs))) goto done;
  fprintf(out, "   starter: %g/%g\n", rs->score, rs->max_score);
  fprintf(out, "== %s: reference solution (%s)\n", lab->id, lab->solution);
  if ((rc = run_one(c, lab, lab->solution, json, 0, 3, 0, &rr))) goto done;
  fprintf(out, "   reference: %g/%g\n", rr->score, rr->max_score);
  if (!rs->compiled)
    cJSON_AddItemToArray(problems, cJSON_CreateString("the starter does not compile"));
  int skipped = 0;
  for (int i = 0; i < rr->nchecks; i++) skipped += rr->checks[i].skipped;
  if (!rr->compiled)
    cJSON_AddItemToArray(problems, cJSON_CreateString("the reference solution does not compile"));
  if (skipped) {
    /* No GPU here: the lab still builds and its definition is valid; the
     * verdicts are checked where a device exists. */
    if (!all_ran_passed(rr))
      cJSON_AddItemToArray(problems, cJSON_CreateString("the reference fails a check that could run"));
    fprintf(json ? stderr : stdout, "   note: %d check%s skipped (%s); run `parlab lab test %s` on a "
            "machine with a GPU for the full verdict\n", skipped, skipped == 1 ? "" : "s",
            "needs a GPU", lab->id);
    cJSON_AddNumberToObject(o, "skipped_checks", skipped);
  } else {
    if (rs->score >= rs->max_score)
      cJSON_AddItemToArray(problems, cJSON_CreateString("the starter gets full marks"));
    if (rr->score < rr->max_score)
      cJSON_AddItemToArray(problems, cJSON_CreateString("the reference solution does not get full marks"));
  }
  cJSON_AddNumberToObject(o, "starter_score", rs->score);
  cJSON_AddNumberToObject(o, "reference_score", rr->score);
  cJSON_AddNumberToObject(o, "max_score", rr->max_score);
done:
  if (rc && cJSON_GetArraySize(problems) == 0)
    cJSON_AddItemToArray(problems, cJSON_CreateString("grading could not run (see stderr)"));
  int ok = cJSON_GetArraySize(problems) == 0;
  cJSON_AddBoolToObject(o, "ok", ok);
  if (!json) {
    for (int i = 0; i < cJSON_GetArraySize(problems); i++)
      printf("   PROBLEM: %s\n", cJSON_GetArrayItem(problems, i)->valuestring);
    printf("%s %s\n", ok ? "PASS" : "FAIL", id);
  }
  cJSON_AddItemToObject(o, "problems", problems);
  cJSON_AddItemToArray(arr, o);
  grd_result_free(rs);
  grd_result_free(rr);
  lx_lab_free(lab);
  if (rc && rc != EXIT_FAILED) return rc;
  return ok ? EXIT_OK : EXIT_FAILED;
}

static int lab_test(cmd_ctx *c, int argc, char **argv) {
  int json = cmd_take_flag(&argc, argv, "--json");
  int all = cmd_take_flag(&argc, argv, "--all");
  if (argc < 2 && !all) { fprintf(stderr, "usage: parlab lab test [LAB... | --all] [--json]\n"); return EXIT_USAGE; }
  cJSON *arr = cJSON_CreateArray();
  int worst = EXIT_OK, rc;
  if (all) {
    if ((rc = cmd_course(c))) { cJSON_Delete(arr); return rc; }
    for (int m = 0; m < c->course->nmodules; m++)
      for (int i = 0; i < c->course->modules[m].nitems; i++) {
        const lx_item *it = &c->course->modules[m].items[i];
        if (it->kind != LX_ITEM_LAB) continue;
        rc = test_one(c, it->id, json, arr);
        if (rc > worst) worst = rc;
      }
  }
  for (int i = 1; i < argc; i++) {
    rc = test_one(c, argv[i], json, arr);
    if (rc > worst) worst = rc;
  }
  if (json) {
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddItemToObject(doc, "labs", arr);
    cJSON_AddBoolToObject(doc, "ok", worst == EXIT_OK);
    char *s = cJSON_Print(doc);
    puts(s);
    free(s);
    cJSON_Delete(doc);
  } else {
    cJSON_Delete(arr);
  }
  return worst;
}

int cmd_lab(cmd_ctx *c, int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: parlab lab show|start|run|test|lint ...\n");
    return EXIT_USAGE;
  }
  const char *sub = argv[1];
  argc--;
  argv++;
  weak_jail = cmd_take_flag(&argc, argv, "--weak-jail");
  if (!strcmp(sub, "run")) return lab_run(c, argc, argv);
  if (!strcmp(sub, "show")) return lab_show(c, argc, argv);
  if (!strcmp(sub, "start")) return lab_start(c, argc, argv);
  if (!strcmp(sub, "test")) return lab_test(c, argc, argv);
  if (!strcmp(sub, "lint")) return lab_lint(c, argc, argv);
  fprintf(stderr, "parlab: unknown lab command '%s' (show, start, run, test, lint)\n", sub);
  return EXIT_USAGE;
}
