/*
 * eng_pool.c — fork-join pool: persistent workers woken by a generation
 * counter; static, dynamic and guided loop schedules; the wait policy.
 *
 * Dispatch protocol. The caller (worker 0) writes the job into the pool,
 * sets `remaining` to the number of helper workers, then bumps `gen` with
 * release order; helpers that see a new `gen` (acquire) read the job, run
 * their share and decrement `remaining`. The caller runs its own share and
 * waits for `remaining == 0`. All data flows through those two atomics, so
 * the futex calls are only a way to sleep, never a source of ordering.
 * Every helper acknowledges every region, even one that uses fewer
 * threads: a helper that skipped a generation could not tell which job
 * fields are current.
 *
 * Sleeping. A waiter spins for a short time (an empty region must cost
 * microseconds, and a futex round trip alone is several), then announces
 * itself (`idle` / `caller_sleeping`) and sleeps on a futex word. The
 * waker changes the state first and reads the announcement second; the
 * sleeper announces first and checks the state second. With sequentially
 * consistent atomics one of the two always sees the other, so no wake-up
 * is lost and the waker only pays for a syscall when someone sleeps.
 *
 * Adaptive spin. Under load, a woken thread may wait longer than the spin
 * for a core; then every region costs two sleeps and two wake-ups, and
 * that pattern sustains itself (each side gives up before the other
 * arrives). So when the caller had to sleep, the spin doubles (up to 16x
 * the policy, at most MAX_BOOST_NS), and it halves again after a run of
 * regions that needed no sleep. It stays bounded: an idle pool still
 * sleeps within MAX_BOOST_NS.
 *
 * Idle helpers also look for tasks (eng_task.c) between regions. Region
 * callers take slot 0 through eng__lock_slot0, which asks the futures'
 * stand-in (eng_task.c) to hand the slot over after its current task.
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

#include "eng_pool_int.h"
#include "pl_err.h"

#define ENG_MAX_THREADS 1024
#define ENG_MAX_ELEM 256
#define ENG_MAX_SPIN_NS 1000000000ull

/* Default spin: long enough to cover the gap between back-to-back regions;
 * short when the pool has more threads than cores, where spinning steals
 * the CPU the awaited thread needs. */
#define SPIN_NS_DEDICATED 100000ull
#define SPIN_NS_OVERSUBSCRIBED 2000ull
#define MAX_BOOST 4
#define MAX_BOOST_NS 2000000ull
#define CALM_REGIONS 1024

enum { JOB_FOR, JOB_REDUCE, JOB_STOP };

_Static_assert(sizeof(_Atomic unsigned) == 4 && sizeof(_Atomic int) == 4,
               "futex words are 32 bits");

typedef struct worker_start {
  eng_pool *p;
  int id;
} worker_start;

__thread int eng__tls_worker = -1;
__thread eng_pool *eng__tls_pool;
__thread int eng__tls_depth;

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

void eng__futex_wait(void *word, int expected) { futex_wait(word, expected); }
void eng__futex_wake(void *word, int count) { futex_wake(word, count); }

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

uint64_t eng__now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The low ENG_IDLE_BITS of p->idle count registered sleepers (at most
 * ENG_MAX_THREADS helpers plus the outside threads waiting on futures);
 * the rest is a wake generation, so a sleeper can tell whether a notifier
 * has already taken it off the count. */
#define ENG_IDLE_BITS 12
#define ENG_IDLE_COUNT ((1u << ENG_IDLE_BITS) - 1)
_Static_assert(ENG_MAX_THREADS < ENG_IDLE_COUNT, "sleeper count fits its field");

void eng__notify(eng_pool *p) {
  unsigned w = atomic_load(&p->idle);
  while (w & ENG_IDLE_COUNT) {
    unsigned next = (w & ~ENG_IDLE_COUNT) + (1u << ENG_IDLE_BITS);
    if (atomic_compare_exchange_weak(&p->idle, &w, next)) {
      futex_wake((void *)&p->idle, INT_MAX);
      return;
    }
  }
}

unsigned eng__idle_enter(eng_pool *p) { return atomic_fetch_add(&p->idle, 1) + 1; }

