/*
 * db.c — the gradebook on SQLite: WAL, busy_timeout, migrations by
 * PRAGMA user_version, one transaction per write.
 */
#include "db.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pl_err.h"

struct db { sqlite3 *h; };

/* Migration N takes the schema from version N-1 to N. Never edit one that
 * has shipped: add the next. */
static const char *const migrations[] = {
  /* 1 */
  "CREATE TABLE lecture_reads ("
  "  lecture TEXT PRIMARY KEY,"
  "  first_at INTEGER NOT NULL,"
  "  last_at INTEGER NOT NULL,"
  "  position INTEGER NOT NULL DEFAULT 0);"
  "CREATE TABLE attempts ("
  "  id INTEGER PRIMARY KEY,"
  "  student TEXT NOT NULL DEFAULT '',"
  "  lab TEXT NOT NULL,"
  "  submission_sha256 TEXT NOT NULL,"
  "  at INTEGER NOT NULL,"
  "  score REAL NOT NULL,"
  "  max_score REAL NOT NULL,"
  "  compiled INTEGER NOT NULL,"
  "  seconds REAL NOT NULL);"
  "CREATE INDEX attempts_lab ON attempts(student, lab);"
  "CREATE TABLE check_results ("
  "  attempt_id INTEGER NOT NULL REFERENCES attempts(id) ON DELETE CASCADE,"
  "  idx INTEGER NOT NULL,"
  "  name TEXT NOT NULL,"
  "  passed INTEGER NOT NULL,"
  "  skipped INTEGER NOT NULL,"
  "  hidden INTEGER NOT NULL,"
  "  score REAL NOT NULL,"
  "  max_score REAL NOT NULL,"
  "  message TEXT NOT NULL,"
  "  seconds REAL NOT NULL,"
  "  PRIMARY KEY (attempt_id, idx));",
  /* 2: the courseware experience (issue 9): hints, quizzes, time spent,
   * where the student left off. */
  "CREATE TABLE hints_used ("
  "  lab TEXT NOT NULL,"
  "  hint INTEGER NOT NULL,"
  "  at INTEGER NOT NULL,"
  "  PRIMARY KEY (lab, hint));"
  "CREATE TABLE quiz_answers ("
  "  id INTEGER PRIMARY KEY,"
  "  lecture TEXT NOT NULL,"
  "  question TEXT NOT NULL,"
  "  answer TEXT NOT NULL,"
  "  correct INTEGER NOT NULL,"
  "  at INTEGER NOT NULL);"
  "CREATE INDEX quiz_answers_q ON quiz_answers(lecture, question);"
  "CREATE TABLE time_spent ("
  "  item TEXT PRIMARY KEY,"
  "  seconds REAL NOT NULL DEFAULT 0);"
  "CREATE TABLE settings ("
  "  key TEXT PRIMARY KEY,"
  "  value TEXT NOT NULL);",
  /* 3: the machine probe's results (issue 5), keyed by a fingerprint of
   * the machine, so labs do not re-measure at every run. */
  "CREATE TABLE machine_probe ("
  "  fingerprint TEXT PRIMARY KEY,"
  "  at INTEGER NOT NULL,"
  "  parlab_version TEXT NOT NULL,"
  "  json TEXT NOT NULL);",
  /* 4: batch grading (issue 8): students, their submissions by content
   * hash, the batches that graded them (machine and parlab version), and
   * attempts linked to both. */
  "CREATE TABLE students ("
  "  id INTEGER PRIMARY KEY,"
  "  name TEXT NOT NULL UNIQUE);"
  "CREATE TABLE submissions ("
  "  id INTEGER PRIMARY KEY,"
  "  student_id INTEGER NOT NULL REFERENCES students(id),"
  "  lab TEXT NOT NULL,"
  "  sha256 TEXT NOT NULL,"
  "  path TEXT NOT NULL,"
  "  submitted_at INTEGER NOT NULL,"
  "  UNIQUE (student_id, lab, sha256));"
  "CREATE TABLE batches ("
  "  id INTEGER PRIMARY KEY,"
  "  lab TEXT NOT NULL,"
  "  dir TEXT NOT NULL,"
  "  jobs INTEGER NOT NULL,"
  "  started_at INTEGER NOT NULL,"
  "  finished_at INTEGER,"
  "  hostname TEXT NOT NULL,"
  "  cpu_model TEXT NOT NULL,"
  "  cores INTEGER NOT NULL,"
  "  kernel TEXT NOT NULL,"
  "  parlab_version TEXT NOT NULL);"
  "ALTER TABLE attempts ADD COLUMN submission_id INTEGER REFERENCES submissions(id);"
  "ALTER TABLE attempts ADD COLUMN batch_id INTEGER REFERENCES batches(id);"
  "ALTER TABLE attempts ADD COLUMN status TEXT NOT NULL DEFAULT 'graded';"
  "ALTER TABLE attempts ADD COLUMN diagnostics TEXT NOT NULL DEFAULT '';"
  /* graded in a jail without namespaces, accepted with --weak-jail */
  "ALTER TABLE attempts ADD COLUMN weak_jail INTEGER NOT NULL DEFAULT 0;"
  "CREATE INDEX attempts_submission ON attempts(submission_id);",
  /* 5: a timed check's figures (median seconds per thread count and the
   * serial baseline), so exports can rank speedups (Gradescope's
   * leaderboard) from stored grades: "b=BASELINE T:SECONDS ...", or ''. */
  "ALTER TABLE check_results ADD COLUMN figures TEXT NOT NULL DEFAULT '';",
};

