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
};

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
    if (sqlite3_exec(d->h, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(d->h, migrations[v - 1], NULL, NULL, &msg) != SQLITE_OK) {
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

int db_attempt_add(db *d, const char *student, const grd_result *r, long long *attempt_id) {
  sqlite3_stmt *st = NULL;
  int rc = PL_EDB;
  if (sqlite3_exec(d->h, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) return PL_EDB;
  if (sqlite3_prepare_v2(d->h,
                         "INSERT INTO attempts(student, lab, submission_sha256, at, score, max_score,"
                         " compiled, seconds) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
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
  if (sqlite3_step(st) != SQLITE_DONE) goto done;
  sqlite3_finalize(st);
  st = NULL;
  long long id = sqlite3_last_insert_rowid(d->h);
  if (sqlite3_prepare_v2(d->h,
                         "INSERT INTO check_results(attempt_id, idx, name, passed, skipped, hidden,"
                         " score, max_score, message, seconds) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
                         -1, &st, NULL) != SQLITE_OK)
    goto done;
  for (int i = 0; i < r->nchecks; i++) {
    const grd_check_result *c = &r->checks[i];
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, i);
    sqlite3_bind_text(st, 3, c->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 4, c->passed);
    sqlite3_bind_int(st, 5, c->skipped);
    sqlite3_bind_int(st, 6, c->hidden);
    sqlite3_bind_double(st, 7, c->score);
    sqlite3_bind_double(st, 8, c->max_score);
    sqlite3_bind_text(st, 9, c->message ? c->message : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(st, 10, c->seconds);
    if (sqlite3_step(st) != SQLITE_DONE) goto done;
  }
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
                      " DELETE FROM lecture_reads; COMMIT;",
                      NULL, NULL, NULL) == SQLITE_OK ? 0 : PL_EDB;
}
