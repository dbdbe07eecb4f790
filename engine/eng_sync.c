/*
 * eng_sync.c — the counter race, the named primitives of a domain, and
 * the deadlock watchdog (see eng_sync.h).
 *
 * A domain is a monitor: one mutex (`mu`) guards every primitive's state
 * and the list of waits, and one condition variable (`cv`) is broadcast on
 * every change, so each blocking operation is "wait on cv until my
 * condition holds or the domain is broken". The list of waits is what the
 * watchdog reads; a wait record lives on the waiting thread's stack and is
 * linked in for exactly the time the thread blocks.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* gettid */
#endif
#include "eng_sync.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "eng_measure.h"
#include "eng_pool.h"
#include "pl_err.h"

#define LABEL_MAX 32
#define MAX_READERS 64
#define REPORT_MAX 4096
#define MIN_TIMEOUT_S 0.01

/* ---------------------------------------------------------- counter demo */

static const char *const count_names[] = {"none", "mutex", "atomic", "partials"};

int eng_count_mode_parse(const char *name, eng_count_mode *out) {
  if (!name || !out) return PL_EINVAL;
  for (int i = 0; i < 4; i++) {
    if (!strcmp(name, count_names[i])) {
      *out = (eng_count_mode)i;
      return 0;
    }
  }
  return PL_EINVAL;
}

const char *eng_count_mode_name(eng_count_mode m) {
  return (unsigned)m < 4 ? count_names[m] : "unknown";
}

typedef struct count_job {
  eng_count_mode mode;
  long increments;
  eng_barrier *start;   /* all threads begin together, so they really overlap */
  pthread_mutex_t mu;
  _Alignas(64) _Atomic long counter;
} count_job;

static void count_body(void *arg, long b, long e, int w) {
  (void)w;
  count_job *c = arg;
  for (long t = b; t < e; t++) {
    eng_barrier_wait(c->start);
    switch (c->mode) {
    case ENG_COUNT_NONE:
      /* Two separate steps: another thread's store can land in between
       * and be overwritten. That lost update is the race on display. */
      for (long i = 0; i < c->increments; i++) {
        long v = atomic_load_explicit(&c->counter, memory_order_relaxed);
        atomic_store_explicit(&c->counter, v + 1, memory_order_relaxed);
      }
      break;
    case ENG_COUNT_MUTEX:
      for (long i = 0; i < c->increments; i++) {
        pthread_mutex_lock(&c->mu);
        long v = atomic_load_explicit(&c->counter, memory_order_relaxed);
        atomic_store_explicit(&c->counter, v + 1, memory_order_relaxed);
        pthread_mutex_unlock(&c->mu);
      }
      break;
    case ENG_COUNT_ATOMIC:
      for (long i = 0; i < c->increments; i++)
        atomic_fetch_add_explicit(&c->counter, 1, memory_order_relaxed);
      break;
    case ENG_COUNT_PARTIALS: {
      long s = 0;
      for (long i = 0; i < c->increments; i++) {
        s += 1;
        /* Keeps the compiler from replacing the loop by s = increments:
         * the point is to time increments kept in a register. */
        __asm__ __volatile__("" : "+r"(s));
      }
      atomic_fetch_add_explicit(&c->counter, s, memory_order_relaxed);
      break;
    }
    }
  }
}

