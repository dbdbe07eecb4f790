/*
 * cmd_grade.c — `parlab grade LAB DIR` (batch grading into a gradebook) and
 * `parlab grade --gradescope` (one submission, as a Gradescope autograder).
 *
 * The batch is resumable: each finished submission is one transaction in
 * the gradebook, and a rerun skips the submissions (student, lab, SHA-256)
 * that already have a completed attempt. Progress goes to stderr (a bar on
 * a terminal, plain lines otherwise); the summary, or the --json document,
 * to stdout.
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "eng_measure.h"
#include "grd.h"
#include "grd_batch.h"
#include "grd_mpi.h"
#include "pl_err.h"

static const char grade_usage[] =
  "usage: parlab grade LAB DIR [--jobs N] [--db FILE] [--json] [--student NAME] [--regrade-all]\n"
  "       mpirun -np N parlab grade LAB DIR --mpi [options as above]\n"
  "       parlab grade --gradescope [--lab LAB] [--submission-dir DIR] [--results FILE]\n"
  "                                 [--config FILE]\n";

/* ------------------------------------------------------------ progress */

typedef struct batch_ui {
  FILE *out;             /* progress: stderr */
  int tty;
  int color;
  int total, finished, running;
  const grd_sub *subs;
  db *d;
  long long batch_id;
  int errors;
  unsigned char *graded_now;
  char last[160];
} batch_ui;

static void draw_bar(batch_ui *u) {
  enum { W = 30 };
  int fill = u->total ? u->finished * W / u->total : W;
  char bar[W + 1];
  for (int i = 0; i < W; i++) bar[i] = i < fill ? '#' : '-';
  bar[W] = 0;
  /* One line, never wrapped: the text after the bar is cut to fit. */
  struct winsize ws;
  int cols = ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 ? ws.ws_col : 80;
  char head[96];
  int hl = snprintf(head, sizeof head, "[%s] %d/%d  %d running  ", bar, u->finished, u->total,
                    u->running);
  int room = cols - 1 - hl;
  fprintf(u->out, "\r\033[K%s%.*s", head, room > 0 ? room : 0, u->last);
  fflush(u->out);
}

static void on_start(void *arg, int index) {
  batch_ui *u = arg;
  (void)index;
  u->running++;
  if (u->tty) draw_bar(u);
}

static int on_done(void *arg, int index, grd_sub_status status, const grd_result *r, const char *msg) {
  batch_ui *u = arg;
  const grd_sub *s = &u->subs[index];
  int rc = grd_batch_record(u->d, u->batch_id, s, status, r);
  if (rc) {
    if (u->tty) fputc('\n', u->out);
    fprintf(u->out, "parlab: cannot record %s's result in the gradebook: %s\n", s->student,
            pl_strerror(rc));
    return rc;
  }
  u->graded_now[index] = 1;
  if (status != GRD_SUB_MISSING) u->running--;
  u->finished++;
  if (status == GRD_SUB_ERROR) u->errors++;
  if (status == GRD_SUB_MISSING)
    snprintf(u->last, sizeof u->last, "%s: missing submission", s->student);
  else if (status == GRD_SUB_ERROR)
    snprintf(u->last, sizeof u->last, "%s: %.120s", s->student, msg);
  else
    snprintf(u->last, sizeof u->last, "%s: %g/%g%s (%.1f s)", s->student, r->score, r->max_score,
             r->compiled ? "" : ", does not compile", r->seconds);
  if (u->tty) draw_bar(u);
  else fprintf(u->out, "[%*d/%d] %s\n", u->total >= 100 ? 3 : 2, u->finished, u->total, u->last);
  fflush(u->out);
  return 0;
}

/* ------------------------------------------------------------- summary */

typedef struct summary {
  double *scores;           /* distinct scores */
  int *score_count, nscores;
  char **check_names;
  int *check_fail, nchecks;
  int missing, not_compiled, errors, graded;
  int slow[5], nslow;       /* indexes into the grades, slowest first */
} summary;

static const db_grade *grade_for(const db_grade *g, int n, const char *student) {
  for (int i = 0; i < n; i++)
    if (!strcmp(g[i].student, student)) return &g[i];
  return NULL;
}

