/*
 * db.h — the gradebook: one SQLite database per user ($PARLAB_HOME/parlab.db)
 * or per batch (--db).
 *
 * WAL journal, busy_timeout, schema migrations keyed on PRAGMA user_version
 * (from an empty file up). Every write is one transaction, so a killed
 * process loses at most the attempt in flight.
 *
 * Thread-safety: a db handle belongs to one thread at a time; separate
 * handles (or processes) on the same file are safe.
 */
#ifndef DB_H
#define DB_H

#include "grd.h"

typedef struct db db;

#define DB_SCHEMA_VERSION 5

/* OUT: *out, close with db_close(); *err (caller frees) on failure. */
int db_open(const char *path, db **out, char **err);
void db_close(db *d);
int db_schema_version(db *d);

/* Remember that a lecture was opened and where reading stopped (line). */
int db_lecture_seen(db *d, const char *lecture, int position);
/* *seen = 0 when never opened. */
int db_lecture_get(db *d, const char *lecture, int *seen, int *position);

/* Record a graded attempt with its check results; student may be NULL
 * (the local user). OUT: *attempt_id may be NULL. */
int db_attempt_add(db *d, const char *student, const grd_result *r,
                   long long *attempt_id);

typedef struct db_lab_progress {
  int attempts;
  double best_score, max_score; /* of the best attempt */
  double last_score;
  long long last_at;            /* unix time of the last attempt */
} db_lab_progress;

/* Zeroed progress (attempts == 0) when the lab was never attempted. */
int db_lab_progress_get(db *d, const char *lab, db_lab_progress *out);

/* Erase lecture reads and attempts (parlab progress --reset). */
int db_reset(db *d);

/* ---- the courseware (schema 2): hints, quizzes, time spent, settings ---- */

/* Record that hint number `hint` (1-based) of a lab was revealed; revealing
 * it again keeps the first time. */
int db_hint_used(db *d, const char *lab, int hint);
/* *count = how many hints of the lab were revealed (0 when none). */
int db_hints_count(db *d, const char *lab, int *count);
/* Hints revealed across all labs. */
int db_hints_total(db *d, int *count);

/* Store one answer to a quiz question, with its verdict. */
int db_quiz_answer_add(db *d, const char *lecture, const char *question,
                       const char *answer, int correct);
/* The latest answer to one question: *answered = 0 when none; *correct is
 * that answer's verdict. OUT: *answer (may be NULL), caller frees. */
int db_quiz_last(db *d, const char *lecture, const char *question,
                 int *answered, int *correct, char **answer);
/* Over a lecture's quiz: questions answered at least once, and questions
 * whose latest answer is right. */
int db_quiz_progress(db *d, const char *lecture, int *answered, int *correct);

/* Add seconds to the time spent on an item (a lecture or lab id). */
int db_time_add(db *d, const char *item, double seconds);
/* *seconds = 0 when nothing was recorded. */
int db_time_get(db *d, const char *item, double *seconds);

/* Small key/value settings ("last_item" for "continue where you left
 * off"). get: *value = NULL when unset. OUT: caller frees *value. */
int db_setting_set(db *d, const char *key, const char *value);
int db_setting_get(db *d, const char *key, char **value);

/* ---- batch grading (schema 4): students, submissions, batches ----
 * Attempts of batch-graded students link to a submission (student, lab,
 * SHA-256) and to the batch that graded them; the local user's attempts
 * (student '') keep working as before. Writers retry while another
 * process holds the write lock, so concurrent batches and a TUI never
 * fail with "database is locked". */

typedef struct db_machine {
  char *hostname, *cpu_model, *kernel, *parlab_version;
  int cores;
} db_machine;

/* OUT: *batch_id. */
int db_batch_begin(db *d, const char *lab, const char *dir, int jobs, const db_machine *m,
                   long long *batch_id);
int db_batch_end(db *d, long long batch_id);

typedef struct db_submission {
  const char *student, *lab;
  const char *sha256;       /* "" for a missing submission */
  const char *path;         /* "" when missing */
  long long submitted_at;   /* the file's mtime */
} db_submission;

/* Has this exact submission a completed attempt (status "graded" or
 * "missing"; "error" attempts are retried)? */
int db_submission_done(db *d, const db_submission *s, int *done);

/* Student, submission, attempt (status "graded" | "missing" | "error")
 * and its check rows, in one transaction. OUT: *attempt_id may be NULL. */
int db_submission_record(db *d, long long batch_id, const db_submission *s, const char *status,
                         const grd_result *r, long long *attempt_id);

typedef struct db_grade {
  char *student, *lab, *sha256, *status;
  long long attempt_id, batch_id;
  long long at;        /* unix time of the attempt */
  grd_result *r;       /* score, max_score, compiled, seconds, checks (full
                          messages), diagnostics, submission path */
} db_grade;

/* The latest attempt per (student, lab) of batch-graded students, sorted
 * by lab then student; lab or student NULL: all.
 * OUT: *out, free with db_grades_free(); *n. */
int db_grades_get(db *d, const char *lab, const char *student, db_grade **out, int *n);
void db_grades_free(db_grade *g, int n);

typedef struct db_batch {
  long long id;
  char *lab, *dir;
  long long started_at, finished_at; /* finished_at 0: killed or running */
  int jobs;
  db_machine m;
} db_batch;

/* Every batch, oldest first. OUT: free with db_batches_free(). */
int db_batches_get(db *d, db_batch **out, int *n);
void db_batches_free(db_batch *b, int n);

/* ---- the machine probe cache (schema 3), keyed by eng_probe_fingerprint() ---- */

/* Store (or replace) the probe's JSON for a machine. */
int db_probe_put(db *d, const char *fingerprint, const char *parlab_version,
                 const char *json);
/* *json = NULL when nothing is cached for the fingerprint; *at (may be
 * NULL) is the unix time it was stored. OUT: caller frees *json. */
int db_probe_get(db *d, const char *fingerprint, char **json, long long *at);

#endif
