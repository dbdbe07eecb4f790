/*
 * mpi-ring: pass blocks of numbers around a ring of ranks.
 *
 *   ring N ROUNDS
 *
 * Every rank starts with a block of N doubles, block[i] = rank * 1000 +
 * i % 1000, and an accumulator acc = block. In each of ROUNDS rounds it
 * sends its current block to the right neighbour (rank + 1, wrapping
 * around), receives the left neighbour's block in its place, and adds the
 * new block into acc. At the end every rank prints one line:
 *
 *   rank R: first F last L acc A
 *
 * with F and L the first and last values of its current block and A the
 * sum of acc's values.
 *
 * This starter sends, then receives. It works for small blocks and hangs
 * for large ones: find out why in the brief, then fix it.
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
  double *acc = malloc(sizeof(double) * (size_t)n);
  for (long i = 0; i < n; i++) acc[i] = block[i] = rank * 1000.0 + (double)(i % 1000);
  int right = (rank + 1) % size, left = (rank - 1 + size) % size;

  for (int r = 0; r < rounds; r++) {
    MPI_Send(block, (int)n, MPI_DOUBLE, right, 0, MPI_COMM_WORLD);
    MPI_Recv(block, (int)n, MPI_DOUBLE, left, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    for (long i = 0; i < n; i++) acc[i] += block[i];
  }

  double sum = 0;
  for (long i = 0; i < n; i++) sum += acc[i];
  printf("rank %d: first %.0f last %.0f acc %.0f\n", rank, block[0], block[n - 1], sum);
  free(block);
  free(acc);
  MPI_Finalize();
  return 0;
}
