/* Starter: only rank 0 knows the value; the others print 0. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int r, n, v = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  if (r == 0) v = atoi(argv[1]);
  printf("rank %d of %d got %d\n", r, n, v);
  MPI_Finalize();
  return 0;
}
