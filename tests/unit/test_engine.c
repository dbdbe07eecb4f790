/*
 * test_engine.c — unit tests for engine/: pool, arrays, measurement.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <time.h>

#include "eng_array.h"
#include "eng_measure.h"
#include "eng_pool.h"
#include "pl_err.h"
#include "pl_test.h"

/* ---------------------------------------------------------------- pool */

typedef struct cover {
  long begin;
  _Atomic int *hits;    /* one per index in the range */
  _Atomic int calls;
  _Atomic int bad;      /* empty block, or worker index out of range */
  int nworkers;
} cover;

static void cover_body(void *arg, long b, long e, int w) {
  cover *c = arg;
  atomic_fetch_add(&c->calls, 1);
  if (b >= e || w < 0 || w >= c->nworkers) atomic_fetch_add(&c->bad, 1);
  for (long i = b; i < e; i++) atomic_fetch_add(&c->hits[i - c->begin], 1);
}

static void test_pool_covers_every_index_once(void) {
  static const long ranges[][2] = {{0, 0}, {5, 3}, {0, 1}, {0, 3}, {5, 17}, {-10, 10},
                                   {0, 1000}, {7, 100010}};
  static const int threads[] = {1, 2, 3, 4, 7, 16};
  for (size_t t = 0; t < sizeof threads / sizeof threads[0]; t++) {
    eng_pool *p = NULL;
    PT_EQ_INT(eng_pool_new(threads[t], &p), 0);
    PT_EQ_INT(eng_pool_size(p), threads[t]);
    for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; r++) {
      long b = ranges[r][0], e = ranges[r][1], len = e > b ? e - b : 0;
      cover c = {.begin = b, .nworkers = threads[t]};
      c.hits = calloc((size_t)len + 1, sizeof *c.hits);
      PT_TRUE(c.hits != NULL);
      PT_EQ_INT(eng_parallel_for(p, b, e, cover_body, &c), 0);
      for (long i = 0; i < len; i++) {
        if (atomic_load(&c.hits[i]) != 1)
          PT_FAIL_("threads %d range [%ld,%ld): index %ld hit %d times", threads[t], b, e,
                   b + i, atomic_load(&c.hits[i]));
      }
      PT_EQ_INT(atomic_load(&c.bad), 0);
      long expect_calls = len < threads[t] ? len : threads[t];
      if (threads[t] == 1 && len > 0) expect_calls = 1;
      PT_EQ_INT(atomic_load(&c.calls), expect_calls);
      free(c.hits);
    }
    eng_pool_free(p);
  }
}

/* Blocks must be contiguous, in worker order, and differ by at most one. */
typedef struct blocks {
  long b[8], e[8];
} blocks;

static void record_block(void *arg, long b, long e, int w) {
  blocks *bl = arg;
  bl->b[w] = b;
  bl->e[w] = e;
}

static void test_pool_static_schedule(void) {
  eng_pool *p = NULL;
  PT_EQ_INT(eng_pool_new(4, &p), 0);
  blocks bl;
  memset(&bl, 0, sizeof bl);
  PT_EQ_INT(eng_parallel_for(p, 10, 20, record_block, &bl), 0);
  /* 10 over 4: 3, 3, 2, 2 */
  PT_EQ_INT(bl.b[0], 10); PT_EQ_INT(bl.e[0], 13);
  PT_EQ_INT(bl.b[1], 13); PT_EQ_INT(bl.e[1], 16);
  PT_EQ_INT(bl.b[2], 16); PT_EQ_INT(bl.e[2], 18);
  PT_EQ_INT(bl.b[3], 18); PT_EQ_INT(bl.e[3], 20);
  eng_pool_free(p);
}

static void sum_fold(void *arg, long b, long e, int w, void *acc) {
  (void)w;
  const double *x = arg;
  double s = *(double *)acc;
  for (long i = b; i < e; i++) s += x[i];
  *(double *)acc = s;
}

typedef struct mm {
  double min, max;
  long count;
} mm;

static void mm_fold(void *arg, long b, long e, int w, void *acc) {
  (void)w;
  const double *x = arg;
  mm *m = acc;
  for (long i = b; i < e; i++) {
    if (x[i] < m->min) m->min = x[i];
    if (x[i] > m->max) m->max = x[i];
    m->count++;
  }
}

