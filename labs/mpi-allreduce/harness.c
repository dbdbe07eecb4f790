/*
 * harness.c — the mpi-allreduce lab's main program, compiled with the
 * student's allreduce.c. It calls ring_allreduce() on every rank and
 * prints what the grader checks:
 *
 *   harness check N1 N2 ...   for each n: data[i] = value(rank, i, 0), then
 *                             ring_allreduce(data, n); each rank prints
 *                             "n N checksum C collectives K"
 *   harness bench N REPS      REPS rounds, each timing ring_allreduce and
 *                             MPI_Allreduce once on the same N values (order
 *                             alternating, fresh values every round, the
 *                             slowest rank's time between barriers); rank 0
 *                             prints "bench ring T1 T2 ...", "bench mpi T1 T2
 *                             ...", "bench mismatches M collectives K"
 *
 * value(r, i, k) is a multiple of 1/8 below 125: every sum over ranks is
 * exact in any order, so the result must equal MPI_Allreduce's bit for
 * bit, and the checksum sum_i data[i] * (i % 7 + 1) is exact too.
 *
 * Collectives are counted through MPI's profiling interface: the harness
 * defines MPI_Allreduce and the other collectives, forwards each to its
 * PMPI_ twin, and counts the calls made while ring_allreduce() runs.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ring_allreduce(double *data, long n, MPI_Comm comm);

static int in_student;
static long collectives;
#define COUNTED (in_student ? (void)collectives++ : (void)0)

int MPI_Allreduce(const void *s, void *r, int c, MPI_Datatype t, MPI_Op o, MPI_Comm m) {
  COUNTED;
  return PMPI_Allreduce(s, r, c, t, o, m);
}
int MPI_Reduce(const void *s, void *r, int c, MPI_Datatype t, MPI_Op o, int root, MPI_Comm m) {
  COUNTED;
  return PMPI_Reduce(s, r, c, t, o, root, m);
}
int MPI_Reduce_scatter(const void *s, void *r, const int rc[], MPI_Datatype t, MPI_Op o, MPI_Comm m) {
  COUNTED;
  return PMPI_Reduce_scatter(s, r, rc, t, o, m);
}
int MPI_Reduce_scatter_block(const void *s, void *r, int c, MPI_Datatype t, MPI_Op o, MPI_Comm m) {
  COUNTED;
  return PMPI_Reduce_scatter_block(s, r, c, t, o, m);
}
int MPI_Allgather(const void *s, int sc, MPI_Datatype st, void *r, int rc, MPI_Datatype rt, MPI_Comm m) {
  COUNTED;
  return PMPI_Allgather(s, sc, st, r, rc, rt, m);
}
int MPI_Allgatherv(const void *s, int sc, MPI_Datatype st, void *r, const int rc[], const int d[],
                   MPI_Datatype rt, MPI_Comm m) {
  COUNTED;
  return PMPI_Allgatherv(s, sc, st, r, rc, d, rt, m);
}
int MPI_Bcast(void *b, int c, MPI_Datatype t, int root, MPI_Comm m) {
  COUNTED;
  return PMPI_Bcast(b, c, t, root, m);
}
int MPI_Gather(const void *s, int sc, MPI_Datatype st, void *r, int rc, MPI_Datatype rt, int root, MPI_Comm m) {
  COUNTED;
  return PMPI_Gather(s, sc, st, r, rc, rt, root, m);
}
int MPI_Scatter(const void *s, int sc, MPI_Datatype st, void *r, int rc, MPI_Datatype rt, int root, MPI_Comm m) {
  COUNTED;
  return PMPI_Scatter(s, sc, st, r, rc, rt, root, m);
}
int MPI_Alltoall(const void *s, int sc, MPI_Datatype st, void *r, int rc, MPI_Datatype rt, MPI_Comm m) {
  COUNTED;
  return PMPI_Alltoall(s, sc, st, r, rc, rt, m);
}
int MPI_Scan(const void *s, void *r, int c, MPI_Datatype t, MPI_Op o, MPI_Comm m) {
  COUNTED;
  return PMPI_Scan(s, r, c, t, o, m);
}
int MPI_Iallreduce(const void *s, void *r, int c, MPI_Datatype t, MPI_Op o, MPI_Comm m, MPI_Request *q) {
  COUNTED;
  return PMPI_Iallreduce(s, r, c, t, o, m, q);
}

static double value(int r, long i, int k) { return (double)(((r + 1) * 7919L + i * 31 + k * 17L) % 1000) / 8.0; }

static void fill(double *d, long n, int rank, int k) {
  for (long i = 0; i < n; i++) d[i] = value(rank, i, k);
}

static void student(double *d, long n) {
  in_student = 1;
  ring_allreduce(d, n, MPI_COMM_WORLD);
  in_student = 0;
}

/* Time one call between barriers: the slowest rank's seconds. */
static double timed(double *d, long n, int ring) {
  MPI_Barrier(MPI_COMM_WORLD);
  double t0 = MPI_Wtime();
  if (ring) student(d, n);
  else PMPI_Allreduce(MPI_IN_PLACE, d, (int)n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  double dt = MPI_Wtime() - t0, worst = 0;
  PMPI_Allreduce(&dt, &worst, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return worst;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (argc >= 2 && !strcmp(argv[1], "check")) {
    for (int a = 2; a < argc; a++) {
      long n = atol(argv[a]);
      double *d = malloc(sizeof(double) * (size_t)(n + 1));
      fill(d, n, rank, 0);
      collectives = 0;
      student(d, n);
      double c = 0;
      for (long i = 0; i < n; i++) c += d[i] * (double)(i % 7 + 1);
      printf("n %ld checksum %.3f collectives %ld\n", n, c, collectives);
      fflush(stdout);
      free(d);
    }
  } else if (argc >= 4 && !strcmp(argv[1], "bench")) {
    long n = atol(argv[2]);
    int reps = atoi(argv[3]);
    double *a = malloc(sizeof(double) * (size_t)n), *b = malloc(sizeof(double) * (size_t)n);
    double *tr = calloc((size_t)reps, sizeof *tr), *tm = calloc((size_t)reps, sizeof *tm);
    long mismatches = 0;
    collectives = 0;
    for (int k = 0; k <= reps; k++) { /* k = 0: warm-up, not recorded */
      fill(a, n, rank, k);
      fill(b, n, rank, k);
      double r, m;
      if (k % 2) {
        m = timed(b, n, 0);
        r = timed(a, n, 1);
      } else {
        r = timed(a, n, 1);
        m = timed(b, n, 0);
      }
      if (k > 0) {
        tr[k - 1] = r;
        tm[k - 1] = m;
      }
      mismatches += memcmp(a, b, sizeof(double) * (size_t)n) != 0;
    }
    long all[2] = {mismatches, collectives}, sum[2] = {0, 0};
    PMPI_Reduce(all, sum, 2, MPI_LONG, MPI_SUM, 0, MPI_COMM_WORLD);
    if (rank == 0) {
      printf("bench ring");
      for (int k = 0; k < reps; k++) printf(" %.6f", tr[k]);
      printf("\nbench mpi");
      for (int k = 0; k < reps; k++) printf(" %.6f", tm[k]);
      printf("\nbench mismatches %ld collectives %ld\n", sum[0], sum[1]);
    }
    free(a);
    free(b);
    free(tr);
    free(tm);
  } else if (rank == 0) {
    fprintf(stderr, "usage: harness check N... | bench N REPS\n");
  }
  MPI_Finalize();
  return 0;
}
