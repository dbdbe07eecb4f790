/*
 * test_threads.c — the pool's schedules, reductions, statistics, wait
 * policy and barrier, and tasks (futures, wait-any, task groups). Engine
 * only, so the same file also builds under ThreadSanitizer
 * (unit.tsan_threads).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/resource.h>
#include <time.h>

#include "eng_pool.h"
#include "eng_sync.h"
#include "eng_task.h"
#include "pl_err.h"
#include "pl_test.h"

/* Under TSan everything is ~10x slower: keep the sizes modest. */
#ifndef TT_SCALE
#define TT_SCALE 1
#endif

static void nap_us(long us) {
  struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
  nanosleep(&ts, NULL);
}

/* ---------------------------------------------------------- schedules */

typedef struct cover {
  long begin;
  _Atomic int *hits;
  _Atomic int *owner;   /* worker that ran each index */
  _Atomic int calls, bad;
  int team;
} cover;

static void cover_body(void *arg, long b, long e, int w) {
  cover *c = arg;
  atomic_fetch_add(&c->calls, 1);
  if (b >= e || w < 0 || w >= c->team) atomic_fetch_add(&c->bad, 1);
  for (long i = b; i < e; i++) {
    atomic_fetch_add(&c->hits[i - c->begin], 1);
    atomic_store(&c->owner[i - c->begin], w);
  }
}

static const char *sched_name(eng_schedule s) {
  return s == ENG_SCHED_STATIC ? "static" : s == ENG_SCHED_DYNAMIC ? "dynamic" : "guided";
}

static void test_schedules_cover_every_index_once(void) {
  static const long ranges[][2] = {{0, 0}, {5, 3}, {0, 1}, {0, 17}, {-10, 10}, {0, 1000},
                                   {7, 20010}};
  static const int sizes[] = {1, 2, 3, 4};
  static const struct { eng_schedule s; long chunk; } scheds[] = {
      {ENG_SCHED_STATIC, 0}, {ENG_SCHED_STATIC, 1}, {ENG_SCHED_STATIC, 7},
      {ENG_SCHED_DYNAMIC, 0}, {ENG_SCHED_DYNAMIC, 5}, {ENG_SCHED_GUIDED, 0},
      {ENG_SCHED_GUIDED, 4}};
  for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
    eng_pool *p = NULL;
    PT_EQ_INT(eng_pool_new(sizes[z], &p), 0);
    for (size_t s = 0; s < sizeof scheds / sizeof scheds[0]; s++) {
      for (int threads = 0; threads <= 2; threads++) {
        for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; r++) {
          long b = ranges[r][0], e = ranges[r][1], len = e > b ? e - b : 0;
          int team = threads > 0 && threads < sizes[z] ? threads : sizes[z];
          cover c = {.begin = b, .team = team};
          c.hits = calloc((size_t)len + 1, sizeof *c.hits);
          c.owner = calloc((size_t)len + 1, sizeof *c.owner);
          PT_TRUE(c.hits && c.owner);
          eng_for_opts o = {scheds[s].s, scheds[s].chunk, threads};
          PT_EQ_INT(eng_parallel_for_opts(p, b, e, &o, cover_body, &c), 0);
          for (long i = 0; i < len; i++)
            if (atomic_load(&c.hits[i]) != 1)
              PT_FAIL_("%s,%ld size %d threads %d [%ld,%ld): index %ld hit %d times",
                       sched_name(scheds[s].s), scheds[s].chunk, sizes[z], threads, b, e, b + i,
                       atomic_load(&c.hits[i]));
          PT_EQ_INT(atomic_load(&c.bad), 0);
          /* Static chunks are dealt round-robin: chunk c goes to c % team. */
          if (scheds[s].s == ENG_SCHED_STATIC && scheds[s].chunk > 0 && sizes[z] > 1)
            for (long i = 0; i < len; i++)
              PT_EQ_INT(atomic_load(&c.owner[i]), (i / scheds[s].chunk) % team);
          free(c.hits);
          free(c.owner);
        }
      }
    }
    eng_pool_free(p);
  }
}

/* Chunk sizes as taken, in order of the shared counter. */
typedef struct chunks {
  pthread_mutex_t mu;
  long begin[4096], size[4096];
  int n;
} chunks;

static void chunk_body(void *arg, long b, long e, int w) {
  (void)w;
  chunks *c = arg;
  pthread_mutex_lock(&c->mu);
  if (c->n < 4096) {
    c->begin[c->n] = b;
    c->size[c->n] = e - b;
    c->n++;
  }
  pthread_mutex_unlock(&c->mu);
}

static int by_begin(const void *a, const void *b) {
  const long *x = a, *y = b;
  return (*x > *y) - (*x < *y);
}

static void test_dynamic_and_guided_chunk_sizes(void) {
  eng_pool *p = NULL;
  PT_EQ_INT(eng_pool_new(3, &p), 0);
  static chunks c;
  pthread_mutex_init(&c.mu, NULL);

  /* dynamic, 7: every chunk is 7 except the last. */
  c.n = 0;
  eng_for_opts dyn = {ENG_SCHED_DYNAMIC, 7, 0};
  PT_EQ_INT(eng_parallel_for_opts(p, 0, 100, &dyn, chunk_body, &c), 0);
  PT_EQ_INT(c.n, 15);
  long pairs[4096][2];
  for (int i = 0; i < c.n; i++) pairs[i][0] = c.begin[i], pairs[i][1] = c.size[i];
  qsort(pairs, (size_t)c.n, sizeof pairs[0], by_begin);
  for (int i = 0; i < c.n; i++) {
    PT_EQ_INT(pairs[i][0], 7 * i);
    PT_EQ_INT(pairs[i][1], i < 14 ? 7 : 2);
  }

  /* guided, min 4, 3 threads over 1000: sorted by start, sizes never grow,
   * the first is ceil(1000 / 3), all but the last are at least 4. */
  c.n = 0;
  eng_for_opts gd = {ENG_SCHED_GUIDED, 4, 0};
  PT_EQ_INT(eng_parallel_for_opts(p, 0, 1000, &gd, chunk_body, &c), 0);
  for (int i = 0; i < c.n; i++) pairs[i][0] = c.begin[i], pairs[i][1] = c.size[i];
  qsort(pairs, (size_t)c.n, sizeof pairs[0], by_begin);
  PT_EQ_INT(pairs[0][0], 0);
  PT_EQ_INT(pairs[0][1], 334);
  long next = 0;
  for (int i = 0; i < c.n; i++) {
    PT_EQ_INT(pairs[i][0], next);
    next += pairs[i][1];
    if (i > 0) PT_TRUE(pairs[i][1] <= pairs[i - 1][1]);
    if (i < c.n - 1) PT_GE(pairs[i][1], 4);
  }
  PT_EQ_INT(next, 1000);
  PT_TRUE(c.n > 6 && c.n < 60);
  pthread_mutex_destroy(&c.mu);
  eng_pool_free(p);
}