static void summarize(const db_grade *g, int n, const lx_lab *lab, summary *s) {
  memset(s, 0, sizeof *s);
  s->scores = calloc((size_t)n + 1, sizeof *s->scores);
  s->score_count = calloc((size_t)n + 1, sizeof *s->score_count);
  s->nchecks = lab->nchecks;
  s->check_fail = calloc((size_t)lab->nchecks + 1, sizeof *s->check_fail);
  if (!s->scores || !s->score_count || !s->check_fail) return;
  for (int i = 0; i < n; i++) {
    const grd_result *r = g[i].r;
    int k = 0;
    while (k < s->nscores && s->scores[k] != r->score) k++;
    if (k == s->nscores) s->scores[s->nscores++] = r->score;
    s->score_count[k]++;
    if (!strcmp(g[i].status, "missing")) { s->missing++; continue; }
    if (!strcmp(g[i].status, "error")) { s->errors++; continue; }
    s->graded++;
    if (!r->compiled) { s->not_compiled++; continue; }
    for (int c = 0; c < r->nchecks && c < lab->nchecks; c++)
      if (!r->checks[c].passed) s->check_fail[c]++;
    /* Insert into the top five by grading time. */
    int pos = s->nslow < 5 ? s->nslow++ : 5;
    while (pos > 0 && g[s->slow[pos - 1]].r->seconds < r->seconds) {
      if (pos < 5) s->slow[pos] = s->slow[pos - 1];
      pos--;
    }
    if (pos < 5) s->slow[pos] = i;
  }
  /* Scores ascending. */
  for (int i = 1; i < s->nscores; i++)
    for (int j = i; j > 0 && s->scores[j - 1] > s->scores[j]; j--) {
      double t = s->scores[j]; s->scores[j] = s->scores[j - 1]; s->scores[j - 1] = t;
      int c = s->score_count[j]; s->score_count[j] = s->score_count[j - 1]; s->score_count[j - 1] = c;
    }
}

static void summary_free(summary *s) {
  free(s->scores);
  free(s->score_count);
  free(s->check_fail);
}

static void print_summary(FILE *out, const lx_lab *lab, const db_grade *g, int n, const summary *s,
                          int now, int unchanged) {
  fprintf(out, "%s: %d student%s; %d graded now, %d unchanged since an earlier run\n", lab->id, n,
          n == 1 ? "" : "s", now, unchanged);
  int most = 1;
  for (int i = 0; i < s->nscores; i++)
    if (s->score_count[i] > most) most = s->score_count[i];
  fprintf(out, "scores:\n");
  for (int i = 0; i < s->nscores; i++) {
    int w = (s->score_count[i] * 40 + most - 1) / most;
    char label[32];
    snprintf(label, sizeof label, "%g/%g", s->scores[i], lab->max_score);
    fprintf(out, "  %9s %-40.*s %d\n", label, w,
            "########################################", s->score_count[i]);
  }
  fprintf(out, "failures by check (of %d compiled submissions):\n", s->graded - s->not_compiled);
  for (int c = 0; c < s->nchecks; c++)
    fprintf(out, "  %-44s %d\n", lab->checks[c].name, s->check_fail[c]);
  fprintf(out, "does not compile: %d   missing: %d   grading errors: %d\n", s->not_compiled,
          s->missing, s->errors);
  if (s->nslow) fprintf(out, "slowest submissions:\n");
  for (int i = 0; i < s->nslow; i++)
    fprintf(out, "  %-30s %7.1f s  %g/%g\n", g[s->slow[i]].student, g[s->slow[i]].r->seconds,
            g[s->slow[i]].r->score, g[s->slow[i]].r->max_score);
}

static cJSON *summary_json(const lx_lab *lab, const db_grade *g, const summary *s) {
  cJSON *o = cJSON_CreateObject();
  cJSON *h = cJSON_AddArrayToObject(o, "histogram");
  for (int i = 0; i < s->nscores; i++) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddNumberToObject(e, "score", s->scores[i]);
    cJSON_AddNumberToObject(e, "count", s->score_count[i]);
    cJSON_AddItemToArray(h, e);
  }
  cJSON *f = cJSON_AddArrayToObject(o, "failures_by_check");
  for (int c = 0; c < s->nchecks; c++) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "name", lab->checks[c].name);
    cJSON_AddNumberToObject(e, "count", s->check_fail[c]);
    cJSON_AddItemToArray(f, e);
  }
  cJSON *sl = cJSON_AddArrayToObject(o, "slowest");
  for (int i = 0; i < s->nslow; i++) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "id", g[s->slow[i]].student);
    cJSON_AddNumberToObject(e, "seconds", g[s->slow[i]].r->seconds);
    cJSON_AddItemToArray(sl, e);
  }
  cJSON_AddNumberToObject(o, "not_compiled", s->not_compiled);
  cJSON_AddNumberToObject(o, "missing", s->missing);
  cJSON_AddNumberToObject(o, "errors", s->errors);
  return o;
}