void eng__idle_wait(eng_pool *p, unsigned seen, uint64_t deadline_ns) {
  struct timespec ts, *tsp = NULL;
  if (deadline_ns) {
    uint64_t now = eng__now_ns();
    if (now >= deadline_ns) return;
    uint64_t left = deadline_ns - now;
    ts.tv_sec = (time_t)(left / 1000000000u);
    ts.tv_nsec = (long)(left % 1000000000u);
    tsp = &ts;
  }
  /* Another sleeper registering changes the word too: then the call
   * returns at once and the caller's loop looks again, still registered. */
  syscall(SYS_futex, (void *)&p->idle, FUTEX_WAIT_PRIVATE, (int)seen, tsp, NULL, 0);
}

void eng__idle_leave(eng_pool *p, unsigned seen) {
  unsigned w = atomic_load(&p->idle);
  /* A new generation means a notifier zeroed the count, us included. */
  while ((w >> ENG_IDLE_BITS) == (seen >> ENG_IDLE_BITS)) {
    if (atomic_compare_exchange_weak(&p->idle, &w, w - 1)) return;
  }
}

int eng__inline_pool(const eng_pool *p) {
  return p->n == 1 || p->fork_gen != atomic_load(&fork_gen);
}

/* The common case costs one trylock; only a thread that has to wait
 * announces itself, which the stand-in reads between two tasks. */
void eng__lock_slot0(eng_pool *p) {
  if (pthread_mutex_trylock(&p->call_lock) == 0) return;
  atomic_fetch_add(&p->slot0_wanted, 1);
  pthread_mutex_lock(&p->call_lock);
  atomic_fetch_sub(&p->slot0_wanted, 1);
}

int eng__start_thread(pthread_t *t, void *(*fn)(void *), void *arg) {
  /* Faults stay deliverable: blocked, the kernel would kill the process
   * instead of running the application's handler. */
  static const int faults[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS};
  sigset_t all, old;
  sigfillset(&all);
  for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) sigdelset(&all, faults[i]);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int rc = pthread_create(t, NULL, fn, arg);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return rc ? PL_EIO : 0;
}

static int spin_until_zero(_Atomic int *word, uint64_t budget) {
  uint64_t start = 0;
  for (unsigned i = 1;; i++) {
    if (atomic_load_explicit(word, memory_order_acquire) == 0) return 1;
    cpu_relax();
    if ((i & 63) == 0) {
      uint64_t now = eng__now_ns();
      if (!start) start = now;
      else if (now - start >= budget) return 0;
    }
  }
}

/* An idle helper spins until a region or a task shows up, or its budget
 * runs out (0). Tasks are looked for less often than regions: that check
 * reads every worker's deque. */
static int idle_spin(eng_pool *p, unsigned seen) {
  uint64_t budget = atomic_load_explicit(&p->spin_eff, memory_order_relaxed);
  uint64_t start = 0;
  if (!budget) return 0;
  for (unsigned i = 1;; i++) {
    if (atomic_load_explicit(&p->gen, memory_order_relaxed) != seen) return 1;
    if ((i & 15) == 0 && eng__tasks_visible(p)) return 1;
    cpu_relax();
    if ((i & 63) == 0) {
      uint64_t now = eng__now_ns();
      if (!start) start = now;
      else if (now - start >= budget) return 0;
    }
  }
}

static inline void stat_add(_Atomic uint64_t *c, uint64_t v) {
  atomic_fetch_add_explicit(c, v, memory_order_relaxed);
}

static inline void stat_addl(_Atomic long *c, long v) {
  atomic_fetch_add_explicit(c, v, memory_order_relaxed);
}

/* One chunk [off, off + size) of the job on worker w. */
static inline void run_chunk(eng_pool *p, int w, unsigned long off, unsigned long size) {
  long b = (long)((unsigned long)p->begin + off); /* unsigned: may not fit mid-way */
  long e = (long)((unsigned long)p->begin + off + size);
  if (p->kind == JOB_FOR) {
    p->fn(p->arg, b, e, w);
    return;
  }
  eng__worker *me = &p->workers[w];
  void *acc = p->accs + (size_t)w * p->stride;
  if (!me->touched) {
    memcpy(acc, p->identity, p->elem_size);
    me->touched = 1;
  }
  p->fold(p->arg, b, e, w, acc);
}

