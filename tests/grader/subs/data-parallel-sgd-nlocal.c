/* data-parallel-sgd, wrong on purpose: the gradients are summed across
 * ranks but divided by the rank's own row count, so the steps are P times
 * too long. "matches the serial run" must fail from 2 ranks on. */
#include <mpi.h>
#include <stdlib.h>

void dp_train(const double *X, const double *y, long n_local, long n_total, int d, int epochs, double lr,
              double *w, MPI_Comm comm) {
  (void)n_total;
  double *g = malloc(sizeof(double) * (size_t)d);
  for (int e = 0; e < epochs; e++) {
    for (int j = 0; j < d; j++) g[j] = 0;
    for (long i = 0; i < n_local; i++) {
      double err = -y[i];
      for (int j = 0; j < d; j++) err += X[i * d + j] * w[j];
      for (int j = 0; j < d; j++) g[j] += err * X[i * d + j];
    }
    MPI_Allreduce(MPI_IN_PLACE, g, d, MPI_DOUBLE, MPI_SUM, comm);
    for (int j = 0; j < d; j++) w[j] -= lr * g[j] / n_local;
  }
  free(g);
}