static cJSON *student_json(const db_grade *x, int now) {
  const grd_result *r = x->r;
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "id", x->student);
  cJSON_AddStringToObject(o, "status", x->status);
  cJSON_AddNumberToObject(o, "score", r->score);
  cJSON_AddNumberToObject(o, "max_score", r->max_score);
  cJSON_AddBoolToObject(o, "compiled", r->compiled);
  cJSON_AddStringToObject(o, "sha256", x->sha256);
  cJSON_AddStringToObject(o, "submission", r->submission);
  cJSON_AddNumberToObject(o, "seconds", r->seconds);
  cJSON_AddBoolToObject(o, "graded_now", now);
  cJSON *ca = cJSON_AddArrayToObject(o, "checks");
  for (int c = 0; c < r->nchecks; c++) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "name", r->checks[c].name);
    cJSON_AddBoolToObject(e, "passed", r->checks[c].passed);
    cJSON_AddNumberToObject(e, "score", r->checks[c].score);
    cJSON_AddNumberToObject(e, "max_score", r->checks[c].max_score);
    cJSON_AddStringToObject(e, "message", r->checks[c].message);
    cJSON_AddBoolToObject(e, "hidden", r->checks[c].hidden);
    cJSON_AddItemToArray(ca, e);
  }
  cJSON *da = cJSON_AddArrayToObject(o, "diagnostics");
  for (int i = 0; i < r->ndiagnostics; i++) cJSON_AddItemToArray(da, cJSON_CreateString(r->diagnostics[i]));
  return o;
}

/* ---------------------------------------------------------- batch mode */

