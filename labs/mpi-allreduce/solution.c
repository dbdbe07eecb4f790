/*
 * mpi-allreduce, reference solution: the bandwidth-optimal ring allreduce
 * (the algorithm of Baidu's ring allreduce and of Horovod and NCCL).
 *
 * The vector is cut into P chunks; chunk c is [c n / P, (c + 1) n / P).
 * Reduce-scatter: at step s (0 .. P-2) rank r sends chunk (r - s) to its
 * right neighbour and adds the chunk (r - s - 1) arriving from its left
 * neighbour into its own copy. After P - 1 steps rank r holds the full
 * sum of chunk (r + 1). Allgather: at step s rank r passes chunk
 * (r + 1 - s) on and stores chunk (r - s) from the left. Every rank sends
 * 2 (P - 1) / P of the vector in all, whatever P is.
 */
#include <mpi.h>
#include <stdlib.h>

void ring_allreduce(double *data, long n, MPI_Comm comm) {
  int rank, size;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  if (size == 1 || n == 0) return;
  int right = (rank + 1) % size, left = (rank - 1 + size) % size;
#define START(c) ((long)(c) * n / size)
#define LEN(c) (START((c) + 1) - START(c))
  double *tmp = malloc(sizeof(double) * (size_t)(n / size + 1));
  for (int s = 0; s < size - 1; s++) {
    int send = ((rank - s) % size + size) % size, recv = ((rank - s - 1) % size + size) % size;
    MPI_Sendrecv(data + START(send), (int)LEN(send), MPI_DOUBLE, right, 0, tmp, (int)LEN(recv), MPI_DOUBLE,
                 left, 0, comm, MPI_STATUS_IGNORE);
    double *dst = data + START(recv);
    for (long i = 0; i < LEN(recv); i++) dst[i] += tmp[i];
  }
  for (int s = 0; s < size - 1; s++) {
    int send = ((rank + 1 - s) % size + size) % size, recv = ((rank - s) % size + size) % size;
    MPI_Sendrecv(data + START(send), (int)LEN(send), MPI_DOUBLE, right, 1, data + START(recv), (int)LEN(recv),
                 MPI_DOUBLE, left, 1, comm, MPI_STATUS_IGNORE);
  }
  free(tmp);
#undef START
#undef LEN
}