/* The figures column: text, so that it reads in the sqlite3 shell too. */
static char *figures_text(const grd_check_result *c) {
  char *s = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&s, &len);
  if (!f) return NULL;
  if (c->npoints > 0) {
    fprintf(f, "b=%.17g", c->baseline_s);
    for (int k = 0; k < c->npoints && k < 8; k++) fprintf(f, " %.17g:%.17g", c->threads[k], c->times[k]);
  }
  if (fclose(f)) {
    free(s);
    return NULL;
  }
  return s;
}

/* Inverse of figures_text; anything malformed leaves no figures. */
static void figures_parse(const char *s, grd_check_result *c) {
  c->npoints = 0;
  c->baseline_s = 0;
  if (!s || strncmp(s, "b=", 2)) return;
  char *end;
  double b = strtod(s + 2, &end);
  int n = 0;
  double th[8], tm[8];
  for (const char *p = end; *p == ' ' && n < 8;) {
    th[n] = strtod(p + 1, &end);
    if (*end != ':') return;
    tm[n] = strtod(end + 1, &end);
    n++;
    p = end;
  }
  c->baseline_s = b;
  for (int k = 0; k < n; k++) c->threads[k] = th[k], c->times[k] = tm[k];
  c->npoints = n;
}

static char *errdup(sqlite3 *h, const char *what) {
  char *s = NULL;
  if (asprintf(&s, "%s: %s", what, h ? sqlite3_errmsg(h) : "out of memory") < 0) s = NULL;
  return s;
}

