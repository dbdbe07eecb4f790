/*
 * grd_batch.h — grading a whole class: find one submission per student,
 * grade them in parallel worker processes, record the results, export them.
 *
 * Three separable steps, so that a later distributed mode (MPI ranks in
 * place of forked workers) can reuse the first and the last:
 *
 *   grd_batch_discover()  DIR -> a sorted list of students and their files
 *   grd_batch_run()       grades a list; `done` is called in the calling
 *                         process for each finished submission
 *   grd_batch_record()    writes one result to the gradebook (one
 *                         transaction: a killed batch loses at most the
 *                         submission in flight, and a rerun resumes)
 *
 * Workers are forked processes, each running grd_run() on one submission at
 * a time and sending the result back over a pipe as JSON; only the calling
 * process touches the gradebook. Timed checks are serialized by grd_run()
 * itself (DESIGN.md §5), so parallel workers only overlap correctness runs.
 *
 * Invariants: every recorded attempt has one check row per check of the
 * lab, also for a missing submission or a grading error (all failed, with
 * the reason as message), so exports and summaries never see holes.
 *
 * Thread-safety: grd_batch_run() forks; call it from a single-threaded
 * process (the CLI). The other functions are plain and reentrant.
 */
#ifndef GRD_BATCH_H
#define GRD_BATCH_H

#include <stdio.h>

#include "db.h"
#include "grd.h"

typedef struct grd_sub {
  char *student;     /* file or folder name without extension */
  char *path;        /* the submission file; NULL when missing */
  char sha256[65];   /* "" when missing */
  long long mtime;   /* the file's modification time (unix), 0 when missing */
} grd_sub;

/* One submission per student in dir: dir/<name>.<ext> or dir/<name>/<sub_file>
 * (ext: the extension of the lab's sub_file), names sorted, hidden entries
 * skipped. A folder without the file is listed with path == NULL.
 * OUT: *out (free with grd_subs_free), *n. PL_ENOTFOUND: dir unreadable. */
int grd_batch_discover(const lx_lab *lab, const char *dir, grd_sub **out, int *n, char **err);
void grd_subs_free(grd_sub *s, int n);

/* How one submission ended. */
typedef enum {
  GRD_SUB_GRADED = 0,  /* grd_run() ran (whatever the score) */
  GRD_SUB_MISSING = 1, /* no submission file */
  GRD_SUB_ERROR = 2    /* grading failed for this student (worker died, I/O) */
} grd_sub_status;

const char *grd_sub_status_name(grd_sub_status s); /* "graded", "missing", "error" */

/* Called in the calling process as each submission finishes, in completion
 * order. r is always a full result (one entry per check; for MISSING and
 * ERROR all checks failed with `message` as reason); it is freed after the
 * call returns. A nonzero return aborts the batch with that code. */
typedef int (*grd_batch_done_fn)(void *arg, int index, grd_sub_status status, const grd_result *r,
                                 const char *message);
/* Called when a worker picks up a submission (may be NULL). */
typedef void (*grd_batch_start_fn)(void *arg, int index);

typedef struct grd_batch_opts {
  int jobs;                 /* worker processes; <= 0: 1 */
  grd_batch_start_fn start;
  grd_batch_done_fn done;
  void *arg;
  const char *scratch_root; /* passed to grd_run(); NULL: $TMPDIR */
  int weak_jail;            /* passed to grd_run(): the instructor's --weak-jail */
} grd_batch_opts;

/* Grade subs[i] for every i with todo[i] != 0 (todo NULL: all). Returns 0
 * when every submission was handled (per-student failures are reported
 * through `done`, not here); PL_ESANDBOX when the sandbox cannot be set up
 * (never graded unsandboxed), PL_ELUA when the lab itself is broken — both
 * abort the batch and stop the workers; *err says why (caller frees). */
int grd_batch_run(const lx_lab *lab, const grd_sub *subs, int n, const unsigned char *todo,
                  const grd_batch_opts *o, char **err);

/* A result for a submission that could not be graded: every check failed
 * with `why`. OUT: caller frees with grd_result_free(). */
int grd_result_failed(const lx_lab *lab, const char *submission, const char *why, grd_result **out);

/* The machine a batch ran on (for the gradebook). */
int grd_machine_get(db_machine *out); /* OUT: free with grd_machine_free() */
void grd_machine_free(db_machine *m);

/* Record one graded submission in the gradebook (one transaction). */
int grd_batch_record(db *d, long long batch_id, const grd_sub *s, grd_sub_status status,
                     const grd_result *r);

/* ---- exports ---- */

/* Gradescope results.json for one result (the documented schema: score,
 * execution_time, output, visibility, stdout_visibility, tests[] with name,
 * score, max_score, status, output, visibility, and leaderboard[]). Hidden
 * checks get visibility "after_published" and keep their details withheld.
 * `output`: text for the whole submission (may be NULL). Caller frees. */
char *grd_gradescope_json(const grd_result *r, const char *output);

/* CSV: header id,lab,score,max_score,timestamp,sha256 then one row per
 * grade, RFC 4180 quoting. */
int grd_export_csv(FILE *out, const db_grade *g, int n);
/* JSON: {"parlab_version", "exported_at", "batches": [...], "grades": [...]}. */
int grd_export_json(FILE *out, db *d, const db_grade *g, int n);

#endif