static void mm_combine(void *arg, void *acc, const void *other) {
  (void)arg;
  mm *a = acc;
  const mm *o = other;
  if (o->min < a->min) a->min = o->min;
  if (o->max > a->max) a->max = o->max;
  a->count += o->count;
}

static void big_fold(void *arg, long b, long e, int w, void *acc) {
  (void)arg, (void)w;
  unsigned char *a = acc;
  a[255] = (unsigned char)(a[255] + (e - b));
}

static void big_combine(void *arg, void *acc, const void *other) {
  (void)arg;
  ((unsigned char *)acc)[255] =
      (unsigned char)(((unsigned char *)acc)[255] + ((const unsigned char *)other)[255]);
}

static void test_pool_reduce(void) {
  const long n = 100003;
  eng_array *a = NULL;
  PT_EQ_INT(eng_array_new(ENG_F64, n, 0, &a), 0);
  PT_EQ_INT(eng_array_fill_random(a, 42, -1.0, 1.0), 0);
  double *x = eng_array_data(a);
  long double ref = 0;
  double lo = INFINITY, hi = -INFINITY;
  for (long i = 0; i < n; i++) {
    ref += x[i];
    if (x[i] < lo) lo = x[i];
    if (x[i] > hi) hi = x[i];
  }

  static const int threads[] = {1, 2, 3, 5, 8};
  for (size_t t = 0; t < sizeof threads / sizeof threads[0]; t++) {
    eng_pool *p = NULL;
    PT_EQ_INT(eng_pool_new(threads[t], &p), 0);
    double first = 0;
    PT_EQ_INT(eng_parallel_sum(p, 0, n, sum_fold, x, &first), 0);
    PT_NEAR(first, (double)ref, 1e-9);
    /* Same input, same pool size: same bits, every time. */
    for (int rep = 0; rep < 50; rep++) {
      double again = -1;
      PT_EQ_INT(eng_parallel_sum(p, 0, n, sum_fold, x, &again), 0);
      PT_TRUE(memcmp(&again, &first, sizeof again) == 0);
    }
    mm id = {INFINITY, -INFINITY, 0}, out;
    PT_EQ_INT(eng_parallel_reduce(p, 0, n, sizeof(mm), &id, mm_fold, mm_combine, x, &out), 0);
    PT_EQ_INT(out.count, n);
    PT_TRUE(out.min == lo && out.max == hi);

    /* Range shorter than the pool, and an empty range giving the identity. */
    double s = -1;
    PT_EQ_INT(eng_parallel_sum(p, 0, 2, sum_fold, x, &s), 0);
    PT_TRUE(s == x[0] + x[1]);
    PT_EQ_INT(eng_parallel_sum(p, 10, 10, sum_fold, x, &s), 0);
    PT_TRUE(s == 0.0);

    unsigned char big_id[256] = {0}, big_out[256];
    PT_EQ_INT(eng_parallel_reduce(p, 0, 200, 256, big_id, big_fold, big_combine, NULL, big_out), 0);
    PT_EQ_INT(big_out[255], 200);
    PT_EQ_INT(eng_parallel_reduce(p, 0, 10, 257, big_id, big_fold, big_combine, NULL, big_out),
              PL_EINVAL);
    PT_EQ_INT(eng_parallel_reduce(p, 0, 10, 0, big_id, big_fold, big_combine, NULL, big_out),
              PL_EINVAL);
    eng_pool_free(p);
  }
  eng_array_free(a);
}

typedef struct who {
  pthread_t caller;
  _Atomic int other_thread, calls, bad_worker;
} who;

static void who_body(void *arg, long b, long e, int w) {
  (void)b, (void)e;
  who *h = arg;
  atomic_fetch_add(&h->calls, 1);
  if (!pthread_equal(pthread_self(), h->caller)) atomic_fetch_add(&h->other_thread, 1);
  if (w != 0) atomic_fetch_add(&h->bad_worker, 1);
}

static void test_pool_of_one_runs_inline(void) {
  eng_pool *p = NULL;
  PT_EQ_INT(eng_pool_new(1, &p), 0);
  PT_EQ_INT(eng_pool_size(p), 1);
  who h = {.caller = pthread_self()};
  PT_EQ_INT(eng_parallel_for(p, 0, 1000, who_body, &h), 0);
  PT_EQ_INT(atomic_load(&h.calls), 1);
  PT_EQ_INT(atomic_load(&h.other_thread), 0);
  PT_EQ_INT(atomic_load(&h.bad_worker), 0);
  eng_pool_free(p);
}