int db_schema_version(db *d) {
  sqlite3_stmt *st;
  int v = -1;
  if (sqlite3_prepare_v2(d->h, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK) {
    if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
  }
  return v;
}

static int migrate(db *d, char **err) {
  int have = db_schema_version(d);
  int want = (int)(sizeof migrations / sizeof migrations[0]);
  if (have < 0) { *err = errdup(d->h, "reading the schema version"); return PL_EDB; }
  if (have > want) {
    if (asprintf(err, "the gradebook has schema version %d, newer than this parlab (%d)", have, want) < 0)
      *err = NULL;
    return PL_EDB;
  }
  for (int v = have + 1; v <= want; v++) {
    char *msg = NULL, sql[64];
    if (sqlite3_exec(d->h, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK) {
      if (asprintf(err, "migrating the gradebook to version %d: %s", v, msg ? msg : "?") < 0) *err = NULL;
      sqlite3_free(msg);
      return PL_EDB;
    }
    /* Another process opening the same new file may have migrated it
     * between our read of the version and our write lock. */
    if (db_schema_version(d) >= v) {
      sqlite3_exec(d->h, "COMMIT", NULL, NULL, NULL);
      continue;
    }
    if (sqlite3_exec(d->h, migrations[v - 1], NULL, NULL, &msg) != SQLITE_OK) {
      if (asprintf(err, "migrating the gradebook to version %d: %s", v, msg ? msg : "?") < 0) *err = NULL;
      sqlite3_free(msg);
      sqlite3_exec(d->h, "ROLLBACK", NULL, NULL, NULL);
      return PL_EDB;
    }
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v);
    if (sqlite3_exec(d->h, sql, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(d->h, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
      *err = errdup(d->h, "committing a migration");
      sqlite3_exec(d->h, "ROLLBACK", NULL, NULL, NULL);
      return PL_EDB;
    }
  }
  return 0;
}

int db_open(const char *path, db **out, char **err) {
  *out = NULL;
  *err = NULL;
  db *d = calloc(1, sizeof *d);
  if (!d) return PL_ENOMEM;
  int rc = PL_EDB;
  if (sqlite3_open_v2(path, &d->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
    char *m = errdup(d->h, path);
    *err = m;
    goto done;
  }
  sqlite3_busy_timeout(d->h, 10000);
  if (sqlite3_exec(d->h, "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;",
                   NULL, NULL, NULL) != SQLITE_OK) {
    *err = errdup(d->h, path);
    goto done;
  }
  if ((rc = migrate(d, err))) goto done;
  *out = d;
  d = NULL;
  rc = 0;
done:
  db_close(d);
  return rc;
}

void db_close(db *d) {
  if (!d) return;
  sqlite3_close(d->h);
  free(d);
}

int db_lecture_seen(db *d, const char *lecture, int position) {
  sqlite3_stmt *st;
  const char *sql =
      "INSERT INTO lecture_reads(lecture, first_at, last_at, position) VALUES (?1, ?2, ?2, ?3) "
      "ON CONFLICT(lecture) DO UPDATE SET last_at = ?2, position = ?3";
  if (sqlite3_prepare_v2(d->h, sql, -1, &st, NULL) != SQLITE_OK) return PL_EDB;
  sqlite3_bind_text(st, 1, lecture, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
  sqlite3_bind_int(st, 3, position);
  int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : PL_EDB;
  sqlite3_finalize(st);
  return rc;
}

int db_lecture_get(db *d, const char *lecture, int *seen, int *position) {
  sqlite3_stmt *st;
  *seen = 0;
  if (position) *position = 0;
  if (sqlite3_prepare_v2(d->h, "SELECT position FROM lecture_reads WHERE lecture = ?1", -1, &st,
                         NULL) != SQLITE_OK)
    return PL_EDB;
  sqlite3_bind_text(st, 1, lecture, -1, SQLITE_TRANSIENT);
  int r = sqlite3_step(st), rc = 0;
  if (r == SQLITE_ROW) {
    *seen = 1;
    if (position) *position = sqlite3_column_int(st, 0);
  } else if (r != SQLITE_DONE) {
    rc = PL_EDB;
  }
  sqlite3_finalize(st);
  return rc;
}

/* The check rows of attempt `id`, inside the caller's transaction. */
static int add_check_rows(db *d, long long id, const grd_result *r) {
  sqlite3_stmt *st = NULL;
  int rc = PL_EDB;
  if (sqlite3_prepare_v2(d->h,
                         "INSERT INTO check_results(attempt_id, idx, name, passed, skipped, hidden,"
                         " score, max_score, message, seconds, figures)"
                         " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)",
                         -1, &st, NULL) != SQLITE_OK)
    goto done;
  for (int i = 0; i < r->nchecks; i++) {
    const grd_check_result *c = &r->checks[i];
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, i);
    sqlite3_bind_text(st, 3, c->name ? c->name : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 4, c->passed);
    sqlite3_bind_int(st, 5, c->skipped);
    sqlite3_bind_int(st, 6, c->hidden);
    sqlite3_bind_double(st, 7, c->score);
    sqlite3_bind_double(st, 8, c->max_score);
    sqlite3_bind_text(st, 9, c->message ? c->message : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(st, 10, c->seconds);
    char *fig = figures_text(c);
    if (!fig) {
      rc = PL_ENOMEM;
      goto done;
    }
    sqlite3_bind_text(st, 11, fig, -1, SQLITE_TRANSIENT);
    free(fig);
    if (sqlite3_step(st) != SQLITE_DONE) goto done;
  }
  rc = 0;
done:
  sqlite3_finalize(st);
  return rc;
}

int db_attempt_add(db *d, const char *student, const grd_result *r, long long *attempt_id) {
  sqlite3_stmt *st = NULL;
  int rc = PL_EDB;
  if (sqlite3_exec(d->h, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) return PL_EDB;
  if (sqlite3_prepare_v2(d->h,
                         "INSERT INTO attempts(student, lab, submission_sha256, at, score, max_score,"
                         " compiled, seconds, weak_jail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                         -1, &st, NULL) != SQLITE_OK)
    goto done;
  sqlite3_bind_text(st, 1, student ? student : "", -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, r->lab, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 3, r->sub_hash ? r->sub_hash : "", -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL));
  sqlite3_bind_double(st, 5, r->score);
  sqlite3_bind_double(st, 6, r->max_score);
  sqlite3_bind_int(st, 7, r->compiled);
  sqlite3_bind_double(st, 8, r->seconds);
  sqlite3_bind_int(st, 9, r->weak_jail);
  if (sqlite3_step(st) != SQLITE_DONE) goto done;
  sqlite3_finalize(st);
  st = NULL;
  long long id = sqlite3_last_insert_rowid(d->h);
  if (add_check_rows(d, id, r)) goto done;
  if (sqlite3_exec(d->h, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) goto done;
  if (attempt_id) *attempt_id = id;
  rc = 0;
done:
  sqlite3_finalize(st);
  if (rc) sqlite3_exec(d->h, "ROLLBACK", NULL, NULL, NULL);
  return rc;
}

int db_lab_progress_get(db *d, const char *lab, db_lab_progress *out) {
  memset(out, 0, sizeof *out);
  sqlite3_stmt *st;
  const char *sql =
      "SELECT COUNT(*), "
      "  (SELECT score FROM attempts WHERE student = '' AND lab = ?1 ORDER BY score DESC, id LIMIT 1),"
      "  (SELECT max_score FROM attempts WHERE student = '' AND lab = ?1 ORDER BY score DESC, id LIMIT 1),"
      "  (SELECT score FROM attempts WHERE student = '' AND lab = ?1 ORDER BY id DESC LIMIT 1),"
      "  MAX(at) FROM attempts WHERE student = '' AND lab = ?1";
  if (sqlite3_prepare_v2(d->h, sql, -1, &st, NULL) != SQLITE_OK) return PL_EDB;
  sqlite3_bind_text(st, 1, lab, -1, SQLITE_TRANSIENT);
  int rc = PL_EDB;
  if (sqlite3_step(st) == SQLITE_ROW) {
    out->attempts = sqlite3_column_int(st, 0);
    out->best_score = sqlite3_column_double(st, 1);
    out->max_score = sqlite3_column_double(st, 2);
    out->last_score = sqlite3_column_double(st, 3);
    out->last_at = sqlite3_column_int64(st, 4);
    rc = 0;
  }
  sqlite3_finalize(st);
  return rc;
}

int db_reset(db *d) {
  return sqlite3_exec(d->h,
                      "BEGIN IMMEDIATE; DELETE FROM check_results; DELETE FROM attempts;"
                      " DELETE FROM lecture_reads; DELETE FROM hints_used; DELETE FROM quiz_answers;"
                      " DELETE FROM time_spent; DELETE FROM settings; COMMIT;",
                      NULL, NULL, NULL) == SQLITE_OK ? 0 : PL_EDB;
}

/* ---------------------------------------------------------------- courseware
 * Schema 2's tables. Each function is one statement, so one implicit
 * transaction. */

/* Prepare sql, bind the text parameters (NULL binds NULL), step once. */
static int exec_texts(db *d, const char *sql, int n, const char *const *texts) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(d->h, sql, -1, &st, NULL) != SQLITE_OK) return PL_EDB;
  for (int i = 0; i < n; i++) sqlite3_bind_text(st, i + 1, texts[i], -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : PL_EDB;
  sqlite3_finalize(st);
  return rc;
}

/* One integer from a query with text parameters; *out = 0 without a row. */
static int query_int(db *d, const char *sql, int n, const char *const *texts, int *out) {
  sqlite3_stmt *st;
  *out = 0;
  if (sqlite3_prepare_v2(d->h, sql, -1, &st, NULL) != SQLITE_OK) return PL_EDB;
  for (int i = 0; i < n; i++) sqlite3_bind_text(st, i + 1, texts[i], -1, SQLITE_TRANSIENT);
  int r = sqlite3_step(st), rc = 0;
  if (r == SQLITE_ROW) *out = sqlite3_column_int(st, 0);
  else if (r != SQLITE_DONE) rc = PL_EDB;
  sqlite3_finalize(st);
  return rc;
}

int db_hint_used(db *d, const char *lab, int hint) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(d->h, "INSERT OR IGNORE INTO hints_used(lab, hint, at) VALUES (?1, ?2, ?3)",
                         -1, &st, NULL) != SQLITE_OK)
    return PL_EDB;
  sqlite3_bind_text(st, 1, lab, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int(st, 2, hint);
  sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
  int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : PL_EDB;
  sqlite3_finalize(st);
  return rc;
}

int db_hints_count(db *d, const char *lab, int *count) {
  const char *p[] = {lab};
  return query_int(d, "SELECT COUNT(*) FROM hints_used WHERE lab = ?1", 1, p, count);
}

int db_hints_total(db *d, int *count) {
  return query_int(d, "SELECT COUNT(*) FROM hints_used", 0, NULL, count);
}

int db_quiz_answer_add(db *d, const char *lecture, const char *question, const char *answer,
                       int correct) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(d->h,
                         "INSERT INTO quiz_answers(lecture, question, answer, correct, at)"
                         " VALUES (?1, ?2, ?3, ?4, ?5)",
                         -1, &st, NULL) != SQLITE_OK)
    return PL_EDB;
  sqlite3_bind_text(st, 1, lecture, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, question, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 3, answer ? answer : "", -1, SQLITE_TRANSIENT);
  sqlite3_bind_int(st, 4, correct ? 1 : 0);
  sqlite3_bind_int64(st, 5, (sqlite3_int64)time(NULL));
  int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : PL_EDB;
  sqlite3_finalize(st);
  return rc;
}

int db_quiz_last(db *d, const char *lecture, const char *question, int *answered, int *correct,
                 char **answer) {
  sqlite3_stmt *st;
  *answered = 0;
  *correct = 0;
  if (answer) *answer = NULL;
  if (sqlite3_prepare_v2(d->h,
                         "SELECT answer, correct FROM quiz_answers WHERE lecture = ?1 AND question = ?2"
                         " ORDER BY id DESC LIMIT 1",
                         -1, &st, NULL) != SQLITE_OK)
    return PL_EDB;
  sqlite3_bind_text(st, 1, lecture, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, question, -1, SQLITE_TRANSIENT);
  int r = sqlite3_step(st), rc = 0;
  if (r == SQLITE_ROW) {
    *answered = 1;
    *correct = sqlite3_column_int(st, 1);
    if (answer && !(*answer = strdup((const char *)sqlite3_column_text(st, 0)))) rc = PL_ENOMEM;
  } else if (r != SQLITE_DONE) {
    rc = PL_EDB;
  }
  sqlite3_finalize(st);
  return rc;
}

int db_quiz_progress(db *d, const char *lecture, int *answered, int *correct) {
  const char *p[] = {lecture};
  int rc = query_int(d, "SELECT COUNT(DISTINCT question) FROM quiz_answers WHERE lecture = ?1", 1, p,
                     answered);
  if (rc) return rc;
  /* a question counts as right when its latest answer is */
  return query_int(d,
                   "SELECT COUNT(*) FROM quiz_answers q WHERE lecture = ?1 AND correct = 1 AND id ="
                   " (SELECT MAX(id) FROM quiz_answers WHERE lecture = q.lecture"
                   "  AND question = q.question)",
                   1, p, correct);
}

int db_time_add(db *d, const char *item, double seconds) {
  sqlite3_stmt *st;
  if (!(seconds > 0)) return 0;
  if (sqlite3_prepare_v2(d->h,
                         "INSERT INTO time_spent(item, seconds) VALUES (?1, ?2)"
                         " ON CONFLICT(item) DO UPDATE SET seconds = seconds + ?2",
                         -1, &st, NULL) != SQLITE_OK)
    return PL_EDB;
  sqlite3_bind_text(st, 1, item, -1, SQLITE_TRANSIENT);
  sqlite3_bind_double(st, 2, seconds);
  int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : PL_EDB;
  sqlite3_finalize(st);
  return rc;
}

int db_time_get(db *d, const char *item, double *seconds) {
  sqlite3_stmt *st;
  *seconds = 0;
  if (sqlite3_prepare_v2(d->h, "SELECT seconds FROM time_spent WHERE item = ?1", -1, &st, NULL) !=
      SQLITE_OK)
    return PL_EDB;
  sqlite3_bind_text(st, 1, item, -1, SQLITE_TRANSIENT);
  int r = sqlite3_step(st), rc = 0;
  if (r == SQLITE_ROW) *seconds = sqlite3_column_double(st, 0);
  else if (r != SQLITE_DONE) rc = PL_EDB;
  sqlite3_finalize(st);
  return rc;
}

int db_setting_set(db *d, const char *key, const char *value) {
  const char *p[] = {key, value ? value : ""};
  return exec_texts(d,
                    "INSERT INTO settings(key, value) VALUES (?1, ?2)"
                    " ON CONFLICT(key) DO UPDATE SET value = ?2",
                    2, p);
}

int db_setting_get(db *d, const char *key, char **value) {
  sqlite3_stmt *st;
  *value = NULL;
  if (sqlite3_prepare_v2(d->h, "SELECT value FROM settings WHERE key = ?1", -1, &st, NULL) != SQLITE_OK)
    return PL_EDB;
  sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
  int r = sqlite3_step(st), rc = 0;
  if (r == SQLITE_ROW) {
    if (!(*value = strdup((const char *)sqlite3_column_text(st, 0)))) rc = PL_ENOMEM;
  } else if (r != SQLITE_DONE) {
    rc = PL_EDB;
  }
  sqlite3_finalize(st);
  return rc;
}

/* ---------------------------------------------------------------- batches */

/* BEGIN IMMEDIATE, waiting out other writers. busy_timeout covers 10 s per
 * try; a batch (or the TUI) must not fail because another process holds
 * the write lock for longer, so keep trying for a few minutes. */
static int begin_write(db *d) {
  for (int i = 0; i < 30; i++) {
    int rc = sqlite3_exec(d->h, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc == SQLITE_OK) return 0;
    if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED) return PL_EDB;
  }
  return PL_EDB;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s) {
  sqlite3_bind_text(st, i, s ? s : "", -1, SQLITE_TRANSIENT);
}

static char *col_dup(sqlite3_stmt *st, int i) {
  const unsigned char *s = sqlite3_column_text(st, i);
  return strdup(s ? (const char *)s : "");
}

int db_batch_begin(db *d, const char *lab, const char *dir, int jobs, const db_machine *m,
                   long long *batch_id) {
  sqlite3_stmt *st = NULL;
  int rc = PL_EDB;
  if (begin_write(d)) return PL_EDB;
  if (sqlite3_prepare_v2(d->h,
                         "INSERT INTO batches(lab, dir, jobs, started_at, hostname, cpu_model, cores,"
                         " kernel, parlab_version) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)",
                         -1, &st, NULL) != SQLITE_OK)
    goto done;
  bind_text(st, 1, lab);
  bind_text(st, 2, dir);
  sqlite3_bind_int(st, 3, jobs);
  sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL));
  bind_text(st, 5, m->hostname);
  bind_text(st, 6, m->cpu_model);
  sqlite3_bind_int(st, 7, m->cores);
  bind_text(st, 8, m->kernel);
  bind_text(st, 9, m->parlab_version);
  if (sqlite3_step(st) != SQLITE_DONE) goto done;
  if (sqlite3_exec(d->h, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) goto done;
  *batch_id = sqlite3_last_insert_rowid(d->h);
  rc = 0;
done:
  sqlite3_finalize(st);
  if (rc) sqlite3_exec(d->h, "ROLLBACK", NULL, NULL, NULL);
  return rc;
}

int db_batch_end(db *d, long long batch_id) {
  sqlite3_stmt *st = NULL;
  int rc = PL_EDB;
  if (begin_write(d)) return PL_EDB;
  if (sqlite3_prepare_v2(d->h, "UPDATE batches SET finished_at = ?2 WHERE id = ?1", -1, &st, NULL) !=
      SQLITE_OK)
    goto done;
  sqlite3_bind_int64(st, 1, batch_id);
  sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
  if (sqlite3_step(st) != SQLITE_DONE) goto done;
  if (sqlite3_exec(d->h, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) goto done;
  rc = 0;
done:
  sqlite3_finalize(st);
  if (rc) sqlite3_exec(d->h, "ROLLBACK", NULL, NULL, NULL);
  return rc;
}

int db_submission_done(db *d, const db_submission *s, int *done) {
  sqlite3_stmt *st = NULL;
  *done = 0;
  if (sqlite3_prepare_v2(d->h,
                         "SELECT 1 FROM attempts a JOIN submissions s ON s.id = a.submission_id"
                         " JOIN students u ON u.id = s.student_id"
                         " WHERE u.name = ?1 AND s.lab = ?2 AND s.sha256 = ?3"
                         " AND a.status IN ('graded', 'missing') LIMIT 1",
                         -1, &st, NULL) != SQLITE_OK)
    return PL_EDB;
  bind_text(st, 1, s->student);
  bind_text(st, 2, s->lab);
  bind_text(st, 3, s->sha256);
  int r = sqlite3_step(st), rc = 0;
  if (r == SQLITE_ROW) *done = 1;
  else if (r != SQLITE_DONE) rc = PL_EDB;
  sqlite3_finalize(st);
  return rc;
}

/* Look up (or create) the row `insert_sql` / `select_sql` describe; both
 * take the same parameters, bound by `bind`. */
static int upsert_id(db *d, const char *insert_sql, const char *select_sql,
                     void (*bind)(sqlite3_stmt *, const void *), const void *arg, long long *id) {
  sqlite3_stmt *st = NULL;
  int rc = PL_EDB;
  if (sqlite3_prepare_v2(d->h, insert_sql, -1, &st, NULL) != SQLITE_OK) goto done;
  bind(st, arg);
  if (sqlite3_step(st) != SQLITE_DONE) goto done;
  sqlite3_finalize(st);
  st = NULL;
  if (sqlite3_prepare_v2(d->h, select_sql, -1, &st, NULL) != SQLITE_OK) goto done;
  bind(st, arg);
  if (sqlite3_step(st) != SQLITE_ROW) goto done;
  *id = sqlite3_column_int64(st, 0);
  rc = 0;
done:
  sqlite3_finalize(st);
  return rc;
}

static void bind_student(sqlite3_stmt *st, const void *arg) {
  bind_text(st, 1, ((const db_submission *)arg)->student);
}

typedef struct { const db_submission *s; long long student_id; } sub_key;

static void bind_sub(sqlite3_stmt *st, const void *arg) {
  const sub_key *k = arg;
  sqlite3_bind_int64(st, 1, k->student_id);
  bind_text(st, 2, k->s->lab);
  bind_text(st, 3, k->s->sha256);
  /* The SELECT has only three parameters; binding past them is harmless. */
  bind_text(st, 4, k->s->path);
  sqlite3_bind_int64(st, 5, k->s->submitted_at);
}

static char *join_lines(char **lines, int n) {
  size_t len = 1;
  for (int i = 0; i < n; i++) len += strlen(lines[i]) + 1;
  char *s = malloc(len), *p = s;
  if (!s) return NULL;
  for (int i = 0; i < n; i++) p += sprintf(p, "%s%s", i ? "\n" : "", lines[i]);
  *p = 0;
  return s;
}

int db_submission_record(db *d, long long batch_id, const db_submission *s, const char *status,
                         const grd_result *r, long long *attempt_id) {
  sqlite3_stmt *st = NULL;
  char *diag = join_lines(r->diagnostics, r->ndiagnostics);
  int rc = PL_EDB;
  long long sub_id = 0, id;
  sub_key k = {.s = s};
  if (!diag) return PL_ENOMEM;
  if (begin_write(d)) { free(diag); return PL_EDB; }
  if (upsert_id(d, "INSERT INTO students(name) VALUES (?1) ON CONFLICT(name) DO NOTHING",
                "SELECT id FROM students WHERE name = ?1", bind_student, s, &k.student_id))
    goto done;
  if (upsert_id(d,
                "INSERT INTO submissions(student_id, lab, sha256, path, submitted_at)"
                " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(student_id, lab, sha256) DO UPDATE"
                " SET path = excluded.path, submitted_at = excluded.submitted_at",
                "SELECT id FROM submissions WHERE student_id = ?1 AND lab = ?2 AND sha256 = ?3",
                bind_sub, &k, &sub_id))
    goto done;
  if (sqlite3_prepare_v2(d->h,
                         "INSERT INTO attempts(student, lab, submission_sha256, at, score, max_score,"
                         " compiled, seconds, submission_id, batch_id, status, diagnostics, weak_jail)"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                         -1, &st, NULL) != SQLITE_OK)
    goto done;
  bind_text(st, 1, s->student);
  bind_text(st, 2, s->lab);
  bind_text(st, 3, s->sha256);
  sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL));
  sqlite3_bind_double(st, 5, r->score);
  sqlite3_bind_double(st, 6, r->max_score);
  sqlite3_bind_int(st, 7, r->compiled);
  sqlite3_bind_double(st, 8, r->seconds);
  sqlite3_bind_int64(st, 9, sub_id);
  if (batch_id > 0) sqlite3_bind_int64(st, 10, batch_id);
  else sqlite3_bind_null(st, 10);
  bind_text(st, 11, status);
  bind_text(st, 12, diag);
  sqlite3_bind_int(st, 13, r->weak_jail);
  if (sqlite3_step(st) != SQLITE_DONE) goto done;
  sqlite3_finalize(st);
  st = NULL;
  id = sqlite3_last_insert_rowid(d->h);
  if (add_check_rows(d, id, r)) goto done;
  if (sqlite3_exec(d->h, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) goto done;
  if (attempt_id) *attempt_id = id;
  rc = 0;
done:
  sqlite3_finalize(st);
  free(diag);
  if (rc) sqlite3_exec(d->h, "ROLLBACK", NULL, NULL, NULL);
  return rc;
}

/* Split "a\nb" into r->diagnostics. */
static int set_diagnostics(grd_result *r, const char *text) {
  const char *p = text;
  while (p && *p) {
    const char *e = strchr(p, '\n');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    char **dd = realloc(r->diagnostics, sizeof *dd * (size_t)(r->ndiagnostics + 1));
    if (!dd) return PL_ENOMEM;
    r->diagnostics = dd;
    if (!(dd[r->ndiagnostics] = strndup(p, n))) return PL_ENOMEM;
    r->ndiagnostics++;
    if (!e) break;
    p = e + 1;
  }
  return 0;
}

static int load_checks(db *d, long long attempt_id, grd_result *r) {
  sqlite3_stmt *st = NULL;
  int rc = PL_EDB, step;
  if (sqlite3_prepare_v2(d->h,
                         "SELECT name, passed, skipped, hidden, score, max_score, message, seconds,"
                         " figures FROM check_results WHERE attempt_id = ?1 ORDER BY idx",
                         -1, &st, NULL) != SQLITE_OK)
    return PL_EDB;
  sqlite3_bind_int64(st, 1, attempt_id);
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    grd_check_result *c = realloc(r->checks, sizeof *c * (size_t)(r->nchecks + 1));
    if (!c) { rc = PL_ENOMEM; goto done; }
    r->checks = c;
    c = &r->checks[r->nchecks++];
    memset(c, 0, sizeof *c);
    c->name = col_dup(st, 0);
    c->message = col_dup(st, 6);
    c->passed = sqlite3_column_int(st, 1);
    c->skipped = sqlite3_column_int(st, 2);
    c->hidden = sqlite3_column_int(st, 3);
    c->score = sqlite3_column_double(st, 4);
    c->max_score = sqlite3_column_double(st, 5);
    c->seconds = sqlite3_column_double(st, 7);
    figures_parse((const char *)sqlite3_column_text(st, 8), c);
    c->attempts = 1;
    if (!c->name || !c->message) { rc = PL_ENOMEM; goto done; }
  }
  rc = step == SQLITE_DONE ? 0 : PL_EDB;
done:
  sqlite3_finalize(st);
  return rc;
}

int db_grades_get(db *d, const char *lab, const char *student, db_grade **out, int *n) {
  sqlite3_stmt *st = NULL;
  db_grade *g = NULL;
  int ng = 0, rc = PL_EDB, step;
  *out = NULL;
  *n = 0;
  /* A read transaction: the attempts and their check rows from one
   * snapshot, while batches keep writing. */
  if (sqlite3_exec(d->h, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) return PL_EDB;
  if (sqlite3_prepare_v2(d->h,
                         "SELECT a.id, a.student, a.lab, a.submission_sha256, a.status, a.at, a.score,"
                         " a.max_score, a.compiled, a.seconds, a.diagnostics, COALESCE(s.path, ''),"
                         " COALESCE(a.batch_id, 0)"
                         " FROM attempts a LEFT JOIN submissions s ON s.id = a.submission_id"
                         " WHERE a.submission_id IS NOT NULL"
                         " AND (?1 IS NULL OR a.lab = ?1) AND (?2 IS NULL OR a.student = ?2)"
                         " AND a.id = (SELECT MAX(b.id) FROM attempts b WHERE b.student = a.student"
                         "   AND b.lab = a.lab AND b.submission_id IS NOT NULL)"
                         " ORDER BY a.lab, a.student",
                         -1, &st, NULL) != SQLITE_OK)
    goto done;
  if (lab) sqlite3_bind_text(st, 1, lab, -1, SQLITE_TRANSIENT);
  if (student) sqlite3_bind_text(st, 2, student, -1, SQLITE_TRANSIENT);
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    db_grade *ng2 = realloc(g, sizeof *g * (size_t)(ng + 1));
    if (!ng2) { rc = PL_ENOMEM; goto done; }
    g = ng2;
    db_grade *x = &g[ng++];
    memset(x, 0, sizeof *x);
    x->attempt_id = sqlite3_column_int64(st, 0);
    x->student = col_dup(st, 1);
    x->lab = col_dup(st, 2);
    x->sha256 = col_dup(st, 3);
    x->status = col_dup(st, 4);
    x->at = sqlite3_column_int64(st, 5);
    x->batch_id = sqlite3_column_int64(st, 12);
    grd_result *r = x->r = calloc(1, sizeof *r);
    if (!r) { rc = PL_ENOMEM; goto done; }
    r->lab = col_dup(st, 2);
    r->sub_hash = col_dup(st, 3);
    r->submission = col_dup(st, 11);
    r->score = sqlite3_column_double(st, 6);
    r->max_score = sqlite3_column_double(st, 7);
    r->compiled = sqlite3_column_int(st, 8);
    r->seconds = sqlite3_column_double(st, 9);
    if (!x->student || !x->lab || !x->sha256 || !x->status || !r->lab || !r->sub_hash ||
        !r->submission) {
      rc = PL_ENOMEM;
      goto done;
    }
    const unsigned char *diag = sqlite3_column_text(st, 10);
    if ((rc = set_diagnostics(r, (const char *)diag))) goto done;
    if ((rc = load_checks(d, x->attempt_id, r))) goto done;
    rc = PL_EDB;
  }
  if (step != SQLITE_DONE) goto done;
  *out = g;
  *n = ng;
  g = NULL;
  ng = 0;
  rc = 0;
done:
  sqlite3_finalize(st);
  sqlite3_exec(d->h, "COMMIT", NULL, NULL, NULL);
  db_grades_free(g, ng);
  return rc;
}

void db_grades_free(db_grade *g, int n) {
  if (!g) return;
  for (int i = 0; i < n; i++) {
    free(g[i].student);
    free(g[i].lab);
    free(g[i].sha256);
    free(g[i].status);
    grd_result_free(g[i].r);
  }
  free(g);
}

int db_batches_get(db *d, db_batch **out, int *n) {
  sqlite3_stmt *st = NULL;
  db_batch *b = NULL;
  int nb = 0, rc = PL_EDB, step;
  *out = NULL;
  *n = 0;
  if (sqlite3_prepare_v2(d->h,
                         "SELECT id, lab, dir, jobs, started_at, COALESCE(finished_at, 0), hostname,"
                         " cpu_model, cores, kernel, parlab_version FROM batches ORDER BY id",
                         -1, &st, NULL) != SQLITE_OK)
    return PL_EDB;
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    db_batch *nb2 = realloc(b, sizeof *b * (size_t)(nb + 1));
    if (!nb2) { rc = PL_ENOMEM; goto done; }
    b = nb2;
    db_batch *x = &b[nb++];
    memset(x, 0, sizeof *x);
    x->id = sqlite3_column_int64(st, 0);
    x->lab = col_dup(st, 1);
    x->dir = col_dup(st, 2);
    x->jobs = sqlite3_column_int(st, 3);
    x->started_at = sqlite3_column_int64(st, 4);
    x->finished_at = sqlite3_column_int64(st, 5);
    x->m.hostname = col_dup(st, 6);
    x->m.cpu_model = col_dup(st, 7);
    x->m.cores = sqlite3_column_int(st, 8);
    x->m.kernel = col_dup(st, 9);
    x->m.parlab_version = col_dup(st, 10);
    if (!x->lab || !x->dir || !x->m.hostname || !x->m.cpu_model || !x->m.kernel ||
        !x->m.parlab_version) {
      rc = PL_ENOMEM;
      goto done;
    }
  }
  if (step != SQLITE_DONE) goto done;
  *out = b;
  *n = nb;
  b = NULL;
  nb = 0;
  rc = 0;
done:
  sqlite3_finalize(st);
  db_batches_free(b, nb);
  return rc;
}

