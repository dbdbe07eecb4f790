/*
 * eng_task.c — work-stealing deques, task groups and futures on the pool's
 * workers (see eng_task.h for the model, eng_pool_int.h for the slots).
 *
 * Task records and group records come from a small cache per worker slot,
 * so a recursive fork-join program does not call malloc per task once it
 * has warmed up. Only a slot's owner touches its cache.
 *
 * Memory ordering. A pushed task is published by a release store of its
 * deque slot (and of `bottom`); a thief reads the slot with acquire before
 * it claims the task with a CAS on `top`, so the task's fields are visible
 * to whoever runs it. `top` and `bottom` are otherwise accessed with
 * sequentially consistent operations (the original Chase-Lev setting)
 * rather than relaxed ones plus fences: on x86 the cost is the same, and
 * ThreadSanitizer understands atomics but not fences.
 *
 * Completion is a sequentially consistent decrement (group) or store
 * (future) followed by eng__notify(), and waiters check the count after
 * announcing themselves, as eng_pool_int.h describes.
 *
 * Who runs futures. A thread outside the pool that waits for a future
 * does not run tasks: had it picked up a long task, the short ones that
 * finish meanwhile would wait for it to be reported, and as-completed
 * would not be in completion order. Its place as worker 0 is taken by the
 * stand-in, a pool thread that runs tasks in slot 0 while futures are
 * outstanding and slot 0 is free, so n threads run the futures of a pool
 * of n. Task groups keep help-first waiting: a group's waiter holds slot
 * 0 and runs tasks, which recursive fork-join needs to be fast; the
 * stand-in then finds slot 0 taken and stays out of the way.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "eng_task.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "eng_pool_int.h"
#include "pl_err.h"

#define MASK ((long)ENG_DEQUE_CAP - 1)
_Static_assert((ENG_DEQUE_CAP & (ENG_DEQUE_CAP - 1)) == 0, "deque size is a power of two");

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

/* ---- Chase-Lev deque ---- */

/* The store of bottom is sequentially consistent so that the sleeper
 * count read after it (push) sees a waiter that might have missed it. */
static int deque_push(eng__deque *d, eng__task *t) {
  long b = atomic_load_explicit(&d->bottom, memory_order_relaxed);
  long top = atomic_load_explicit(&d->top, memory_order_acquire);
  if (b - top >= ENG_DEQUE_CAP) return 0;
  atomic_store_explicit(&d->slots[b & MASK], t, memory_order_release);
  atomic_store(&d->bottom, b + 1);
  return 1;
}

static eng__task *deque_take(eng__deque *d) {
  long b = atomic_load_explicit(&d->bottom, memory_order_relaxed) - 1;
  atomic_store(&d->bottom, b);
  long t = atomic_load(&d->top);
  eng__task *x = NULL;
  if (t <= b) {
    x = atomic_load_explicit(&d->slots[b & MASK], memory_order_relaxed);
    if (t == b) {
      /* The last task: race the thieves for it. */
      if (!atomic_compare_exchange_strong_explicit(&d->top, &t, t + 1, memory_order_seq_cst,
                                                   memory_order_relaxed))
        x = NULL;
      atomic_store_explicit(&d->bottom, b + 1, memory_order_relaxed);
    }
  } else {
    atomic_store_explicit(&d->bottom, b + 1, memory_order_relaxed);
  }
  return x;
}

static eng__task *deque_steal(eng__deque *d) {
  long t = atomic_load(&d->top);
  long b = atomic_load(&d->bottom);
  if (t >= b) return NULL;
  /* Read before the claim: once top moves, the owner may reuse the slot. */
  eng__task *x = atomic_load_explicit(&d->slots[t & MASK], memory_order_acquire);
  if (!atomic_compare_exchange_strong_explicit(&d->top, &t, t + 1, memory_order_seq_cst,
                                               memory_order_relaxed))
    return NULL;
  return x;
}

/* ---- task records ---- */

static int slot_of(const eng_pool *p) { return eng__tls_pool == p ? eng__tls_worker : -1; }

static eng__task *cell_get(eng_pool *p, int w) {
  if (w >= 0) {
    eng__worker *me = &p->workers[w];
    eng__task *t = me->cells;
    if (t) {
      me->cells = t->next;
      me->ncells--;
      return t;
    }
  }
  return malloc(sizeof(eng__task));
}