typedef struct nest {
  eng_pool *p;
  _Atomic int inner_calls, wrong;
  _Atomic int *hits;
} nest;

typedef struct inner {
  nest *n;
  int outer_worker;
  pthread_t outer_thread;
} inner;

static void nest_inner(void *arg, long b, long e, int w) {
  inner *in = arg;
  atomic_fetch_add(&in->n->inner_calls, 1);
  if (w != in->outer_worker || !pthread_equal(pthread_self(), in->outer_thread))
    atomic_fetch_add(&in->n->wrong, 1);
  for (long i = b; i < e; i++) atomic_fetch_add(&in->n->hits[i], 1);
}

static void nest_outer(void *arg, long b, long e, int w) {
  nest *n = arg;
  inner in = {n, w, pthread_self()};
  for (long i = b; i < e; i++)
    if (eng_parallel_for(n->p, i * 10, i * 10 + 10, nest_inner, &in)) atomic_fetch_add(&n->wrong, 1);
}

static void test_pool_nested_runs_inline(void) {
  nest n = {0};
  PT_EQ_INT(eng_pool_new(4, &n.p), 0);
  n.hits = calloc(400, sizeof *n.hits);
  PT_EQ_INT(eng_parallel_for(n.p, 0, 40, nest_outer, &n), 0);
  PT_EQ_INT(atomic_load(&n.inner_calls), 40);
  PT_EQ_INT(atomic_load(&n.wrong), 0);
  for (int i = 0; i < 400; i++) PT_EQ_INT(atomic_load(&n.hits[i]), 1);
  free(n.hits);
  eng_pool_free(n.p);
}

typedef struct caller_arg {
  eng_pool *p;
  int bad;
} caller_arg;

static void count_body(void *arg, long b, long e, int w) {
  (void)w;
  atomic_fetch_add((_Atomic long *)arg, e - b);
}

static void *caller_thread(void *arg) {
  caller_arg *c = arg;
  for (int i = 0; i < 300; i++) {
    _Atomic long total = 0;
    if (eng_parallel_for(c->p, 0, 1000 + i, count_body, &total) || total != 1000 + i) c->bad++;
  }
  return NULL;
}

static void test_pool_concurrent_callers(void) {
  eng_pool *p = NULL;
  PT_EQ_INT(eng_pool_new(3, &p), 0);
  pthread_t t[4];
  caller_arg c[4];
  for (int i = 0; i < 4; i++) {
    c[i] = (caller_arg){p, 0};
    PT_EQ_INT(pthread_create(&t[i], NULL, caller_thread, &c[i]), 0);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(t[i], NULL);
    PT_EQ_INT(c[i].bad, 0);
  }
  eng_pool_free(p);
}

/* Helpers run longer than the spin budget, and the caller pauses longer
 * than it between regions: both futex sleep paths get exercised. */
static void slow_body(void *arg, long b, long e, int w) {
  if (w != 0) {
    struct timespec ts = {0, 300000};
    nanosleep(&ts, NULL);
  }
  atomic_fetch_add((_Atomic long *)arg, e - b);
}

static void test_pool_sleep_and_wake(void) {
  eng_pool *p = NULL;
  PT_EQ_INT(eng_pool_new(3, &p), 0);
  for (int i = 0; i < 200; i++) {
    _Atomic long total = 0;
    PT_EQ_INT(eng_parallel_for(p, 0, 30 + i, i % 2 ? slow_body : count_body, &total), 0);
    PT_EQ_INT(total, 30 + i);
    if (i % 3 == 0) {
      struct timespec ts = {0, 500000};
      nanosleep(&ts, NULL);
    }
  }
  eng_pool_free(p);
}

static void test_pool_errors(void) {
  eng_pool *p = NULL;
  PT_EQ_INT(eng_pool_new(2, NULL), PL_EINVAL);
  PT_EQ_INT(eng_pool_new(100000, &p), PL_EINVAL);
  PT_TRUE(p == NULL);
  PT_EQ_INT(eng_pool_new(2, &p), 0);
  PT_EQ_INT(eng_parallel_for(p, 0, 10, NULL, NULL), PL_EINVAL);
  PT_EQ_INT(eng_parallel_for(NULL, 0, 10, count_body, NULL), PL_EINVAL);
  double s;
  PT_EQ_INT(eng_parallel_sum(p, 0, 10, NULL, NULL, &s), PL_EINVAL);
  eng_pool_free(p);
  eng_pool_free(NULL);
}

