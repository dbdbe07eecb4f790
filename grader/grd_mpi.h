/*
 * grd_mpi.h — distributed batch grading: `mpirun -np N parlab grade LAB
 * DIR --mpi` shares one class's submissions among N ranks, possibly on
 * many machines; each rank grades its share with grd_batch_run() (its own
 * worker processes, its own jails), and rank 0 alone writes the gradebook.
 *
 * Roles. Every rank loads the lab itself (the course must exist at the
 * same path on every node). Rank 0 discovers the submissions, decides
 * which need grading, and sends each remote rank its share *with the
 * files' bytes*, so only rank 0 needs to see DIR. Submissions are dealt
 * round-robin in name order; missing ones stay on rank 0. Rank 0 grades
 * its own share in a second thread while its main thread receives the
 * other ranks' results, and hands every result, whichever rank produced
 * it, to the same `done` callback grd_batch_run() would have called (one
 * at a time, under a lock): the gradebook gets the same rows as from a
 * single-machine run of the same submissions.
 *
 * Results travel as grd_result_json(r, 1), the form grd_batch_run()'s own
 * workers use, so nothing is lost on the way; the submission path in a
 * result is rank 0's, not the copy's.
 *
 * Failure. A fatal error on any rank (the sandbox cannot be set up, the
 * lab is broken, a rank cannot load the lab) stops the batch on every
 * rank after the submissions in flight, and grd_mpi_batch_run() returns it
 * with the message. A rank that dies makes mpirun end the job; what rank 0
 * recorded stays, and a rerun grades the rest.
 *
 * MPI is reached through the link module (eng_mpi_link.h), loaded by
 * grd_mpi_open(): a build without MPI reports PL_ENOSYS with the reason.
 * Waiting uses MPI_Iprobe and short sleeps, never a spinning MPI call.
 *
 * Thread-safety: call everything from the thread that called
 * grd_mpi_open() (MPI_THREAD_FUNNELED); rank 0's grading thread never
 * touches MPI.
 */
#ifndef GRD_MPI_H
#define GRD_MPI_H

#include "grd_batch.h"

typedef struct grd_mpi grd_mpi;

/* Load the link module and join the job (MPI_Init). OUT: *out, finish
 * with grd_mpi_close(). PL_ENOSYS (no MPI in this build), PL_EIO. *err
 * says why (caller frees). */
int grd_mpi_open(grd_mpi **out, char **err);
int grd_mpi_rank(const grd_mpi *m);
int grd_mpi_size(const grd_mpi *m);

/* Rank 0: grd_batch_run()'s contract, with the work shared among all
 * ranks (o->jobs worker processes on each). */
int grd_mpi_batch_run(grd_mpi *m, const lx_lab *lab, const grd_sub *subs, int n,
                      const unsigned char *todo, const grd_batch_opts *o, char **err);

/* Ranks > 0: grade what rank 0 sends until it says stop; then leave the
 * job (as grd_mpi_close()). lab NULL: this rank could not load it (the
 * batch is stopped with that reason). Returns rank 0's exit code. */
int grd_mpi_serve(grd_mpi *m, const lx_lab *lab, int jobs);

/* Every rank, once: rank 0 tells the others to stop with exit code
 * `code`; MPI_Finalize; free. NULL is a no-op. */
void grd_mpi_close(grd_mpi *m, int code);

/* Started by mpirun as one of several ranks (then `grade` needs --mpi). */
int grd_mpi_launched(void);

/* Defined in grd_batch.c: the inverse of grd_result_json(r, 1). */
int grd__result_from_json(const char *text, grd_result **out);

#endif