int eng_counter_demo(eng_count_mode mode, int threads, long increments, eng_count_result *out) {
  int rc = 0;
  eng_pool *p = NULL;
  count_job *c = NULL;
  if (!out || (unsigned)mode > ENG_COUNT_PARTIALS || threads < 1 || threads > 256 ||
      increments < 0 || increments > 10000000000L)
    return PL_EINVAL;
  memset(out, 0, sizeof *out);
  if (posix_memalign((void **)&c, 64, sizeof *c)) return PL_ENOMEM;
  memset(c, 0, sizeof *c);
  c->mode = mode;
  c->increments = increments;
  atomic_init(&c->counter, 0);
  if (pthread_mutex_init(&c->mu, NULL)) {
    free(c);
    return PL_EIO;
  }
  rc = eng_pool_new(threads, &p);
  if (rc < 0) goto done;
  /* Spinning at the start line: a thread woken from a futex would start
   * tens of microseconds late and might miss the others entirely. With
   * more threads than cores, spinning would only delay the late ones. */
  rc = eng_barrier_new(threads, threads > eng_cores() ? 0 : 10000000, &c->start);
  if (rc < 0) goto done;
  uint64_t t0 = eng_now_ns();
  rc = eng_parallel_for(p, 0, threads, count_body, c);
  uint64_t t1 = eng_now_ns();
  if (rc < 0) goto done;
  out->expected = (long)threads * increments;
  out->count = atomic_load(&c->counter);
  out->seconds = (double)(t1 - t0) * 1e-9;

done:
  eng_pool_free(p);
  eng_barrier_free(c->start);
  pthread_mutex_destroy(&c->mu);
  free(c);
  return rc;
}

/* ------------------------------------------------------------------ kit */

typedef struct holder {
  const void *tok;          /* the thread (address of its label: unique while it lives) */
  char label[LABEL_MAX];    /* copied: the thread may be gone by report time */
} holder;

struct eng_sobj {
  eng_sync *d;
  eng_sync_kind kind;
  char *name;
  long init;
  int held;                 /* mutex, or rwlock held for writing */
  holder owner;
  int nreaders;             /* rwlock readers; the first MAX_READERS are named */
  holder readers[MAX_READERS];
  long count;               /* semaphore */
  long waiters, signals;    /* condition: threads waiting, wake-ups not yet taken */
  unsigned long seq;        /* condition: bumped by every signal and broadcast */
  long arrived;             /* barrier */
  unsigned long phase;
  struct eng_sobj *next;
};

typedef struct waitrec {
  holder who;
  eng_sobj *obj;
  const char *how;          /* "lock", "read", "write", "acquire", "wait", "barrier" */
  uint64_t since;
  struct waitrec *next;
} waitrec;

struct eng_sync {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  eng_sobj *objs;
  waitrec *waits;
  int nwaits;
  uint64_t last_progress;
  int broken, reported;
  char report[REPORT_MAX];
  /* watchdog */
  pthread_cond_t wd_cv;     /* CLOCK_MONOTONIC */
  pthread_t wd;
  int wd_running, wd_stop;
  double timeout_s;
};

static __thread char tls_label[LABEL_MAX];

void eng_sync_thread_label(const char *label) {
  snprintf(tls_label, sizeof tls_label, "%s", label ? label : "");
}

static void me(holder *h) {
  h->tok = tls_label;
  if (tls_label[0]) snprintf(h->label, sizeof h->label, "%s", tls_label);
  else snprintf(h->label, sizeof h->label, "thread %ld", (long)gettid());
}

static int is_me(const holder *h) { return h->tok == (const void *)tls_label; }

const char *eng_sync_kind_name(eng_sync_kind k) {
  static const char *const names[] = {"mutex", "semaphore", "rwlock", "condition", "barrier"};
  return (unsigned)k < 5 ? names[k] : "unknown";
}

int eng_sync_new(eng_sync **out) {
  if (!out) return PL_EINVAL;
  *out = NULL;
  eng_sync *d = calloc(1, sizeof *d);
  if (!d) return PL_ENOMEM;
  pthread_condattr_t ca;
  int ok = pthread_mutex_init(&d->mu, NULL) == 0;
  if (ok && pthread_cond_init(&d->cv, NULL)) {
    pthread_mutex_destroy(&d->mu);
    ok = 0;
  }
  if (ok) {
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (pthread_cond_init(&d->wd_cv, &ca)) {
      pthread_cond_destroy(&d->cv);
      pthread_mutex_destroy(&d->mu);
      ok = 0;
    }
    pthread_condattr_destroy(&ca);
  }
  if (!ok) {
    free(d);
    return PL_EIO;
  }
  d->last_progress = eng_now_ns();
  *out = d;
  return 0;
}

