/*
 * eng_pool_int.h — internals shared by eng_pool.c (regions, lifecycle,
 * waiting) and eng_task.c (work-stealing deques, task groups, futures).
 *
 * Invariants:
 *  - Worker slot 0 belongs to whoever holds call_lock: the caller of a
 *    region, a thread outside the pool that waits for a task group (it
 *    helps as worker 0), or the pool's stand-in thread, which runs tasks
 *    there while futures are outstanding, so that a pool of n runs its
 *    futures on n threads while the threads that submitted them only wait.
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

  /* The stand-in (eng_task.c), started by the first eng_submit. It sleeps
   * on standin_word while no future is outstanding (so the notifications
   * of task groups never wake it), and otherwise waits like a helper.
   * These share a line with `outstanding`, which eng_submit writes anyway. */
  pthread_t standin;
  _Atomic int standin_state;  /* ENG_STANDIN_* */
  _Atomic int standin_stop;
  _Atomic unsigned standin_word;
  _Atomic int standin_dormant;
  /* Threads blocked in eng__lock_slot0: the stand-in gives slot 0 back
   * after its current task instead of taking another one. */
  _Atomic int slot0_wanted;
};

enum { ENG_STANDIN_NONE, ENG_STANDIN_STARTING, ENG_STANDIN_RUNNING, ENG_STANDIN_FAILED };

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
/* Take call_lock (slot 0) for a region or for eng_pool_free, telling the
 * stand-in to hand it over if it holds it. */
void eng__lock_slot0(eng_pool *p);
/* pthread_create with every asynchronous signal blocked in the new thread
 * (pool threads leave SIGINT, SIGALRM, ... to the application). 0 or PL_EIO. */
int eng__start_thread(pthread_t *t, void *(*fn)(void *), void *arg);
void eng__futex_wait(void *word, int expected);
void eng__futex_wake(void *word, int count);

/* eng_task.c */
eng__task *eng__find_task(eng_pool *p, int w);
int eng__tasks_visible(eng_pool *p);
void eng__run_task(eng_pool *p, int w, eng__task *t);
void eng__free_caches(eng_pool *p);
/* Wait until done(ctx) is true or the deadline passes (0: none). A thread
 * that owns a slot (a worker, a task, a region body) runs tasks meanwhile;
 * one outside the pool takes slot 0 and helps only when outside_helps is
 * set (task groups), else it just waits (futures: a waiter that ran a long
 * task could not see the short ones finish). 1 when done. */
int eng__help_until(eng_pool *p, int (*done)(void *), void *ctx, uint64_t deadline_ns,
                    int outside_helps);
/* Start the stand-in if the pool has none yet (eng_submit). */
void eng__standin_start(eng_pool *p);
/* Stop and join it; the caller holds call_lock. */
void eng__standin_stop(eng_pool *p);

#endif
