/*
 * data-parallel-sgd, reference solution. Each rank sums the gradient over
 * its own rows; one MPI_Allreduce adds the ranks' sums, so every rank gets
 * the full-batch gradient and applies the same update: the replicas of w
 * never drift apart. Only d numbers travel per epoch, however many rows
 * there are, so the computation dominates and more ranks finish sooner.
 */
#include <mpi.h>
#include <stdlib.h>

void dp_train(const double *X, const double *y, long n_local, long n_total, int d, int epochs, double lr,
              double *w, MPI_Comm comm) {
  double *g = malloc(sizeof(double) * (size_t)d);
  for (int e = 0; e < epochs; e++) {
    for (int j = 0; j < d; j++) g[j] = 0;
    for (long i = 0; i < n_local; i++) {
      const double *x = X + i * d;
      double err = -y[i];
      for (int j = 0; j < d; j++) err += x[j] * w[j];
      for (int j = 0; j < d; j++) g[j] += err * x[j];
    }
    MPI_Allreduce(MPI_IN_PLACE, g, d, MPI_DOUBLE, MPI_SUM, comm);
    for (int j = 0; j < d; j++) w[j] -= lr * g[j] / n_total;
  }
  free(g);
}
