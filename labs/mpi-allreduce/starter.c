/*
 * mpi-allreduce: ring allreduce by hand.
 *
 * ring_allreduce(data, n, comm) must leave, on every rank of comm, the
 * element-wise sum over all ranks of their `data` arrays (n doubles each),
 * in place. Use point-to-point messages only (MPI_Send, MPI_Recv,
 * MPI_Sendrecv, MPI_Isend, MPI_Irecv, MPI_Wait...): the grader counts
 * calls to MPI's collectives made from here.
 *
 * The plan (see the brief): split data into P chunks; P - 1 steps of
 * reduce-scatter around the ring, then P - 1 steps of allgather.
 *
 * This starter does nothing, which is only right on one rank.
 */
#include <mpi.h>

void ring_allreduce(double *data, long n, MPI_Comm comm) {
  int rank, size;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  (void)data;
  (void)n;
  /* TODO: reduce-scatter, then allgather, around the ring. */
}
