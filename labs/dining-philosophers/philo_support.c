/*
 * philo_support.c — the dinner table for Lab dining-philosophers, compiled
 * together with the student's philo.c and run inside the jail with it.
 *
 * It provides the forks (take_fork, put_fork), the activities (think, eat)
 * and the one export the grader calls, philo_dinner(), which seats n
 * philosophers, runs the student's philosopher() on one thread each and
 * returns the number of meals eaten.
 *
 * Everything the grader needs to explain a hang is kept in `table`, an
 * engine i64 array the grader passes in and still holds after it kills a
 * jail that ran past its time limit. Layout (0-based, n philosophers):
 *
 *   [0] n            [1] most philosophers seen eating at once
 *   [2] rule breaks  [3] first rule broken: kind, [4] by whom, [5] fork
 *   [8 + f]          philosopher holding fork f, or -1
 *   [8 + n + p]      fork philosopher p is waiting for, or -1
 *   [8 + 2n + p]     meals philosopher p has eaten
 *
 * The worst moment is forced, not hoped for: after taking the first fork
 * of the dinner, each philosopher waits (up to RENDEZVOUS_MS) until every
 * philosopher holds a fork. If the order of taking forks lets everyone
 * hold one at once, the dinner deadlocks right away, every time; an order
 * that cannot deadlock just loses those milliseconds once.
 *
 * Invariants: a fork's owner and its waiters change only under the fork's
 * mutex, so when every philosopher is blocked the table is a consistent
 * snapshot of who holds what and who waits for what.
 *
 * Thread-safety: take_fork/put_fork/eat/think are called concurrently by
 * the philosopher threads; philo_dinner is called by one thread at a time.
 * Nothing here is a secret: it runs with the student's code.
 */
#define _POSIX_C_SOURCE 200809L /* barriers, nanosleep */

#include <errno.h>
#include <pthread.h>
#include <time.h>

enum { HDR = 8, MAX_PHILO = 64 };
enum { BROKE_NOT_HOLDING = 1, BROKE_PUT_UNHELD = 2, BROKE_BAD_FORK = 3, BROKE_NOT_SEATED = 4 };

/* Delays (_US microseconds, _MS milliseconds). Reaching for a fork takes
 * a moment, which widens the window in which a badly ordered dinner jams
 * even after the rendezvous at the start. */
enum { REACH_US = 200, EAT_US = 300, THINK_US = 50, RENDEZVOUS_MS = 200 };

void philosopher(int id, int n, int meals); /* the student's, in philo.c */

typedef struct fork_state {
  pthread_mutex_t mu;
  pthread_cond_t freed;
  int owner; /* philosopher id, or -1; written under mu, read by eat() */
} fork_state;

static fork_state forks[MAX_PHILO];
static long *tab;
static int seats;
static int eating;
static pthread_mutex_t eat_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t start_line;
static pthread_mutex_t first_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t first_cv; /* timed on CLOCK_MONOTONIC */
static int holding_first;       /* philosophers who hold their first fork */
static int rendezvous_over;     /* everyone arrived, or someone gave up waiting */
static _Thread_local int me = -1;
static _Thread_local int took_first;

static void put(long i, long v) { __atomic_store_n(&tab[i], v, __ATOMIC_RELAXED); }
static long get(long i) { return __atomic_load_n(&tab[i], __ATOMIC_RELAXED); }
static long owner_slot(int f) { return HDR + f; }
static long wait_slot(int p) { return HDR + seats + p; }
static long meals_slot(int p) { return HDR + 2L * seats + p; }
static int owner_of(int f) { return __atomic_load_n(&forks[f].owner, __ATOMIC_RELAXED); }
static void set_owner(int f, int p) {
  __atomic_store_n(&forks[f].owner, p, __ATOMIC_RELAXED);
  put(owner_slot(f), p);
}

static void pause_us(long us) {
  struct timespec ts = {0, us * 1000};
  while (nanosleep(&ts, &ts) != 0) {}
}

/* Record a broken rule; the first one is kept for the grader's message. */
static void broke(int kind, int fork) {
  if (__atomic_fetch_add(&tab[2], 1, __ATOMIC_RELAXED) == 0) {
    put(3, kind);
    put(4, me);
    put(5, fork);
  }
}

/* See the header: hold on to the first fork until everyone holds one, or
 * until RENDEZVOUS_MS have passed (someone is blocked: no deadlock here).
 * Either way the rendezvous is then over for all, so it costs a dinner at
 * most RENDEZVOUS_MS once. */
