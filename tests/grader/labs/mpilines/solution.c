/* Every rank prints 6,000 numbered lines (about 200 KB in all). */
#include <mpi.h>
#include <stdio.h>

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int r;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  for (int i = 0; i < 6000; i++) printf("count w%d_%d %d\n", r, i, i * 7);
  MPI_Finalize();
  return 0;
}