static void sum_fold(void *arg, long b, long e, int w, void *acc) {
  (void)arg, (void)w;
  for (long i = b; i < e; i++) *(double *)acc += (double)i;
}

static void sum_combine(void *arg, void *acc, const void *other) {
  (void)arg;
  *(double *)acc += *(const double *)other;
}

/* Combining in worker order is observable with a non-commutative op:
 * concatenation of (first, last) ranges. */
typedef struct span { long first, last; int ok; } span;

static void span_fold(void *arg, long b, long e, int w, void *acc) {
  (void)arg, (void)w;
  span *s = acc;
  if (s->first < 0) s->first = b;
  else if (b != s->last) s->ok = 0; /* static chunk 0: one block per worker */
  s->last = e;
}

static void span_combine(void *arg, void *acc, const void *other) {
  (void)arg;
  span *a = acc;
  const span *o = other;
  if (a->last != o->first || !o->ok) a->ok = 0;
  a->last = o->last;
}

static void test_reduce_schedules(void) {
  static const double zero = 0;
  for (int size = 1; size <= 4; size++) {
    eng_pool *p = NULL;
    PT_EQ_INT(eng_pool_new(size, &p), 0);
    for (int s = 0; s < 3; s++) {
      for (long chunk = 0; chunk <= 9; chunk += 3) {
        for (long n = 0; n < 3000; n = n * 3 + 7) {
          eng_for_opts o = {(eng_schedule)s, chunk, 0};
          double out = -1;
          PT_EQ_INT(eng_parallel_reduce_opts(p, 0, n, &o, sizeof out, &zero, sum_fold,
                                             sum_combine, NULL, &out), 0);
          PT_NEAR(out, (double)n * (double)(n - 1) / 2, 0);
        }
      }
    }
    static const span id = {-1, -1, 1};
    span out;
    PT_EQ_INT(eng_parallel_reduce(p, 10, 1010, sizeof out, &id, span_fold, span_combine, NULL,
                                  &out), 0);
    PT_EQ_INT(out.first, 10);
    PT_EQ_INT(out.last, 1010);
    PT_EQ_INT(out.ok, 1);
    eng_pool_free(p);
  }
}

static void test_opts_errors(void) {
  eng_pool *p = NULL;
  PT_EQ_INT(eng_pool_new(2, &p), 0);
  _Atomic int hits[1];
  cover c = {.hits = hits, .owner = hits, .team = 2};
  eng_for_opts bad = {(eng_schedule)7, 0, 0};
  PT_EQ_INT(eng_parallel_for_opts(p, 0, 1, &bad, cover_body, &c), PL_EINVAL);
  double out;
  static const double zero = 0;
  PT_EQ_INT(eng_parallel_reduce_opts(p, 0, 5, &bad, 8, &zero, sum_fold, sum_combine, NULL, &out),
            PL_EINVAL);
  PT_EQ_INT(eng_parallel_reduce(p, 0, 5, 0, &zero, sum_fold, sum_combine, NULL, &out), PL_EINVAL);
  PT_EQ_INT(eng_parallel_reduce(p, 0, 5, 257, &zero, sum_fold, sum_combine, NULL, &out),
            PL_EINVAL);
  eng_pool_free(p);
}

/* ---------------------------------------------------------------- stats */

static void spin_body(void *arg, long b, long e, int w) {
  (void)arg, (void)w;
  for (long i = b; i < e; i++) {
    /* Iteration i costs about i units: a triangular (imbalanced) loop. */
    long x = 0;
    for (long k = 0; k < i * 20; k++) {
      x += k;
      __asm__ __volatile__("" : "+r"(x));
    }
  }
}

static void test_stats_show_chunks_and_imbalance(void) {
  eng_pool *p = NULL;
  PT_EQ_INT(eng_pool_new(3, &p), 0);
  eng_worker_stats st[4];
  PT_EQ_INT(eng_pool_stats(p, st, 4), 3);
  for (int i = 0; i < 3; i++) {
    PT_EQ_INT(st[i].chunks, 0);
    PT_NEAR(st[i].busy_s, 0, 0);
  }
  eng_for_opts o = {ENG_SCHED_DYNAMIC, 1, 0};
  PT_EQ_INT(eng_parallel_for_opts(p, 0, 300, &o, spin_body, NULL), 0);
  PT_EQ_INT(eng_pool_stats(p, st, 3), 3);
  long total = 0;
  for (int i = 0; i < 3; i++) total += st[i].chunks;
  PT_EQ_INT(total, 300);

  /* Static blocks of a triangular loop: the last block is the most work.
   * Busy time is compared between workers of the same run, not absolute. */
  eng_pool_stats_reset(p);
  PT_EQ_INT(eng_pool_stats(p, st, 3), 3);
  for (int i = 0; i < 3; i++) PT_EQ_INT(st[i].chunks, 0);
  PT_EQ_INT(eng_parallel_for(p, 0, 3000 / TT_SCALE, spin_body, NULL), 0);
  PT_EQ_INT(eng_pool_stats(p, st, 3), 3);
  for (int i = 0; i < 3; i++) PT_EQ_INT(st[i].chunks, 1);
  PT_TRUE(st[2].busy_s > st[0].busy_s);
  PT_TRUE(st[0].busy_s > 0);
  PT_EQ_INT(eng_pool_stats(NULL, st, 3), PL_EINVAL);
  eng_pool_free(p);
}