static void wait_for_everyone(void) {
  struct timespec until;
  clock_gettime(CLOCK_MONOTONIC, &until);
  until.tv_nsec += RENDEZVOUS_MS * 1000000L;
  until.tv_sec += until.tv_nsec / 1000000000L;
  until.tv_nsec %= 1000000000L;
  pthread_mutex_lock(&first_mu);
  holding_first++;
  pthread_cond_broadcast(&first_cv);
  while (!rendezvous_over && holding_first < seats)
    if (pthread_cond_timedwait(&first_cv, &first_mu, &until) == ETIMEDOUT) break;
  rendezvous_over = 1;
  pthread_cond_broadcast(&first_cv);
  pthread_mutex_unlock(&first_mu);
}

/* A fork may only be used by a philosopher's own thread, with a fork
 * number that exists. */
static int usable(int f) {
  if (me < 0) { broke(BROKE_NOT_SEATED, f); return 0; }
  if (f < 0 || f >= seats) { broke(BROKE_BAD_FORK, f); return 0; }
  return 1;
}

/* Taking a fork one already holds waits for ever, as a plain mutex would:
 * the grader then reports it as a philosopher waiting for itself. */
void take_fork(int f) {
  if (!usable(f)) return;
  fork_state *k = &forks[f];
  pthread_mutex_lock(&k->mu);
  put(wait_slot(me), f);
  while (k->owner != -1)
    pthread_cond_wait(&k->freed, &k->mu);
  set_owner(f, me);
  put(wait_slot(me), -1);
  pthread_mutex_unlock(&k->mu);
  if (!took_first) {
    took_first = 1;
    wait_for_everyone();
  }
  pause_us(REACH_US);
}

void put_fork(int f) {
  if (!usable(f)) return;
  fork_state *k = &forks[f];
  pthread_mutex_lock(&k->mu);
  if (k->owner != me) {
    pthread_mutex_unlock(&k->mu);
    broke(BROKE_PUT_UNHELD, f);
    return;
  }
  set_owner(f, -1);
  pthread_cond_signal(&k->freed);
  pthread_mutex_unlock(&k->mu);
}

/* Philosopher p eats with fork p (left) and fork (p + 1) % n (right). */
void eat(void) {
  if (!usable(me)) return;
  int left = me, right = (me + 1) % seats;
  if (owner_of(left) != me || owner_of(right) != me) {
    broke(BROKE_NOT_HOLDING, owner_of(left) != me ? left : right);
    return;
  }
  pthread_mutex_lock(&eat_mu);
  if (++eating > get(1)) put(1, eating);
  pthread_mutex_unlock(&eat_mu);
  pause_us(EAT_US);
  pthread_mutex_lock(&eat_mu);
  eating--;
  pthread_mutex_unlock(&eat_mu);
  put(meals_slot(me), get(meals_slot(me)) + 1);
}

void think(void) { pause_us(THINK_US); }

typedef struct seat { int id, n, meals; } seat;

static void *sit(void *arg) {
  seat *s = arg;
  me = s->id;
  pthread_barrier_wait(&start_line); /* everyone reaches for forks together */
  philosopher(s->id, s->n, s->meals);
  return NULL;
}

/* Exported to the grader: long philo_dinner(long *table, long n, long meals).
 * Returns the meals eaten in all, or -1 when n or meals is out of range or
 * the threads cannot be started. table holds at least 8 + 3n entries. */
long philo_dinner(long *table, long n, long meals) {
  if (!table || n < 2 || n > MAX_PHILO || meals < 0 || meals > 1000000) return -1;
  tab = table;
  seats = (int)n;
  eating = 0;
  for (long i = 0; i < HDR + 3 * n; i++) put(i, 0);
  put(0, n);
  for (int f = 0; f < seats; f++) {
    pthread_mutex_init(&forks[f].mu, NULL);
    pthread_cond_init(&forks[f].freed, NULL);
    set_owner(f, -1);
    put(wait_slot(f), -1);
  }
  static pthread_t tid[MAX_PHILO];
  static seat chairs[MAX_PHILO];
  holding_first = 0;
  rendezvous_over = 0;
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&first_cv, &ca);
  pthread_condattr_destroy(&ca);
  if (pthread_barrier_init(&start_line, NULL, (unsigned)n)) return -1;
  for (int p = 0; p < seats; p++) {
    chairs[p] = (seat){p, seats, (int)meals};
    /* On failure the threads already started wait at the barrier for
     * ever; the grader discards this jail when the check ends. */
    if (pthread_create(&tid[p], NULL, sit, &chairs[p])) return -1;
  }
  long total = 0;
  for (int p = 0; p < seats; p++) {
    pthread_join(tid[p], NULL);
    total += get(meals_slot(p));
  }
  pthread_barrier_destroy(&start_line);
  pthread_cond_destroy(&first_cv);
  for (int f = 0; f < seats; f++) {
    pthread_mutex_destroy(&forks[f].mu);
    pthread_cond_destroy(&forks[f].freed);
  }
  return total;
}
