/*
 * eng_pool_int.h — internals shared by eng_pool.c (regions, lifecycle,
 * waiting) and eng_task.c (work-stealing deques, task groups, futures).
 *
 * Invariants:
 *  - Worker slot 0 belongs to whoever holds call_lock: the caller of a
 *    region, or a thread that waits for a task (it helps as worker 0).
 *    Slots 1..n-1 belong to the helper threads. A slot's deque, cell cache
 *    and statistics are written only by the slot's current owner (stats are
 *    atomics anyway, because inline runs may touch slot 0 concurrently).
 *  - Every blocking wait registers in `idle` (eng__idle_enter), re-checks
 *    its condition, sleeps on `idle` (eng__idle_wait) and deregisters
 *    (eng__idle_leave); every event that can end a wait (a region, a new
 *    task, a finished task group or future, slot 0 becoming free) is
 *    published first and then calls eng__notify(), which wakes all
 *    registered sleepers at once. Both sides use sequentially consistent
 *    operations, so one of them always sees the other: no wake-up is lost.
 *
 * Thread-safety: as described per field.
 */
#ifndef ENG_POOL_INT_H
#define ENG_POOL_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "eng_pool.h"
#include "eng_task.h"

#define ENG_CACHE_LINE 64
/* A deque holds this many tasks; a spawn into a full deque runs inline,
 * which keeps the program correct (a task group only counts) and bounds
 * memory for runaway recursion. */
#define ENG_DEQUE_CAP 4096
#define ENG_CELL_CACHE 512

typedef struct eng__task {
  eng_task_fn fn;
  void *arg;
  eng_taskgroup *group;   /* or NULL */
  eng_future *fut;        /* or NULL */
  struct eng__task *next; /* injection queue, cell cache */
} eng__task;

struct eng_taskgroup {
  eng_pool *p;
  _Atomic long pending;   /* spawned and not finished */
  struct eng_taskgroup *next_free;
};

struct eng_future {
  eng_pool *p;
  _Atomic int done;
  _Atomic int refs;       /* the task's and the caller's */
};

/* Chase-Lev deque (Le, Pop, Cohen, Zappa Nardelli, PPoPP 2013): the owner
 * pushes and takes at the bottom, thieves steal at the top. */
typedef struct eng__deque {
  _Alignas(ENG_CACHE_LINE) _Atomic long top;
  _Alignas(ENG_CACHE_LINE) _Atomic long bottom;
  _Alignas(ENG_CACHE_LINE) _Atomic(eng__task *) slots[ENG_DEQUE_CAP];
} eng__deque;

typedef struct eng__worker {
  eng__deque dq;
  _Alignas(ENG_CACHE_LINE) _Atomic uint64_t busy_ns;
  _Atomic long chunks, tasks, steals;
  int touched;            /* reduce: the accumulator folded something */
  uint64_t rng;           /* victim choice */
  eng__task *cells;       /* free task records (owner only) */
  int ncells;
  struct eng_taskgroup *groups; /* free task groups (owner only) */
  int ngroups;
} eng__worker;

struct eng_pool {
  int n;                 /* workers including the caller */
  unsigned fork_gen;     /* fork generation the threads belong to */
  pthread_t *threads;    /* n - 1 helpers */
  pthread_mutex_t call_lock;
  eng__worker *workers;  /* n, cache-line aligned */
  _Atomic uint64_t spin_ns;   /* the configured wait policy */
  _Atomic uint64_t spin_eff;  /* what waiters use: spin_ns << boost, capped */
  int boost, calm;            /* region caller only (under call_lock) */

  /* The current region; written by the caller before `gen` is bumped. */
  int kind;
  long begin;
  unsigned long len;
  int team;              /* workers taking part */
  int used;              /* static, chunk 0: workers with a non-empty block */
  eng_schedule sched;
  unsigned long chunk;
  eng_range_fn fn;
  eng_fold_fn fold;
  void *arg;
  size_t elem_size, stride;
  const void *identity;
  unsigned char *accs;   /* n slots of `stride` bytes, cache-line aligned */

  _Alignas(ENG_CACHE_LINE) _Atomic unsigned long next; /* dynamic/guided */
  _Alignas(ENG_CACHE_LINE) _Atomic unsigned gen;
  _Alignas(ENG_CACHE_LINE) _Atomic int remaining;
  _Atomic int caller_sleeping;
  /* Sleep word: (wake generation << ENG_IDLE_BITS) | registered sleepers.
   * A notifier that finds sleepers zeroes the count and bumps the
   * generation in one CAS, so it and every later notifier skip the futex
   * syscall until someone registers again (a thread that takes a while to
   * be scheduled would otherwise cost one FUTEX_WAKE per pushed task). */
  _Alignas(ENG_CACHE_LINE) _Atomic unsigned idle;

  /* Tasks submitted by threads that own no slot. */
  _Alignas(ENG_CACHE_LINE) pthread_mutex_t inj_lock;
  eng__task *inj_head, *inj_tail;
  _Atomic long inj_count;
  _Atomic long outstanding; /* submitted futures not finished */
};

/* Per-thread context: the pool and worker slot this thread acts in (a
 * region block, a task, or helping while it waits), -1 outside. */
extern __thread int eng__tls_worker;
extern __thread eng_pool *eng__tls_pool;
extern __thread int eng__tls_depth;

uint64_t eng__now_ns(void);
void eng__notify(eng_pool *p);
/* Register as a sleeper; returns the value to pass to the two below. */
unsigned eng__idle_enter(eng_pool *p);
/* Sleep until notified (or deadline_ns, CLOCK_MONOTONIC; 0: none). */
void eng__idle_wait(eng_pool *p, unsigned seen, uint64_t deadline_ns);
/* Deregister, unless a notifier already did it for us. */
void eng__idle_leave(eng_pool *p, unsigned seen);
/* 1 when the pool has no helper threads to run anything: size 1, or
 * inherited through fork(). Its tasks run at once, on the caller. */
int eng__inline_pool(const eng_pool *p);

/* eng_task.c */
eng__task *eng__find_task(eng_pool *p, int w);
int eng__tasks_visible(eng_pool *p);
void eng__run_task(eng_pool *p, int w, eng__task *t);
void eng__free_caches(eng_pool *p);
/* Wait until done(ctx) is true or the deadline passes (0: none), helping
 * with tasks when the caller owns or can get a slot. 1 when done. */
int eng__help_until(eng_pool *p, int (*done)(void *), void *ctx, uint64_t deadline_ns);

#endif
