/*
 * eng_procs.h — a pre-forked process pool (tasks, futures, map with a chunk
 * size, unordered completion) with fault tolerance, and single child
 * processes (the counterpart of multiprocessing.Process).
 *
 * The pool forks its workers once, at eng_procs_new(), and talks to them
 * through one shared-memory segment (an anonymous memfd, mapped before the
 * fork and closed at once, so it has no name and cannot outlive the last
 * process that maps it):
 *
 *   cells      one per queued or running task: its state, attempt count
 *              and payload (inline, or in the arena);
 *   ring       a queue of cell indices, filled by the caller and drained
 *              by the workers (lock free: a worker claims a cell with one
 *              compare-and-swap that also records who took it);
 *   arena      payloads too large for a cell, and jobs (bytes shared by
 *              every task of a map: the function and its extra arguments),
 *              allocated by the caller only;
 *   results    one byte ring per worker (single producer, single consumer),
 *              results written in place and published with one store.
 *
 * Nothing on this path is a pipe or a system call: an idle worker spins
 * for a short while, then sleeps on a futex; the caller does the same, and
 * sleeps in poll() on an eventfd and the workers' pidfds, so a worker that
 * dies wakes it at once. Descriptors (engine arrays in shared memory) are
 * the exception: they travel over a per-worker Unix socket (SCM_RIGHTS).
 *
 * Fault tolerance. A worker that dies (a signal, exit(), the OOM killer)
 * is reaped and replaced; the task it had claimed is found by its cell
 * state, put back at the end of the queue and retried, up to `retries`
 * more times, after which it completes with ENG_PROCS_CRASHED and the
 * cause ("worker 1 (pid 42) was killed by signal 11 (SIGSEGV) while
 * running it"). Claiming and publishing are single atomic stores, so a
 * death at any instant leaves the queues consistent. A task whose deadline
 * passes (plus a grace second) gets its worker killed, which turns a hang
 * in native code into a crash. Retried tasks run again: side effects of a
 * task that died half-way happen twice (at-least-once delivery).
 *
 * Clean shutdown. Workers get SIGKILL when the thread that forked them
 * dies (PR_SET_PDEATHSIG) and exit when the caller's end of their socket
 * closes (the caller exec'd), so they never outlive it. SIGINT is ignored
 * in workers: Ctrl-C stops the caller, and the workers follow. Every
 * worker is reaped (no zombies), by eng_procs_free() or, if the caller was
 * killed, by init.
 *
 * Thread-safety: a pool is used by one thread at a time (the one that made
 * it, ideally: the parent-death signal follows that thread). Worker code
 * runs in separate processes and shares nothing with the caller but the
 * bytes it is sent. Fork copies only the calling thread: workers must not
 * use locks that other threads of the caller may have held (glibc's malloc
 * is safe).
 */
#ifndef ENG_PROCS_H
#define ENG_PROCS_H

#include <stddef.h>
#include <stdint.h>

typedef struct eng_procs eng_procs;

/* A task as the worker sees it, valid during the handler's call. */
typedef struct eng_procs_task {
  uint64_t id;          /* unique in the pool, from 1 */
  const void *data;     /* payload given to eng_procs_submit */
  size_t len;
  uint64_t job;         /* 0, or the job the task belongs to */
  const void *jobdata;  /* that job's bytes (shared by its tasks) */
  size_t joblen;
  int *fds;             /* descriptors sent with the task: the handler may
                           keep one by setting its entry to -1; the engine
                           closes the others after the call */
  int nfds;
  const int *jobfds;    /* the job's descriptors (owned by the engine) */
  int njobfds;
  int attempt;          /* 1 the first time, then 2, 3 ... after crashes */
  int worker;           /* 0 .. size-1 */
  double deadline;      /* eng_now() seconds, 0: none */
} eng_procs_task;

/* Builds a task's result in the worker. */
typedef struct eng_procs_out eng_procs_out;
int eng_procs_out_write(eng_procs_out *o, const void *p, size_t n);
/* Send descriptors with the result (duplicated here: the caller keeps its
 * own). At most ENG_PROCS_MAX_FDS per result. */
int eng_procs_out_fds(eng_procs_out *o, const int *fds, int n);

#define ENG_PROCS_MAX_FDS 32
#define ENG_PROCS_MAX_WORKERS 256

/* The worker's handler: 0 for a result (the bytes written), nonzero for an
 * error whose message is the bytes written. */