void db_batches_free(db_batch *b, int n) {
  if (!b) return;
  for (int i = 0; i < n; i++) {
    free(b[i].lab);
    free(b[i].dir);
    free(b[i].m.hostname);
    free(b[i].m.cpu_model);
    free(b[i].m.kernel);
    free(b[i].m.parlab_version);
  }
  free(b);
}

/* ---------------------------------------------------------- machine probe */

int db_probe_put(db *d, const char *fingerprint, const char *parlab_version, const char *json) {
  if (!d || !fingerprint || !parlab_version || !json) return PL_EINVAL;
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(d->h,
                         "INSERT INTO machine_probe(fingerprint, at, parlab_version, json)"
                         " VALUES (?1, ?2, ?3, ?4) ON CONFLICT(fingerprint) DO UPDATE"
                         " SET at = ?2, parlab_version = ?3, json = ?4",
                         -1, &st, NULL) != SQLITE_OK)
    return PL_EDB;
  sqlite3_bind_text(st, 1, fingerprint, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
  sqlite3_bind_text(st, 3, parlab_version, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 4, json, -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : PL_EDB;
  sqlite3_finalize(st);
  return rc;
}

int db_probe_get(db *d, const char *fingerprint, char **json, long long *at) {
  if (!d || !fingerprint || !json) return PL_EINVAL;
  *json = NULL;
  if (at) *at = 0;
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(d->h, "SELECT json, at FROM machine_probe WHERE fingerprint = ?1", -1, &st,
                         NULL) != SQLITE_OK)
    return PL_EDB;
  sqlite3_bind_text(st, 1, fingerprint, -1, SQLITE_TRANSIENT);
  int r = sqlite3_step(st), rc = 0;
  if (r == SQLITE_ROW) {
    if (!(*json = strdup((const char *)sqlite3_column_text(st, 0)))) rc = PL_ENOMEM;
    if (at) *at = (long long)sqlite3_column_int64(st, 1);
  } else if (r != SQLITE_DONE) {
    rc = PL_EDB;
  }
  sqlite3_finalize(st);
  return rc;
}
