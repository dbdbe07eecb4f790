/*
 * mpi-ring, reference solution: MPI_Sendrecv posts the send and the
 * receive of a round together, so no rank ever waits for a receive that
 * nobody has posted, whatever the message size. The block arrives in a
 * second buffer (a send buffer must not be overwritten while it is being
 * sent), and the two buffers swap roles every round.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  long n = argc > 1 ? atol(argv[1]) : 8;
  int rounds = argc > 2 ? atoi(argv[2]) : size;
  double *block = malloc(sizeof(double) * (size_t)n);
  double *next = malloc(sizeof(double) * (size_t)n);
  double *acc = malloc(sizeof(double) * (size_t)n);
  for (long i = 0; i < n; i++) acc[i] = block[i] = rank * 1000.0 + (double)(i % 1000);
  int right = (rank + 1) % size, left = (rank - 1 + size) % size;

  for (int r = 0; r < rounds; r++) {
    MPI_Sendrecv(block, (int)n, MPI_DOUBLE, right, 0, next, (int)n, MPI_DOUBLE, left, 0, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE);
    double *t = block;
    block = next;
    next = t;
    for (long i = 0; i < n; i++) acc[i] += block[i];
  }

  double sum = 0;
  for (long i = 0; i < n; i++) sum += acc[i];
  printf("rank %d: first %.0f last %.0f acc %.0f\n", rank, block[0], block[n - 1], sum);
  free(block);
  free(next);
  free(acc);
  MPI_Finalize();
  return 0;
}