/* ---------------------------------------------------------- wait policy */

static void count_body(void *arg, long b, long e, int w) {
  (void)w;
  atomic_fetch_add((_Atomic long *)arg, e - b);
}

static void nap_task(void *arg) {
  (void)arg;
  nap_us(1000);
}

static double cpu_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void test_wait_policy(void) {
  unsetenv("PARLAB_SPIN_US");
  eng_pool *p = NULL;
  PT_EQ_INT(eng_pool_new(2, &p), 0);
  PT_EQ_INT(eng_pool_spin(p), eng_default_spin_ns(2));
  PT_TRUE(eng_pool_spin(p) > 0 && eng_pool_spin(p) <= 1000000);
  /* Passive: every wait sleeps at once; regions still complete. */
  eng_pool_set_spin(p, 0);
  PT_EQ_INT(eng_pool_spin(p), 0);
  for (int i = 0; i < 200; i++) {
    _Atomic long total = 0;
    PT_EQ_INT(eng_parallel_for(p, 0, 10 + i, count_body, &total), 0);
    PT_EQ_INT(total, 10 + i);
  }
  eng_pool_set_spin(p, 5000000000ull);
  PT_EQ_INT(eng_pool_spin(p), 1000000000);
  eng_pool_free(p);
  setenv("PARLAB_SPIN_US", "7", 1);
  PT_EQ_INT(eng_default_spin_ns(2), 7000);
  setenv("PARLAB_SPIN_US", "x", 1);
  unsetenv("PARLAB_SPIN_US");
}

/* An idle pool sleeps: after its spin phase it must not use a core. The
 * idle period is a sleep on purpose (it is the thing measured). */
static void test_idle_pool_uses_no_cpu(void) {
  eng_pool *p = NULL;
  PT_EQ_INT(eng_pool_new(4, &p), 0);
  _Atomic long total = 0;
  PT_EQ_INT(eng_parallel_for(p, 0, 100, count_body, &total), 0);
  eng_future *f = NULL;
  PT_EQ_INT(eng_submit(p, nap_task, NULL, &f), 0);
  PT_EQ_INT(eng_future_wait(f), 0);
  eng_future_free(f);
  nap_us(20000); /* well past the spin phase */
  double c0 = cpu_seconds();
  nap_us(300000);
  double used = cpu_seconds() - c0;
  /* Four spinning threads would use 1.2 s of CPU here. */
  if (used > 0.05) PT_FAIL_("idle pool used %.3f s of CPU in 0.3 s", used);
  eng_pool_free(p);
}

/* -------------------------------------------------------------- barrier */

typedef struct bar_job {
  eng_barrier *b;
  _Atomic long arrived;
  _Atomic int serial, bad;
  int rounds, n;
} bar_job;

static void bar_body(void *arg, long b, long e, int w) {
  (void)b, (void)e, (void)w;
  bar_job *j = arg;
  for (int r = 0; r < j->rounds; r++) {
    atomic_fetch_add(&j->arrived, 1);
    if (eng_barrier_wait(j->b) == 1) atomic_fetch_add(&j->serial, 1);
    /* Everyone of this round has arrived, nobody of the next one has. */
    long a = atomic_load(&j->arrived);
    if (a < (long)j->n * (r + 1) || a > (long)j->n * (r + 2)) atomic_fetch_add(&j->bad, 1);
    if (eng_barrier_wait(j->b) < 0) atomic_fetch_add(&j->bad, 1);
  }
}

static void test_barrier(void) {
  for (int spin = 0; spin < 2; spin++) {
    eng_pool *p = NULL;
    PT_EQ_INT(eng_pool_new(3, &p), 0);
    bar_job j = {.rounds = 500 / TT_SCALE, .n = 3};
    PT_EQ_INT(eng_barrier_new(3, spin ? 50000 : 0, &j.b), 0);
    /* One index per worker: all three must be inside at once. */
    PT_EQ_INT(eng_parallel_for(p, 0, 3, bar_body, &j), 0);
    PT_EQ_INT(atomic_load(&j.bad), 0);
    PT_EQ_INT(atomic_load(&j.serial), j.rounds);
    PT_EQ_INT(atomic_load(&j.arrived), 3L * j.rounds);
    eng_barrier_free(j.b);
    eng_pool_free(p);
  }
  eng_barrier *b = NULL;
  PT_EQ_INT(eng_barrier_new(0, 0, &b), PL_EINVAL);
  PT_EQ_INT(eng_barrier_new(1, 0, &b), 0);
  PT_EQ_INT(eng_barrier_wait(b), 1);
  PT_EQ_INT(eng_barrier_wait(b), 1);
  eng_barrier_free(b);
}

/* ---------------------------------------------------------------- tasks */

typedef struct sq { long in, out; } sq;

static void square_task(void *arg) {
  sq *s = arg;
  s->out = s->in * s->in;
}

