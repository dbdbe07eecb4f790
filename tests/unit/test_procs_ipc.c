/*
 * test_procs_ipc.c — the IPC primitives (engine/eng_ipc.h) between real
 * processes: a lock that serializes increments and survives its owner's
 * death, shared values, a bounded MPMC queue (every message delivered
 * exactly once, capacity respected, timeouts), a duplex pipe, objects
 * attached from their arrays, and memory-mapped files.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>

#include "eng_array.h"
#include "eng_ipc.h"
#include "eng_measure.h"
#include "pl_err.h"
#include "pl_test.h"

static int wait_ok(pid_t pid) {
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void test_lock_serializes_increments(void) {
  eng_ipc *l;
  PT_EQ_INT(eng_ipc_lock_new(&l), 0);
  eng_array *counter;
  PT_EQ_INT(eng_array_new(ENG_I64, 1, ENG_ARRAY_SHARED, &counter), 0);
  volatile int64_t *c = eng_array_data(counter);
  enum { P = 4, K = 20000 };
  pid_t kids[P];
  for (int i = 0; i < P; i++) {
    kids[i] = fork();
    if (kids[i] == 0) {
      for (int k = 0; k < K; k++) {
        if (eng_ipc_lock(l, -1) < 0) _exit(1);
        int64_t v = *c;  /* a read-modify-write that would lose updates unlocked */
        *c = v + 1;
        eng_ipc_unlock(l);
      }
      _exit(0);
    }
  }
  for (int i = 0; i < P; i++) PT_TRUE(wait_ok(kids[i]));
  PT_EQ_INT(*c, (int64_t)P * K);
  eng_array_free(counter);
  eng_ipc_free(l);
}

static void test_lock_owner_dies(void) {
  eng_ipc *l;
  PT_EQ_INT(eng_ipc_lock_new(&l), 0);
  pid_t k = fork();
  if (k == 0) {
    eng_ipc_lock(l, -1);
    _exit(0); /* dies holding it */
  }
  PT_TRUE(wait_ok(k));
  PT_EQ_INT(eng_ipc_lock(l, 2), 1); /* acquired, and told its owner died */
  PT_EQ_INT(eng_ipc_lock(l, 0), 0); /* recursive */
  PT_EQ_INT(eng_ipc_unlock(l), 0);
  PT_EQ_INT(eng_ipc_unlock(l), 0);
  PT_EQ_INT(eng_ipc_unlock(l), PL_EINVAL); /* not held any more */
  /* held elsewhere: a timed wait gives up */
  k = fork();
  if (k == 0) {
    eng_ipc_lock(l, -1);
    struct timespec ts = {1, 0};
    nanosleep(&ts, NULL);
    eng_ipc_unlock(l);
    _exit(0);
  }
  struct timespec ts = {0, 200000000};
  nanosleep(&ts, NULL);
  double t0 = eng_now();
  PT_EQ_INT(eng_ipc_lock(l, 0.1), PL_ETIMEOUT);
  PT_TRUE(eng_now() - t0 >= 0.09);
  PT_TRUE(wait_ok(k));
  PT_EQ_INT(eng_ipc_lock(l, 1), 0); /* released normally by its owner */
  eng_ipc_unlock(l);
  eng_ipc_free(l);
}

static void test_values(void) {
  eng_ipc *v, *f;
  PT_EQ_INT(eng_ipc_value_new(ENG_I64, 5, &v), 0);
  PT_EQ_INT(eng_ipc_value_new(ENG_F64, 0.5, &f), 0);
  PT_EQ_INT(eng_ipc_kind_of(v), ENG_IPC_VALUE);
  enum { P = 3, K = 10000 };
  pid_t kids[P];
  for (int i = 0; i < P; i++) {
    kids[i] = fork();
    if (kids[i] == 0) {
      for (int k = 0; k < K; k++) eng_ipc_value_add(v, 1, NULL);
      _exit(0);
    }
  }
  for (int i = 0; i < P; i++) PT_TRUE(wait_ok(kids[i]));
  double x;
  PT_EQ_INT(eng_ipc_value_get(v, &x), 0);
  PT_EQ_INT((long)x, 5 + P * K);
  PT_EQ_INT(eng_ipc_value_add(f, 0.25, &x), 0);
  PT_NEAR(x, 0.75, 0);
  PT_EQ_INT(eng_ipc_value_set(f, -2.5), 0);
  PT_EQ_INT(eng_ipc_value_get(f, &x), 0);
  PT_NEAR(x, -2.5, 0);
  PT_EQ_INT(eng_ipc_value_new(ENG_F32, 0, &f), PL_EINVAL);
  eng_ipc_free(v);
  eng_ipc_free(f);
}