static int grade_batch(cmd_ctx *c, int argc, char **argv) {
  int json = cmd_take_flag(&argc, argv, "--json");
  int regrade_all = cmd_take_flag(&argc, argv, "--regrade-all");
  const char *jobs_s = cmd_take_opt(&argc, argv, "--jobs");
  const char *dbpath = cmd_take_opt(&argc, argv, "--db");
  const char *only = cmd_take_opt(&argc, argv, "--student");
  int want_mpi = cmd_take_flag(&argc, argv, "--mpi");
  int weak_jail = cmd_take_flag(&argc, argv, "--weak-jail");
  if (!want_mpi && grd_mpi_launched()) {
    fprintf(stderr, "parlab: grade runs under mpirun without --mpi: every rank would grade every "
                    "submission; add --mpi to share them\n");
    return EXIT_USAGE;
  }
  if (argc != 3 || (argc > 1 && argv[1][0] == '-') || (argc > 2 && argv[2][0] == '-')) {
    fputs(grade_usage, stderr);
    return EXIT_USAGE;
  }
  int jobs = 1;
  if (jobs_s) {
    char *end;
    long j = strtol(jobs_s, &end, 10);
    if (*end || j < 1 || j > 64) {
      fprintf(stderr, "parlab: --jobs wants a number from 1 to 64, not '%s'\n", jobs_s);
      return EXIT_USAGE;
    }
    jobs = (int)j;
  }
  if (!dbpath) dbpath = "gradebook.db";
  const char *dir = argv[2];
  lx_lab *lab = NULL;
  grd_sub *subs = NULL;
  int nsubs = 0;
  db *d = NULL;
  db_grade *g = NULL;
  int ng = 0;
  unsigned char *todo = NULL, *now = NULL;
  char *err = NULL;
  db_machine m = {0};
  summary sum = {0};
  long long batch_id = 0;
  grd_mpi *mpi = NULL;
  if (want_mpi) {
    /* --mpi: every rank runs this command; rank 0 does what follows, the
     * others grade what it sends them (grd_mpi.h). */
    int mrc = grd_mpi_open(&mpi, &err);
    if (mrc) {
      fprintf(stderr, "parlab: grade --mpi: %s\n", err ? err : pl_strerror(mrc));
      free(err);
      return cmd_exit_for(mrc);
    }
  }
  int rc = cmd_load_lab(c, argv[1], &lab);
  if (mpi && grd_mpi_rank(mpi) > 0) {
    rc = grd_mpi_serve(mpi, rc ? NULL : lab, jobs);
    lx_lab_free(lab);
    return rc;
  }
  if (rc) {
    grd_mpi_close(mpi, rc);
    return rc;
  }
  if ((rc = grd_batch_discover(lab, dir, &subs, &nsubs, &err))) {
    fprintf(stderr, "parlab: %s\n", err ? err : pl_strerror(rc));
    rc = rc == PL_EIO ? EXIT_ENV : EXIT_USAGE;
    goto done;
  }
  if (nsubs == 0) {
    fprintf(stderr, "parlab: %s: no submissions (expected NAME%s or NAME/%s)\n", dir,
            strrchr(lab->sub_file, '.') ? strrchr(lab->sub_file, '.') : "", lab->sub_file);
    rc = EXIT_USAGE;
    goto done;
  }
  if ((rc = db_open(dbpath, &d, &err))) {
    fprintf(stderr, "parlab: gradebook %s: %s\n", dbpath, err ? err : pl_strerror(rc));
    rc = EXIT_ENV;
    goto done;
  }
  todo = calloc((size_t)nsubs, 1);
  now = calloc((size_t)nsubs, 1);
  if (!todo || !now) { rc = EXIT_INTERNAL; goto done; }
  int ntodo = 0, found = 0;
  for (int i = 0; i < nsubs; i++) {
    if (only) {
      todo[i] = !strcmp(subs[i].student, only);
      found |= todo[i];
    } else if (regrade_all) {
      todo[i] = 1;
    } else {
      db_submission ds = {.student = subs[i].student, .lab = lab->id, .sha256 = subs[i].sha256};
      int isdone = 0;
      if (db_submission_done(d, &ds, &isdone)) {
        fprintf(stderr, "parlab: gradebook %s: cannot read it\n", dbpath);
        rc = EXIT_ENV;
        goto done;
      }
      todo[i] = !isdone;
    }
    ntodo += todo[i];
  }
  if (only && !found) {
    fprintf(stderr, "parlab: %s: no submission from student '%s'\n", dir, only);
    rc = EXIT_USAGE;
    goto done;
  }

  batch_ui u = {.out = stderr, .tty = isatty(2), .total = ntodo, .subs = subs, .d = d,
                .graded_now = now};
  if (ntodo > 0) {
    char *absdir = realpath(dir, NULL);
    int brc = grd_machine_get(&m) || db_batch_begin(d, lab->id, absdir ? absdir : dir, jobs, &m, &batch_id);
    free(absdir);
    if (brc) {
      fprintf(stderr, "parlab: gradebook %s: cannot start a batch\n", dbpath);
      rc = EXIT_ENV;
      goto done;
    }
    u.batch_id = batch_id;
    fprintf(stderr, "%s: grading %d of %d submission%s with %d job%s (batch %lld in %s)\n", lab->id,
            ntodo, nsubs, nsubs == 1 ? "" : "s", jobs, jobs == 1 ? "" : "s", batch_id, dbpath);
    grd_batch_opts bo = {.jobs = jobs, .start = on_start, .done = on_done, .arg = &u,
                         .weak_jail = weak_jail};
    rc = mpi ? grd_mpi_batch_run(mpi, lab, subs, nsubs, todo, &bo, &err)
             : grd_batch_run(lab, subs, nsubs, todo, &bo, &err);
    if (u.tty) fputc('\n', stderr);
    if (rc) {
      if (rc == PL_ESANDBOX)
        fprintf(stderr, "parlab: refusing to grade: the sandbox cannot be set up here: %s\n",
                err ? err : "");
      else if (err)
        fprintf(stderr, "parlab: %s\n", err);
      else if (rc != PL_EDB)
        fprintf(stderr, "parlab: batch grading stopped: %s\n", pl_strerror(rc));
      rc = cmd_exit_for(rc);
      goto done;
    }
    db_batch_end(d, batch_id);
  } else {
    fprintf(stderr, "%s: nothing to grade: all %d submission%s unchanged since an earlier run "
                    "(--student NAME or --regrade-all to grade again)\n",
            lab->id, nsubs, nsubs == 1 ? "" : "s");
  }

  /* The summary covers the whole class in DIR, from the gradebook, so a
   * resumed batch reports on everyone. */
  if ((rc = db_grades_get(d, lab->id, NULL, &g, &ng))) {
    fprintf(stderr, "parlab: gradebook %s: cannot read the grades back\n", dbpath);
    rc = EXIT_ENV;
    goto done;
  }
  db_grade *mine = calloc((size_t)nsubs + 1, sizeof *mine);
  int *mine_now = calloc((size_t)nsubs + 1, sizeof *mine_now), nm = 0;
  if (!mine || !mine_now) { free(mine); free(mine_now); rc = EXIT_INTERNAL; goto done; }
  for (int i = 0; i < nsubs; i++) {
    const db_grade *x = grade_for(g, ng, subs[i].student);
    if (!x) continue;
    mine_now[nm] = now[i];
    mine[nm++] = *x; /* shallow: g owns the strings */
  }
  summarize(mine, nm, lab, &sum);
  int nnow = 0;
  for (int i = 0; i < nsubs; i++) nnow += now[i];
  if (json) {
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "lab", lab->id);
    cJSON_AddStringToObject(doc, "dir", dir);
    cJSON_AddStringToObject(doc, "gradebook", dbpath);
    if (batch_id) cJSON_AddNumberToObject(doc, "batch_id", (double)batch_id);
    else cJSON_AddNullToObject(doc, "batch_id");
    cJSON_AddNumberToObject(doc, "graded", nnow);
    cJSON_AddNumberToObject(doc, "unchanged", nsubs - ntodo);
    cJSON *sa = cJSON_AddArrayToObject(doc, "students");
    for (int i = 0; i < nm; i++) cJSON_AddItemToArray(sa, student_json(&mine[i], mine_now[i]));
    cJSON_AddItemToObject(doc, "summary", summary_json(lab, mine, &sum));
    char *s = cJSON_Print(doc);
    if (s) puts(s);
    free(s);
    cJSON_Delete(doc);
  } else {
    print_summary(stdout, lab, mine, nm, &sum, nnow, nsubs - ntodo);
    printf("gradebook: %s\n", dbpath);
  }
  free(mine);
  free(mine_now);
  rc = u.errors ? EXIT_FAILED : EXIT_OK;
