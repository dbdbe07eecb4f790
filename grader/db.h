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

#define DB_SCHEMA_VERSION 3

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

#endif