typedef int (*eng_procs_fn)(void *ctx, eng_procs_task *t, eng_procs_out *out);
/* Called in each worker process once, after the fork (replacements too). */
typedef void (*eng_procs_init_fn)(void *ctx, int worker);

typedef struct eng_procs_opts {
  int workers;      /* <= 0: eng_default_threads() */
  int retries;      /* extra attempts after crashes; < 0: 2; at most 100 */
  long spin_us;     /* how long an idle worker or a waiting caller spins
                       before sleeping; < 0: PARLAB_SPIN_US or 50 */
  int cells;        /* queued + running tasks at once; <= 0: 1024 */
  size_t arena;     /* bytes for large payloads and jobs; 0: 64 MiB
                       (address space, backed only as used) */
  eng_procs_init_fn init;
} eng_procs_opts;

enum {
  ENG_PROCS_OK = 0,        /* data: the result */
  ENG_PROCS_ERROR = 1,     /* the handler reported an error; data: message */
  ENG_PROCS_CRASHED = 2,   /* workers died running it, retries exhausted;
                              data: the cause */
  ENG_PROCS_CANCELLED = 3  /* cancelled before it started */
};

typedef struct eng_procs_result {
  uint64_t id, tag;
  int status;              /* ENG_PROCS_* */
  char *data;              /* NUL-terminated after len bytes; owned */
  size_t len;
  int *fds;                /* descriptors sent with the result; owned */
  int nfds;
  int attempts;            /* runs started, crashes included */
  int worker, pid;         /* who finished it (last one for a crash) */
} eng_procs_result;

void eng_procs_result_clear(eng_procs_result *r); /* frees data, closes fds */

/* Start the pool: fork its workers. PL_EINVAL for bad options or a NULL
 * fn, PL_EIO when fork or the shared segment fail (a partly started pool
 * is torn down; errno tells why). A worker keeps none of the caller's
 * descriptors but 0-2: what it needs comes through its socket.
 * OUT: *out, caller frees with eng_procs_free(). */
int eng_procs_new(const eng_procs_opts *o, eng_procs_fn fn, void *ctx, eng_procs **out);
/* Graceful: wait up to timeout_s (< 0: no limit) for every outstanding
 * task (their results stay available), then stop the workers and reap
 * them. PL_ETIMEOUT if tasks remain (then nothing is stopped). */
int eng_procs_close(eng_procs *p, double timeout_s);
/* Stop at once: running tasks are abandoned, workers are asked to exit and
 * killed after 100 ms, every one is reaped; the segment is unmapped. */
void eng_procs_free(eng_procs *p);

int eng_procs_size(const eng_procs *p);
/* pid of worker w (0 while it is being replaced), -1 out of range. */
int eng_procs_pid(const eng_procs *p, int w);

/* A job: bytes shared by many tasks (sent once, not once per task), with
 * descriptors every worker receives once. fds are borrowed: keep them
 * open until eng_procs_job_free(). The job is released when freed and its
 * last task has finished. OUT: *job. */
int eng_procs_job_new(eng_procs *p, const void *data, size_t len, const int *fds, int nfds,
                      uint64_t *job);
void eng_procs_job_free(eng_procs *p, uint64_t job);

typedef struct eng_procs_sub {
  const void *data;
  size_t len;
  const int *fds;       /* borrowed: keep open until the task finishes */
  int nfds;
  uint64_t job;         /* 0: none */
  uint64_t tag;         /* any value; eng_procs_wait_tag() filters on it */
  double deadline;      /* eng_now() seconds; 0: none. Past it (+1 s) the
                           worker running the task is killed */
} eng_procs_sub;

/* Queue a task; blocks (collecting results meanwhile) while every cell is
 * taken or the arena is full, up to the caller's patience: PL_ETIMEOUT
 * after timeout_s (< 0: none). PL_EINVAL for a payload larger than the
 * arena or too many fds; PL_EIO when the pool is broken. */
int eng_procs_submit(eng_procs *p, const eng_procs_sub *s, double timeout_s, uint64_t *id);

/* 1 when the task has finished (its result is waiting), 0 when not,
 * PL_ENOTFOUND for an unknown or already collected id. Never blocks, but
 * collects what the workers published. */
int eng_procs_done(eng_procs *p, uint64_t id);
/* Take the result of one task, waiting up to timeout_s (< 0: no limit).
 * PL_ETIMEOUT, or PL_ENOTFOUND for an unknown or already collected id.
 * OUT: *out, caller clears with eng_procs_result_clear(). */
