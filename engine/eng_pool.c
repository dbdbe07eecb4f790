/*
 * eng_pool.c — fork-join pool: persistent workers woken by a generation
 * counter.
 *
 * Dispatch protocol. The caller (worker 0) writes the job into the pool,
 * sets `remaining` to the number of helper workers, then bumps `gen` with
 * release order; helpers that see a new `gen` (acquire) read the job, run
 * their block and decrement `remaining`. The caller runs its own block and
 * waits for `remaining == 0`. All data flows through those two atomics, so
 * the futex calls are only a way to sleep, never a source of ordering.
 *
 * Sleeping. A waiter spins for a short time (an empty region must cost
 * microseconds, and a futex round trip alone is several), then announces
 * itself (`sleepers` / `caller_sleeping`) and sleeps on the futex word. The
 * waker changes the word first and reads the announcement second; the
 * sleeper announces first and has the kernel re-check the word second. With
 * sequentially consistent atomics one of the two always sees the other, so
 * no wake-up is lost and the waker only pays for a syscall when someone
 * actually sleeps.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#endif
#include "eng_pool.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "pl_err.h"

#define ENG_MAX_THREADS 1024
#define ENG_CACHE_LINE 64
#define ENG_MAX_ELEM 256

/* How long a waiter spins before it sleeps. Long enough to cover the gap
 * between back-to-back regions; short when the pool has more threads than
 * cores, where spinning steals the CPU the awaited thread needs. */
#define SPIN_NS_DEDICATED 100000ull
#define SPIN_NS_OVERSUBSCRIBED 2000ull

enum { JOB_FOR, JOB_REDUCE, JOB_STOP };

struct eng_pool {
  int n;                 /* workers including the caller */
  uint64_t spin_ns;
  unsigned fork_gen;     /* fork generation the threads belong to */
  pthread_t *threads;    /* n - 1 helpers */
  pthread_mutex_t call_lock;

  /* The current job; written by the caller before `gen` is bumped. */
  int kind;
  long begin;
  unsigned long len;
  int used;              /* workers with a non-empty block */
  eng_range_fn fn;
  eng_fold_fn fold;
  void *arg;
  size_t elem_size, stride;
  const void *identity;
  unsigned char *accs;   /* n slots of `stride` bytes, cache-line aligned */

  _Alignas(ENG_CACHE_LINE) _Atomic unsigned gen;
  _Atomic int sleepers;
  _Alignas(ENG_CACHE_LINE) _Atomic int remaining;
  _Atomic int caller_sleeping;
};

_Static_assert(sizeof(_Atomic unsigned) == 4 && sizeof(_Atomic int) == 4,
               "futex words are 32 bits");

typedef struct worker_start {
  eng_pool *p;
  int id;
} worker_start;

/* Index of the worker this thread is inside a region, -1 outside. */
static __thread int tls_worker = -1;

/* Bumped in every forked child: a pool's threads do not exist there, so a
 * pool from another fork generation runs inline and frees without joining. */
static _Atomic unsigned fork_gen;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void on_fork_child(void) { atomic_fetch_add(&fork_gen, 1); }
static void install_atfork(void) { pthread_atfork(NULL, NULL, on_fork_child); }

/* `word` is a 32-bit atomic; the kernel re-checks it against `expected`. */
static long futex_wait(void *word, int expected) {
  return syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}

static void futex_wake(void *word, int count) {
  syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, count, NULL, NULL, 0);
}

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Spin until `*word != old` or the budget runs out; true when it changed.
 * The clock is read only every 64 rounds to keep the loop tight. */
static int spin_until_changed_u(_Atomic unsigned *word, unsigned old, uint64_t budget) {
  uint64_t start = 0;
  for (unsigned i = 1;; i++) {
    if (atomic_load_explicit(word, memory_order_acquire) != old) return 1;
    cpu_relax();
    if ((i & 63) == 0) {
      uint64_t now = mono_ns();
      if (!start) start = now;
      else if (now - start >= budget) return 0;
    }
  }
}

