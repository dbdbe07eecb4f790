/*
 * eng_mpi_link.c — libparlab-mpi.so: the MPI messaging table of
 * eng_mpi_link.h, built with mpicc as a loadable module.
 */
#include "eng_mpi_link.h"

#include <mpi.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pl_err.h"

/* mpirun binds ranks to cores unless told `--bind-to none`: undo it, or
 * every jail this rank starts would share one core. The kernel keeps the
 * mask within the cpuset (cgroup) this process is allowed. */
static void unbind(void) {
  cpu_set_t all;
  CPU_ZERO(&all);
  long n = sysconf(_SC_NPROCESSORS_CONF);
  for (long i = 0; i < n && i < CPU_SETSIZE; i++) CPU_SET((int)i, &all);
  sched_setaffinity(0, sizeof all, &all);
}

static int l_init(int *rank, int *size, char *why, size_t why_len) {
  int provided = 0, flag = 0;
  MPI_Initialized(&flag);
  if (!flag && MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
    snprintf(why, why_len, "MPI_Init_thread failed");
    return PL_EIO;
  }
  unbind();
  /* Errors come back as codes, so that a rank can report them. */
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, rank);
  MPI_Comm_size(MPI_COMM_WORLD, size);
  return 0;
}

static int l_finalize(void) {
  int flag = 0;
  MPI_Finalized(&flag);
  return flag || MPI_Finalize() == MPI_SUCCESS ? 0 : PL_EIO;
}

static void l_abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }

static int l_send(int dest, int tag, const void *buf, size_t len) {
  if (len > (size_t)0x7fffffff) return PL_EINVAL;
  return MPI_Send(buf, (int)len, MPI_BYTE, dest, tag, MPI_COMM_WORLD) == MPI_SUCCESS ? 0 : PL_EIO;
}

static int l_poll(int source, int tag, int *src_out, int *tag_out, size_t *len_out) {
  int flag = 0, count = 0;
  MPI_Status st;
  if (MPI_Iprobe(source < 0 ? MPI_ANY_SOURCE : source, tag < 0 ? MPI_ANY_TAG : tag, MPI_COMM_WORLD,
                 &flag, &st) != MPI_SUCCESS)
    return PL_EIO;
  if (!flag) return 0;
  MPI_Get_count(&st, MPI_BYTE, &count);
  if (src_out) *src_out = st.MPI_SOURCE;
  if (tag_out) *tag_out = st.MPI_TAG;
  if (len_out) *len_out = (size_t)count;
  return 1;
}

static int l_recv(int source, int tag, void *buf, size_t len) {
  if (len > (size_t)0x7fffffff) return PL_EINVAL;
  return MPI_Recv(buf, (int)len, MPI_BYTE, source, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE) == MPI_SUCCESS
             ? 0
             : PL_EIO;
}

static const char *l_library(void) {
  static char v[MPI_MAX_LIBRARY_VERSION_STRING];
  int len = 0;
  if (!v[0]) {
    MPI_Get_library_version(v, &len);
    v[strcspn(v, "\n")] = 0;
  }
  return v;
}

static const eng_mpi_link table = {
  .abi = ENG_MPI_LINK_ABI, .init = l_init, .finalize = l_finalize, .abort = l_abort,
  .send = l_send, .poll = l_poll, .recv = l_recv, .library = l_library,
};

const eng_mpi_link *eng_mpi_link_table(void) { return &table; }