int eng_procs_wait(eng_procs *p, uint64_t id, double timeout_s, eng_procs_result *out);
/* Take the result of the next task with this tag to finish (completion
 * order). PL_ENOTFOUND when no task with the tag is outstanding. */
int eng_procs_wait_tag(eng_procs *p, uint64_t tag, double timeout_s, eng_procs_result *out);
/* Index of a finished task among ids[0..n) (the lowest), without taking
 * its result. PL_ENOTFOUND when one of them is unknown, PL_ETIMEOUT. */
int eng_procs_wait_any(eng_procs *p, const uint64_t *ids, int n, double timeout_s);
/* Withdraw a task that has not started: it completes as
 * ENG_PROCS_CANCELLED. PL_ENOTFOUND when it started, finished or is
 * unknown. eng_procs_cancel_tag withdraws all of a tag's queued tasks and
 * returns how many. */
int eng_procs_cancel(eng_procs *p, uint64_t id);
long eng_procs_cancel_tag(eng_procs *p, uint64_t tag);
/* Nobody will take these results: what has not started is cancelled,
 * what has finished is dropped, and the rest is dropped as it finishes. */
void eng_procs_discard(eng_procs *p, uint64_t id);
void eng_procs_discard_tag(eng_procs *p, uint64_t tag);
/* Tasks submitted whose results have not been taken. */
long eng_procs_pending(const eng_procs *p);

/* Map: tasks of `chunk` consecutive indices over [0, n), each with the
 * payload { long begin, end } and the given job; collect(arg, r, begin,
 * end) receives each result in completion order and owns nothing (return
 * nonzero to stop: queued tasks are cancelled). A task that ends in error
 * or crash is given to collect like the others. chunk <= 0 picks
 * n / (4 * workers), as Python's Pool.map does. */
typedef int (*eng_procs_collect_fn)(void *arg, const eng_procs_result *r, long begin, long end);
int eng_procs_map(eng_procs *p, long n, long chunk, uint64_t job, double deadline,
                  eng_procs_collect_fn collect, void *arg);

typedef struct eng_procs_wstats {
  int pid;
  long tasks;       /* tasks finished by this slot's workers */
  double busy_s;    /* seconds spent in the handler */
  int restarts;     /* replacements of this slot */
} eng_procs_wstats;

typedef struct eng_procs_stats {
  long submitted, finished, crashes, retries, failed, cancelled, killed_late;
} eng_procs_stats;

int eng_procs_worker_stats(eng_procs *p, eng_procs_wstats *out, int n);
void eng_procs_get_stats(eng_procs *p, eng_procs_stats *out);

/* Only in a worker, from the handler: the attempt and worker of the task
 * running now (0 and -1 outside a worker). */
int eng_procs_current_attempt(void);
int eng_procs_current_worker(void);
/* 1 inside a pool worker or an eng_proc child. */
int eng_procs_in_child(void);

/* ---- single child processes ---- */

typedef struct eng_proc eng_proc;
/* Runs in the child; its return value is the exit status (0..255). */
typedef int (*eng_proc_fn)(void *ctx);

/* Fork a child that runs fn(ctx) and exits with its value. The child gets
 * the same set-up as pool workers: it dies with its parent, ignores
 * SIGINT, and keeps only descriptors 0-2 and those in keep[0..nkeep) (at
 * most ENG_PROCS_MAX_FDS): every other inherited one is closed, as pool
 * workers close theirs. OUT: *out, caller frees with eng_proc_free(). */
int eng_proc_spawn(eng_proc_fn fn, void *ctx, const int *keep, int nkeep, eng_proc **out);
int eng_proc_pid(const eng_proc *c);
/* Wait up to timeout_s (< 0: no limit) for the child to end. 0 and
 * *status (exit status >= 0, or -signal) when it has, PL_ETIMEOUT when
 * not. status may be NULL. */
int eng_proc_join(eng_proc *c, double timeout_s, int *status);
/* 1 while running. */
int eng_proc_alive(eng_proc *c);
/* Send a signal (SIGTERM by default: sig <= 0). */
int eng_proc_kill(eng_proc *c, int sig);
/* Kill (SIGKILL) if still running, reap, free. */
void eng_proc_free(eng_proc *c);
/* Live children made by eng_proc_spawn and pool workers of this process. */
int eng_procs_live_children(void);

/* "killed by signal 11 (SIGSEGV)", "exited with status 3" for a status as
 * eng_proc_join gives it. */
void eng_procs_describe_status(int status, char *buf, size_t cap);

#endif