static int spin_until_zero(_Atomic int *word, uint64_t budget) {
  uint64_t start = 0;
  for (unsigned i = 1;; i++) {
    if (atomic_load_explicit(word, memory_order_acquire) == 0) return 1;
    cpu_relax();
    if ((i & 63) == 0) {
      uint64_t now = mono_ns();
      if (!start) start = now;
      else if (now - start >= budget) return 0;
    }
  }
}

/* Worker w's share of the static schedule: contiguous, remainder spread
 * over the first workers so block sizes differ by at most one. */
static void block_of(const eng_pool *p, int w, long *b, long *e) {
  unsigned long n = (unsigned long)p->used;
  unsigned long base = p->len / n, rem = p->len % n, uw = (unsigned long)w;
  unsigned long off = uw * base + (uw < rem ? uw : rem);
  unsigned long size = base + (uw < rem ? 1 : 0);
  /* Unsigned arithmetic: begin + len may not fit a long mid-way. */
  *b = (long)((unsigned long)p->begin + off);
  *e = (long)((unsigned long)p->begin + off + size);
}

static void run_block(eng_pool *p, int w) {
  if (w >= p->used) return;
  long b, e;
  block_of(p, w, &b, &e);
  int saved = tls_worker;
  tls_worker = w;
  if (p->kind == JOB_FOR) {
    p->fn(p->arg, b, e, w);
  } else {
    void *acc = p->accs + (size_t)w * p->stride;
    memcpy(acc, p->identity, p->elem_size);
    p->fold(p->arg, b, e, w, acc);
  }
  tls_worker = saved;
}

static void *worker_main(void *arg) {
  worker_start ws = *(worker_start *)arg;
  free(arg);
  eng_pool *p = ws.p;
  /* Not a load of p->gen: the first job may already be published before
   * this thread runs, and it must not be mistaken for the starting point. */
  unsigned seen = 0;
  for (;;) {
    if (!spin_until_changed_u(&p->gen, seen, p->spin_ns)) {
      atomic_fetch_add(&p->sleepers, 1);
      while (atomic_load(&p->gen) == seen) futex_wait((void *)&p->gen, (int)seen);
      atomic_fetch_sub(&p->sleepers, 1);
    }
    seen = atomic_load_explicit(&p->gen, memory_order_acquire);
    if (p->kind == JOB_STOP) return NULL;
    run_block(p, ws.id);
    if (atomic_fetch_sub(&p->remaining, 1) == 1 && atomic_load(&p->caller_sleeping))
      futex_wake((void *)&p->remaining, 1);
  }
}

/* Publish the job in p->kind etc. to every helper and wait until they are
 * done; the caller runs block 0 in between. */
static void dispatch(eng_pool *p) {
  atomic_store_explicit(&p->remaining, p->n - 1, memory_order_relaxed);
  atomic_fetch_add(&p->gen, 1); /* seq_cst: release for the job fields */
  if (atomic_load(&p->sleepers) > 0) futex_wake((void *)&p->gen, INT_MAX);
  if (p->kind == JOB_STOP) return;

  run_block(p, 0);

  if (!spin_until_zero(&p->remaining, p->spin_ns)) {
    atomic_store(&p->caller_sleeping, 1);
    int r;
    while ((r = atomic_load(&p->remaining)) != 0) futex_wait((void *)&p->remaining, r);
    atomic_store(&p->caller_sleeping, 0);
  }
}

/* Inside a region, on a 1-worker pool, or in a forked child (where the
 * helpers do not exist) the work is done on the calling thread. */
static int must_run_inline(const eng_pool *p) {
  return p->n == 1 || tls_worker >= 0 || p->fork_gen != atomic_load(&fork_gen);
}

int eng_cores(void) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int c = CPU_COUNT(&set);
    if (c >= 1) return c;
  }
  long c = sysconf(_SC_NPROCESSORS_ONLN);
  return c >= 1 ? (int)(c > ENG_MAX_THREADS ? ENG_MAX_THREADS : c) : 1;
}