done:
  grd_mpi_close(mpi, rc);
  summary_free(&sum);
  grd_machine_free(&m);
  db_grades_free(g, ng);
  db_close(d);
  free(todo);
  free(now);
  free(err);
  grd_subs_free(subs, nsubs);
  lx_lab_free(lab);
  return rc;
}

/* ----------------------------------------------------- Gradescope mode */

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *buf = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&buf, &len);
  char tmp[8192];
  size_t n;
  while (m && (n = fread(tmp, 1, sizeof tmp, f)) > 0) fwrite(tmp, 1, n, m);
  fclose(f);
  if (m) fclose(m);
  return buf;
}

/* Depth-first search for `name` under dir (hidden entries skipped); also
 * counts files ending in `ext` and remembers the last one. */
static void find_file(const char *dir, const char *name, const char *ext, int depth, char **exact,
                      char **by_ext, int *n_ext) {
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d)) && !*exact) {
    if (e->d_name[0] == '.') continue;
    char *p = NULL;
    struct stat st;
    if (asprintf(&p, "%s/%s", dir, e->d_name) < 0) break;
    if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
      if (depth < 4) find_file(p, name, ext, depth + 1, exact, by_ext, n_ext);
      free(p);
      continue;
    }
    if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
      if (!strcmp(e->d_name, name)) { *exact = p; break; }
      size_t l = strlen(e->d_name), el = ext ? strlen(ext) : 0;
      if (ext && l > el && !strcmp(e->d_name + l - el, ext)) {
        (*n_ext)++;
        free(*by_ext);
        *by_ext = p;
        continue;
      }
    }
    free(p);
  }
  closedir(d);
}

static int write_results(const char *path, const char *json) {
  char *tmp = NULL, *dir = strdup(path);
  int rc = EXIT_ENV;
  if (!dir) return EXIT_INTERNAL;
  char *slash = strrchr(dir, '/');
  if (slash && slash != dir) {
    *slash = 0;
    mkdir(dir, 0755); /* Gradescope creates it; a local test may not */
  }
  if (asprintf(&tmp, "%s.tmp", path) < 0) { tmp = NULL; goto done; }
  FILE *f = fopen(tmp, "w");
  if (!f) goto done;
  fputs(json, f);
  fputc('\n', f);
  if (fclose(f) || rename(tmp, path)) goto done;
  rc = 0;
done:
  if (rc) fprintf(stderr, "parlab: cannot write %s: %s\n", path, strerror(errno));
  free(tmp);
  free(dir);
  return rc;
}

