/*
 * eng_sync.h — the synchronization teaching kit: the shared-counter race
 * and its four cures, named locks, semaphores, condition variables,
 * read-write locks and barriers, and a watchdog that finds deadlocks.
 *
 * Counter demo. `threads` threads each add 1 to one shared counter
 * `increments` times: with no protection (a separate load and store, so
 * concurrent updates really are lost — written with relaxed atomics, so
 * the race is in the algorithm, not undefined behaviour in C), under a
 * mutex, with an atomic add, or into per-thread partial sums combined at
 * the end. The result is the final count and the measured seconds.
 *
 * Kit. A domain (eng_sync) holds named primitives, found or created by
 * name, so code running in separate interpreters can share them by
 * naming them. Every blocking operation records which thread waits for
 * what, and every lock records its holders, so the watchdog can say
 * "worker 1 waits for mutex 'A', held by worker 0". The watchdog is a
 * thread that wakes every quarter of its timeout (it sleeps in between,
 * no spinning). It declares a deadlock when the waits form a cycle
 * through held locks, or when threads have waited longer than the
 * timeout with no kit operation completing meanwhile. It then writes a
 * report and breaks the domain: every waiting and later operation fails
 * with PL_ETIMEOUT until eng_sync_reset(), so deadlocked threads unwind.
 *
 * The kit favours clarity over speed: one mutex and one condition
 * variable per domain guard all its primitives.
 *
 * Thread-safety: every function may be called from any thread.
 * eng_sync_free() needs that no thread is inside the domain.
 */
#ifndef ENG_SYNC_H
#define ENG_SYNC_H

#include <stddef.h>

/* ---- the counter race ---- */

typedef enum {
  ENG_COUNT_NONE = 0,    /* load, add, store: updates get lost */
  ENG_COUNT_MUTEX = 1,   /* lock around each increment */
  ENG_COUNT_ATOMIC = 2,  /* one atomic fetch-and-add per increment */
  ENG_COUNT_PARTIALS = 3 /* private sums, one addition per thread at the end */
} eng_count_mode;

typedef struct eng_count_result {
  long expected;  /* threads * increments */
  long count;     /* what the counter holds at the end */
  double seconds; /* wall time of the parallel part */
} eng_count_result;

/* "none", "mutex", "atomic", "partials"; PL_EINVAL otherwise. */
int eng_count_mode_parse(const char *name, eng_count_mode *out);
const char *eng_count_mode_name(eng_count_mode m);
/* threads 1..256, increments 0..1e10 per thread (else PL_EINVAL). Runs on
 * a pool of its own, so exactly `threads` threads take part. */
int eng_counter_demo(eng_count_mode mode, int threads, long increments, eng_count_result *out);

/* ---- the kit ---- */

typedef struct eng_sync eng_sync;
typedef struct eng_sobj eng_sobj;

typedef enum {
  ENG_SYNC_MUTEX = 0,
  ENG_SYNC_SEMAPHORE = 1,
  ENG_SYNC_RWLOCK = 2,
  ENG_SYNC_CONDITION = 3,
  ENG_SYNC_BARRIER = 4
} eng_sync_kind;

const char *eng_sync_kind_name(eng_sync_kind k); /* "mutex", "semaphore", ... */

/* OUT: *out, caller frees with eng_sync_free(). */
int eng_sync_new(eng_sync **out);
void eng_sync_free(eng_sync *d);

/* How this thread is named in reports ("worker 2", "main"); at most 31
 * bytes are kept. A thread that never set one is "thread <tid>". */
void eng_sync_thread_label(const char *label);

/* Find the primitive called `name`, or create it: `init` is a
 * semaphore's initial count (>= 0) or a barrier's party count (>= 1),
 * ignored otherwise. PL_EINVAL when the name exists with another kind or
 * init is out of range. The object lives as long as the domain. */
int eng_sync_get(eng_sync *d, eng_sync_kind kind, const char *name, long init, eng_sobj **out);
const char *eng_sobj_name(const eng_sobj *o);
eng_sync_kind eng_sobj_kind(const eng_sobj *o);

/* Each returns 0, PL_ETIMEOUT when the watchdog broke the domain (or
 * breaks it during the wait), or PL_EINVAL for misuse (wrong kind,
 * unlocking what this thread does not hold, relocking a mutex it holds:
 * that would deadlock on itself, and is reported instead). */
int eng_mutex_lock(eng_sobj *m);
int eng_mutex_trylock(eng_sobj *m); /* 1 locked, 0 busy, or an error */
int eng_mutex_unlock(eng_sobj *m);
int eng_sem_acquire(eng_sobj *s);
int eng_sem_release(eng_sobj *s);
long eng_sem_value(eng_sobj *s);
int eng_rw_read_lock(eng_sobj *rw);
int eng_rw_write_lock(eng_sobj *rw);
int eng_rw_unlock(eng_sobj *rw);    /* whichever this thread holds */
/* m must be a mutex this thread holds; it is released while waiting and
 * held again on return (also on PL_ETIMEOUT, if it could be retaken). */
int eng_cond_wait(eng_sobj *c, eng_sobj *m);
int eng_cond_signal(eng_sobj *c);
int eng_cond_broadcast(eng_sobj *c);
/* 1 in the last thread to arrive, 0 in the others. */
int eng_sbarrier_wait(eng_sobj *b);

/* Start the watchdog with this timeout (seconds, at least 0.01), change
 * it, or stop it with timeout_s <= 0 (the thread is joined). */
int eng_sync_watchdog(eng_sync *d, double timeout_s);
/* 1 and the report of the last deadlock (truncated to n bytes) when the
 * domain is broken or was broken since the last reset; 0 and "" if not.
 * The report has one line per waiting thread:
 *   "worker 1 waits for mutex 'A', held by worker 0" */
int eng_sync_report(eng_sync *d, char *buf, size_t n);
/* 1 while broken. */
int eng_sync_broken(eng_sync *d);
/* Clear the broken state and put every primitive back to its initial
 * state (no holders, initial counts). PL_EINVAL while threads wait. */
int eng_sync_reset(eng_sync *d);

#endif