static void cell_put(eng_pool *p, int w, eng__task *t) {
  if (w >= 0) {
    eng__worker *me = &p->workers[w];
    if (me->ncells < ENG_CELL_CACHE) {
      t->next = me->cells;
      me->cells = t;
      me->ncells++;
      return;
    }
  }
  free(t);
}

void eng__free_caches(eng_pool *p) {
  for (int i = 0; i < p->n; i++) {
    eng__worker *w = &p->workers[i];
    while (w->cells) {
      eng__task *t = w->cells;
      w->cells = t->next;
      free(t);
    }
    while (w->groups) {
      eng_taskgroup *g = w->groups;
      w->groups = g->next_free;
      free(g);
    }
    w->ncells = w->ngroups = 0;
  }
}

/* ---- finding and running tasks ---- */

int eng__tasks_visible(eng_pool *p) {
  if (atomic_load(&p->inj_count) > 0) return 1;
  for (int i = 0; i < p->n; i++) {
    eng__deque *d = &p->workers[i].dq;
    if (atomic_load(&d->top) < atomic_load(&d->bottom)) return 1;
  }
  return 0;
}

static uint64_t xorshift(uint64_t *s) {
  uint64_t x = *s;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return *s = x;
}

/* Own deque first (newest task, depth first), then the shared queue, then
 * the oldest task of another worker, starting at a random victim so that
 * thieves spread out. */
eng__task *eng__find_task(eng_pool *p, int w) {
  eng__worker *me = &p->workers[w];
  eng__task *t = deque_take(&me->dq);
  if (t) return t;
  if (atomic_load_explicit(&p->inj_count, memory_order_relaxed) > 0) {
    pthread_mutex_lock(&p->inj_lock);
    t = p->inj_head;
    if (t) {
      p->inj_head = t->next;
      if (!p->inj_head) p->inj_tail = NULL;
      atomic_fetch_sub(&p->inj_count, 1);
    }
    pthread_mutex_unlock(&p->inj_lock);
    if (t) return t;
  }
  int n = p->n;
  if (n < 2) return NULL;
  int start = (int)(xorshift(&me->rng) % (uint64_t)n);
  for (int i = 0; i < n; i++) {
    int v = start + i < n ? start + i : start + i - n;
    if (v == w) continue;
    t = deque_steal(&p->workers[v].dq);
    if (t) {
      atomic_fetch_add_explicit(&me->steals, 1, memory_order_relaxed);
      return t;
    }
  }
  return NULL;
}

static void future_release(eng_future *f) {
  if (atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) == 1) free(f);
}

/* After the task's body: count it, wake its waiter, drop its records. */
static void finish(eng_pool *p, eng__task *t) {
  if (t->group) {
    /* Nothing reads the group after this decrement: its waiter may free it. */
    if (atomic_fetch_sub(&t->group->pending, 1) == 1) eng__notify(p);
  }
  if (t->fut) {
    eng_future *f = t->fut;
    atomic_store(&f->done, 1);
    atomic_fetch_sub(&p->outstanding, 1);
    eng__notify(p);
    future_release(f);
  }
}

void eng__run_task(eng_pool *p, int w, eng__task *t) {
  eng__worker *me = &p->workers[w];
  int saved_w = eng__tls_worker;
  eng_pool *saved_p = eng__tls_pool;
  eng__tls_worker = w;
  eng__tls_pool = p;
  /* Busy time is taken around outermost work only: tasks run while a
   * worker waits inside another task are already inside its interval. */
  int outer = eng__tls_depth++ == 0;
  uint64_t t0 = outer ? eng__now_ns() : 0;
  t->fn(t->arg);
  eng__tls_depth--;
  if (outer) atomic_fetch_add_explicit(&me->busy_ns, eng__now_ns() - t0, memory_order_relaxed);
  atomic_fetch_add_explicit(&me->tasks, 1, memory_order_relaxed);
  finish(p, t);
  cell_put(p, w, t);
  eng__tls_worker = saved_w;
  eng__tls_pool = saved_p;
}

/* A pool without helpers runs the task now, as worker 0 unless the caller
 * is already some pool's worker. */
static void run_now(eng_pool *p, eng_task_fn fn, void *arg) {
  int saved_w = eng__tls_worker;
  eng_pool *saved_p = eng__tls_pool;
  if (saved_w < 0) {
    eng__tls_worker = 0;
    eng__tls_pool = p;
  }
  fn(arg);
  eng__tls_worker = saved_w;
  eng__tls_pool = saved_p;
  atomic_fetch_add_explicit(&p->workers[0].tasks, 1, memory_order_relaxed);
}