void eng_sync_free(eng_sync *d) {
  if (!d) return;
  eng_sync_watchdog(d, 0);
  while (d->objs) {
    eng_sobj *o = d->objs;
    d->objs = o->next;
    free(o->name);
    free(o);
  }
  pthread_cond_destroy(&d->wd_cv);
  pthread_cond_destroy(&d->cv);
  pthread_mutex_destroy(&d->mu);
  free(d);
}

int eng_sync_get(eng_sync *d, eng_sync_kind kind, const char *name, long init, eng_sobj **out) {
  int rc = 0;
  if (!out) return PL_EINVAL;
  *out = NULL;
  if (!d || !name || !*name || (unsigned)kind > ENG_SYNC_BARRIER) return PL_EINVAL;
  if (kind == ENG_SYNC_SEMAPHORE && (init < 0 || init > (1L << 40))) return PL_EINVAL;
  if (kind == ENG_SYNC_BARRIER && (init < 1 || init > 100000)) return PL_EINVAL;
  pthread_mutex_lock(&d->mu);
  eng_sobj *o = d->objs;
  while (o && strcmp(o->name, name)) o = o->next;
  if (o) {
    /* The same name must mean the same thing everywhere. */
    if (o->kind != kind || ((kind == ENG_SYNC_BARRIER || kind == ENG_SYNC_SEMAPHORE) &&
                            o->init != init))
      rc = PL_EINVAL;
    goto done;
  }
  o = calloc(1, sizeof *o);
  if (!o || !(o->name = strdup(name))) {
    free(o);
    o = NULL;
    rc = PL_ENOMEM;
    goto done;
  }
  o->d = d;
  o->kind = kind;
  o->init = init;
  o->count = kind == ENG_SYNC_SEMAPHORE ? init : 0;
  o->next = d->objs;
  d->objs = o;

done:
  pthread_mutex_unlock(&d->mu);
  if (rc == 0) *out = o;
  return rc;
}

const char *eng_sobj_name(const eng_sobj *o) { return o ? o->name : NULL; }
eng_sync_kind eng_sobj_kind(const eng_sobj *o) { return o ? o->kind : ENG_SYNC_MUTEX; }

/* With d->mu held: something completed; waiters re-check. */
static void progress(eng_sync *d) {
  d->last_progress = eng_now_ns();
  pthread_cond_broadcast(&d->cv);
}

typedef int (*ready_fn)(const eng_sobj *o, unsigned long arg);

/* With d->mu held: block until ready(o, arg) or the domain breaks. */
static int block(eng_sobj *o, const char *how, ready_fn ready, unsigned long arg) {
  eng_sync *d = o->d;
  if (d->broken) return PL_ETIMEOUT;
  if (ready(o, arg)) return 0;
  waitrec w = {.obj = o, .how = how, .since = eng_now_ns()};
  me(&w.who);
  w.next = d->waits;
  d->waits = &w;
  d->nwaits++;
  while (!d->broken && !ready(o, arg)) pthread_cond_wait(&d->cv, &d->mu);
  waitrec **pp = &d->waits;
  while (*pp != &w) pp = &(*pp)->next;
  *pp = w.next;
  d->nwaits--;
  return d->broken ? PL_ETIMEOUT : 0;
}

static int mutex_free(const eng_sobj *o, unsigned long arg) { (void)arg; return !o->held; }
static int rw_readable(const eng_sobj *o, unsigned long arg) { (void)arg; return !o->held; }
static int rw_writable(const eng_sobj *o, unsigned long arg) {
  (void)arg;
  return !o->held && o->nreaders == 0;
}
static int sem_positive(const eng_sobj *o, unsigned long arg) { (void)arg; return o->count > 0; }
/* A wake-up may only be taken by a thread that was waiting when it was
 * given (seq moved since it began): one that waits again after a wake-up
 * cannot take the wake-up meant for another waiter. */
static int cond_signalled(const eng_sobj *o, unsigned long seq) {
  return o->signals > 0 && o->seq != seq;
}
static int barrier_open(const eng_sobj *o, unsigned long phase) { return o->phase != phase; }