static int grade_gradescope(cmd_ctx *c, int argc, char **argv) {
  const char *labopt = cmd_take_opt(&argc, argv, "--lab");
  const char *subdir = cmd_take_opt(&argc, argv, "--submission-dir");
  const char *results = cmd_take_opt(&argc, argv, "--results");
  const char *config = cmd_take_opt(&argc, argv, "--config");
  if (argc != 1) { fputs(grade_usage, stderr); return EXIT_USAGE; }
  if (!subdir) subdir = "/autograder/submission";
  if (!results) results = "/autograder/results/results.json";
  if (!config) config = "/autograder/source/parlab.json";
  char *labid = NULL, *exact = NULL, *by_ext = NULL, *err = NULL, *json = NULL, *text = NULL;
  lx_lab *lab = NULL;
  grd_result *r = NULL;
  int rc, n_ext = 0;
  if (labopt) {
    labid = strdup(labopt);
  } else {
    char *cfg = slurp(config);
    cJSON *doc = cfg ? cJSON_Parse(cfg) : NULL;
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(doc, "lab");
    if (cJSON_IsString(l) && l->valuestring[0]) labid = strdup(l->valuestring);
    cJSON_Delete(doc);
    free(cfg);
    if (!labid) {
      fprintf(stderr, "parlab: no lab given: pass --lab LAB or put {\"lab\": \"LAB\"} in %s\n", config);
      return EXIT_USAGE;
    }
  }
  if ((rc = cmd_load_lab(c, labid, &lab))) goto done;
  find_file(subdir, lab->sub_file, strrchr(lab->sub_file, '.'), 0, &exact, &by_ext, &n_ext);
  const char *file = exact ? exact : n_ext == 1 ? by_ext : NULL;
  printf("parlab %s: lab %s, submission folder %s\n", PL_VERSION, lab->id, subdir);
  if (!file) {
    /* The student's mistake, not the autograder's: a zero with a reason. */
    if (asprintf(&text, "No %s found in your submission%s. Submit the file named %s.", lab->sub_file,
                 n_ext > 1 ? " (several candidate files, none with that name)" : "",
                 lab->sub_file) < 0)
      text = NULL;
    if ((rc = grd_result_failed(lab, "", text ? text : "missing submission", &r))) {
      rc = EXIT_INTERNAL;
      goto done;
    }
    r->ndiagnostics = 0;
    free(r->diagnostics[0]);
    printf("%s\n", text ? text : "missing submission");
  } else {
    printf("grading %s\n", file);
    grd_opts o = {.submission = file};
    rc = grd_run(lab, &o, &r, &err);
    if (rc) {
      /* No results.json: Gradescope then reports an autograder failure to
       * the instructor instead of a zero to the student. */
      if (rc == PL_ESANDBOX)
        fprintf(stderr, "parlab: refusing to grade: the sandbox cannot be set up here: %s\n",
                err ? err : "");
      else
        fprintf(stderr, "parlab: %s\n", err ? err : pl_strerror(rc));
      rc = cmd_exit_for(rc);
      goto done;
    }
    for (int i = 0; i < r->nchecks; i++)
      printf("  %s %-44s %g/%g\n", r->checks[i].passed ? "pass" : "FAIL", r->checks[i].name,
             r->checks[i].score, r->checks[i].max_score);
  }
  printf("score %g/%g\n", r->score, r->max_score);
  if (!(json = grd_gradescope_json(r, text))) { rc = EXIT_INTERNAL; goto done; }
  if ((rc = write_results(results, json))) goto done;
  printf("wrote %s\n", results);
  rc = EXIT_OK;
done:
  free(labid);
  free(exact);
  free(by_ext);
  free(err);
  free(json);
  free(text);
  grd_result_free(r);
  lx_lab_free(lab);
  return rc;
}

int cmd_grade(cmd_ctx *c, int argc, char **argv) {
  if (cmd_take_flag(&argc, argv, "--gradescope")) return grade_gradescope(c, argc, argv);
  return grade_batch(c, argc, argv);
}