static void push(eng_pool *p, int w, eng__task *t) {
  if (w >= 0) {
    if (!deque_push(&p->workers[w].dq, t)) {
      eng__run_task(p, w, t);
      return;
    }
  } else {
    t->next = NULL;
    pthread_mutex_lock(&p->inj_lock);
    if (p->inj_tail) p->inj_tail->next = t;
    else p->inj_head = t;
    p->inj_tail = t;
    atomic_fetch_add(&p->inj_count, 1);
    pthread_mutex_unlock(&p->inj_lock);
  }
  /* Both pushes end with a sequentially consistent write (bottom,
   * inj_count), so the sleeper count read here is not stale. */
  eng__notify(p);
}

int eng__help_until(eng_pool *p, int (*done)(void *), void *ctx, uint64_t deadline_ns,
                    int outside_helps) {
  if (done(ctx)) return 1;
  /* No helpers: whatever could make it true has already run (or belongs
   * to the parent of this forked process and never will). */
  if (eng__inline_pool(p)) return done(ctx);
  int w = slot_of(p), own = 0, ok = 0;
  int saved_w = eng__tls_worker;
  eng_pool *saved_p = eng__tls_pool;
  uint64_t spin = atomic_load_explicit(&p->spin_eff, memory_order_relaxed);
  for (;;) {
    if (done(ctx)) {
      ok = 1;
      break;
    }
    if (w < 0 && outside_helps && pthread_mutex_trylock(&p->call_lock) == 0) {
      own = 1;
      w = 0;
      eng__tls_worker = 0;
      eng__tls_pool = p;
    }
    if (w >= 0) {
      eng__task *t = eng__find_task(p, w);
      if (t) {
        eng__run_task(p, w, t);
        continue;
      }
    }
    uint64_t now = eng__now_ns(), start = now;
    if (deadline_ns && now >= deadline_ns) break;
    int again = 0;
    for (unsigned i = 1; spin; i++) {
      if (done(ctx) || ((i & 15) == 0 && w >= 0 && eng__tasks_visible(p))) {
        again = 1;
        break;
      }
      cpu_relax();
      if ((i & 63) == 0) {
        now = eng__now_ns();
        if (now - start >= spin || (deadline_ns && now >= deadline_ns)) break;
      }
    }
    if (again) continue;
    unsigned s = eng__idle_enter(p);
    if (!done(ctx) && !(w >= 0 && eng__tasks_visible(p))) {
      if (w < 0 && outside_helps && pthread_mutex_trylock(&p->call_lock) == 0) {
        own = 1;
        w = 0;
        eng__tls_worker = 0;
        eng__tls_pool = p;
      } else {
        eng__idle_wait(p, s, deadline_ns);
      }
    }
    eng__idle_leave(p, s);
  }
  if (own) {
    eng__tls_worker = saved_w;
    eng__tls_pool = saved_p;
    pthread_mutex_unlock(&p->call_lock);
    /* Another outside waiter may be sleeping until slot 0 is free. */
    eng__notify(p);
  }
  return ok;
}

/* ---- the stand-in ---- */

/* While slot 0 is held by someone else, the stand-in looks again after
 * this long (doubling up to the maximum) even if nobody notifies: a
 * region's caller does not announce that it gave slot 0 back. */
#define STANDIN_RETRY_NS 200000ull
#define STANDIN_RETRY_MAX_NS 5000000ull

static int futures_pending(eng_pool *p) { return atomic_load(&p->outstanding) > 0; }

/* No future outstanding: sleep until eng_submit or eng__standin_stop. */
static void standin_doze(eng_pool *p) {
  unsigned seen = atomic_load(&p->standin_word);
  atomic_store(&p->standin_dormant, 1);
  if (!futures_pending(p) && !atomic_load(&p->standin_stop))
    eng__futex_wait((void *)&p->standin_word, (int)seen);
  atomic_store(&p->standin_dormant, 0);
}

static void standin_rouse(eng_pool *p) {
  /* Only the first of a burst of submitters pays for the wake-up. */
  if (atomic_load(&p->standin_dormant) && atomic_exchange(&p->standin_dormant, 0)) {
    atomic_fetch_add(&p->standin_word, 1);
    eng__futex_wake((void *)&p->standin_word, 1);
  }
}