static void test_cores_and_env(void) {
  int cores = eng_cores();
  PT_GE(cores, 1);
  unsetenv("PARLAB_NUM_THREADS");
  PT_EQ_INT(eng_default_threads(), cores);
  setenv("PARLAB_NUM_THREADS", "3", 1);
  PT_EQ_INT(eng_default_threads(), 3);
  eng_pool *p = NULL;
  PT_EQ_INT(eng_pool_new(0, &p), 0);
  PT_EQ_INT(eng_pool_size(p), 3);
  eng_pool_free(p);
  static const char *bad[] = {"", "0", "-2", "abc", "3x", "99999999999999999999", "2000"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    setenv("PARLAB_NUM_THREADS", bad[i], 1);
    if (eng_default_threads() != cores) PT_FAIL_("PARLAB_NUM_THREADS=\"%s\" was accepted", bad[i]);
  }
  setenv("PARLAB_NUM_THREADS", "1", 1);
  PT_EQ_INT(eng_default_threads(), 1);
}

static void test_default_pool(void) {
  setenv("PARLAB_NUM_THREADS", "3", 1);
  eng_pool *p = eng_pool_default();
  PT_TRUE(p != NULL);
  PT_TRUE(eng_pool_default() == p);
  PT_EQ_INT(eng_pool_size(p), 3);
  cover c = {.begin = 0, .nworkers = 3};
  c.hits = calloc(1000, sizeof *c.hits);
  PT_EQ_INT(eng_parallel_for(p, 0, 1000, cover_body, &c), 0);
  for (int i = 0; i < 1000; i++) PT_EQ_INT(atomic_load(&c.hits[i]), 1);
  PT_EQ_INT(atomic_load(&c.calls), 3);
  free(c.hits);
  /* Leaving through exit() runs the atexit join; it must not hang. */
  exit(0);
}

/* A pool inherited through fork() has no helpers in the child: it must
 * still run (inline) and free without waiting for threads that are gone. */
static void test_pool_in_forked_child(void) {
  eng_pool *p = NULL;
  PT_EQ_INT(eng_pool_new(4, &p), 0);
  _Atomic long total = 0;
  PT_EQ_INT(eng_parallel_for(p, 0, 100, count_body, &total), 0);
  PT_EQ_INT(total, 100);
  pid_t pid = fork();
  PT_TRUE(pid >= 0);
  if (pid == 0) {
    _Atomic long t2 = 0;
    int rc = eng_parallel_for(p, 0, 100, count_body, &t2);
    eng_pool_free(p);
    _exit(rc == 0 && t2 == 100 ? 0 : 1);
  }
  int st = 0;
  PT_EQ_INT(waitpid(pid, &st, 0), pid);
  PT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  eng_pool_free(p);
}

static int count_tasks(void) {
  DIR *d = opendir("/proc/self/task");
  if (!d) return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (e->d_name[0] != '.') n++;
  closedir(d);
  return n;
}

static void test_pool_leaves_no_threads(void) {
  /* One pool first: sanitizer runtimes start a helper thread of their own
   * at the first pthread_create, and it must not count as a leak. */
  eng_pool *warm = NULL;
  PT_EQ_INT(eng_pool_new(2, &warm), 0);
  eng_pool_free(warm);
  int before = count_tasks();
  PT_GE(before, 1);
  for (int i = 0; i < 100; i++) {
    eng_pool *p = NULL;
    PT_EQ_INT(eng_pool_new(4, &p), 0);
    _Atomic long total = 0;
    PT_EQ_INT(eng_parallel_for(p, 0, 64, count_body, &total), 0);
    PT_EQ_INT(total, 64);
    eng_pool_free(p);
  }
  /* pthread_join returns when the thread has exited, a moment before the
   * kernel reaps its /proc entry: allow it that moment. */
  int after = count_tasks();
  for (int i = 0; i < 200 && after != before; i++) {
    struct timespec ts = {0, 5000000};
    nanosleep(&ts, NULL);
    after = count_tasks();
  }
  PT_EQ_INT(after, before);
}

/* --------------------------------------------------------------- array */