static void test_submit_and_wait(void) {
  for (int size = 1; size <= 4; size++) {
    eng_pool *p = NULL;
    PT_EQ_INT(eng_pool_new(size, &p), 0);
    enum { N = 200 };
    static sq v[N];
    eng_future *f[N];
    for (int i = 0; i < N; i++) {
      v[i].in = i;
      v[i].out = -1;
      PT_EQ_INT(eng_submit(p, square_task, &v[i], &f[i]), 0);
    }
    for (int i = N - 1; i >= 0; i--) {
      PT_EQ_INT(eng_future_wait(f[i]), 0);
      PT_TRUE(eng_future_done(f[i]));
      PT_EQ_INT(v[i].out, (long)i * i);
      eng_future_free(f[i]);
    }
    eng_worker_stats st[4];
    long tasks = 0;
    int n = eng_pool_stats(p, st, 4);
    for (int i = 0; i < n; i++) tasks += st[i].tasks;
    PT_EQ_INT(tasks, N);
    eng_pool_free(p);
  }
  eng_future *f = NULL;
  PT_EQ_INT(eng_submit(NULL, square_task, NULL, &f), PL_EINVAL);
  PT_EQ_INT(eng_future_wait(NULL), PL_EINVAL);
  PT_EQ_INT(eng_future_wait_any(NULL, 1, 0), PL_EINVAL);
}

/* A task that waits for a gate the test opens. */
typedef struct gate { _Atomic int open, started; } gate;

static void gated_task(void *arg) {
  gate *g = arg;
  atomic_store(&g->started, 1);
  while (!atomic_load(&g->open)) sched_yield();
}

static void test_wait_any_and_as_completed(void) {
  eng_pool *p = NULL;
  PT_EQ_INT(eng_pool_new(3, &p), 0);
  gate g = {0, 0};
  eng_future *fs[8];
  PT_EQ_INT(eng_submit(p, gated_task, &g, &fs[0]), 0);
  /* Some pool thread holds it (this one only waits for futures). */
  while (!atomic_load(&g.started)) sched_yield();
  PT_EQ_INT(eng_future_wait_any(fs, 1, 0.05), PL_ETIMEOUT);
  PT_EQ_INT(eng_future_done(fs[0]), 0);
  static sq v[7];
  for (int i = 1; i < 8; i++) {
    v[i - 1].in = i;
    PT_EQ_INT(eng_submit(p, square_task, &v[i - 1], &fs[i]), 0);
  }
  /* As completed: take whichever is done, seven times, before the gate opens. */
  int seen[8] = {0};
  eng_future *left[8];
  int nleft = 8;
  for (int i = 0; i < 8; i++) left[i] = fs[i];
  for (int k = 0; k < 7; k++) {
    int idx = eng_future_wait_any(left, nleft, 10);
    PT_GE(idx, 0);
    int orig = -1;
    for (int i = 0; i < 8; i++)
      if (fs[i] == left[idx]) orig = i;
    PT_TRUE(orig >= 1); /* the gated one cannot have finished */
    PT_EQ_INT(seen[orig]++, 0);
    PT_EQ_INT(v[orig - 1].out, (long)orig * orig);
    left[idx] = left[--nleft];
  }
  PT_EQ_INT(nleft, 1);
  PT_TRUE(left[0] == fs[0]);
  atomic_store(&g.open, 1);
  PT_EQ_INT(eng_future_wait_any(left, 1, -1), 0);
  for (int i = 0; i < 8; i++) eng_future_free(fs[i]);
  eng_pool_free(p);
}

/* Futures in completion order. A long task is submitted before several
 * short ones and finishes only once this thread has received every short
 * result (or after a time-out, so a regression fails instead of hanging).
 * All helpers are first kept busy until the long task has started, so the
 * long one is taken while this thread already waits: a waiter that ran
 * tasks itself would take it and hear of no short result until it ended. */
enum { ORDER_SHORTS = 4, ORDER_TIMEOUT_S = 10 };

typedef struct order_run {
  _Atomic int long_started, release, helpers_started;
  _Atomic int long_timed_out, gate_timed_out;
  pthread_t waiter;
  _Atomic int ran_on_waiter;
} order_run;

typedef struct order_task { order_run *r; sq v; } order_task;

static int past(uint64_t deadline_ns) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec >= deadline_ns;
}

static uint64_t deadline_in(int secs) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)(ts.tv_sec + secs) * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void note_thread(order_run *r) {
  if (pthread_equal(pthread_self(), r->waiter)) atomic_store(&r->ran_on_waiter, 1);
}

/* Keeps a helper busy until the long task has started. */
static void order_gate(void *arg) {
  order_run *r = arg;
  note_thread(r);
  atomic_fetch_add(&r->helpers_started, 1);
  uint64_t end = deadline_in(ORDER_TIMEOUT_S);
  while (!atomic_load(&r->long_started))
    if (past(end)) {
      atomic_store(&r->gate_timed_out, 1);
      return;
    } else nap_us(100);
}

static void order_long(void *arg) {
  order_run *r = arg;
  note_thread(r);
  atomic_store(&r->long_started, 1);
  uint64_t end = deadline_in(ORDER_TIMEOUT_S);
  while (!atomic_load(&r->release))
    if (past(end)) {
      atomic_store(&r->long_timed_out, 1);
      return;
    } else nap_us(100);
}

static void order_short(void *arg) {
  order_task *t = arg;
  note_thread(t->r);
  square_task(&t->v);
}