/* Worker w's share of the current job under its schedule. */
static void run_region(eng_pool *p, int w) {
  if (w >= p->team) return;
  eng__worker *me = &p->workers[w];
  int saved_w = eng__tls_worker;
  eng_pool *saved_p = eng__tls_pool;
  eng__tls_worker = w;
  eng__tls_pool = p;
  eng__tls_depth++;
  me->touched = 0;
  uint64_t t0 = eng__now_ns();
  long taken = 0;
  unsigned long len = p->len, k = p->chunk, team = (unsigned long)p->team;

  switch (p->sched) {
  case ENG_SCHED_STATIC:
    if (k == 0) {
      /* One contiguous block per worker; the remainder goes to the first
       * workers, so block sizes differ by at most one. */
      if (w >= p->used) break;
      unsigned long n = (unsigned long)p->used, uw = (unsigned long)w;
      unsigned long base = len / n, rem = len % n;
      unsigned long off = uw * base + (uw < rem ? uw : rem);
      run_chunk(p, w, off, base + (uw < rem ? 1 : 0));
      taken = 1;
    } else {
      unsigned long last = (len - 1) / k; /* index of the last chunk */
      for (unsigned long c = (unsigned long)w; c <= last; c += team) {
        unsigned long off = c * k;
        run_chunk(p, w, off, len - off < k ? len - off : k);
        taken++;
        if (last - c < team) break; /* c += team would pass `last` (or wrap) */
      }
    }
    break;
  case ENG_SCHED_DYNAMIC:
    if (k <= ULONG_MAX / (team + 1) && len <= ULONG_MAX - (team + 1) * k) {
      /* fetch_add may run past len by at most team * k: no wrap-around. */
      for (;;) {
        unsigned long off = atomic_fetch_add_explicit(&p->next, k, memory_order_relaxed);
        if (off >= len) break;
        run_chunk(p, w, off, len - off < k ? len - off : k);
        taken++;
      }
      break;
    }
    /* A range this close to ULONG_MAX takes its chunks by CAS instead. */
    __attribute__((fallthrough));
  case ENG_SCHED_GUIDED: {
    unsigned long off = atomic_load_explicit(&p->next, memory_order_relaxed);
    while (off < len) {
      unsigned long left = len - off, q = k;
      if (p->sched == ENG_SCHED_GUIDED) {
        q = left / team + (left % team != 0);
        if (q < k) q = k;
      }
      if (q > left) q = left;
      if (atomic_compare_exchange_weak_explicit(&p->next, &off, off + q, memory_order_relaxed,
                                                memory_order_relaxed)) {
        run_chunk(p, w, off, q);
        taken++;
        off = atomic_load_explicit(&p->next, memory_order_relaxed);
      }
    }
    break;
  }
  }

  if (taken) {
    stat_add(&me->busy_ns, eng__now_ns() - t0);
    stat_addl(&me->chunks, taken);
  }
  eng__tls_depth--;
  eng__tls_worker = saved_w;
  eng__tls_pool = saved_p;
}

static void *worker_main(void *arg) {
  worker_start ws = *(worker_start *)arg;
  free(arg);
  eng_pool *p = ws.p;
  int id = ws.id;
  /* Not a load of p->gen: the first job may already be published before
   * this thread runs, and it must not be mistaken for the starting point. */
  unsigned seen = 0;
  for (;;) {
    unsigned g = atomic_load_explicit(&p->gen, memory_order_acquire);
    if (g != seen) {
      seen = g;
      if (p->kind == JOB_STOP) return NULL;
      run_region(p, id);
      if (atomic_fetch_sub(&p->remaining, 1) == 1 && atomic_load(&p->caller_sleeping))
        futex_wake((void *)&p->remaining, 1);
      continue;
    }
    eng__task *t = eng__find_task(p, id);
    if (t) {
      eng__run_task(p, id, t);
      continue;
    }
    if (idle_spin(p, seen)) continue;
    unsigned s = eng__idle_enter(p);
    if (atomic_load(&p->gen) == seen && !eng__tasks_visible(p)) eng__idle_wait(p, s, 0);
    eng__idle_leave(p, s);
  }
}