/* Holding call_lock: run tasks as worker 0 until none is left, or a
 * region's caller wants the slot, then give it back. */
static void standin_serve(eng_pool *p) {
  eng__tls_worker = 0;
  eng__tls_pool = p;
  while (!atomic_load(&p->standin_stop) &&
         atomic_load_explicit(&p->slot0_wanted, memory_order_relaxed) == 0) {
    eng__task *t = eng__find_task(p, 0);
    if (!t) break;
    eng__run_task(p, 0, t);
  }
  eng__tls_worker = -1;
  eng__tls_pool = NULL;
  pthread_mutex_unlock(&p->call_lock);
  /* A group's waiter outside the pool may be sleeping until slot 0 is free. */
  eng__notify(p);
}

/* Spin for the wait policy's budget until there is something to do. */
static int standin_spin(eng_pool *p) {
  uint64_t budget = atomic_load_explicit(&p->spin_eff, memory_order_relaxed);
  uint64_t start = 0;
  if (!budget) return 0;
  for (unsigned i = 1;; i++) {
    if ((i & 15) == 0 && (eng__tasks_visible(p) || !futures_pending(p) ||
                          atomic_load_explicit(&p->standin_stop, memory_order_relaxed)))
      return 1;
    cpu_relax();
    if ((i & 63) == 0) {
      uint64_t now = eng__now_ns();
      if (!start) start = now;
      else if (now - start >= budget) return 0;
    }
  }
}

static void *standin_main(void *arg) {
  eng_pool *p = arg;
  uint64_t retry = STANDIN_RETRY_NS;
  while (!atomic_load(&p->standin_stop)) {
    if (!futures_pending(p)) {
      standin_doze(p);
      continue;
    }
    int blocked = 0;
    if (eng__tasks_visible(p)) {
      if (atomic_load(&p->slot0_wanted) == 0 && pthread_mutex_trylock(&p->call_lock) == 0) {
        standin_serve(p);
        retry = STANDIN_RETRY_NS;
        continue;
      }
      blocked = 1; /* slot 0 is someone else's for now */
    }
    if (!blocked && standin_spin(p)) continue;
    unsigned s = eng__idle_enter(p);
    if (!atomic_load(&p->standin_stop) && futures_pending(p) &&
        (blocked || !eng__tasks_visible(p)))
      eng__idle_wait(p, s, blocked ? eng__now_ns() + retry : 0);
    eng__idle_leave(p, s);
    if (blocked && retry < STANDIN_RETRY_MAX_NS) retry *= 2;
  }
  return NULL;
}

void eng__standin_start(eng_pool *p) {
  int none = ENG_STANDIN_NONE;
  if (!atomic_compare_exchange_strong(&p->standin_state, &none, ENG_STANDIN_STARTING)) return;
  /* Without it, futures still run on the n - 1 helpers. */
  int rc = eng__start_thread(&p->standin, standin_main, p);
  atomic_store(&p->standin_state, rc ? ENG_STANDIN_FAILED : ENG_STANDIN_RUNNING);
}

void eng__standin_stop(eng_pool *p) {
  if (atomic_load(&p->standin_state) != ENG_STANDIN_RUNNING) return;
  atomic_store(&p->standin_stop, 1);
  atomic_fetch_add(&p->standin_word, 1);
  eng__futex_wake((void *)&p->standin_word, 1);
  eng__notify(p);
  pthread_join(p->standin, NULL);
  atomic_store(&p->standin_state, ENG_STANDIN_NONE);
  atomic_store(&p->standin_stop, 0);
}

/* ---- futures ---- */

int eng_submit(eng_pool *p, eng_task_fn fn, void *arg, eng_future **out) {
  if (!out) return PL_EINVAL;
  *out = NULL;
  if (!p || !fn) return PL_EINVAL;
  eng_future *f = malloc(sizeof *f);
  if (!f) return PL_ENOMEM;
  f->p = p;
  atomic_init(&f->done, 0);
  atomic_init(&f->refs, 2);
  if (eng__inline_pool(p)) {
    run_now(p, fn, arg);
    atomic_store(&f->done, 1);
    atomic_store(&f->refs, 1);
    *out = f;
    return 0;
  }
  int w = slot_of(p);
  eng__task *t = cell_get(p, w);
  if (!t) {
    free(f);
    return PL_ENOMEM;
  }
  t->fn = fn;
  t->arg = arg;
  t->group = NULL;
  t->fut = f;
  t->next = NULL;
  if (atomic_load_explicit(&p->standin_state, memory_order_relaxed) == ENG_STANDIN_NONE)
    eng__standin_start(p);
  atomic_fetch_add(&p->outstanding, 1);
  /* After the count (seq_cst on both sides, as for the idle word): a
   * dozing stand-in either sees it or is woken here. */
  standin_rouse(p);
  /* Before the push: the task may finish and drop its reference at once. */
  *out = f;
  push(p, w, t);
  return 0;
}

