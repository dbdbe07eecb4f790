/* mpi-allreduce, wrong on purpose: the right sums, from MPI's own
 * collective. "point-to-point messages only" must fail and say why. */
#include <mpi.h>

void ring_allreduce(double *data, long n, MPI_Comm comm) {
  MPI_Allreduce(MPI_IN_PLACE, data, (int)n, MPI_DOUBLE, MPI_SUM, comm);
}