/* Caller only, under call_lock. */
static void set_boost(eng_pool *p, int boost) {
  uint64_t base = atomic_load_explicit(&p->spin_ns, memory_order_relaxed);
  uint64_t eff = base << boost;
  if (boost > 0 && eff > MAX_BOOST_NS) eff = base > MAX_BOOST_NS ? base : MAX_BOOST_NS;
  p->boost = boost;
  p->calm = 0;
  atomic_store_explicit(&p->spin_eff, eff, memory_order_relaxed);
}

/* Publish the job in p->kind etc. to every helper and wait until they are
 * done; the caller runs its own share in between. */
static void dispatch(eng_pool *p) {
  atomic_store_explicit(&p->remaining, p->n - 1, memory_order_relaxed);
  atomic_fetch_add(&p->gen, 1); /* seq_cst: release for the job fields */
  eng__notify(p);
  if (p->kind == JOB_STOP) return;

  run_region(p, 0);

  uint64_t spin = atomic_load_explicit(&p->spin_eff, memory_order_relaxed);
  if (!spin || !spin_until_zero(&p->remaining, spin)) {
    atomic_store(&p->caller_sleeping, 1);
    int r;
    while ((r = atomic_load(&p->remaining)) != 0) futex_wait((void *)&p->remaining, r);
    atomic_store(&p->caller_sleeping, 0);
    if (p->boost < MAX_BOOST) set_boost(p, p->boost + 1);
  } else if (p->boost > 0 && ++p->calm >= CALM_REGIONS) {
    set_boost(p, p->boost - 1);
  }
}

/* Inside a region, on a 1-worker pool, or in a forked child (where the
 * helpers do not exist) the work is done on the calling thread. */
static int must_run_inline(const eng_pool *p) {
  return eng__tls_worker >= 0 || eng__inline_pool(p);
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

/* Strict decimal in [lo, hi], else -1. */
static long env_long(const char *name, long lo, long hi) {
  const char *s = getenv(name);
  if (!s || !*s) return -1;
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  while (*end == ' ' || *end == '\t' || *end == '\n') end++;
  if (errno || *end != '\0' || v < lo || v > hi) return -1;
  return v;
}

int eng_default_threads(void) {
  long v = env_long("PARLAB_NUM_THREADS", 1, ENG_MAX_THREADS);
  if (v > 0) return (int)v;
  int c = eng_cores();
  return c > ENG_MAX_THREADS ? ENG_MAX_THREADS : c;
}

uint64_t eng_default_spin_ns(int nthreads) {
  long us = env_long("PARLAB_SPIN_US", 0, 1000000);
  if (us >= 0) return (uint64_t)us * 1000u;
  return nthreads > eng_cores() ? SPIN_NS_OVERSUBSCRIBED : SPIN_NS_DEDICATED;
}

void eng_pool_set_spin(eng_pool *p, uint64_t spin_ns) {
  if (!p) return;
  if (spin_ns > ENG_MAX_SPIN_NS) spin_ns = ENG_MAX_SPIN_NS;
  atomic_store_explicit(&p->spin_ns, spin_ns, memory_order_relaxed);
  /* The boost restarts from the new policy at the next region. */
  atomic_store_explicit(&p->spin_eff, spin_ns, memory_order_relaxed);
}

uint64_t eng_pool_spin(const eng_pool *p) {
  return p ? atomic_load_explicit(&((eng_pool *)p)->spin_ns, memory_order_relaxed) : 0;
}

int eng_pool_current_worker(const eng_pool *p) {
  return p && eng__tls_pool == p ? eng__tls_worker : -1;
}

/* Stop and join the first `started` helpers. */
static void stop_workers(eng_pool *p, int started) {
  if (started == 0) return;
  p->kind = JOB_STOP;
  dispatch(p);
  for (int i = 0; i < started; i++) pthread_join(p->threads[i], NULL);
}

static void release_memory(eng_pool *p) {
  if (p->workers) eng__free_caches(p);
  free(p->threads);
  free(p->accs);
  free(p->workers);
  free(p);
}

int eng_pool_new(int nthreads, eng_pool **out) {
  int rc = 0, started = 0, locks = 0;
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
  atomic_init(&p->spin_ns, eng_default_spin_ns(nthreads));
  atomic_init(&p->spin_eff, atomic_load(&p->spin_ns));
  atomic_init(&p->next, 0);
  atomic_init(&p->gen, 0);
  atomic_init(&p->remaining, 0);
  atomic_init(&p->caller_sleeping, 0);
  atomic_init(&p->idle, 0);
  atomic_init(&p->inj_count, 0);
  atomic_init(&p->outstanding, 0);
  atomic_init(&p->standin_state, ENG_STANDIN_NONE);
  atomic_init(&p->standin_stop, 0);
  atomic_init(&p->standin_word, 0);
  atomic_init(&p->standin_dormant, 0);
  atomic_init(&p->slot0_wanted, 0);
  if (pthread_mutex_init(&p->call_lock, NULL)) {
    rc = PL_EIO;
    goto done;
  }
  locks++;
  if (pthread_mutex_init(&p->inj_lock, NULL)) {
    rc = PL_EIO;
    goto done;
  }
  locks++;
  /* The largest stride reduce can need, so a region never allocates. */
  if (posix_memalign((void **)&p->accs, ENG_CACHE_LINE, (size_t)nthreads * ENG_MAX_ELEM) ||
      posix_memalign((void **)&p->workers, ENG_CACHE_LINE, (size_t)nthreads * sizeof *p->workers)) {
    rc = PL_ENOMEM;
    goto done;
  }
  memset(p->workers, 0, (size_t)nthreads * sizeof *p->workers);
  for (int i = 0; i < nthreads; i++) {
    eng__worker *w = &p->workers[i];
    atomic_init(&w->dq.top, 0);
    atomic_init(&w->dq.bottom, 0);
    w->rng = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1) | 1;
  }
  if (nthreads > 1) {
    p->threads = calloc((size_t)nthreads - 1, sizeof *p->threads);
    if (!p->threads) {
      rc = PL_ENOMEM;
      goto done;
    }
    /* Helpers block every signal so asynchronous signals (SIGINT, SIGALRM,
     * SIGCHLD) keep going to the application's own threads. */
    for (int i = 1; i < nthreads; i++) {
      worker_start *ws = malloc(sizeof *ws);
      if (!ws) {
        rc = PL_ENOMEM;
        break;
      }
      ws->p = p;
      ws->id = i;
      if (eng__start_thread(&p->threads[i - 1], worker_main, ws)) {
        free(ws);
        rc = PL_EIO;
        break;
      }
      started++;
    }
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
    if (locks > 1) pthread_mutex_destroy(&p->inj_lock);
    if (locks > 0) pthread_mutex_destroy(&p->call_lock);
    release_memory(p);
  }
  return rc;
}