int eng_default_threads(void) {
  const char *s = getenv("PARLAB_NUM_THREADS");
  if (s && *s) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    while (*end == ' ' || *end == '\t' || *end == '\n') end++;
    if (!errno && *end == '\0' && v >= 1 && v <= ENG_MAX_THREADS) return (int)v;
  }
  int c = eng_cores();
  return c > ENG_MAX_THREADS ? ENG_MAX_THREADS : c;
}

/* Stop and join the first `started` helpers. */
static void stop_workers(eng_pool *p, int started) {
  if (started == 0) return;
  p->kind = JOB_STOP;
  dispatch(p);
  for (int i = 0; i < started; i++) pthread_join(p->threads[i], NULL);
}

int eng_pool_new(int nthreads, eng_pool **out) {
  int rc = 0, started = 0;
  eng_pool *p = NULL;
  if (!out) return PL_EINVAL;
  *out = NULL;
  if (nthreads <= 0) nthreads = eng_default_threads();
  if (nthreads > ENG_MAX_THREADS) return PL_EINVAL;
  pthread_once(&atfork_once, install_atfork);

  if (posix_memalign((void **)&p, ENG_CACHE_LINE, sizeof *p)) return PL_ENOMEM;
  memset(p, 0, sizeof *p);
  p->n = nthreads;
  p->fork_gen = atomic_load(&fork_gen);
  p->spin_ns = nthreads > eng_cores() ? SPIN_NS_OVERSUBSCRIBED : SPIN_NS_DEDICATED;
  atomic_init(&p->gen, 0);
  atomic_init(&p->sleepers, 0);
  atomic_init(&p->remaining, 0);
  atomic_init(&p->caller_sleeping, 0);
  if (pthread_mutex_init(&p->call_lock, NULL)) {
    free(p);
    return PL_EIO;
  }
  /* The largest stride reduce can need, so a region never allocates. */
  if (posix_memalign((void **)&p->accs, ENG_CACHE_LINE, (size_t)nthreads * ENG_MAX_ELEM)) {
    rc = PL_ENOMEM;
    goto done;
  }
  if (nthreads > 1) {
    p->threads = calloc((size_t)nthreads - 1, sizeof *p->threads);
    if (!p->threads) {
      rc = PL_ENOMEM;
      goto done;
    }
    /* Helpers block every signal so asynchronous signals (SIGINT, SIGALRM,
     * SIGCHLD) keep going to the application's own threads. */
    sigset_t all, old;
    sigfillset(&all);
    /* Faults stay deliverable: blocked, the kernel would kill the process
     * instead of running the application's handler. */
    static const int faults[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS};
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) sigdelset(&all, faults[i]);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    for (int i = 1; i < nthreads; i++) {
      worker_start *ws = malloc(sizeof *ws);
      if (!ws) {
        rc = PL_ENOMEM;
        break;
      }
      ws->p = p;
      ws->id = i;
      if (pthread_create(&p->threads[i - 1], NULL, worker_main, ws)) {
        free(ws);
        rc = PL_EIO;
        break;
      }
      started++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc < 0) {
      /* dispatch() counts on n - 1 helpers; shrink to those that exist. */
      p->n = started + 1;
      goto done;
    }
  }
  *out = p;
  p = NULL;

done:
  if (p) {
    stop_workers(p, started);
    free(p->threads);
    free(p->accs);
    pthread_mutex_destroy(&p->call_lock);
    free(p);
  }
  return rc;
}

/* at_exit: exit() may run while a region is in flight (a body that calls
 * exit, or another thread's region); waiting for the lock there would hang
 * the exit, so the pool is left to die with the process instead. */
static int pool_free(eng_pool *p, int at_exit) {
  if (!p) return 1;
  /* In a forked child the helpers are gone: nothing to stop or join. */
  if (p->fork_gen == atomic_load(&fork_gen)) {
    if (at_exit) {
      if (tls_worker >= 0 || pthread_mutex_trylock(&p->call_lock)) return 0;
    } else {
      pthread_mutex_lock(&p->call_lock);
    }
    stop_workers(p, p->n - 1);
    pthread_mutex_unlock(&p->call_lock);
    pthread_mutex_destroy(&p->call_lock);
  }
  free(p->threads);
  free(p->accs);
  free(p);
  return 1;
}