static void test_dtype(void) {
  PT_EQ_INT(eng_dtype_size(ENG_F64), 8);
  PT_EQ_INT(eng_dtype_size(ENG_F32), 4);
  PT_EQ_INT(eng_dtype_size(ENG_I64), 8);
  PT_EQ_STR(eng_dtype_name(ENG_F64), "f64");
  PT_EQ_STR(eng_dtype_name(ENG_F32), "f32");
  PT_EQ_STR(eng_dtype_name(ENG_I64), "i64");
  eng_dtype t = ENG_F64;
  PT_EQ_INT(eng_dtype_parse("i64", &t), 0);
  PT_EQ_INT(t, ENG_I64);
  PT_EQ_INT(eng_dtype_parse("f32", &t), 0);
  PT_EQ_INT(t, ENG_F32);
  PT_EQ_INT(eng_dtype_parse("f16", &t), PL_EINVAL);
  PT_EQ_INT(eng_dtype_parse(NULL, &t), PL_EINVAL);
}

static void test_array_aligned_and_zeroed(void) {
  static const long ns[] = {1, 3, 17, 1000, 100001};
  uint64_t last_id = 0;
  for (int shared = 0; shared <= 1; shared++) {
    for (int t = 0; t < 3; t++) {
      for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
        eng_array *a = NULL;
        PT_EQ_INT(eng_array_new((eng_dtype)t, ns[k], shared ? ENG_ARRAY_SHARED : 0, &a), 0);
        PT_EQ_INT((uintptr_t)eng_array_data(a) % 64, 0);
        PT_EQ_INT(eng_array_len(a), ns[k]);
        PT_EQ_INT(eng_array_dtype(a), t);
        PT_EQ_INT(eng_array_bytes(a), (size_t)ns[k] * eng_dtype_size((eng_dtype)t));
        PT_TRUE(eng_array_id(a) > last_id);
        last_id = eng_array_id(a);
        if (shared) PT_GE(eng_array_fd(a), 0);
        else PT_EQ_INT(eng_array_fd(a), -1);
        const unsigned char *d = eng_array_data(a);
        for (size_t i = 0; i < eng_array_bytes(a); i++) PT_EQ_INT(d[i], 0);
        PT_TRUE(eng_array_sum(a) == 0.0);
        eng_array_free(a);
      }
    }
    eng_array *e = NULL;
    PT_EQ_INT(eng_array_new(ENG_F64, 0, shared ? ENG_ARRAY_SHARED : 0, &e), 0);
    PT_TRUE(eng_array_data(e) == NULL);
    PT_EQ_INT(eng_array_len(e), 0);
    PT_EQ_INT(eng_array_fd(e), -1);
    PT_TRUE(eng_array_sum(e) == 0.0);
    PT_TRUE(isinf(eng_array_min(e)) && eng_array_min(e) > 0);
    PT_TRUE(isinf(eng_array_max(e)) && eng_array_max(e) < 0);
    eng_array_free(e);
  }
  eng_array *a = NULL;
  PT_EQ_INT(eng_array_new(ENG_F64, -1, 0, &a), PL_EINVAL);
  PT_EQ_INT(eng_array_new((eng_dtype)7, 10, 0, &a), PL_EINVAL);
  PT_EQ_INT(eng_array_new(ENG_F64, 10, 0x80, &a), PL_EINVAL);
  PT_EQ_INT(eng_array_new(ENG_F64, 10, 0, &a), 0);
  PT_EQ_INT(eng_array_seal(a), PL_EINVAL); /* private arrays have no fd */
  eng_array_free(a);
  eng_array_free(NULL);
}

static void test_array_shared_visible_in_child(void) {
  const long n = 4096;
  eng_array *a = NULL;
  PT_EQ_INT(eng_array_new(ENG_F64, n, ENG_ARRAY_SHARED, &a), 0);
  int fd = eng_array_fd(a);
  size_t bytes = eng_array_bytes(a);
  pid_t pid = fork();
  PT_TRUE(pid >= 0);
  if (pid == 0) {
    double *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) _exit(2);
    for (long i = 0; i < n; i++) m[i] = (double)i * 0.5;
    _exit(0);
  }
  int st = 0;
  PT_EQ_INT(waitpid(pid, &st, 0), pid);
  PT_TRUE(WIFEXITED(st));
  PT_EQ_INT(WEXITSTATUS(st), 0);
  for (long i = 0; i < n; i++) PT_TRUE(eng_array_get(a, i) == (double)i * 0.5);
  eng_array_free(a);
}