int eng_mutex_lock(eng_sobj *m) {
  if (!m || m->kind != ENG_SYNC_MUTEX) return PL_EINVAL;
  eng_sync *d = m->d;
  pthread_mutex_lock(&d->mu);
  int rc = m->held && is_me(&m->owner) ? PL_EINVAL : block(m, "lock", mutex_free, 0);
  if (rc == 0) {
    m->held = 1;
    me(&m->owner);
    progress(d);
  }
  pthread_mutex_unlock(&d->mu);
  return rc;
}

int eng_mutex_trylock(eng_sobj *m) {
  if (!m || m->kind != ENG_SYNC_MUTEX) return PL_EINVAL;
  eng_sync *d = m->d;
  int rc = 0;
  pthread_mutex_lock(&d->mu);
  if (d->broken) rc = PL_ETIMEOUT;
  else if (!m->held) {
    m->held = 1;
    me(&m->owner);
    progress(d);
    rc = 1;
  }
  pthread_mutex_unlock(&d->mu);
  return rc;
}

int eng_mutex_unlock(eng_sobj *m) {
  if (!m || m->kind != ENG_SYNC_MUTEX) return PL_EINVAL;
  eng_sync *d = m->d;
  int rc = 0;
  pthread_mutex_lock(&d->mu);
  if (!m->held || !is_me(&m->owner)) {
    rc = PL_EINVAL;
  } else {
    m->held = 0;
    progress(d);
  }
  pthread_mutex_unlock(&d->mu);
  return rc;
}

int eng_sem_acquire(eng_sobj *s) {
  if (!s || s->kind != ENG_SYNC_SEMAPHORE) return PL_EINVAL;
  eng_sync *d = s->d;
  pthread_mutex_lock(&d->mu);
  int rc = block(s, "acquire", sem_positive, 0);
  if (rc == 0) {
    s->count--;
    progress(d);
  }
  pthread_mutex_unlock(&d->mu);
  return rc;
}

int eng_sem_release(eng_sobj *s) {
  if (!s || s->kind != ENG_SYNC_SEMAPHORE) return PL_EINVAL;
  eng_sync *d = s->d;
  int rc = 0;
  pthread_mutex_lock(&d->mu);
  if (d->broken) rc = PL_ETIMEOUT;
  else {
    s->count++;
    progress(d);
  }
  pthread_mutex_unlock(&d->mu);
  return rc;
}

long eng_sem_value(eng_sobj *s) {
  if (!s || s->kind != ENG_SYNC_SEMAPHORE) return PL_EINVAL;
  pthread_mutex_lock(&s->d->mu);
  long v = s->count;
  pthread_mutex_unlock(&s->d->mu);
  return v;
}

int eng_rw_read_lock(eng_sobj *rw) {
  if (!rw || rw->kind != ENG_SYNC_RWLOCK) return PL_EINVAL;
  eng_sync *d = rw->d;
  pthread_mutex_lock(&d->mu);
  int rc = rw->held && is_me(&rw->owner) ? PL_EINVAL : block(rw, "read", rw_readable, 0);
  if (rc == 0) {
    if (rw->nreaders < MAX_READERS) me(&rw->readers[rw->nreaders]);
    rw->nreaders++;
    progress(d);
  }
  pthread_mutex_unlock(&d->mu);
  return rc;
}

static int reader_index(const eng_sobj *rw) {
  int n = rw->nreaders < MAX_READERS ? rw->nreaders : MAX_READERS;
  for (int i = 0; i < n; i++)
    if (is_me(&rw->readers[i])) return i;
  return -1;
}

int eng_rw_write_lock(eng_sobj *rw) {
  if (!rw || rw->kind != ENG_SYNC_RWLOCK) return PL_EINVAL;
  eng_sync *d = rw->d;
  pthread_mutex_lock(&d->mu);
  int rc = (rw->held && is_me(&rw->owner)) || reader_index(rw) >= 0
               ? PL_EINVAL
               : block(rw, "write", rw_writable, 0);
  if (rc == 0) {
    rw->held = 1;
    me(&rw->owner);
    progress(d);
  }
  pthread_mutex_unlock(&d->mu);
  return rc;
}

