/*
 * eng_mpi_link.h — MPI messaging for a process that does not link libmpi:
 * the `parlab` binary becomes one rank of an mpirun job (distributed
 * grading) by loading libparlab-mpi.so, a small module built with mpicc
 * that exports a single table of functions.
 *
 * Why a module: the parlab binary re-executes itself for every jail, the
 * TUI and the compiler; linking Open MPI into it would add its dozen
 * libraries to every one of those starts. Only `parlab grade --mpi` needs
 * MPI, so only it pays for loading it (eng_mpi_link_load() in
 * eng_mpirun.h).
 *
 * The table speaks bytes and tags on MPI_COMM_WORLD: enough for a
 * coordinator and its workers, nothing more. Waiting is done by the
 * caller with poll() and a short sleep: Open MPI's blocking calls spin on
 * a core, and the cores belong to the jails doing the grading.
 *
 * Thread-safety: MPI is initialised with MPI_THREAD_FUNNELED; every
 * function of the table must be called from the thread that called init.
 */
#ifndef ENG_MPI_LINK_H
#define ENG_MPI_LINK_H

#include <stddef.h>

#define ENG_MPI_LINK_ABI 1

typedef struct eng_mpi_link {
  int abi;                 /* ENG_MPI_LINK_ABI */
  /* MPI_Init_thread (FUNNELED); rank and size in MPI_COMM_WORLD. The CPU
   * affinity mpirun may have bound this process to is widened to every
   * CPU of the node first: a bound rank would confine its jails to one
   * core. PL_EIO with `why` on failure. */
  int (*init)(int *rank, int *size, char *why, size_t why_len);
  int (*finalize)(void);
  void (*abort)(int code);   /* MPI_Abort on MPI_COMM_WORLD */
  /* Blocking standard send of len bytes (returns once the buffer may be
   * reused; large messages wait for the receiver to match). */
  int (*send)(int dest, int tag, const void *buf, size_t len);
  /* Non-blocking: 1 and the message's source, tag and length when one
   * from `source` (-1: any) with `tag` (-1: any) is waiting, else 0. */
  int (*poll)(int source, int tag, int *src_out, int *tag_out, size_t *len_out);
  /* Receive the message poll() reported (exact source and tag). */
  int (*recv)(int source, int tag, void *buf, size_t len);
  /* "Open MPI v4.1.4, ..." */
  const char *(*library)(void);
} eng_mpi_link;

/* The module's only export (resolved by eng_mpi_link_load()). */
const eng_mpi_link *eng_mpi_link_table(void);
typedef const eng_mpi_link *(*eng_mpi_link_table_fn)(void);

#endif