static void test_queue_mpmc_exactly_once(void) {
  enum { PROD = 3, CONS = 3, PER = 3000, CAP = 16 };
  eng_ipc *q, *done;
  PT_EQ_INT(eng_ipc_queue_new(CAP, 4096, &q), 0);
  /* consumers report what they saw through a second queue */
  PT_EQ_INT(eng_ipc_queue_new(CONS, 0, &done), 0);
  eng_array *seen;
  PT_EQ_INT(eng_array_new(ENG_I64, PROD * PER, ENG_ARRAY_SHARED, &seen), 0);
  int64_t *s = eng_array_data(seen);
  pid_t kids[PROD + CONS];
  for (int i = 0; i < CONS; i++) {
    kids[i] = fork();
    if (kids[i] == 0) {
      long got = 0;
      for (;;) {
        char *m;
        size_t n;
        if (eng_ipc_get(q, 0, &m, &n, 20)) _exit(2);
        int v;
        memcpy(&v, m, sizeof v);
        free(m);
        if (v < 0) break; /* the end-of-stream sentinel */
        __atomic_add_fetch(&s[v], 1, __ATOMIC_SEQ_CST);
        got++;
      }
      eng_ipc_put(done, 0, &got, sizeof got, 5);
      _exit(0);
    }
  }
  for (int i = 0; i < PROD; i++) {
    kids[CONS + i] = fork();
    if (kids[CONS + i] == 0) {
      for (int k = 0; k < PER; k++) {
        /* messages of varied sizes, so the ring wraps with pads */
        char buf[600];
        int v = i * PER + k;
        memcpy(buf, &v, sizeof v);
        if (eng_ipc_put(q, 0, buf, sizeof v + (size_t)(k * 37 % 500), 20)) _exit(2);
      }
      _exit(0);
    }
  }
  for (int i = 0; i < PROD; i++) PT_TRUE(wait_ok(kids[CONS + i]));
  for (int i = 0; i < CONS; i++) {
    int stop = -1;
    PT_EQ_INT(eng_ipc_put(q, 0, &stop, sizeof stop, 5), 0);
  }
  long total = 0;
  for (int i = 0; i < CONS; i++) {
    char *m;
    size_t n;
    PT_EQ_INT(eng_ipc_get(done, 0, &m, &n, 20), 0);
    long got;
    memcpy(&got, m, sizeof got);
    free(m);
    total += got;
  }
  for (int i = 0; i < CONS; i++) PT_TRUE(wait_ok(kids[i]));
  PT_EQ_INT(total, PROD * PER);
  for (int v = 0; v < PROD * PER; v++) PT_EQ_INT(s[v], 1);
  eng_ipc_qstats st;
  PT_EQ_INT(eng_ipc_qstats_get(q, 0, &st), 0);
  PT_EQ_INT(st.puts, PROD * PER + CONS);
  PT_EQ_INT(st.gets, PROD * PER + CONS);
  PT_TRUE(st.max_depth <= CAP);
  PT_EQ_INT(st.depth, 0);
  eng_array_free(seen);
  eng_ipc_free(q);
  eng_ipc_free(done);
}

static void test_queue_bounds(void) {
  eng_ipc *q;
  PT_EQ_INT(eng_ipc_queue_new(2, 64, &q), 0);
  PT_EQ_INT(eng_ipc_put(q, 0, "a", 1, 0), 0);
  PT_EQ_INT(eng_ipc_put(q, 0, "bb", 2, 0), 0);
  PT_EQ_INT(eng_ipc_put(q, 0, "c", 1, 0.05), PL_ETIMEOUT); /* two items max */
  PT_EQ_INT(eng_ipc_count(q, 0), 2);
  char big[100] = {0};
  PT_EQ_INT(eng_ipc_put(q, 0, big, sizeof big, 0), PL_EINVAL); /* over the bytes */
  char *m;
  size_t n;
  PT_EQ_INT(eng_ipc_get(q, 0, &m, &n, 0), 0);
  PT_EQ_STR(m, "a");
  free(m);
  PT_EQ_INT(eng_ipc_get(q, 0, &m, &n, 0), 0);
  PT_EQ_INT(n, 2);
  free(m);
  PT_EQ_INT(eng_ipc_get(q, 0, &m, &n, 0.05), PL_ETIMEOUT);
  /* a message as large as the capacity fits an empty queue */
  char full[64];
  memset(full, 'x', sizeof full);
  PT_EQ_INT(eng_ipc_put(q, 0, full, 56, 0), 0);
  PT_EQ_INT(eng_ipc_get(q, 0, &m, &n, 0), 0);
  PT_EQ_INT(n, 56);
  free(m);
  PT_EQ_INT(eng_ipc_put(q, 1, "a", 1, 0), PL_EINVAL); /* a queue has one end */
  eng_ipc_free(q);
}