int eng_future_done(eng_future *f) { return f ? atomic_load(&f->done) : 0; }

static int one_done(void *f) { return atomic_load(&((eng_future *)f)->done); }

int eng_future_wait(eng_future *f) {
  if (!f) return PL_EINVAL;
  return eng__help_until(f->p, one_done, f, 0, 0) ? 0 : PL_EINVAL;
}

typedef struct any_ctx {
  eng_future *const *f;
  int n, idx;
} any_ctx;

static int any_done(void *c_) {
  any_ctx *c = c_;
  for (int i = 0; i < c->n; i++) {
    if (atomic_load(&c->f[i]->done)) {
      c->idx = i;
      return 1;
    }
  }
  return 0;
}

int eng_future_wait_any(eng_future *const *futs, int n, double timeout_s) {
  if (!futs || n < 1) return PL_EINVAL;
  for (int i = 0; i < n; i++)
    if (!futs[i] || futs[i]->p != futs[0]->p) return PL_EINVAL;
  uint64_t deadline = 0;
  if (timeout_s >= 0) {
    double ns = timeout_s * 1e9;
    deadline = eng__now_ns() + (ns > 1e18 ? (uint64_t)1e18 : (uint64_t)ns) + 1;
  }
  any_ctx c = {futs, n, -1};
  if (eng__help_until(futs[0]->p, any_done, &c, deadline, 0)) return c.idx;
  return PL_ETIMEOUT;
}

void eng_future_free(eng_future *f) {
  if (f) future_release(f);
}

/* ---- task groups ---- */

int eng_taskgroup_new(eng_pool *p, eng_taskgroup **out) {
  if (!out) return PL_EINVAL;
  *out = NULL;
  if (!p) return PL_EINVAL;
  int w = slot_of(p);
  eng_taskgroup *g = NULL;
  if (w >= 0 && p->workers[w].groups) {
    eng__worker *me = &p->workers[w];
    g = me->groups;
    me->groups = g->next_free;
    me->ngroups--;
  } else {
    g = malloc(sizeof *g);
    if (!g) return PL_ENOMEM;
  }
  g->p = p;
  g->next_free = NULL;
  atomic_store_explicit(&g->pending, 0, memory_order_relaxed);
  *out = g;
  return 0;
}

int eng_taskgroup_spawn(eng_taskgroup *g, eng_task_fn fn, void *arg) {
  if (!g || !fn) return PL_EINVAL;
  eng_pool *p = g->p;
  if (eng__inline_pool(p)) {
    run_now(p, fn, arg);
    return 0;
  }
  int w = slot_of(p);
  eng__task *t = cell_get(p, w);
  if (!t) {
    /* Out of memory: running it here is still a correct schedule. */
    fn(arg);
    return 0;
  }
  t->fn = fn;
  t->arg = arg;
  t->group = g;
  t->fut = NULL;
  t->next = NULL;
  /* Sequenced before the push, so the count cannot reach zero early. */
  atomic_fetch_add_explicit(&g->pending, 1, memory_order_relaxed);
  push(p, w, t);
  return 0;
}

static int group_done(void *g) { return atomic_load(&((eng_taskgroup *)g)->pending) == 0; }

int eng_taskgroup_wait(eng_taskgroup *g) {
  if (!g) return PL_EINVAL;
  eng__help_until(g->p, group_done, g, 0, 1);
  return 0;
}

void eng_taskgroup_free(eng_taskgroup *g) {
  if (!g) return;
  eng_taskgroup_wait(g);
  eng_pool *p = g->p;
  int w = slot_of(p);
  if (w >= 0 && p->workers[w].ngroups < ENG_CELL_CACHE) {
    eng__worker *me = &p->workers[w];
    g->next_free = me->groups;
    me->groups = g;
    me->ngroups++;
    return;
  }
  free(g);
}