static void test_futures_complete_in_order(void) {
  for (int size = 2; size <= 4; size++) {
    eng_pool *p = NULL;
    PT_EQ_INT(eng_pool_new(size, &p), 0);
    static order_run r;
    memset(&r, 0, sizeof r);
    r.waiter = pthread_self();
    int ngates = size - 1, n = ngates + 1 + ORDER_SHORTS;
    eng_future *fs[16], *left[16];
    order_task shorts[ORDER_SHORTS];
    int k = 0;
    for (int i = 0; i < ngates; i++) PT_EQ_INT(eng_submit(p, order_gate, &r, &fs[k++]), 0);
    /* Every helper holds a gate (with the stand-in, some may be in the
     * stand-in, and a helper is then free: that changes nothing below). */
    uint64_t end = deadline_in(ORDER_TIMEOUT_S);
    while (atomic_load(&r.helpers_started) < ngates && !past(end)) sched_yield();
    PT_EQ_INT(atomic_load(&r.helpers_started), ngates);
    int long_idx = k;
    PT_EQ_INT(eng_submit(p, order_long, &r, &fs[k++]), 0);
    for (int i = 0; i < ORDER_SHORTS; i++) {
      shorts[i] = (order_task){&r, {i + 2, 0}};
      PT_EQ_INT(eng_submit(p, order_short, &shorts[i], &fs[k++]), 0);
    }
    for (int i = 0; i < n; i++) left[i] = fs[i];
    int nleft = n, shorts_seen = 0, shorts_before_long = -1;
    for (int got = 0; got < n; got++) {
      int idx = eng_future_wait_any(left, nleft, ORDER_TIMEOUT_S * 2);
      PT_GE(idx, 0);
      int orig = -1;
      for (int i = 0; i < n; i++)
        if (fs[i] == left[idx]) orig = i;
      if (orig == long_idx) shorts_before_long = shorts_seen;
      else if (orig > long_idx) {
        shorts_seen++;
        PT_EQ_INT(shorts[orig - long_idx - 1].v.out,
                  (long)(orig - long_idx + 1) * (orig - long_idx + 1));
        /* Every short result is in: now the long task may end. */
        if (shorts_seen == ORDER_SHORTS) atomic_store(&r.release, 1);
      }
      left[idx] = left[--nleft];
    }
    if (atomic_load(&r.long_timed_out))
      PT_FAIL_("pool of %d: the long task was never released: the short results were not "
               "reported while it ran", size);
    PT_EQ_INT(atomic_load(&r.gate_timed_out), 0);
    PT_EQ_INT(shorts_before_long, ORDER_SHORTS);
    PT_EQ_INT(shorts_seen, ORDER_SHORTS);
    /* The waiter only waited: every task ran on a pool thread. */
    PT_EQ_INT(atomic_load(&r.ran_on_waiter), 0);
    for (int i = 0; i < n; i++) eng_future_free(fs[i]);
    eng_pool_free(p);
  }
}

/* A pool of n runs n futures at once while the submitter waits: each task
 * waits (with a time-out) until all n have started. */
typedef struct meet {
  _Atomic int arrived, missed, on_waiter;
  pthread_t waiter;
  int n;
} meet;

static void meet_task(void *arg) {
  meet *m = arg;
  if (pthread_equal(pthread_self(), m->waiter)) atomic_store(&m->on_waiter, 1);
  atomic_fetch_add(&m->arrived, 1);
  uint64_t end = deadline_in(ORDER_TIMEOUT_S);
  while (atomic_load(&m->arrived) < m->n)
    if (past(end)) {
      atomic_store(&m->missed, 1);
      return;
    } else sched_yield();
}

static void test_futures_use_every_worker(void) {
  for (int size = 2; size <= 4; size++) {
    eng_pool *p = NULL;
    PT_EQ_INT(eng_pool_new(size, &p), 0);
    for (int round = 0; round < 3; round++) {
      static meet m;
      memset(&m, 0, sizeof m);
      m.waiter = pthread_self();
      m.n = size;
      eng_future *fs[4];
      for (int i = 0; i < size; i++) PT_EQ_INT(eng_submit(p, meet_task, &m, &fs[i]), 0);
      for (int i = 0; i < size; i++) PT_EQ_INT(eng_future_wait(fs[i]), 0);
      for (int i = 0; i < size; i++) eng_future_free(fs[i]);
      if (atomic_load(&m.missed))
        PT_FAIL_("pool of %d: the %d futures did not all run at the same time", size, size);
      PT_EQ_INT(atomic_load(&m.on_waiter), 0);
    }
    /* Regions and task groups still work between futures (slot 0 is
     * handed back by the stand-in). */
    _Atomic long total = 0;
    PT_EQ_INT(eng_parallel_for(p, 0, 1000, count_body, &total), 0);
    PT_EQ_INT(total, 1000);
    eng_pool_free(p);
  }
}

typedef struct fib { eng_pool *p; int n; long r; } fib;

static void fib_task(void *arg) {
  fib *f = arg;
  if (f->n < 2) {
    f->r = f->n;
    return;
  }
  fib a = {f->p, f->n - 1, 0}, b = {f->p, f->n - 2, 0};
  eng_taskgroup *g = NULL;
  if (eng_taskgroup_new(f->p, &g)) abort();
  eng_taskgroup_spawn(g, fib_task, &a);
  eng_taskgroup_spawn(g, fib_task, &b);
  eng_taskgroup_wait(g);
  eng_taskgroup_free(g);
  f->r = a.r + b.r;
}

static void test_recursive_fib(void) {
  for (int size = 1; size <= 4; size++) {
    eng_pool *p = NULL;
    PT_EQ_INT(eng_pool_new(size, &p), 0);
    /* From outside the pool, as a submitted task, and inside a region. */
    fib f = {p, 20 - 2 * (TT_SCALE > 1), 0};
    fib_task(&f);
    PT_EQ_INT(f.r, TT_SCALE > 1 ? 2584 : 6765);
    fib g = {p, 15, 0};
    eng_future *fu = NULL;
    PT_EQ_INT(eng_submit(p, fib_task, &g, &fu), 0);
    PT_EQ_INT(eng_future_wait(fu), 0);
    eng_future_free(fu);
    PT_EQ_INT(g.r, 610);
    eng_worker_stats st[4];
    long tasks = 0;
    int n = eng_pool_stats(p, st, 4);
    for (int i = 0; i < n; i++) tasks += st[i].tasks;
    PT_GE(tasks, 2000);
    eng_pool_free(p);
  }
}

typedef struct many { eng_pool *p; _Atomic long runs; int n; } many;

static void inc_task(void *arg) { atomic_fetch_add(&((many *)arg)->runs, 1); }

/* More tasks than a deque holds, spawned by one worker without waiting. */
static void spawn_many(void *arg, long b, long e, int w) {
  (void)b, (void)e, (void)w;
  many *m = arg;
  eng_taskgroup *g = NULL;
  if (eng_taskgroup_new(m->p, &g)) abort();
  for (int i = 0; i < m->n; i++) eng_taskgroup_spawn(g, inc_task, m);
  eng_taskgroup_free(g); /* waits */
}