static void test_pipe_duplex_and_attach(void) {
  eng_ipc *pp;
  PT_EQ_INT(eng_ipc_pipe_new(256, &pp), 0);
  eng_array *mem = eng_ipc_array(pp);
  pid_t k = fork();
  if (k == 0) {
    /* the child knows the pipe only from its array */
    eng_ipc *mine;
    if (eng_ipc_attach(mem, &mine)) _exit(1);
    for (int i = 0; i < 1000; i++) {
      char *m;
      size_t n;
      if (eng_ipc_get(mine, 1, &m, &n, 10)) _exit(2);
      int v;
      memcpy(&v, m, sizeof v);
      free(m);
      v *= 2;
      if (eng_ipc_put(mine, 1, &v, sizeof v, 10)) _exit(3);
    }
    eng_ipc_free(mine);
    _exit(0);
  }
  for (int i = 0; i < 1000; i++) {
    PT_EQ_INT(eng_ipc_put(pp, 0, &i, sizeof i, 10), 0);
    char *m;
    size_t n;
    PT_EQ_INT(eng_ipc_get(pp, 0, &m, &n, 10), 0);
    int v;
    memcpy(&v, m, sizeof v);
    free(m);
    PT_EQ_INT(v, 2 * i);
  }
  PT_TRUE(wait_ok(k));
  /* garbage is refused */
  eng_array *junk;
  PT_EQ_INT(eng_array_new(ENG_I64, 64, ENG_ARRAY_SHARED, &junk), 0);
  eng_ipc *bad;
  PT_EQ_INT(eng_ipc_attach(junk, &bad), PL_EINVAL);
  eng_array_free(junk);
  eng_ipc_free(pp);
}

static void test_memmap(void) {
  char path[64];
  snprintf(path, sizeof path, "/tmp/test_procs_mm_%d.bin", (int)getpid());
  eng_array *a;
  PT_EQ_INT(eng_ipc_memmap(path, ENG_F64, ENG_MMAP_CREATE, 1000, &a), 0);
  PT_EQ_INT(eng_array_len(a), 1000);
  double *d = eng_array_data(a);
  for (int i = 0; i < 1000; i++) PT_NEAR(d[i], 0, 0);
  /* a child writes through its inherited mapping: it reaches the file */
  pid_t k = fork();
  if (k == 0) {
    for (int i = 0; i < 1000; i++) d[i] = i * 0.5;
    _exit(0);
  }
  PT_TRUE(wait_ok(k));
  eng_array_free(a);
  eng_array *r;
  PT_EQ_INT(eng_ipc_memmap(path, ENG_F64, ENG_MMAP_READ, -1, &r), 0);
  PT_EQ_INT(eng_array_len(r), 1000);
  PT_TRUE(eng_array_is_sealed(r));
  PT_NEAR(eng_array_sum(r), 0.5 * 999 * 1000 / 2, 0);
  PT_TRUE(eng_array_fd(r) >= 0); /* can be sent to a worker */
  /* save and map again, as i64 */
  eng_array *x;
  PT_EQ_INT(eng_array_new(ENG_I64, 10, 0, &x), 0);
  for (int i = 0; i < 10; i++) eng_array_set(x, i, i * i);
  char p2[80];
  snprintf(p2, sizeof p2, "%s.i64", path);
  PT_EQ_INT(eng_ipc_save(p2, x), 0);
  eng_array *y;
  PT_EQ_INT(eng_ipc_memmap(p2, ENG_I64, ENG_MMAP_RW, -1, &y), 0);
  PT_EQ_INT(eng_array_len(y), 10);
  PT_NEAR(eng_array_get(y, 9), 81, 0);
  PT_EQ_INT(eng_ipc_memmap(p2, ENG_I64, ENG_MMAP_READ, 11, &a), PL_EINVAL);
  PT_EQ_INT(eng_ipc_memmap("/nonexistent/x", ENG_I64, ENG_MMAP_READ, -1, &a), PL_ENOTFOUND);
  eng_array_free(r);
  eng_array_free(x);
  eng_array_free(y);
  unlink(path);
  unlink(p2);
}

int main(int argc, char **argv) {
  static const pt_case cases[] = {
    PT_CASE(test_lock_serializes_increments),
    PT_CASE(test_lock_owner_dies),
    PT_CASE(test_values),
    PT_CASE(test_queue_mpmc_exactly_once),
    PT_CASE(test_queue_bounds),
    PT_CASE(test_pipe_duplex_and_attach),
    PT_CASE(test_memmap),
    {0},
  };
  return pt_main(argc, argv, cases);
}
