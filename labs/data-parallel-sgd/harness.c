/*
 * harness.c — the data-parallel-sgd lab's main program, compiled with the
 * student's sgd.c.
 *
 *   harness N D EPOCHS LR SEED
 *
 * generates a linear regression data set of N rows and D features (rank r
 * keeps rows [r N / P, (r + 1) N / P)), calls dp_train() on every rank with
 * w = 0, and prints on every rank "w W0 W1 ..." (%.17g) and on rank 0
 * "time SECONDS": dp_train's time between barriers (MPI_Wtime), the
 * slowest rank's.
 *
 * Row i: x[i][j] = u((2 seed) << 40 | (i D + j)), y[i] = sum_j x[i][j] wt[j]
 * + 0.1 u((2 seed + 1) << 40 | i), where u(k) = splitmix64(k) mapped to
 * [-1, 1) and wt[j] = (-1)^j (1 + j) / D. The grader computes the same
 * numbers (labs/data-parallel-sgd/lab.lua).
 */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

void dp_train(const double *X, const double *y, long n_local, long n_total, int d, int epochs, double lr,
              double *w, MPI_Comm comm);

static uint64_t mix(uint64_t x) {
  uint64_t z = x + 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static double unit(uint64_t k) { return (double)(mix(k) >> 11) * 0x1.0p-53 * 2.0 - 1.0; }

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (argc < 6) {
    if (rank == 0) fprintf(stderr, "usage: harness N D EPOCHS LR SEED\n");
    MPI_Finalize();
    return 2;
  }
  long n = atol(argv[1]);
  int d = atoi(argv[2]), epochs = atoi(argv[3]);
  double lr = atof(argv[4]);
  uint64_t seed = strtoull(argv[5], NULL, 10);
  long first = n * rank / size, last = n * (rank + 1) / size, nl = last - first;
  double *X = malloc(sizeof(double) * (size_t)(nl * d + 1)), *y = malloc(sizeof(double) * (size_t)(nl + 1));
  double *w = calloc((size_t)d, sizeof *w);
  if (!X || !y || !w) MPI_Abort(MPI_COMM_WORLD, 3);
  for (long i = 0; i < nl; i++) {
    long g = first + i;
    double s = 0;
    for (int j = 0; j < d; j++) {
      double x = unit((2 * seed) << 40 | (uint64_t)(g * d + j));
      X[i * d + j] = x;
      s += x * ((j % 2 ? -1.0 : 1.0) * (1.0 + j) / d);
    }
    y[i] = s + 0.1 * unit((2 * seed + 1) << 40 | (uint64_t)g);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  double t0 = MPI_Wtime();
  dp_train(X, y, nl, n, d, epochs, lr, w, MPI_COMM_WORLD);
  double mine = MPI_Wtime() - t0, slowest = 0;
  MPI_Reduce(&mine, &slowest, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
  printf("w");
  for (int j = 0; j < d; j++) printf(" %.17g", w[j]);
  printf("\n");
  if (rank == 0) printf("time %.6f\n", slowest);
  free(X);
  free(y);
  free(w);
  MPI_Finalize();
  return 0;
}