static void test_group_overflow_and_regions(void) {
  eng_pool *p = NULL;
  PT_EQ_INT(eng_pool_new(3, &p), 0);
  many m = {p, 0, 10000 / TT_SCALE};
  PT_EQ_INT(eng_parallel_for(p, 0, 3, spawn_many, &m), 0);
  PT_EQ_INT(atomic_load(&m.runs), 3L * m.n);
  eng_taskgroup *g = NULL;
  PT_EQ_INT(eng_taskgroup_new(NULL, &g), PL_EINVAL);
  PT_EQ_INT(eng_taskgroup_new(p, &g), 0);
  PT_EQ_INT(eng_taskgroup_spawn(g, NULL, NULL), PL_EINVAL);
  PT_EQ_INT(eng_taskgroup_wait(g), 0); /* empty */
  eng_taskgroup_free(g);
  eng_pool_free(p);
}

/* eng_pool_free waits for tasks nobody waited for. */
static void slow_inc(void *arg) {
  nap_us(200);
  atomic_fetch_add(&((many *)arg)->runs, 1);
}

static void test_free_drains_tasks(void) {
  eng_pool *p = NULL;
  PT_EQ_INT(eng_pool_new(3, &p), 0);
  many m = {p, 0, 0};
  for (int i = 0; i < 100; i++) {
    eng_future *f = NULL;
    PT_EQ_INT(eng_submit(p, slow_inc, &m, &f), 0);
    eng_future_free(f);
  }
  eng_pool_free(p);
  PT_EQ_INT(atomic_load(&m.runs), 100);
}

/* Several outside threads submit, wait and run regions at once. */
typedef struct mixer { eng_pool *p; int bad; } mixer;

static void *mixer_thread(void *arg) {
  mixer *x = arg;
  for (int r = 0; r < 60 / TT_SCALE; r++) {
    static _Thread_local sq v[16];
    eng_future *f[16];
    for (int i = 0; i < 16; i++) {
      v[i].in = r + i;
      if (eng_submit(x->p, square_task, &v[i], &f[i])) x->bad++;
    }
    _Atomic long total = 0;
    eng_for_opts o = {(eng_schedule)(r % 3), r % 4, 0};
    if (eng_parallel_for_opts(x->p, 0, 500, &o, count_body, &total) || total != 500) x->bad++;
    fib fb = {x->p, 10, 0};
    fib_task(&fb);
    if (fb.r != 55) x->bad++;
    for (int i = 0; i < 16; i++) {
      if (eng_future_wait(f[i]) || v[i].out != (long)(r + i) * (r + i)) x->bad++;
      eng_future_free(f[i]);
    }
  }
  return NULL;
}

static void test_concurrent_outside_threads(void) {
  eng_pool *p = NULL;
  PT_EQ_INT(eng_pool_new(3, &p), 0);
  pthread_t t[3];
  mixer x[3];
  for (int i = 0; i < 3; i++) {
    x[i] = (mixer){p, 0};
    PT_EQ_INT(pthread_create(&t[i], NULL, mixer_thread, &x[i]), 0);
  }
  for (int i = 0; i < 3; i++) {
    pthread_join(t[i], NULL);
    PT_EQ_INT(x[i].bad, 0);
  }
  eng_pool_free(p);
}

static void test_tasks_in_forked_child(void) {
  eng_pool *p = NULL;
  PT_EQ_INT(eng_pool_new(3, &p), 0);
  fib f = {p, 12, 0};
  fib_task(&f);
  PT_EQ_INT(f.r, 144);
  pid_t pid = fork();
  PT_TRUE(pid >= 0);
  if (pid == 0) {
    /* No helpers here: tasks run at once, on this thread. */
    fib c = {p, 12, 0};
    fib_task(&c);
    sq v = {9, 0};
    eng_future *fu = NULL;
    int ok = c.r == 144 && eng_submit(p, square_task, &v, &fu) == 0 && eng_future_done(fu) &&
             v.out == 81;
    eng_future_free(fu);
    eng_pool_free(p);
    _exit(ok ? 0 : 1);
  }
  int st = 0;
  PT_EQ_INT(waitpid(pid, &st, 0), pid);
  PT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  eng_pool_free(p);
}

static int count_threads(void) {
  DIR *d = opendir("/proc/self/task");
  if (!d) return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (e->d_name[0] != '.') n++;
  closedir(d);
  return n;
}

static void test_no_thread_left_behind(void) {
  eng_pool *warm = NULL;
  PT_EQ_INT(eng_pool_new(2, &warm), 0);
  eng_pool_free(warm);
  int before = count_threads();
  for (int i = 0; i < 30; i++) {
    eng_pool *p = NULL;
    PT_EQ_INT(eng_pool_new(4, &p), 0);
    fib f = {p, 12, 0};
    fib_task(&f);
    eng_future *fu = NULL;
    sq v = {3, 0};
    PT_EQ_INT(eng_submit(p, square_task, &v, &fu), 0);
    eng_future_free(fu);
    eng_pool_free(p);
    PT_EQ_INT(v.out, 9);
  }
  int after = count_threads();
  for (int i = 0; i < 200 && after != before; i++) {
    nap_us(5000);
    after = count_threads();
  }
  PT_EQ_INT(after, before);
}


/* ----------------------------------------------------------- sync kit */

