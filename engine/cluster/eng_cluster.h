/*
 * eng_cluster.h — the engine's collectives on MPI: typed allreduce and
 * broadcast over engine element types, and gradient averaging for
 * data-parallel training.
 *
 * They are thin on purpose: one check of the arguments, then one MPI call
 * (or one per 2^31-element piece of a larger buffer), so that what a lab
 * or a benchmark measures is Open MPI's algorithm, not parlab. `parlab
 * bench mpi` holds them to at most 1.1x the latency of the raw calls.
 *
 * Part of the cluster backend (built only when CMake finds MPI). Errors:
 * PL_EINVAL for bad arguments, PL_EIO when MPI reports one (the
 * communicator's error handler must then be MPI_ERRORS_RETURN; with the
 * default handler MPI aborts the job first).
 *
 * Thread-safety: as MPI's: calls on one communicator come from one thread
 * at a time, in the same order on every rank (they are collective).
 */
#ifndef ENG_CLUSTER_H
#define ENG_CLUSTER_H

#include <mpi.h>

#include "eng_array.h" /* eng_dtype */

typedef enum { ENG_RED_SUM = 0, ENG_RED_MAX = 1, ENG_RED_MIN = 2 } eng_red_op;

/* recv[i] = op over ranks of send[i], on every rank; send == recv works in
 * place. n elements of type t. */
int eng_cluster_allreduce(const void *send, void *recv, long n, eng_dtype t, eng_red_op op, MPI_Comm comm);

/* buf (n elements of type t) from rank root to every rank. */
int eng_cluster_bcast(void *buf, long n, eng_dtype t, int root, MPI_Comm comm);

/* Gradient averaging: g[i] = (sum over ranks of g[i]) / size, in place,
 * identical on every rank afterwards. */
int eng_cluster_allreduce_avg(double *g, long n, MPI_Comm comm);

#endif