static int no_outstanding(void *p) {
  return atomic_load(&((eng_pool *)p)->outstanding) == 0;
}

/* at_exit: exit() may run while a region or a task is in flight (a body
 * that calls exit, or another thread's work); waiting there would hang the
 * exit, so the pool is left to die with the process instead. */
static int pool_free(eng_pool *p, int at_exit) {
  if (!p) return 1;
  /* In a forked child the helpers are gone: nothing to stop or join. */
  if (p->fork_gen == atomic_load(&fork_gen)) {
    if (at_exit) {
      if (eng__tls_worker >= 0 || pthread_mutex_trylock(&p->call_lock)) return 0;
      if (atomic_load(&p->outstanding) != 0) {
        pthread_mutex_unlock(&p->call_lock);
        return 0;
      }
    } else {
      /* Tasks still queued or running finish first (this thread helps). */
      eng__help_until(p, no_outstanding, p, 0, 1);
      eng__lock_slot0(p);
    }
    eng__standin_stop(p);
    stop_workers(p, p->n - 1);
    pthread_mutex_unlock(&p->call_lock);
    pthread_mutex_destroy(&p->call_lock);
    pthread_mutex_destroy(&p->inj_lock);
  }
  release_memory(p);
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

int eng_pool_stats(eng_pool *p, eng_worker_stats *out, int n) {
  if (!p || !out || n < 0) return PL_EINVAL;
  if (n > p->n) n = p->n;
  /* No lock: this may be called from inside a region (whose caller holds
   * call_lock), and every counter is an atomic of its own. */
  for (int i = 0; i < n; i++) {
    eng__worker *w = &p->workers[i];
    out[i].busy_s = (double)atomic_load_explicit(&w->busy_ns, memory_order_relaxed) * 1e-9;
    out[i].chunks = atomic_load_explicit(&w->chunks, memory_order_relaxed);
    out[i].tasks = atomic_load_explicit(&w->tasks, memory_order_relaxed);
    out[i].steals = atomic_load_explicit(&w->steals, memory_order_relaxed);
  }
  return n;
}

void eng_pool_stats_reset(eng_pool *p) {
  if (!p) return;
  for (int i = 0; i < p->n; i++) {
    eng__worker *w = &p->workers[i];
    atomic_store_explicit(&w->busy_ns, 0, memory_order_relaxed);
    atomic_store_explicit(&w->chunks, 0, memory_order_relaxed);
    atomic_store_explicit(&w->tasks, 0, memory_order_relaxed);
    atomic_store_explicit(&w->steals, 0, memory_order_relaxed);
  }
}

static int check_opts(const eng_for_opts *o) {
  return !o || o->schedule == ENG_SCHED_STATIC || o->schedule == ENG_SCHED_DYNAMIC ||
         o->schedule == ENG_SCHED_GUIDED;
}

/* Fill the job fields shared by for and reduce. */
static void set_job(eng_pool *p, long begin, long end, const eng_for_opts *o) {
  p->begin = begin;
  p->len = (unsigned long)end - (unsigned long)begin;
  p->team = o && o->threads > 0 && o->threads < p->n ? o->threads : p->n;
  p->sched = o ? o->schedule : ENG_SCHED_STATIC;
  long k = o ? o->chunk : 0;
  if (k <= 0) k = p->sched == ENG_SCHED_STATIC ? 0 : 1;
  p->chunk = (unsigned long)k;
  p->used = p->len < (unsigned long)p->team ? (int)p->len : p->team;
  atomic_store_explicit(&p->next, 0, memory_order_relaxed);
}

/* Run the job set up in p: a one-thread team needs no helper. */
static void run_job(eng_pool *p) {
  if (p->team == 1) run_region(p, 0);
  else dispatch(p);
}

/* The body sees the enclosing worker's index when nested; a top-level
 * inline run (pool of one, forked child) counts as worker 0's chunk. */
static void run_inline_for(eng_pool *p, long begin, long end, eng_range_fn fn, void *arg) {
  int nested = eng__tls_worker >= 0;
  int w = nested ? eng__tls_worker : 0;
  int saved = eng__tls_worker;
  eng_pool *saved_p = eng__tls_pool;
  uint64_t t0 = nested ? 0 : eng__now_ns();
  eng__tls_worker = w;
  if (!nested) eng__tls_pool = p;
  fn(arg, begin, end, w);
  eng__tls_worker = saved;
  eng__tls_pool = saved_p;
  if (!nested) {
    stat_add(&p->workers[0].busy_ns, eng__now_ns() - t0);
    stat_addl(&p->workers[0].chunks, 1);
  }
}

int eng_parallel_for_opts(eng_pool *p, long begin, long end, const eng_for_opts *o,
                          eng_range_fn fn, void *arg) {
  if (!p || !fn || !check_opts(o)) return PL_EINVAL;
  if (begin >= end) return 0;
  if (must_run_inline(p)) {
    run_inline_for(p, begin, end, fn, arg);
    return 0;
  }
  eng__lock_slot0(p);
  p->kind = JOB_FOR;
  p->fn = fn;
  p->arg = arg;
  set_job(p, begin, end, o);
  run_job(p);
  pthread_mutex_unlock(&p->call_lock);
  return 0;
}

int eng_parallel_for(eng_pool *p, long begin, long end, eng_range_fn fn, void *arg) {
  return eng_parallel_for_opts(p, begin, end, NULL, fn, arg);
}

typedef struct inline_fold {
  eng_fold_fn fold;
  void *arg;
  void *acc;
} inline_fold;

static void inline_fold_body(void *arg, long b, long e, int w) {
  inline_fold *f = arg;
  f->fold(f->arg, b, e, w, f->acc);
}

int eng_parallel_reduce_opts(eng_pool *p, long begin, long end, const eng_for_opts *o,
                             size_t elem_size, const void *identity, eng_fold_fn fold,
                             eng_combine_fn combine, void *arg, void *out) {
  if (!p || !identity || !fold || !combine || !out || !check_opts(o)) return PL_EINVAL;
  if (elem_size == 0 || elem_size > ENG_MAX_ELEM) return PL_EINVAL;
  if (begin >= end) {
    memmove(out, identity, elem_size);
    return 0;
  }
  if (must_run_inline(p)) {
    _Alignas(ENG_CACHE_LINE) unsigned char acc[ENG_MAX_ELEM];
    memcpy(acc, identity, elem_size);
    inline_fold f = {fold, arg, acc};
    run_inline_for(p, begin, end, inline_fold_body, &f);
    memcpy(out, acc, elem_size);
    return 0;
  }
  eng__lock_slot0(p);
  p->kind = JOB_REDUCE;
  p->fold = fold;
  p->arg = arg;
  p->identity = identity;
  p->elem_size = elem_size;
  p->stride = (elem_size + ENG_CACHE_LINE - 1) / ENG_CACHE_LINE * ENG_CACHE_LINE;
  set_job(p, begin, end, o);
  run_job(p);
  /* Worker order, starting from the first worker's value rather than the
   * identity: the same input and static split always give the same bits. */
  int first = 1;
  for (int w = 0; w < p->team; w++) {
    if (!p->workers[w].touched) continue;
    const unsigned char *acc = p->accs + (size_t)w * p->stride;
    if (first) memcpy(out, acc, elem_size);
    else combine(arg, out, acc);
    first = 0;
  }
  if (first) memmove(out, identity, elem_size);
  pthread_mutex_unlock(&p->call_lock);
  return 0;
}

int eng_parallel_reduce(eng_pool *p, long begin, long end, size_t elem_size,
                        const void *identity, eng_fold_fn fold,
                        eng_combine_fn combine, void *arg, void *out) {
  return eng_parallel_reduce_opts(p, begin, end, NULL, elem_size, identity, fold, combine, arg,
                                  out);
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

/* ---- barrier: sense (phase) counter, spin then futex ---- */

struct eng_barrier {
  int n;
  uint64_t spin_ns;
  _Alignas(ENG_CACHE_LINE) _Atomic int count;
  _Alignas(ENG_CACHE_LINE) _Atomic unsigned phase;
  _Atomic int sleepers;
};

int eng_barrier_new(int n, uint64_t spin_ns, eng_barrier **out) {
  if (!out) return PL_EINVAL;
  *out = NULL;
  if (n < 1 || n > 1 << 20) return PL_EINVAL;
  eng_barrier *b = NULL;
  if (posix_memalign((void **)&b, ENG_CACHE_LINE, sizeof *b)) return PL_ENOMEM;
  memset(b, 0, sizeof *b);
  b->n = n;
  b->spin_ns = spin_ns > ENG_MAX_SPIN_NS ? ENG_MAX_SPIN_NS : spin_ns;
  atomic_init(&b->count, 0);
  atomic_init(&b->phase, 0);
  atomic_init(&b->sleepers, 0);
  *out = b;
  return 0;
}

/* The last arrival resets the count before it opens the next phase, so a
 * thread that sees the new phase also sees the count back at zero. */
int eng_barrier_wait(eng_barrier *b) {
  if (!b) return PL_EINVAL;
  unsigned ph = atomic_load(&b->phase);
  if (atomic_fetch_add(&b->count, 1) == b->n - 1) {
    atomic_store(&b->count, 0);
    atomic_fetch_add(&b->phase, 1);
    if (atomic_load(&b->sleepers) > 0) futex_wake((void *)&b->phase, INT_MAX);
    return 1;
  }
  uint64_t start = 0;
  for (unsigned i = 1; b->spin_ns; i++) {
    if (atomic_load_explicit(&b->phase, memory_order_acquire) != ph) return 0;
    cpu_relax();
    if ((i & 63) == 0) {
      uint64_t now = eng__now_ns();
      if (!start) start = now;
      else if (now - start >= b->spin_ns) break;
    }
  }
  atomic_fetch_add(&b->sleepers, 1);
  while (atomic_load(&b->phase) == ph) futex_wait((void *)&b->phase, (int)ph);
  atomic_fetch_sub(&b->sleepers, 1);
  return 0;
}

void eng_barrier_free(eng_barrier *b) { free(b); }