int eng_rw_unlock(eng_sobj *rw) {
  if (!rw || rw->kind != ENG_SYNC_RWLOCK) return PL_EINVAL;
  eng_sync *d = rw->d;
  int rc = 0;
  pthread_mutex_lock(&d->mu);
  if (rw->held && is_me(&rw->owner)) {
    rw->held = 0;
  } else if (rw->nreaders > 0) {
    int i = reader_index(rw);
    /* Readers past MAX_READERS are anonymous: any reader may leave. */
    if (i < 0 && rw->nreaders <= MAX_READERS) rc = PL_EINVAL;
    else {
      int last = (rw->nreaders < MAX_READERS ? rw->nreaders : MAX_READERS) - 1;
      if (i >= 0 && rw->nreaders <= MAX_READERS) rw->readers[i] = rw->readers[last];
      rw->nreaders--;
    }
  } else {
    rc = PL_EINVAL;
  }
  if (rc == 0) progress(d);
  pthread_mutex_unlock(&d->mu);
  return rc;
}

int eng_cond_wait(eng_sobj *c, eng_sobj *m) {
  if (!c || !m || c->kind != ENG_SYNC_CONDITION || m->kind != ENG_SYNC_MUTEX || c->d != m->d)
    return PL_EINVAL;
  eng_sync *d = c->d;
  pthread_mutex_lock(&d->mu);
  int rc = 0;
  if (!m->held || !is_me(&m->owner)) {
    rc = PL_EINVAL;
    goto done;
  }
  if (d->broken) {
    rc = PL_ETIMEOUT;
    goto done;
  }
  unsigned long seq = c->seq;
  c->waiters++;
  m->held = 0;
  progress(d);
  rc = block(c, "wait", cond_signalled, seq);
  c->waiters--;
  if (rc == 0) c->signals--;
  else if (c->signals > c->waiters) c->signals = c->waiters;
  if (rc == 0) rc = block(m, "lock", mutex_free, 0);
  if (rc == 0 || !m->held) {
    /* Retaken, also after a break if nobody else has it. */
    m->held = 1;
    me(&m->owner);
    progress(d);
  }

done:
  pthread_mutex_unlock(&d->mu);
  return rc;
}

/* A signal is a wake-up for one of the current waiters. */
int eng_cond_signal(eng_sobj *c) {
  if (!c || c->kind != ENG_SYNC_CONDITION) return PL_EINVAL;
  eng_sync *d = c->d;
  pthread_mutex_lock(&d->mu);
  int rc = d->broken ? PL_ETIMEOUT : 0;
  if (rc == 0 && c->signals < c->waiters) {
    c->signals++;
    c->seq++;
    progress(d);
  }
  pthread_mutex_unlock(&d->mu);
  return rc;
}

int eng_cond_broadcast(eng_sobj *c) {
  if (!c || c->kind != ENG_SYNC_CONDITION) return PL_EINVAL;
  eng_sync *d = c->d;
  pthread_mutex_lock(&d->mu);
  int rc = d->broken ? PL_ETIMEOUT : 0;
  if (rc == 0 && c->signals < c->waiters) {
    c->signals = c->waiters;
    c->seq++;
    progress(d);
  }
  pthread_mutex_unlock(&d->mu);
  return rc;
}

int eng_sbarrier_wait(eng_sobj *b) {
  if (!b || b->kind != ENG_SYNC_BARRIER) return PL_EINVAL;
  eng_sync *d = b->d;
  int rc = 0;
  pthread_mutex_lock(&d->mu);
  if (d->broken) {
    rc = PL_ETIMEOUT;
  } else if (++b->arrived == b->init) {
    b->arrived = 0;
    b->phase++;
    progress(d);
    rc = 1;
  } else {
    unsigned long phase = b->phase;
    rc = block(b, "barrier", barrier_open, phase);
    if (rc < 0 && b->phase == phase) b->arrived--;
  }
  pthread_mutex_unlock(&d->mu);
  return rc;
}

/* ------------------------------------------------------------- watchdog */

