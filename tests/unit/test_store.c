/* The gradebook: migrations from an empty file, attempts that survive
 * reopening, lecture reads, reset. */
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "pl_test.h"

static char *tmpdb(void) {
  static char path[] = "/tmp/parlab-store-XXXXXX";
  char *dir = mkdtemp(path);
  PT_TRUE(dir != NULL);
  char *p = NULL;
  PT_TRUE(asprintf(&p, "%s/parlab.db", dir) > 0);
  return p;
}

static grd_result *fake_result(double score) {
  grd_result *r = calloc(1, sizeof *r);
  r->lab = strdup("amdahl-sum");
  r->submission = strdup("sum.c");
  r->sub_hash = strdup("abc123");
  r->score = score;
  r->max_score = 10;
  r->compiled = 1;
  r->nchecks = 2;
  r->checks = calloc(2, sizeof *r->checks);
  r->checks[0] = (grd_check_result){.name = strdup("sums correctly"), .passed = 1, .score = 4,
                                    .max_score = 4, .message = strdup("")};
  r->checks[1] = (grd_check_result){.name = strdup("scales"), .passed = score >= 10,
                                    .score = score - 4, .max_score = 6, .message = strdup("speedup")};
  return r;
}

static void test_migrates_empty_file(void) {
  char *p = tmpdb();
  FILE *f = fopen(p, "w"); /* an empty file, as a crashed first run leaves */
  fclose(f);
  db *d = NULL;
  char *err = NULL;
  if (db_open(p, &d, &err)) PT_FAIL_("%s", err);
  PT_EQ_INT(db_schema_version(d), DB_SCHEMA_VERSION);
  db_close(d);
  /* Reopening does not migrate twice. */
  PT_EQ_INT(db_open(p, &d, &err), 0);
  PT_EQ_INT(db_schema_version(d), DB_SCHEMA_VERSION);
  db_close(d);
  free(p);
}

static void test_attempt_survives_reopen(void) {
  char *p = tmpdb();
  db *d = NULL;
  char *err = NULL;
  PT_EQ_INT(db_open(p, &d, &err), 0);
  grd_result *r = fake_result(4);
  long long id = 0;
  PT_EQ_INT(db_attempt_add(d, NULL, r, &id), 0);
  PT_TRUE(id > 0);
  grd_result_free(r);
  r = fake_result(10);
  PT_EQ_INT(db_attempt_add(d, NULL, r, NULL), 0);
  grd_result_free(r);
  db_close(d);

  PT_EQ_INT(db_open(p, &d, &err), 0);
  db_lab_progress pr;
  PT_EQ_INT(db_lab_progress_get(d, "amdahl-sum", &pr), 0);
  PT_EQ_INT(pr.attempts, 2);
  PT_NEAR(pr.best_score, 10, 0);
  PT_NEAR(pr.max_score, 10, 0);
  PT_NEAR(pr.last_score, 10, 0);
  PT_TRUE(pr.last_at > 0);
  PT_EQ_INT(db_lab_progress_get(d, "other-lab", &pr), 0);
  PT_EQ_INT(pr.attempts, 0);
  db_close(d);
  free(p);
}

static void test_lecture_reads(void) {
  char *p = tmpdb();
  db *d = NULL;
  char *err = NULL;
  PT_EQ_INT(db_open(p, &d, &err), 0);
  int seen = 1, pos = -1;
  PT_EQ_INT(db_lecture_get(d, "l01-why-parallel", &seen, &pos), 0);
  PT_EQ_INT(seen, 0);
  PT_EQ_INT(db_lecture_seen(d, "l01-why-parallel", 12), 0);
  PT_EQ_INT(db_lecture_seen(d, "l01-why-parallel", 40), 0);
  PT_EQ_INT(db_lecture_get(d, "l01-why-parallel", &seen, &pos), 0);
  PT_EQ_INT(seen, 1);
  PT_EQ_INT(pos, 40);
  PT_EQ_INT(db_reset(d), 0);
  PT_EQ_INT(db_lecture_get(d, "l01-why-parallel", &seen, &pos), 0);
  PT_EQ_INT(seen, 0);
  db_close(d);
  free(p);
}

static void test_refuses_newer_schema(void) {
  char *p = tmpdb();
  db *d = NULL;
  char *err = NULL;
  PT_EQ_INT(db_open(p, &d, &err), 0);
  db_close(d);
  char *cmd = NULL;
  PT_TRUE(asprintf(&cmd, "python3 -c \"import sqlite3; c=sqlite3.connect('%s'); "
                         "c.execute('PRAGMA user_version=99'); c.commit()\"", p) > 0);
  PT_EQ_INT(system(cmd), 0);
  PT_NE_INT(db_open(p, &d, &err), 0);
  PT_CONTAINS(err, "newer than this parlab");
  free(err);
  free(cmd);
  free(p);
}

int main(int argc, char **argv) {
  static const pt_case cases[] = {
    PT_CASE(test_migrates_empty_file), PT_CASE(test_attempt_survives_reopen),
    PT_CASE(test_lecture_reads), PT_CASE(test_refuses_newer_schema), {0}};
  return pt_main(argc, argv, cases);
}