/* Exit codes of the child that probes a sealed fd: 0 = all as expected. */
static int probe_sealed(int fd, size_t bytes) {
  void *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (m != MAP_FAILED) return 10;
  double *r = mmap(NULL, bytes, PROT_READ, MAP_SHARED, fd, 0);
  if (r == MAP_FAILED) return 11;
  if (r[0] != 42.0 || r[1] != 43.0) return 12; /* the creator's writes */
  if (ftruncate(fd, 0) == 0) return 13;
  if (ftruncate(fd, (off_t)bytes * 2) == 0) return 14;
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  /* A fresh open file description must not get around the seal. */
  int fd2 = open(path, O_RDWR);
  if (fd2 < 0) return 17;
  m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
  if (m != MAP_FAILED) return 15;
  if (pwrite(fd2, "x", 1, 0) == 1) return 16;
  return 0;
}

static void test_array_sealed(void) {
  const long n = 1024;
  eng_array *a = NULL;
  PT_EQ_INT(eng_array_new(ENG_F64, n, ENG_ARRAY_SHARED, &a), 0);
  PT_EQ_INT(eng_array_is_sealed(a), 0);
  PT_EQ_INT(eng_array_seal(a), 0);
  PT_EQ_INT(eng_array_is_sealed(a), 1);
  PT_EQ_INT(eng_array_seal(a), 0); /* idempotent */
  /* The creator keeps writing through its own mapping. */
  eng_array_set(a, 0, 42.0);
  eng_array_set(a, 1, 43.0);
  PT_TRUE(eng_array_get(a, 0) == 42.0);
  int fd = eng_array_fd(a);
  size_t bytes = eng_array_bytes(a);
  pid_t pid = fork();
  PT_TRUE(pid >= 0);
  if (pid == 0) _exit(probe_sealed(fd, bytes));
  int st = 0;
  PT_EQ_INT(waitpid(pid, &st, 0), pid);
  PT_TRUE(WIFEXITED(st));
  PT_EQ_INT(WEXITSTATUS(st), 0);
  eng_array_free(a);

  eng_array *e = NULL;
  PT_EQ_INT(eng_array_new(ENG_F64, 0, ENG_ARRAY_SHARED, &e), 0);
  PT_EQ_INT(eng_array_seal(e), 0);
  PT_EQ_INT(eng_array_is_sealed(e), 1);
  eng_array_free(e);
}

static void test_array_random(void) {
  const long n = 10000;
  for (int t = 0; t < 3; t++) {
    eng_array *a = NULL, *b = NULL, *c = NULL;
    PT_EQ_INT(eng_array_new((eng_dtype)t, n, 0, &a), 0);
    PT_EQ_INT(eng_array_new((eng_dtype)t, n, ENG_ARRAY_SHARED, &b), 0);
    PT_EQ_INT(eng_array_new((eng_dtype)t, n, 0, &c), 0);
    double lo = t == ENG_I64 ? -5.5 : -2.0, hi = t == ENG_I64 ? 100.0 : 3.0;
    PT_EQ_INT(eng_array_fill_random(a, 12345, lo, hi), 0);
    PT_EQ_INT(eng_array_fill_random(b, 12345, lo, hi), 0);
    PT_EQ_INT(eng_array_fill_random(c, 12346, lo, hi), 0);
    PT_TRUE(memcmp(eng_array_data(a), eng_array_data(b), eng_array_bytes(a)) == 0);
    PT_TRUE(memcmp(eng_array_data(a), eng_array_data(c), eng_array_bytes(a)) != 0);
    double floor_lo = t == ENG_I64 ? floor(lo) : lo;
    PT_GE(eng_array_min(a), floor_lo);
    PT_TRUE(eng_array_max(a) < hi);
    /* Uniform: the mean lands near the middle, both ends are reached. */
    double mid = t == ENG_I64 ? (floor_lo + hi - 1) / 2 : (lo + hi) / 2;
    PT_NEAR(eng_array_sum(a) / n, mid, (hi - lo) * 0.02);
    PT_TRUE(eng_array_min(a) < lo + (hi - lo) * 0.01 + (t == ENG_I64));
    PT_TRUE(eng_array_max(a) > hi - (hi - lo) * 0.01 - (t == ENG_I64));
    if (t == ENG_I64) {
      const int64_t *d = eng_array_data(a);
      int saw_lo = 0;
      for (long i = 0; i < n; i++) saw_lo |= d[i] == -6;
      PT_TRUE(saw_lo); /* floor(-5.5 .. -5) */
    }
    eng_array_free(a);
    eng_array_free(b);
    eng_array_free(c);
  }
  eng_array *a = NULL;
  PT_EQ_INT(eng_array_new(ENG_F64, 10, 0, &a), 0);
  PT_EQ_INT(eng_array_fill_random(a, 1, 1.0, 1.0), PL_EINVAL);
  PT_EQ_INT(eng_array_fill_random(a, 1, 2.0, 1.0), PL_EINVAL);
  PT_EQ_INT(eng_array_fill_random(a, 1, 0.0, INFINITY), PL_EINVAL);
  PT_EQ_INT(eng_array_fill_random(a, 1, NAN, 1.0), PL_EINVAL);
  eng_array_free(a);
  /* A tiny interval right below 1.0 must still stay half-open. */
  PT_EQ_INT(eng_array_new(ENG_F32, 1000, 0, &a), 0);
  PT_EQ_INT(eng_array_fill_random(a, 9, 0.99999, 1.0), 0);
  PT_TRUE(eng_array_max(a) < 1.0);
  PT_GE(eng_array_min(a), 0.99999);
  eng_array_free(a);
}

