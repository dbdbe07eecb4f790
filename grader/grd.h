/*
 * grd.h — grading a submission against a lab.
 *
 * grd_run() compiles the submission into a shared object (time-limited),
 * then runs each check of the lab in the grader's own Lua state. The
 * student's code runs only inside jails (grd_jail.h): separate, sandboxed
 * processes that the checks talk to through t.sub.<export>(...). Every
 * check gets a fresh jail after a crash or a time-out. Scores, verdicts and
 * timings are computed here, never in a jail.
 *
 * Thread-safety: grd_run() may run on any one thread (the TUI runs it on a
 * background thread); it calls `progress` on that thread.
 */
#ifndef GRD_H
#define GRD_H

#include <stddef.h>

#include "lx_course.h"

/* A roofline figure a check attached with t:roofline{...} (lib/lab.lua):
 * the machine's roofs and, for each kernel, its arithmetic intensity, the
 * rate measured on this machine and the student's prediction. Data only:
 * the TUI and `parlab lab run` draw it (tui/tui_roofline.h). */
typedef struct grd_roof_kernel {
  char *name;
  double ai;        /* FLOP/byte, > 0 */
  double measured;  /* GFLOP/s; NAN: not measured */
  double predicted; /* GFLOP/s; NAN: no prediction */
} grd_roof_kernel;

#define GRD_ROOF_MAX_KERNELS 26 /* one letter each on the chart */

typedef struct grd_roofline {
  char *title;          /* "" when the check gave none */
  double peak_gflops;   /* compute roof, > 0 */
  double bw_gbs;        /* memory roof (STREAM triad), > 0 */
  grd_roof_kernel *kernels;
  int nkernels;
} grd_roofline;

typedef struct grd_check_result {
  char *name;
  int passed;
  int skipped;      /* not run (e.g. needs a GPU); reason in message */
  int hidden;       /* a hidden check: students see name and verdict only */
  double score, max_score;
  char *message;    /* failure reason or summary, "" when none */
  double seconds;   /* wall time the check took */
  int attempts;     /* > 1 when a timed check was re-measured */
  /* Figures of t:scaling (lab.lua's t.figures), for the TUI's speedup
   * chart: median seconds at each thread count, and the serial baseline's
   * median (0: the lab has no baseline). npoints == 0: none measured. */
  int npoints;
  double threads[8], times[8];
  double baseline_s;
  grd_roofline *roofline; /* t:roofline's figure; NULL: none */
} grd_check_result;

typedef struct grd_result {
  char *lab;
  char *submission;  /* path graded */
  char *sub_hash;    /* SHA-256 of the submission, hex */
  double score, max_score;
  int compiled;      /* 0: compile error (see diagnostics) */
  grd_check_result *checks;
  int nchecks;
  char **diagnostics; /* compiler output lines, lab errors */
  int ndiagnostics;
  double seconds;
  int weak_jail;     /* graded with the instructor's --weak-jail */
} grd_result;

typedef enum {
  GRD_EV_COMPILE_START,
  GRD_EV_COMPILE_DONE,  /* ok in ev->ok */
  GRD_EV_CHECK_START,   /* index, name */
  GRD_EV_CHECK_DONE,    /* index, check */
  GRD_EV_OUTPUT         /* a line the submission printed: text */
} grd_event_kind;

typedef struct grd_event {
  grd_event_kind kind;
  int index, total;
  int ok;
  const char *name;
  const char *text;
  const grd_check_result *check;
} grd_event;

typedef void (*grd_progress_fn)(void *arg, const grd_event *ev);

typedef struct grd_opts {
  const char *submission;  /* file to grade (required) */
  int timed_attempts;      /* tries for a failing timed check; 0: 2 */
  grd_progress_fn progress;
  void *progress_arg;
  const char *scratch_root;/* where jail scratch folders go; NULL: $TMPDIR */
  int weak_jail;           /* accept a jail without namespaces when they are
                              unavailable (recorded in the result) */
} grd_opts;

/* Returns 0 when grading ran (whatever the score), PL_ESANDBOX when the
 * jail cannot be set up, PL_ENOTFOUND for a missing submission, PL_ELUA
 * when the lab itself is broken; *err says why (caller frees).
 * OUT: *out, caller frees with grd_result_free(). */
int grd_run(const lx_lab *lab, const grd_opts *o, grd_result **out, char **err);
void grd_result_free(grd_result *r);
void grd_roofline_free(grd_roofline *f);

/* A timed check's speedup at its largest thread count, over the serial
 * baseline (or over its own 1-thread time when the lab has no baseline);
 * 0 when its figures cannot give one. */
double grd_check_speedup(const grd_check_result *c);

/* JSON document of DESIGN.md §8 (caller frees). Hidden checks keep their
 * name and verdict; their message (and roofline) is withheld unless
 * show_hidden. A check with a figure adds "roofline": {"title",
 * "peak_gflops", "bw_gbs", "ridge", "kernels": [{"name", "ai",
 * "attainable", "bound", "measured"?, "predicted"?}]}, where a kernel
 * without a measurement or a prediction leaves that key out. */
char *grd_result_json(const grd_result *r, int show_hidden);

/* Whether a CUDA device can be used here; when not, `why` (may be NULL)
 * says what is missing. PARLAB_NO_GPU=1 pretends there is none (to test the
 * skip path on a GPU machine). */
int grd_gpu_present(char *why, size_t why_len);

/* SHA-256 of a file as 64 hex characters plus NUL. */
int grd_hash_file(const char *path, char out[65]);

/* $PARLAB_HOME resolution: explicit dir, else $PARLAB_HOME, else
 * $XDG_DATA_HOME/parlab, else ~/.local/share/parlab. Creates it.
 * OUT: caller frees. */
int grd_home(const char *explicit_dir, char **out);

/* Workspace copy of a lab: $home/work/<lab>/<sub_file>. start copies the
 * starter there unless it exists (force: overwrite). OUT: caller frees. */
int grd_workspace_path(const char *home, const lx_lab *lab, char **out);
int grd_workspace_start(const char *home, const lx_lab *lab, int force, char **out);

/* Entry point of the jail process (`parlab __jail ...`), started only by
 * the grader itself; returns the process exit code. */
int grd_jail_main(int argc, char **argv);
/* `parlab __luacheck FILE`: parse a Lua submission (the grader's "compiler"
 * for Lua labs), in a limited child process. */
int grd_luacheck_main(int argc, char **argv);

#endif