void eng_pool_free(eng_pool *p) { pool_free(p, 0); }

int eng_pool_size(const eng_pool *p) { return p ? p->n : 0; }

static eng_pool *default_pool;
static pthread_once_t default_once = PTHREAD_ONCE_INIT;

static void default_pool_atexit(void) {
  /* Later exit handlers get NULL rather than a freed pool. */
  if (pool_free(default_pool, 1)) default_pool = NULL;
}

static void default_pool_init(void) {
  eng_pool *p = NULL;
  /* If threads cannot be created, a 1-worker pool still runs everything. */
  if (eng_pool_new(0, &p) < 0 && eng_pool_new(1, &p) < 0) return;
  default_pool = p;
  atexit(default_pool_atexit);
}

eng_pool *eng_pool_default(void) {
  pthread_once(&default_once, default_pool_init);
  return default_pool;
}

/* Fill the job fields shared by for and reduce. */
static void set_range(eng_pool *p, long begin, long end) {
  p->begin = begin;
  p->len = (unsigned long)end - (unsigned long)begin;
  p->used = p->len < (unsigned long)p->n ? (int)p->len : p->n;
}

int eng_parallel_for(eng_pool *p, long begin, long end, eng_range_fn fn, void *arg) {
  if (!p || !fn) return PL_EINVAL;
  if (begin >= end) return 0;
  if (must_run_inline(p)) {
    int w = tls_worker >= 0 ? tls_worker : 0;
    int saved = tls_worker;
    tls_worker = w;
    fn(arg, begin, end, w);
    tls_worker = saved;
    return 0;
  }
  pthread_mutex_lock(&p->call_lock);
  p->kind = JOB_FOR;
  p->fn = fn;
  p->arg = arg;
  set_range(p, begin, end);
  dispatch(p);
  pthread_mutex_unlock(&p->call_lock);
  return 0;
}

int eng_parallel_reduce(eng_pool *p, long begin, long end, size_t elem_size,
                        const void *identity, eng_fold_fn fold,
                        eng_combine_fn combine, void *arg, void *out) {
  if (!p || !identity || !fold || !combine || !out) return PL_EINVAL;
  if (elem_size == 0 || elem_size > ENG_MAX_ELEM) return PL_EINVAL;
  if (begin >= end) {
    memmove(out, identity, elem_size);
    return 0;
  }
  if (must_run_inline(p)) {
    _Alignas(ENG_CACHE_LINE) unsigned char acc[ENG_MAX_ELEM];
    int w = tls_worker >= 0 ? tls_worker : 0;
    int saved = tls_worker;
    memcpy(acc, identity, elem_size);
    tls_worker = w;
    fold(arg, begin, end, w, acc);
    tls_worker = saved;
    memcpy(out, acc, elem_size);
    return 0;
  }
  pthread_mutex_lock(&p->call_lock);
  p->kind = JOB_REDUCE;
  p->fold = fold;
  p->arg = arg;
  p->identity = identity;
  p->elem_size = elem_size;
  p->stride = (elem_size + ENG_CACHE_LINE - 1) / ENG_CACHE_LINE * ENG_CACHE_LINE;
  set_range(p, begin, end);
  dispatch(p);
  /* Worker order, starting from worker 0's value rather than the identity:
   * the same input and pool size always give the same bits. */
  memcpy(out, p->accs, elem_size);
  for (int w = 1; w < p->used; w++) combine(arg, out, p->accs + (size_t)w * p->stride);
  pthread_mutex_unlock(&p->call_lock);
  return 0;
}

static void sum_combine(void *arg, void *acc, const void *other) {
  (void)arg;
  *(double *)acc += *(const double *)other;
}

int eng_parallel_sum(eng_pool *p, long begin, long end, eng_fold_fn fold,
                     void *arg, double *out) {
  static const double zero = 0.0;
  return eng_parallel_reduce(p, begin, end, sizeof(double), &zero, fold, sum_combine,
                             arg, out);
}
