/*
 * eng_cluster.c — typed collectives over MPI. See eng_cluster.h.
 */
#include "eng_cluster.h"

#include <limits.h>

#include "pl_err.h"

static MPI_Datatype mpi_type(eng_dtype t) {
  switch (t) {
  case ENG_F64: return MPI_DOUBLE;
  case ENG_F32: return MPI_FLOAT;
  case ENG_I64: return MPI_INT64_T;
  }
  return MPI_DATATYPE_NULL;
}

static MPI_Op mpi_op(eng_red_op op) {
  switch (op) {
  case ENG_RED_SUM: return MPI_SUM;
  case ENG_RED_MAX: return MPI_MAX;
  case ENG_RED_MIN: return MPI_MIN;
  }
  return MPI_OP_NULL;
}

int eng_cluster_allreduce(const void *send, void *recv, long n, eng_dtype t, eng_red_op op, MPI_Comm comm) {
  MPI_Datatype dt = mpi_type(t);
  MPI_Op mo = mpi_op(op);
  if (n < 0 || (n > 0 && !recv) || dt == MPI_DATATYPE_NULL || mo == MPI_OP_NULL) return PL_EINVAL;
  size_t es = eng_dtype_size(t);
  /* MPI counts are int: a larger buffer goes in pieces. */
  for (long off = 0; off < n || (n == 0 && off == 0);) {
    long k = n - off > INT_MAX ? INT_MAX : n - off;
    char *r = (char *)recv + (size_t)off * es;
    const void *s = send == recv || !send ? MPI_IN_PLACE : (const char *)send + (size_t)off * es;
    if (MPI_Allreduce(s, r, (int)k, dt, mo, comm) != MPI_SUCCESS) return PL_EIO;
    off += k;
    if (n == 0) break;
  }
  return 0;
}

int eng_cluster_bcast(void *buf, long n, eng_dtype t, int root, MPI_Comm comm) {
  MPI_Datatype dt = mpi_type(t);
  if (n < 0 || (n > 0 && !buf) || dt == MPI_DATATYPE_NULL || root < 0) return PL_EINVAL;
  size_t es = eng_dtype_size(t);
  for (long off = 0; off < n || (n == 0 && off == 0);) {
    long k = n - off > INT_MAX ? INT_MAX : n - off;
    if (MPI_Bcast((char *)buf + (size_t)off * es, (int)k, dt, root, comm) != MPI_SUCCESS) return PL_EIO;
    off += k;
    if (n == 0) break;
  }
  return 0;
}

int eng_cluster_allreduce_avg(double *g, long n, MPI_Comm comm) {
  int size = 1;
  if (MPI_Comm_size(comm, &size) != MPI_SUCCESS) return PL_EIO;
  int rc = eng_cluster_allreduce(g, g, n, ENG_F64, ENG_RED_SUM, comm);
  if (rc) return rc;
  /* Every rank divides the same sums the same way: replicas stay
   * bit-identical (MPI_Allreduce gives every rank the same result). */
  for (long i = 0; i < n; i++) g[i] /= size;
  return 0;
}
