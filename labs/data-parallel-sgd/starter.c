/*
 * data-parallel-sgd: linear regression by full-batch gradient descent,
 * data parallel over MPI ranks.
 *
 * X is this rank's n_local rows (row-major, d features each) of a data set
 * of n_total rows spread over the ranks of comm; y their targets. w holds
 * d zeros on entry. Each of the `epochs` steps must do what the serial
 * algorithm does on all n_total rows:
 *
 *   g = sum over all rows i of (x_i . w - y_i) x_i
 *   w = w - lr * g / n_total
 *
 * and on return every rank holds the same final w.
 *
 * This starter trains each rank on its own rows only: right on one rank,
 * wrong on several (see the brief).
 */
#include <mpi.h>
#include <stdlib.h>

void dp_train(const double *X, const double *y, long n_local, long n_total, int d, int epochs, double lr,
              double *w, MPI_Comm comm) {
  (void)n_total;
  (void)comm;
  double *g = malloc(sizeof(double) * (size_t)d);
  for (int e = 0; e < epochs; e++) {
    for (int j = 0; j < d; j++) g[j] = 0;
    for (long i = 0; i < n_local; i++) {
      const double *x = X + i * d;
      double err = -y[i];
      for (int j = 0; j < d; j++) err += x[j] * w[j];
      for (int j = 0; j < d; j++) g[j] += err * x[j];
    }
    for (int j = 0; j < d; j++) w[j] -= lr * g[j] / n_local;
  }
  free(g);
}
