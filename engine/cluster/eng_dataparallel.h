/*
 * eng_dataparallel.h — data-parallel training on MPI: a parameter server
 * simulated with real ranks and real messages, under the three consistency
 * models of the lectures, with the staleness each one produces measured.
 * (Gradient averaging by allreduce, the peer-to-peer alternative, is
 * eng_cluster_allreduce_avg() in eng_cluster.h.)
 *
 * Rank 0 is the server and holds the weights; ranks 1..size-1 are workers.
 * A worker repeats, `steps` times: pull the weights (the server answers
 * when the consistency model allows it), compute a gradient at them (the
 * caller's function, plus an optional simulated delay), push it. The
 * server applies gradients as the model says:
 *
 *   BSP  (bulk synchronous)   the server waits for one gradient from every
 *        worker, applies their mean, and only then serves the next pulls:
 *        every gradient is computed on the current weights (staleness 0),
 *        and every step waits for the slowest worker.
 *   ASP  (asynchronous)       every gradient is applied when it arrives and
 *        every pull is served at once: nobody waits, but a gradient may be
 *        computed on weights that many updates have changed since.
 *   SSP  (stale synchronous, bound s)  as ASP, except that a worker about
 *        to start step c waits until the slowest worker has finished step
 *        c - s - 1: fast workers run at most s steps ahead.
 *
 * Measured: staleness = updates the server applied between a worker's pull
 * and the application of the gradient it pushed (mean, max, histogram);
 * clock gap = (step of a served pull) - (steps finished by the slowest
 * worker), whose maximum is 0 under BSP and at most s under SSP; pulls
 * that had to wait, and the time workers spent waiting.
 *
 * Collective: every rank of the communicator calls eng_ps_run(); it needs
 * at least 2 ranks. Errors: PL_EINVAL (options, fewer than 2 ranks, or
 * the gradient function returned nonzero: the run stops on every rank),
 * PL_EIO (MPI), PL_ENOMEM.
 *
 * Thread-safety: one run per communicator at a time, from one thread.
 */
#ifndef ENG_DATAPARALLEL_H
#define ENG_DATAPARALLEL_H

#include <mpi.h>

typedef enum { ENG_PS_BSP = 0, ENG_PS_ASP = 1, ENG_PS_SSP = 2 } eng_ps_mode;

const char *eng_ps_mode_name(eng_ps_mode m);          /* "bsp", "asp", "ssp" */
int eng_ps_mode_parse(const char *s, eng_ps_mode *out); /* PL_EINVAL if unknown */

/* A worker's gradient at w for its `step` (0-based); 0 ok. Runs on the
 * worker's rank; worker = rank - 1. */
typedef int (*eng_ps_grad_fn)(const double *w, int dim, int worker, int step, double *grad, void *arg);

typedef struct eng_ps_opts {
  eng_ps_mode mode;
  int staleness;           /* SSP's bound s >= 0 (ignored by BSP and ASP) */
  int steps;               /* gradients each worker pushes, >= 1 */
  int dim;                 /* number of weights, >= 1 */
  double lr;               /* server update: w -= lr * g (BSP: the workers' mean g) */
  eng_ps_grad_fn grad;
  void *arg;
  const double *delay_s;   /* [workers] extra seconds each step of that worker takes
                              (a straggler); NULL: none */
} eng_ps_opts;

#define ENG_PS_HIST 16

typedef struct eng_ps_stats {
  int workers;
  long pushes;             /* gradients received (workers x steps) */
  long updates;            /* weight updates applied (BSP: steps) */
  double mean_staleness;
  int max_staleness;
  long hist[ENG_PS_HIST];  /* staleness 0 .. 14; the last bin: 15 or more */
  int max_clock_gap;
  long blocked_pulls;      /* pulls the server could not answer at once */
  double wait_s;           /* seconds workers spent waiting for pulls, summed */
  double seconds;          /* wall time of the run (server's clock) */
} eng_ps_stats;

/* w: [dim] initial weights on rank 0 (other ranks' are ignored); on return
 * the final weights on every rank, and *st (may be NULL) on every rank. */
int eng_ps_run(const eng_ps_opts *o, MPI_Comm comm, double *w, eng_ps_stats *st);

#endif
