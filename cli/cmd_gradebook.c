/*
 * cmd_gradebook.c — `parlab gradebook export`: the latest grade of every
 * student (per lab) in a batch gradebook as CSV, JSON or Gradescope
 * results.json.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "grd_batch.h"
#include "pl_err.h"

static const char gradebook_usage[] =
  "usage: parlab gradebook export --format csv|json|gradescope [--lab LAB] [--student NAME]\n"
  "                               [--out FILE|DIR] [--db FILE]\n";

/* One results.json per grade under dir/LAB/STUDENT/. */
static int export_gradescope_dir(const char *dir, const db_grade *g, int n) {
  if (mkdir(dir, 0755) && errno != EEXIST) {
    fprintf(stderr, "parlab: cannot create %s: %s\n", dir, strerror(errno));
    return EXIT_ENV;
  }
  for (int i = 0; i < n; i++) {
    char *p = NULL, *json = grd_gradescope_json(g[i].r, NULL);
    int ok = json && asprintf(&p, "%s/%s", dir, g[i].lab) >= 0;
    if (ok) { mkdir(p, 0755); free(p); p = NULL; }
    ok = ok && asprintf(&p, "%s/%s/%s", dir, g[i].lab, g[i].student) >= 0;
    if (ok) { mkdir(p, 0755); free(p); p = NULL; }
    ok = ok && asprintf(&p, "%s/%s/%s/results.json", dir, g[i].lab, g[i].student) >= 0;
    FILE *f = ok ? fopen(p, "w") : NULL;
    if (!f || fputs(json, f) < 0 || fputc('\n', f) < 0 || fclose(f)) {
      fprintf(stderr, "parlab: cannot write %s: %s\n", p ? p : dir, strerror(errno));
      free(p);
      free(json);
      return EXIT_ENV;
    }
    free(p);
    free(json);
  }
  return 0;
}

static int gradebook_export(cmd_ctx *c, int argc, char **argv) {
  (void)c;
  const char *format = cmd_take_opt(&argc, argv, "--format");
  const char *lab = cmd_take_opt(&argc, argv, "--lab");
  const char *student = cmd_take_opt(&argc, argv, "--student");
  const char *outpath = cmd_take_opt(&argc, argv, "--out");
  const char *dbpath = cmd_take_opt(&argc, argv, "--db");
  if (argc != 1 || !format ||
      (strcmp(format, "csv") && strcmp(format, "json") && strcmp(format, "gradescope"))) {
    fputs(gradebook_usage, stderr);
    return EXIT_USAGE;
  }
  if (!dbpath) dbpath = "gradebook.db";
  /* Exporting must not create an empty gradebook on a typo. */
  if (access(dbpath, R_OK)) {
    fprintf(stderr, "parlab: no gradebook at %s (run `parlab grade LAB DIR --db %s` first)\n", dbpath,
            dbpath);
    return EXIT_USAGE;
  }
  db *d = NULL;
  db_grade *g = NULL;
  int ng = 0, rc;
  char *err = NULL;
  FILE *out = stdout;
  if ((rc = db_open(dbpath, &d, &err))) {
    fprintf(stderr, "parlab: gradebook %s: %s\n", dbpath, err ? err : pl_strerror(rc));
    free(err);
    return EXIT_ENV;
  }
  if ((rc = db_grades_get(d, lab, student, &g, &ng))) {
    fprintf(stderr, "parlab: gradebook %s: cannot read the grades: %s\n", dbpath, pl_strerror(rc));
    rc = EXIT_ENV;
    goto done;
  }
  if (!strcmp(format, "gradescope") && ng == 0) {
    fprintf(stderr, "parlab: no grades in %s match\n", dbpath);
    rc = EXIT_USAGE;
    goto done;
  }
  if (!strcmp(format, "gradescope") && ng != 1) {
    /* results.json describes one submission: many go to a folder. */
    if (!outpath) {
      fprintf(stderr, "parlab: %d grades match; --format gradescope writes one results.json per "
                      "student: pass --out DIR (or --student NAME --lab LAB for one)\n", ng);
      rc = EXIT_USAGE;
      goto done;
    }
    rc = export_gradescope_dir(outpath, g, ng);
    if (rc == 0) fprintf(stderr, "wrote %d results.json files under %s\n", ng, outpath);
    goto done;
  }
  if (outpath && !(out = fopen(outpath, "w"))) {
    fprintf(stderr, "parlab: cannot write %s: %s\n", outpath, strerror(errno));
    out = stdout;
    rc = EXIT_ENV;
    goto done;
  }
  if (!strcmp(format, "csv")) {
    rc = grd_export_csv(out, g, ng);
  } else if (!strcmp(format, "json")) {
    rc = grd_export_json(out, d, g, ng);
  } else {
    char *json = grd_gradescope_json(g[0].r, NULL);
    rc = json ? 0 : PL_ENOMEM;
    if (json) fprintf(out, "%s\n", json);
    free(json);
  }
  if (out != stdout && fclose(out) && !rc) rc = PL_EIO;
  out = stdout;
  if (rc) {
    fprintf(stderr, "parlab: export failed: %s\n", pl_strerror(rc));
    rc = cmd_exit_for(rc);
  }
done:
  if (out != stdout) fclose(out);
  db_grades_free(g, ng);
  db_close(d);
  return rc;
}

int cmd_gradebook(cmd_ctx *c, int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "export")) {
    fputs(gradebook_usage, stderr);
    return EXIT_USAGE;
  }
  return gradebook_export(c, argc - 1, argv + 1);
}