static void test_counter_demo(void) {
  static const eng_count_mode exact[] = {ENG_COUNT_MUTEX, ENG_COUNT_ATOMIC, ENG_COUNT_PARTIALS};
  for (size_t i = 0; i < 3; i++) {
    eng_count_result r;
    PT_EQ_INT(eng_counter_demo(exact[i], 3, 50000 / TT_SCALE, &r), 0);
    PT_EQ_INT(r.expected, 3L * (50000 / TT_SCALE));
    PT_EQ_INT(r.count, r.expected);
    PT_TRUE(r.seconds > 0);
  }
  /* The race may or may not lose updates on a given run; it never adds.
   * (It can lose more than one thread's share: a store of a stale value
   * wipes out everything the other thread added since that value.) */
  eng_count_result r;
  PT_EQ_INT(eng_counter_demo(ENG_COUNT_NONE, 2, 100000 / TT_SCALE, &r), 0);
  PT_TRUE(r.count <= r.expected && r.count > 0);
  PT_EQ_INT(eng_counter_demo(ENG_COUNT_NONE, 0, 10, &r), PL_EINVAL);
  PT_EQ_INT(eng_counter_demo((eng_count_mode)9, 2, 10, &r), PL_EINVAL);
  eng_count_mode m;
  PT_EQ_INT(eng_count_mode_parse("partials", &m), 0);
  PT_EQ_INT(m, ENG_COUNT_PARTIALS);
  PT_EQ_INT(eng_count_mode_parse("locked", &m), PL_EINVAL);
  PT_EQ_STR(eng_count_mode_name(ENG_COUNT_ATOMIC), "atomic");
}

typedef struct kit {
  eng_sync *d;
  eng_sobj *m, *sem, *rw, *cv, *bar;
  long plain;            /* guarded by m */
  _Atomic int inside, max_inside, readers, writers, bad;
  int turn;              /* guarded by m */
  int id;
} kit;

static void note_max(_Atomic int *max, int v) {
  int m = atomic_load(max);
  while (v > m && !atomic_compare_exchange_weak(max, &m, v)) {
  }
}

static void *kit_thread(void *arg) {
  kit *k = arg;
  char label[16];
  snprintf(label, sizeof label, "t%d", k->id);
  eng_sync_thread_label(label);
  kit *s = (kit *)((char *)k - (size_t)k->id * sizeof *k); /* k[0] holds the shared state */
  for (int i = 0; i < 300 / TT_SCALE; i++) {
    if (eng_mutex_lock(s->m)) atomic_fetch_add(&s->bad, 1);
    s->plain++;
    eng_mutex_unlock(s->m);
    /* At most 2 threads inside the semaphore's section. */
    if (eng_sem_acquire(s->sem)) atomic_fetch_add(&s->bad, 1);
    note_max(&s->max_inside, atomic_fetch_add(&s->inside, 1) + 1);
    atomic_fetch_sub(&s->inside, 1);
    eng_sem_release(s->sem);
    /* Readers together, a writer alone. */
    if (i % 5 == 0) {
      eng_rw_write_lock(s->rw);
      if (atomic_fetch_add(&s->writers, 1) != 0 || atomic_load(&s->readers) != 0)
        atomic_fetch_add(&s->bad, 1);
      atomic_fetch_sub(&s->writers, 1);
      eng_rw_unlock(s->rw);
    } else {
      eng_rw_read_lock(s->rw);
      atomic_fetch_add(&s->readers, 1);
      if (atomic_load(&s->writers) != 0) atomic_fetch_add(&s->bad, 1);
      atomic_fetch_sub(&s->readers, 1);
      eng_rw_unlock(s->rw);
    }
  }
  /* Take turns in id order with the condition variable. */
  for (int round = 0; round < 20 / TT_SCALE + 1; round++) {
    eng_mutex_lock(s->m);
    while (s->turn % 4 != k->id)
      if (eng_cond_wait(s->cv, s->m)) atomic_fetch_add(&s->bad, 1);
    s->turn++;
    eng_cond_broadcast(s->cv);
    eng_mutex_unlock(s->m);
  }
  if (eng_sbarrier_wait(s->bar) < 0) atomic_fetch_add(&s->bad, 1);
  return NULL;
}

static void test_sync_kit_primitives(void) {
  static kit k[4];
  memset(k, 0, sizeof k);
  PT_EQ_INT(eng_sync_new(&k[0].d), 0);
  eng_sync *d = k[0].d;
  PT_EQ_INT(eng_sync_get(d, ENG_SYNC_MUTEX, "m", 0, &k[0].m), 0);
  PT_EQ_INT(eng_sync_get(d, ENG_SYNC_SEMAPHORE, "two", 2, &k[0].sem), 0);
  PT_EQ_INT(eng_sync_get(d, ENG_SYNC_RWLOCK, "rw", 0, &k[0].rw), 0);
  PT_EQ_INT(eng_sync_get(d, ENG_SYNC_CONDITION, "cv", 0, &k[0].cv), 0);
  PT_EQ_INT(eng_sync_get(d, ENG_SYNC_BARRIER, "end", 4, &k[0].bar), 0);
  /* Names find the same object; a clash of kinds is refused. */
  eng_sobj *o = NULL;
  PT_EQ_INT(eng_sync_get(d, ENG_SYNC_MUTEX, "m", 0, &o), 0);
  PT_TRUE(o == k[0].m);
  PT_EQ_INT(eng_sync_get(d, ENG_SYNC_SEMAPHORE, "m", 1, &o), PL_EINVAL);
  PT_EQ_INT(eng_sync_get(d, ENG_SYNC_BARRIER, "end", 3, &o), PL_EINVAL);
  PT_EQ_INT(eng_sync_get(d, ENG_SYNC_BARRIER, "zero", 0, &o), PL_EINVAL);
  PT_EQ_STR(eng_sobj_name(k[0].rw), "rw");
  pthread_t t[4];
  for (int i = 0; i < 4; i++) {
    k[i].id = i;
    PT_EQ_INT(pthread_create(&t[i], NULL, kit_thread, &k[i]), 0);
  }
  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  PT_EQ_INT(atomic_load(&k[0].bad), 0);
  PT_EQ_INT(k[0].plain, 4L * (300 / TT_SCALE));
  PT_TRUE(atomic_load(&k[0].max_inside) <= 2);
  PT_EQ_INT(eng_sem_value(k[0].sem), 2);
  /* Misuse is reported, not obeyed. */
  PT_EQ_INT(eng_mutex_unlock(k[0].m), PL_EINVAL);
  PT_EQ_INT(eng_mutex_lock(k[0].m), 0);
  PT_EQ_INT(eng_mutex_lock(k[0].m), PL_EINVAL);
  PT_EQ_INT(eng_mutex_trylock(k[0].m), 0);
  PT_EQ_INT(eng_mutex_unlock(k[0].m), 0);
  PT_EQ_INT(eng_mutex_trylock(k[0].m), 1);
  PT_EQ_INT(eng_cond_wait(k[0].cv, k[0].sem), PL_EINVAL);
  PT_EQ_INT(eng_mutex_unlock(k[0].m), 0);
  PT_EQ_INT(eng_cond_wait(k[0].cv, k[0].m), PL_EINVAL); /* not held */
  PT_EQ_INT(eng_rw_unlock(k[0].rw), PL_EINVAL);
  PT_EQ_INT(eng_sem_acquire(k[0].m), PL_EINVAL);
  PT_EQ_INT(eng_sync_report(d, NULL, 0), 0);
  eng_sync_free(d);
}

