/*
 * eng_mpirun.h — building MPI programs with mpicc and running them under
 * Open MPI's mpirun with N ranks, from a process that is not itself an MPI
 * program (the CLI, benchmarks, tests); and loading the MPI link module
 * (eng_mpi_link.h) that lets such a process become one rank of a job.
 *
 * This file needs no MPI library: it forks and executes the toolchain's
 * commands (`mpicc`, `mpirun`, or PARLAB_MPICC / PARLAB_MPIRUN), so it is
 * part of every build; a machine without Open MPI gets PL_ENOSYS and a
 * sentence saying what is missing.
 *
 * Running: mpirun runs in its own session and process group, with stdout
 * and stderr captured together (capped) through one pipe; `--tag-output`
 * marks every line with its rank and stream, and each rank runs under a
 * small `sh -c` wrapper that prints its exit status on a marked last line,
 * so the result has every rank's stdout, stderr and exit status, not only
 * mpirun's. A wall-clock limit stops mpirun with SIGTERM (it stops its
 * ranks), then kills every process left in the session.
 *
 * Options that matter on small and shared machines: `--oversubscribe`
 * (more ranks than cores; automatic when a local run asks for more ranks
 * than this process may use), `--bind-to none` by default (a bound rank
 * confines everything it forks to one core), and `--allow-run-as-root`
 * when the caller is root (Open MPI refuses root otherwise). A hostfile
 * (`node1 slots=16` per line) spreads ranks over a real cluster; the
 * program must then exist at the same path on every node.
 *
 * Thread-safety: every function may be called from any thread; a running
 * eng_mpi_run() blocks its caller only.
 */
#ifndef ENG_MPIRUN_H
#define ENG_MPIRUN_H

#include <stddef.h>

/* 1 when mpirun and mpicc can be found (PATH, or PARLAB_MPIRUN and
 * PARLAB_MPICC), else 0 with `why` filled (may be NULL). */
int eng_mpi_available(char *why, size_t why_len);

/* The launcher and compiler commands used (environment, else the names). */
const char *eng_mpi_mpirun(void);
const char *eng_mpi_mpicc(void);

/* Build `out` from the C sources with mpicc: `flags` (NULL-terminated,
 * may be NULL) come before the sources, `libs` after. The compiler's
 * output goes to *log (OUT: caller frees; may be NULL). PL_ECOMPILE when
 * mpicc fails or runs past timeout_s (<= 0: 120 s), PL_ENOSYS without
 * mpicc. */
int eng_mpi_build(const char *const *sources, const char *const *flags, const char *const *libs,
                  const char *out, double timeout_s, char **log);

typedef struct eng_mpi_run_opts {
  int ranks;                   /* -np; 1..1024 */
  char *const *argv;           /* program and its arguments (NULL-terminated) */
  const char *hostfile;        /* NULL: this machine only */
  int oversubscribe;           /* 1 always, 0 never, -1: when ranks > eng_cores() (local runs) */
  const char *bind;            /* --bind-to value; NULL: "none" */
  char *const *mpirun_args;    /* extra mpirun options (NULL-terminated, may be NULL) */
  const char *cwd;             /* NULL: the caller's */
  int keep_going;              /* 1: a rank that exits nonzero does not end the job (the
                                  others run on, so every status is known; a rank left
                                  waiting for the dead one then meets the time limit);
                                  0: mpirun ends the job at the first nonzero exit */
  double timeout_s;            /* wall-clock limit; <= 0: none */
  size_t out_cap;              /* bytes of output kept; 0: 4 MiB */
} eng_mpi_run_opts;

typedef struct eng_mpi_run_result {
  int status;          /* mpirun's exit status; -1 when it was killed. With
                          keep_going (where mpirun says 0), the lowest rank's
                          nonzero status, if any */
  int timed_out;       /* the wall-clock limit stopped it */
  int truncated;       /* output went past out_cap */
  double seconds;      /* wall time of the whole mpirun */
  int nranks;
  char **rank_out;     /* [nranks] each rank's stdout ("" when none) */
  char **rank_err;     /* [nranks] each rank's stderr */
  int *rank_status;    /* [nranks] each rank's exit status; 128+N after signal N
                          (the shell's convention); -1 when it never reported
                          (killed when mpirun ended the job: see keep_going) */
  char *output;        /* everything, as captured (tagged lines and mpirun's own) */
} eng_mpi_run_result;

/* Run argv under mpirun. 0 when mpirun ran (whatever the ranks' statuses:
 * look at res); PL_ENOSYS without mpirun, PL_EINVAL for bad options,
 * PL_EIO when it cannot be started. OUT: *res, free with
 * eng_mpi_run_result_free(). */
int eng_mpi_run(const eng_mpi_run_opts *o, eng_mpi_run_result *res);
void eng_mpi_run_result_free(eng_mpi_run_result *res);

/* ---- the MPI link module ---- */

struct eng_mpi_link;
/* Load the MPI link module (libparlab-mpi.so, built with the cluster
 * backend): PARLAB_MPI_MODULE, else next to the running executable.
 * Loaded once per process (RTLD_GLOBAL: Open MPI's own plugins resolve
 * against it). PL_ENOSYS with `why` when the build has no MPI or the
 * module cannot be loaded. OUT: *link points to static data. */
int eng_mpi_link_load(const struct eng_mpi_link **link, char *why, size_t why_len);

/* 1 when this process was started by mpirun (Open MPI's environment says
 * so) as one of several ranks. */
int eng_mpi_launched(void);

#endif