static void test_array_sum_accurate(void) {
  const long n = 1000000;
  eng_array *a = NULL;
  PT_EQ_INT(eng_array_new(ENG_F64, n, 0, &a), 0);
  PT_EQ_INT(eng_array_fill_random(a, 2024, 0.0, 1.0), 0);
  const double *x = eng_array_data(a);
  long double ref = 0;
  for (long i = 0; i < n; i++) ref += x[i];
  double s = eng_array_sum(a);
  PT_NEAR(s / (double)ref, 1.0, 1e-9);
  eng_array_free(a);

  /* Ill-conditioned for naive summation: 1e6 small values after a big one. */
  PT_EQ_INT(eng_array_new(ENG_F64, n + 1, 0, &a), 0);
  eng_array_set(a, 0, 1e16);
  for (long i = 1; i <= n; i++) eng_array_set(a, i, 1.0);
  PT_NEAR(eng_array_sum(a), 1e16 + 1e6, 64.0); /* naive: off by 1e6 */
  eng_array_free(a);

  PT_EQ_INT(eng_array_new(ENG_F32, n, 0, &a), 0);
  PT_EQ_INT(eng_array_fill_random(a, 7, 0.0, 1.0), 0);
  const float *f = eng_array_data(a);
  ref = 0;
  for (long i = 0; i < n; i++) ref += f[i];
  PT_NEAR(eng_array_sum(a) / (double)ref, 1.0, 1e-9);
  eng_array_free(a);

  /* i64: exact even where doubles could not hold the partial sums. */
  PT_EQ_INT(eng_array_new(ENG_I64, 4, 0, &a), 0);
  int64_t *d = eng_array_data(a);
  d[0] = INT64_MAX;
  d[1] = INT64_MAX;
  d[2] = -INT64_MAX;
  d[3] = -INT64_MAX + 5;
  PT_TRUE(eng_array_sum(a) == 5.0); /* summed as doubles: 0 */
  eng_array_free(a);
}

static void test_array_get_set_minmax(void) {
  eng_array *a = NULL;
  PT_EQ_INT(eng_array_new(ENG_I64, 5, 0, &a), 0);
  eng_array_set(a, 0, 2.9);
  eng_array_set(a, 1, -2.9);
  eng_array_set(a, 2, 1e300);
  eng_array_set(a, 3, NAN);
  eng_array_set(a, 4, -7);
  eng_array_set(a, 5, 1); /* out of range: ignored */
  eng_array_set(a, -1, 1);
  PT_TRUE(eng_array_get(a, 0) == 2.0);
  PT_TRUE(eng_array_get(a, 1) == -2.0);
  PT_EQ_INT(((int64_t *)eng_array_data(a))[2], INT64_MAX);
  PT_TRUE(eng_array_get(a, 3) == 0.0);
  PT_TRUE(isnan(eng_array_get(a, 5)));
  PT_TRUE(eng_array_min(a) == -7.0);
  PT_TRUE(eng_array_max(a) == (double)INT64_MAX);
  eng_array_free(a);

  PT_EQ_INT(eng_array_new(ENG_F32, 3, 0, &a), 0);
  eng_array_set(a, 0, 0.5);
  eng_array_set(a, 1, NAN);
  eng_array_set(a, 2, -1.25);
  PT_TRUE(eng_array_get(a, 0) == 0.5);
  PT_TRUE(eng_array_min(a) == -1.25); /* NaN skipped */
  PT_TRUE(eng_array_max(a) == 0.5);
  eng_array_free(a);
}