typedef struct crossed {
  eng_sobj *first, *second, *both;
  const char *label;
  int rc1, rc2;
} crossed;

static void *crossed_thread(void *arg) {
  crossed *c = arg;
  eng_sync_thread_label(c->label);
  c->rc1 = eng_mutex_lock(c->first);
  eng_sbarrier_wait(c->both); /* both hold their first lock */
  c->rc2 = eng_mutex_lock(c->second);
  return NULL;
}

static void test_watchdog_breaks_deadlock(void) {
  eng_sync *d = NULL;
  PT_EQ_INT(eng_sync_new(&d), 0);
  eng_sobj *a, *b, *both;
  PT_EQ_INT(eng_sync_get(d, ENG_SYNC_MUTEX, "A", 0, &a), 0);
  PT_EQ_INT(eng_sync_get(d, ENG_SYNC_MUTEX, "B", 0, &b), 0);
  PT_EQ_INT(eng_sync_get(d, ENG_SYNC_BARRIER, "both", 2, &both), 0);
  PT_EQ_INT(eng_sync_watchdog(d, 5), 0); /* long: the cycle is found at the next tick */
  PT_EQ_INT(eng_sync_watchdog(d, 0.2), 0);
  crossed c1 = {a, b, both, "left", 0, 0}, c2 = {b, a, both, "right", 0, 0};
  pthread_t t1, t2;
  PT_EQ_INT(pthread_create(&t1, NULL, crossed_thread, &c1), 0);
  PT_EQ_INT(pthread_create(&t2, NULL, crossed_thread, &c2), 0);
  pthread_join(t1, NULL);
  pthread_join(t2, NULL);
  PT_EQ_INT(c1.rc1, 0);
  PT_EQ_INT(c2.rc1, 0);
  PT_EQ_INT(c1.rc2, PL_ETIMEOUT);
  PT_EQ_INT(c2.rc2, PL_ETIMEOUT);
  PT_EQ_INT(eng_sync_broken(d), 1);
  char rep[1024];
  PT_EQ_INT(eng_sync_report(d, rep, sizeof rep), 1);
  PT_CONTAINS(rep, "deadlock: ");
  PT_CONTAINS(rep, "left waits for mutex 'B', held by right");
  PT_CONTAINS(rep, "right waits for mutex 'A', held by left");
  /* Broken: everything fails fast until the reset. */
  PT_EQ_INT(eng_mutex_trylock(a), PL_ETIMEOUT);
  PT_EQ_INT(eng_sync_reset(d), 0);
  PT_EQ_INT(eng_sync_broken(d), 0);
  PT_EQ_INT(eng_sync_report(d, rep, sizeof rep), 0);
  PT_EQ_STR(rep, "");
  PT_EQ_INT(eng_mutex_lock(a), 0);
  PT_EQ_INT(eng_mutex_unlock(a), 0);

  /* No cycle, but nothing moves: a semaphore nobody releases. */
  eng_sobj *never;
  PT_EQ_INT(eng_sync_get(d, ENG_SYNC_SEMAPHORE, "never", 0, &never), 0);
  eng_sync_thread_label("main");
  PT_EQ_INT(eng_sem_acquire(never), PL_ETIMEOUT);
  PT_EQ_INT(eng_sync_report(d, rep, sizeof rep), 1);
  PT_CONTAINS(rep, "stalled");
  PT_CONTAINS(rep, "main waits for semaphore 'never' (count 0)");
  eng_sync_free(d); /* joins the watchdog */
}

int main(int argc, char **argv) {
  static const pt_case cases[] = {
      PT_CASE(test_schedules_cover_every_index_once),
      PT_CASE(test_dynamic_and_guided_chunk_sizes),
      PT_CASE(test_reduce_schedules),
      PT_CASE(test_opts_errors),
      PT_CASE(test_stats_show_chunks_and_imbalance),
      PT_CASE(test_wait_policy),
      PT_CASE(test_idle_pool_uses_no_cpu),
      PT_CASE(test_barrier),
      PT_CASE(test_submit_and_wait),
      PT_CASE(test_wait_any_and_as_completed),
      PT_CASE(test_futures_complete_in_order),
      PT_CASE(test_futures_use_every_worker),
      PT_CASE(test_recursive_fib),
      PT_CASE(test_group_overflow_and_regions),
      PT_CASE(test_free_drains_tasks),
      PT_CASE(test_concurrent_outside_threads),
      PT_CASE(test_tasks_in_forked_child),
      PT_CASE(test_no_thread_left_behind),
      PT_CASE(test_counter_demo),
      PT_CASE(test_sync_kit_primitives),
      PT_CASE(test_watchdog_breaks_deadlock),
      {0}};
  return pt_main(argc, argv, cases);
}