/* Threads that hold o in a way that blocks the waiter `w`. */
static int holders_of(const waitrec *w, const holder **out, int max) {
  const eng_sobj *o = w->obj;
  int n = 0;
  if ((o->kind == ENG_SYNC_MUTEX || o->kind == ENG_SYNC_RWLOCK) && o->held && n < max)
    out[n++] = &o->owner;
  if (o->kind == ENG_SYNC_RWLOCK && !strcmp(w->how, "write")) {
    int r = o->nreaders < MAX_READERS ? o->nreaders : MAX_READERS;
    for (int i = 0; i < r && n < max; i++) out[n++] = &o->readers[i];
  }
  return n;
}

static size_t append(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static size_t append(char *buf, size_t len, const char *fmt, ...) {
  if (len >= REPORT_MAX - 1) return len;
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(buf + len, REPORT_MAX - len, fmt, ap);
  va_end(ap);
  if (k < 0) return len;
  len += (size_t)k;
  return len < REPORT_MAX ? len : REPORT_MAX - 1;
}

static size_t describe(const waitrec *w, char *buf, size_t len) {
  const eng_sobj *o = w->obj;
  const holder *h[MAX_READERS + 1];
  int nh = holders_of(w, h, MAX_READERS + 1);
  switch (o->kind) {
  case ENG_SYNC_MUTEX:
    len = append(buf, len, "%s waits for mutex '%s'", w->who.label, o->name);
    break;
  case ENG_SYNC_RWLOCK:
    len = append(buf, len, "%s waits to %s rwlock '%s'", w->who.label, w->how, o->name);
    break;
  case ENG_SYNC_SEMAPHORE:
    len = append(buf, len, "%s waits for semaphore '%s' (count %ld)", w->who.label, o->name,
                 o->count);
    break;
  case ENG_SYNC_CONDITION:
    len = append(buf, len, "%s waits on condition '%s' (no signal yet)", w->who.label, o->name);
    break;
  case ENG_SYNC_BARRIER:
    len = append(buf, len, "%s waits at barrier '%s' (%ld of %ld arrived)", w->who.label,
                 o->name, o->arrived, o->init);
    break;
  }
  for (int i = 0; i < nh; i++)
    len = append(buf, len, "%s%s", i ? ", " : ", held by ", h[i]->label);
  if (o->kind == ENG_SYNC_RWLOCK && o->held && !strcmp(w->how, "read"))
    len = append(buf, len, " (writing)");
  return append(buf, len, "\n");
}

/* Depth-first search of the wait-for graph: waiter -> holders of what it
 * waits for -> what they wait for. Fills cyc with the waits of one cycle. */
static int find_cycle(waitrec **ws, int n, int *cyc) {
  int *color = calloc((size_t)n, sizeof *color);
  int found = 0;
  if (!color) return 0;
  for (int s = 0; s < n && !found; s++) {
    /* Follow the first holder that is itself waiting: each waiter waits
     * for one object, so a path is enough to meet a cycle. */
    int path[1024], len = 0, v = s;
    memset(color, 0, sizeof *color * (size_t)n);
    while (v >= 0 && len < 1024) {
      if (color[v]) {
        int i = 0;
        while (path[i] != v) i++;
        for (int k = i; k < len; k++) cyc[found++] = path[k];
        break;
      }
      color[v] = 1;
      path[len++] = v;
      const holder *h[MAX_READERS + 1];
      int nh = holders_of(ws[v], h, MAX_READERS + 1), to = -1;
      for (int i = 0; i < nh && to < 0; i++)
        for (int j = 0; j < n; j++)
          if (ws[j]->who.tok == h[i]->tok) {
            to = j;
            break;
          }
      v = to;
    }
  }
  free(color);
  return found;
}

/* With d->mu held. */
static void check(eng_sync *d) {
  if (d->broken || d->nwaits == 0) return;
  uint64_t now = eng_now_ns(), limit = (uint64_t)(d->timeout_s * 1e9);
  int n = 0;
  waitrec *ws[1024];
  uint64_t oldest = now;
  for (waitrec *w = d->waits; w && n < 1024; w = w->next) {
    ws[n++] = w;
    if (w->since < oldest) oldest = w->since;
  }
  int cyc[1024];
  int nc = find_cycle(ws, n, cyc);
  int stalled = now - d->last_progress >= limit && now - oldest >= limit;
  if (!nc && !stalled) return;
  size_t len = 0;
  d->report[0] = 0;
  if (nc) {
    len = append(d->report, len, "deadlock: ");
    for (int i = 0; i < nc; i++) len = append(d->report, len, "%s -> ", ws[cyc[i]]->who.label);
    len = append(d->report, len, "%s\n", ws[cyc[0]]->who.label);
  } else {
    len = append(d->report, len, "stalled: no progress for %.3g s\n",
                 (double)(now - d->last_progress) * 1e-9);
  }
  /* Oldest wait first reads best; the list is newest first. */
  for (int i = n - 1; i >= 0; i--) len = describe(ws[i], d->report, len);
  if (len > 0 && d->report[len - 1] == '\n') d->report[len - 1] = 0;
  d->broken = 1;
  d->reported = 1;
  pthread_cond_broadcast(&d->cv);
}

static void *wd_main(void *arg) {
  eng_sync *d = arg;
  pthread_mutex_lock(&d->mu);
  while (!d->wd_stop) {
    double tick = d->timeout_s / 4 > 0.005 ? d->timeout_s / 4 : 0.005;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    long ns = ts.tv_nsec + (long)(tick * 1e9);
    ts.tv_sec += ns / 1000000000L;
    ts.tv_nsec = ns % 1000000000L;
    pthread_cond_timedwait(&d->wd_cv, &d->mu, &ts);
    if (!d->wd_stop) check(d);
  }
  pthread_mutex_unlock(&d->mu);
  return NULL;
}

int eng_sync_watchdog(eng_sync *d, double timeout_s) {
  if (!d) return PL_EINVAL;
  pthread_mutex_lock(&d->mu);
  if (timeout_s > 0) {
    d->timeout_s = timeout_s < MIN_TIMEOUT_S ? MIN_TIMEOUT_S : timeout_s;
    int rc = 0;
    if (!d->wd_running) {
      d->wd_stop = 0;
      sigset_t all, old;
      sigfillset(&all);
      pthread_sigmask(SIG_SETMASK, &all, &old);
      if (pthread_create(&d->wd, NULL, wd_main, d)) rc = PL_EIO;
      else d->wd_running = 1;
      pthread_sigmask(SIG_SETMASK, &old, NULL);
    } else {
      pthread_cond_signal(&d->wd_cv);
    }
    pthread_mutex_unlock(&d->mu);
    return rc;
  }
  int running = d->wd_running;
  d->wd_stop = 1;
  d->wd_running = 0;
  pthread_cond_signal(&d->wd_cv);
  pthread_mutex_unlock(&d->mu);
  if (running) pthread_join(d->wd, NULL);
  return 0;
}

int eng_sync_report(eng_sync *d, char *buf, size_t n) {
  if (!d) return PL_EINVAL;
  pthread_mutex_lock(&d->mu);
  int r = d->reported;
  if (buf && n) snprintf(buf, n, "%s", r ? d->report : "");
  pthread_mutex_unlock(&d->mu);
  return r;
}

int eng_sync_broken(eng_sync *d) {
  if (!d) return 0;
  pthread_mutex_lock(&d->mu);
  int b = d->broken;
  pthread_mutex_unlock(&d->mu);
  return b;
}

int eng_sync_reset(eng_sync *d) {
  if (!d) return PL_EINVAL;
  pthread_mutex_lock(&d->mu);
  int rc = 0;
  if (d->nwaits > 0) {
    rc = PL_EINVAL;
  } else {
    for (eng_sobj *o = d->objs; o; o = o->next) {
      o->held = 0;
      o->nreaders = 0;
      o->count = o->kind == ENG_SYNC_SEMAPHORE ? o->init : 0;
      o->waiters = o->signals = 0;
      o->arrived = 0;
    }
    d->broken = 0;
    d->reported = 0;
    d->report[0] = 0;
    d->last_progress = eng_now_ns();
  }
  pthread_mutex_unlock(&d->mu);
  return rc;
}