/* ------------------------------------------------------------- measure */

static void test_stats_known(void) {
  const double odd[] = {5, 1, 4, 2, 3};
  eng_stats s;
  PT_EQ_INT(eng_stats_compute(odd, 5, &s), 0);
  PT_EQ_INT(s.n, 5);
  PT_TRUE(s.min == 1 && s.max == 5 && s.median == 3 && s.mean == 3);
  PT_TRUE(s.q1 == 2 && s.q3 == 4);
  PT_TRUE(s.spread == 2.0 / 3.0);
  PT_TRUE(odd[0] == 5 && odd[1] == 1); /* not modified */

  const double even[] = {4, 3, 2, 1};
  PT_EQ_INT(eng_stats_compute(even, 4, &s), 0);
  PT_TRUE(s.median == 2.5 && s.q1 == 1.75 && s.q3 == 3.25);
  PT_TRUE(s.min == 1 && s.max == 4 && s.mean == 2.5);

  const double one[] = {7};
  PT_EQ_INT(eng_stats_compute(one, 1, &s), 0);
  PT_TRUE(s.median == 7 && s.q1 == 7 && s.q3 == 7 && s.spread == 0);

  const double zero_med[] = {-1, 0, 1};
  PT_EQ_INT(eng_stats_compute(zero_med, 3, &s), 0);
  PT_TRUE(s.median == 0 && s.spread == 0);

  PT_EQ_INT(eng_stats_compute(odd, 0, &s), PL_EINVAL);
  PT_EQ_INT(eng_stats_compute(NULL, 3, &s), PL_EINVAL);

  const double ten[] = {10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
  PT_TRUE(eng_percentile(ten, 10, 0) == 1);
  PT_TRUE(eng_percentile(ten, 10, 100) == 10);
  PT_TRUE(eng_percentile(ten, 10, 50) == 5.5);
  PT_NEAR(eng_percentile(ten, 10, 90), 9.1, 1e-12);
  PT_TRUE(eng_percentile(ten, 10, 150) == 10);
  PT_TRUE(isnan(eng_percentile(ten, 0, 50)));
}

static void test_timer(void) {
  uint64_t a = eng_now_ns();
  double ta = eng_now();
  struct timespec ts = {0, 20000000};
  nanosleep(&ts, NULL);
  uint64_t b = eng_now_ns();
  double tb = eng_now();
  PT_GE((double)(b - a), 20e6);
  PT_TRUE(b - a < 5000000000ull);
  PT_GE(tb - ta, 0.02);
  uint64_t prev = eng_now_ns();
  for (int i = 0; i < 100000; i++) {
    uint64_t t = eng_now_ns();
    PT_TRUE(t >= prev);
    prev = t;
  }
}

int main(int argc, char **argv) {
  static const pt_case cases[] = {
      PT_CASE(test_pool_covers_every_index_once),
      PT_CASE(test_pool_static_schedule),
      PT_CASE(test_pool_reduce),
      PT_CASE(test_pool_of_one_runs_inline),
      PT_CASE(test_pool_nested_runs_inline),
      PT_CASE(test_pool_concurrent_callers),
      PT_CASE(test_pool_sleep_and_wake),
      PT_CASE(test_pool_errors),
      PT_CASE(test_cores_and_env),
      PT_CASE(test_default_pool),
      PT_CASE(test_pool_in_forked_child),
      PT_CASE(test_pool_leaves_no_threads),
      PT_CASE(test_dtype),
      PT_CASE(test_array_aligned_and_zeroed),
      PT_CASE(test_array_shared_visible_in_child),
      PT_CASE(test_array_sealed),
      PT_CASE(test_array_random),
      PT_CASE(test_array_sum_accurate),
      PT_CASE(test_array_get_set_minmax),
      PT_CASE(test_stats_known),
      PT_CASE(test_timer),
      {0},
  };
  return pt_main(argc, argv, cases);
}
