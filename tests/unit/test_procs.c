/*
 * test_procs.c — the process pool (engine/eng_procs.h): results of every
 * size, map coverage, futures, cancellation, descriptors both ways, jobs,
 * crashes (retried, then reported with their cause), hangs killed at the
 * deadline, and clean shutdown: no zombie, no worker and no mapping of the
 * shared segment left after close, after SIGINT to the process group, or
 * after the caller is killed with SIGKILL.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>

#include "eng_measure.h"
#include "eng_procs.h"
#include "pl_err.h"
#include "pl_test.h"

/* Payload: a command byte, then arguments. */
enum { CMD_ECHO = 'e', CMD_BIG = 'b', CMD_SEGV = 's', CMD_ABORT = 'a', CMD_EXIT = 'x',
       CMD_FLAKY = 'f', CMD_HANG = 'h', CMD_FAIL = 'F', CMD_FD = 'd', CMD_NEWFD = 'n',
       CMD_WHO = 'w', CMD_SLEEP = 'S', CMD_NAP = 'N' };

static int handler(void *ctx, eng_procs_task *t, eng_procs_out *out) {
  (void)ctx;
  const char *d = t->data;
  if (t->job && t->len == 2 * sizeof(int64_t)) {
    /* map: sum of i over [b, e), plus the job's first byte */
    int64_t r[2];
    memcpy(r, d, sizeof r);
    int64_t s = 0;
    for (int64_t i = r[0]; i < r[1]; i++) s += i;
    s += ((const char *)t->jobdata)[0];
    if (t->njobfds == 1) {
      /* count the task in the shared counter the job carries */
      int64_t *cnt = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, t->jobfds[0], 0);
      if (cnt != MAP_FAILED) {
        __atomic_add_fetch(cnt, r[1] - r[0], __ATOMIC_SEQ_CST);
        munmap(cnt, 4096);
      }
    }
    return eng_procs_out_write(out, &s, sizeof s);
  }
  switch (d[0]) {
  case CMD_ECHO: return eng_procs_out_write(out, d, t->len);
  case CMD_BIG: {
    /* a result of n bytes, byte i = i * 7 */
    size_t n;
    memcpy(&n, d + 1, sizeof n);
    char *b = malloc(n);
    for (size_t i = 0; i < n; i++) b[i] = (char)(i * 7);
    int rc = eng_procs_out_write(out, b, n);
    free(b);
    return rc;
  }
  case CMD_SEGV:
    signal(SIGSEGV, SIG_DFL); /* a sanitizer's handler would turn it into exit(1) */
    raise(SIGSEGV);
    break;
  case CMD_ABORT: abort();
  case CMD_EXIT: _exit(3);
  case CMD_FLAKY:
    if (t->attempt == 1) raise(SIGKILL);
    return eng_procs_out_write(out, &t->attempt, sizeof t->attempt);
  case CMD_HANG:
    for (;;) pause();
  case CMD_FAIL: {
    static const char msg[] = "bad input";
    eng_procs_out_write(out, msg, sizeof msg - 1);
    return 1;
  }
  case CMD_FD: {
    /* add 1 to the first int64 of the memfd sent with the task */
    if (t->nfds != 1) return 1;
    int64_t *v = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, t->fds[0], 0);
    if (v == MAP_FAILED) return 1;
    (*v)++;
    munmap(v, 4096);
    return eng_procs_out_write(out, "ok", 2);
  }
  case CMD_NEWFD: {
    int fd = memfd_create("t", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, 4096)) return 1;
    int64_t v = 4242;
    if (pwrite(fd, &v, sizeof v, 0) != sizeof v) return 1;
    int rc = eng_procs_out_fds(out, &fd, 1);
    close(fd);
    return rc;
  }
  case CMD_WHO: {
    int pid = (int)getpid();
    return eng_procs_out_write(out, &pid, sizeof pid);
  }
  case CMD_SLEEP: {
    struct timespec ts = {0, 20000000};
    nanosleep(&ts, NULL);
    return eng_procs_out_write(out, d, 1);
  }
  case CMD_NAP: {
    struct timespec ts = {0, 300000000};
    nanosleep(&ts, NULL);
    return eng_procs_out_write(out, d, 1);
  }
  }
  return 1;
}

static eng_procs *start(int workers, int retries) {
  eng_procs_opts o = {.workers = workers, .retries = retries, .spin_us = -1};
  eng_procs *p = NULL;
  PT_EQ_INT(eng_procs_new(&o, handler, NULL, &p), 0);
  PT_EQ_INT(eng_procs_size(p), workers);
  return p;
}

static uint64_t sub(eng_procs *p, const void *d, size_t n) {
  eng_procs_sub s = {.data = d, .len = n};
  uint64_t id = 0;
  PT_EQ_INT(eng_procs_submit(p, &s, 10, &id), 0);
  return id;
}

static eng_procs_result wait1(eng_procs *p, uint64_t id) {
  eng_procs_result r;
  PT_EQ_INT(eng_procs_wait(p, id, 20, &r), 0);
  PT_EQ_INT(r.id, id);
  return r;
}

static int alive(int pid) { return pid > 0 && kill(pid, 0) == 0; }

static void test_echo_sizes(void) {
  eng_procs *p = start(2, 2);
  /* inline, just over the cell, in the arena, and results split into
   * fragments (the result ring holds 256 KiB) */
  size_t sizes[] = {1, 100, 200, 5000, 300000};
  for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
    char *d = malloc(sizes[k]);
    d[0] = CMD_ECHO;
    for (size_t i = 1; i < sizes[k]; i++) d[i] = (char)(i * 13 + k);
    eng_procs_result r = wait1(p, sub(p, d, sizes[k]));
    PT_EQ_INT(r.status, ENG_PROCS_OK);
    PT_EQ_INT(r.len, sizes[k]);
    PT_TRUE(memcmp(r.data, d, sizes[k]) == 0);
    PT_EQ_INT(r.attempts, 1);
    eng_procs_result_clear(&r);
    free(d);
  }
  char big[1 + sizeof(size_t)];
  big[0] = CMD_BIG;
  size_t n = 3u << 20;
  memcpy(big + 1, &n, sizeof n);
  eng_procs_result r = wait1(p, sub(p, big, sizeof big));
  PT_EQ_INT(r.status, ENG_PROCS_OK);
  PT_EQ_INT(r.len, n);
  int bad = 0;
  for (size_t i = 0; i < n; i++) bad += r.data[i] != (char)(i * 7);
  PT_EQ_INT(bad, 0);
  eng_procs_result_clear(&r);
  eng_procs_free(p);
}

static void test_many_futures(void) {
  eng_procs *p = start(3, 0);
  enum { N = 5000 };
  static uint64_t ids[N];
  for (int i = 0; i < N; i++) {
    char d[9] = {CMD_ECHO};
    memcpy(d + 1, &i, sizeof i);
    ids[i] = sub(p, d, sizeof d); /* more than the 1024 cells: submit waits */
  }
  /* taken in reverse order: results wait in the pool until asked for */
  for (int i = N - 1; i >= 0; i--) {
    eng_procs_result r = wait1(p, ids[i]);
    int v;
    memcpy(&v, r.data + 1, sizeof v);
    PT_EQ_INT(v, i);
    eng_procs_result_clear(&r);
  }
  PT_EQ_INT(eng_procs_pending(p), 0);
  eng_procs_result r;
  PT_EQ_INT(eng_procs_wait(p, ids[0], 0, &r), PL_ENOTFOUND);
  eng_procs_free(p);
}

typedef struct mapacc { long n; int64_t sum; long *hits; long calls; } mapacc;

static int collect(void *arg, const eng_procs_result *r, long b, long e) {
  mapacc *a = arg;
  if (r->status != ENG_PROCS_OK || r->len != sizeof(int64_t)) return 1;
  int64_t s;
  memcpy(&s, r->data, sizeof s);
  a->sum += s - 'J';
  for (long i = b; i < e; i++) a->hits[i]++;
  a->calls++;
  return 0;
}

static void test_map_chunks(void) {
  eng_procs *p = start(2, 0);
  uint64_t job;
  PT_EQ_INT(eng_procs_job_new(p, "J", 1, NULL, 0, &job), 0);
  long ns[] = {0, 1, 7, 1000, 20001};
  long chunks[] = {1, 3, 64, 0};
  for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
    for (size_t k = 0; k < sizeof chunks / sizeof chunks[0]; k++) {
      long n = ns[i];
      mapacc a = {n, 0, calloc((size_t)n + 1, sizeof(long)), 0};
      PT_EQ_INT(eng_procs_map(p, n, chunks[k], job, 0, collect, &a), 0);
      PT_EQ_INT(a.sum, (int64_t)n * (n - 1) / 2);
      for (long j = 0; j < n; j++) PT_EQ_INT(a.hits[j], 1);
      if (chunks[k] > 0) PT_EQ_INT(a.calls, (n + chunks[k] - 1) / chunks[k]);
      free(a.hits);
    }
  }
  eng_procs_job_free(p, job);
  eng_procs_free(p);
}

static void test_job_fds(void) {
  /* every worker receives the job's memfd once; tasks count into it */
  int fd = memfd_create("cnt", MFD_CLOEXEC);
  PT_TRUE(fd >= 0 && ftruncate(fd, 4096) == 0);
  int64_t *cnt = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  PT_TRUE(cnt != MAP_FAILED);
  eng_procs *p = start(3, 0);
  uint64_t job;
  PT_EQ_INT(eng_procs_job_new(p, "J", 1, &fd, 1, &job), 0);
  mapacc a = {5000, 0, calloc(5001, sizeof(long)), 0};
  PT_EQ_INT(eng_procs_map(p, 5000, 10, job, 0, collect, &a), 0);
  PT_EQ_INT(*cnt, 5000);
  eng_procs_job_free(p, job);
  /* a later job still works, and the ended one's descriptors were dropped */
  PT_EQ_INT(eng_procs_job_new(p, "J", 1, &fd, 1, &job), 0);
  memset(a.hits, 0, 5001 * sizeof(long));
  PT_EQ_INT(eng_procs_map(p, 100, 1, job, 0, collect, &a), 0);
  PT_EQ_INT(*cnt, 5100);
  eng_procs_job_free(p, job);
  free(a.hits);
  eng_procs_free(p);
  munmap(cnt, 4096);
  close(fd);
}

static void test_task_fds_both_ways(void) {
  int fd = memfd_create("v", MFD_CLOEXEC);
  PT_TRUE(fd >= 0 && ftruncate(fd, 4096) == 0);
  int64_t *v = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  eng_procs *p = start(2, 0);
  uint64_t ids[20];
  for (int i = 0; i < 20; i++) {
    char c = CMD_FD;
    eng_procs_sub s = {.data = &c, .len = 1, .fds = &fd, .nfds = 1};
    PT_EQ_INT(eng_procs_submit(p, &s, 10, &ids[i]), 0);
  }
  for (int i = 0; i < 20; i++) {
    eng_procs_result r = wait1(p, ids[i]);
    PT_EQ_INT(r.status, ENG_PROCS_OK);
    eng_procs_result_clear(&r);
  }
  PT_EQ_INT(*v, 20);
  char c = CMD_NEWFD;
  eng_procs_result r = wait1(p, sub(p, &c, 1));
  PT_EQ_INT(r.status, ENG_PROCS_OK);
  PT_EQ_INT(r.nfds, 1);
  int64_t got = 0;
  PT_EQ_INT(pread(r.fds[0], &got, sizeof got, 0), sizeof got);
  PT_EQ_INT(got, 4242);
  eng_procs_result_clear(&r);
  eng_procs_free(p);
  munmap(v, 4096);
  close(fd);
}

static void test_errors_and_wait_any(void) {
  eng_procs *p = start(2, 0);
  char f = CMD_FAIL, s = CMD_SLEEP;
  uint64_t ids[3] = {sub(p, &s, 1), sub(p, &s, 1), sub(p, &f, 1)};
  int i = eng_procs_wait_any(p, ids, 3, 10);
  PT_TRUE(i >= 0 && i < 3);
  PT_EQ_INT(eng_procs_done(p, ids[i]), 1);
  eng_procs_result r = wait1(p, ids[2]);
  PT_EQ_INT(r.status, ENG_PROCS_ERROR);
  PT_EQ_STR(r.data, "bad input");
  eng_procs_result_clear(&r);
  for (int k = 0; k < 2; k++) {
    r = wait1(p, ids[k]);
    PT_EQ_INT(r.status, ENG_PROCS_OK);
    eng_procs_result_clear(&r);
  }
  PT_EQ_INT(eng_procs_done(p, ids[0]), PL_ENOTFOUND);
  eng_procs_free(p);
}

static void test_cancel(void) {
  eng_procs *p = start(1, 0);
  char s = CMD_SLEEP;
  uint64_t ids[10];
  for (int i = 0; i < 10; i++) ids[i] = sub(p, &s, 1);
  /* the single worker is busy with the first ones: the last is queued */
  PT_EQ_INT(eng_procs_cancel(p, ids[9]), 0);
  eng_procs_result r = wait1(p, ids[9]);
  PT_EQ_INT(r.status, ENG_PROCS_CANCELLED);
  eng_procs_result_clear(&r);
  r = wait1(p, ids[0]);
  PT_EQ_INT(r.status, ENG_PROCS_OK);
  eng_procs_result_clear(&r);
  PT_EQ_INT(eng_procs_cancel(p, ids[0]), PL_ENOTFOUND);
  for (int i = 1; i < 9; i++) {
    r = wait1(p, ids[i]);
    eng_procs_result_clear(&r);
  }
  eng_procs_free(p);
}

static void test_crash_retried_then_reported(void) {
  eng_procs *p = start(2, 2);
  int pid0 = eng_procs_pid(p, 0), pid1 = eng_procs_pid(p, 1);
  char seg = CMD_SEGV, ab = CMD_ABORT, ex = CMD_EXIT, e[5] = {CMD_ECHO, 1, 2, 3, 4};
  uint64_t a = sub(p, &seg, 1), b = sub(p, e, 5), c = sub(p, &ab, 1), d = sub(p, &ex, 1);
  eng_procs_result r = wait1(p, a);
  PT_EQ_INT(r.status, ENG_PROCS_CRASHED);
  PT_EQ_INT(r.attempts, 3);
  PT_CONTAINS(r.data, "killed by signal 11 (SIGSEGV");
  PT_CONTAINS(r.data, "while running it, on attempt 3 of 3");
  eng_procs_result_clear(&r);
  r = wait1(p, b);
  PT_EQ_INT(r.status, ENG_PROCS_OK);
  PT_EQ_INT(r.len, 5);
  eng_procs_result_clear(&r);
  r = wait1(p, c);
  PT_EQ_INT(r.status, ENG_PROCS_CRASHED);
  PT_CONTAINS(r.data, "SIGABRT");
  eng_procs_result_clear(&r);
  r = wait1(p, d);
  PT_EQ_INT(r.status, ENG_PROCS_CRASHED);
  PT_CONTAINS(r.data, "exited with status 3");
  eng_procs_result_clear(&r);
  /* the old workers are gone and reaped, new ones serve */
  PT_TRUE(!alive(pid0) || !alive(pid1));
  eng_procs_wstats ws[2];
  PT_EQ_INT(eng_procs_worker_stats(p, ws, 2), 2);
  PT_GE(ws[0].restarts + ws[1].restarts, 9);
  r = wait1(p, sub(p, e, 5));
  PT_EQ_INT(r.status, ENG_PROCS_OK);
  eng_procs_result_clear(&r);
  eng_procs_stats st;
  eng_procs_get_stats(p, &st);
  PT_EQ_INT(st.failed, 3);
  PT_EQ_INT(st.retries, 6);
  eng_procs_free(p);
}

static void test_flaky_succeeds_on_retry(void) {
  eng_procs *p = start(2, 1);
  char f = CMD_FLAKY;
  uint64_t ids[6];
  for (int i = 0; i < 6; i++) ids[i] = sub(p, &f, 1);
  for (int i = 0; i < 6; i++) {
    eng_procs_result r = wait1(p, ids[i]);
    PT_EQ_INT(r.status, ENG_PROCS_OK);
    int att;
    memcpy(&att, r.data, sizeof att);
    PT_EQ_INT(att, 2);
    PT_EQ_INT(r.attempts, 2);
    eng_procs_result_clear(&r);
  }
  /* retries = 0: the same task fails at once, with the cause */
  eng_procs *q = start(1, 0);
  eng_procs_result r = wait1(q, sub(q, &f, 1));
  PT_EQ_INT(r.status, ENG_PROCS_CRASHED);
  PT_CONTAINS(r.data, "SIGKILL");
  eng_procs_result_clear(&r);
  eng_procs_free(q);
  eng_procs_free(p);
}

static void test_hang_killed_at_deadline(void) {
  eng_procs *p = start(2, 2);
  char h = CMD_HANG;
  eng_procs_sub s = {.data = &h, .len = 1, .deadline = eng_now() + 0.3};
  uint64_t id;
  double t0 = eng_now();
  PT_EQ_INT(eng_procs_submit(p, &s, 10, &id), 0);
  eng_procs_result r = wait1(p, id);
  PT_EQ_INT(r.status, ENG_PROCS_CRASHED);
  PT_CONTAINS(r.data, "ran past its time limit");
  PT_EQ_INT(r.attempts, 1); /* a hang is not retried */
  PT_TRUE(eng_now() - t0 < 5);
  eng_procs_result_clear(&r);
  char e = CMD_ECHO;
  r = wait1(p, sub(p, &e, 1));
  PT_EQ_INT(r.status, ENG_PROCS_OK);
  eng_procs_result_clear(&r);
  eng_procs_free(p);
}

/* 1 when process pid (0: this one) maps a pool's shared segment. Only
 * processes of this test are looked at: other programs on the machine may
 * have pools of their own. */
static int maps_segment(int pid) {
  char path[64], line[512];
  if (pid) snprintf(path, sizeof path, "/proc/%d/maps", pid);
  else snprintf(path, sizeof path, "/proc/self/maps");
  FILE *f = fopen(path, "r");
  if (!f) return 0; /* gone: maps nothing */
  int found = 0;
  while (!found && fgets(line, sizeof line, f)) found = strstr(line, "memfd:parlab-procs") != NULL;
  fclose(f);
  return found;
}

/* 1 while any of pids[0..n) or this process maps a segment. */
static int segment_mapped(const int *pids, int n) {
  if (maps_segment(0)) return 1;
  for (int i = 0; i < n; i++)
    if (maps_segment(pids[i])) return 1;
  return 0;
}

/* Wait up to secs for pid (our child, by subreaping) to be reaped;
 * returns its wait status, -1 on time out. */
static int reap_within(int pid, double secs) {
  double end = eng_now() + secs;
  while (eng_now() < end) {
    int st;
    int r = waitpid(pid, &st, WNOHANG);
    if (r == pid) return st;
    if (r < 0 && errno == ECHILD) return 0;
    struct timespec ts = {0, 2000000};
    nanosleep(&ts, NULL);
  }
  return -1;
}

static void test_close_leaves_nothing(void) {
  eng_procs *p = start(3, 0);
  int pids[3];
  for (int w = 0; w < 3; w++) pids[w] = eng_procs_pid(p, w);
  char s = CMD_SLEEP;
  uint64_t id = sub(p, &s, 1);
  PT_EQ_INT(eng_procs_live_children(), 3);
  PT_EQ_INT(eng_procs_close(p, 10), 0); /* waits for the task first */
  eng_procs_result r = wait1(p, id);
  PT_EQ_INT(r.status, ENG_PROCS_OK);
  eng_procs_result_clear(&r);
  PT_EQ_INT(eng_procs_live_children(), 0);
  for (int w = 0; w < 3; w++) {
    PT_TRUE(!alive(pids[w])); /* reaped: not even a zombie */
  }
  char e = CMD_ECHO;
  eng_procs_sub sb = {.data = &e, .len = 1};
  uint64_t x;
  PT_EQ_INT(eng_procs_submit(p, &sb, 1, &x), PL_EIO);
  eng_procs_free(p);
  PT_EQ_INT(waitpid(-1, NULL, WNOHANG), -1);
  PT_TRUE(!segment_mapped(pids, 3));
}

/* A child makes a pool and reports its workers' pids, then dies by `how`;
 * the workers must follow, and be reaped by us (the subreaper). */
static void caller_dies(int how) {
  PT_EQ_INT(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
  int fds[2];
  PT_EQ_INT(pipe(fds), 0);
  PT_EQ_INT(setpgid(0, 0), 0); /* our own group, for the Ctrl-C case */
  pid_t c = fork();
  if (c == 0) {
    close(fds[0]);
    eng_procs *p = start(3, 0);
    char e = CMD_ECHO;
    eng_procs_result r = wait1(p, sub(p, &e, 1));
    eng_procs_result_clear(&r);
    int pids[3];
    for (int w = 0; w < 3; w++) pids[w] = eng_procs_pid(p, w);
    if (write(fds[1], pids, sizeof pids) != sizeof pids) _exit(1);
    /* keep a task running while we die */
    char s = CMD_SLEEP;
    sub(p, &s, 1);
    for (;;) pause();
  }
  close(fds[1]);
  int pids[3];
  PT_EQ_INT(read(fds[0], pids, sizeof pids), sizeof pids);
  for (int w = 0; w < 3; w++) PT_TRUE(alive(pids[w]));
  int all[4] = {pids[0], pids[1], pids[2], (int)c};
  PT_TRUE(segment_mapped(all, 4));   /* the caller and its workers map it now */
  PT_TRUE(!maps_segment(0));         /* we never did */
  if (how == SIGINT) {
    /* Ctrl-C: the whole foreground group gets SIGINT. */
    signal(SIGINT, SIG_IGN);
    kill(0, SIGINT);
  } else {
    kill(c, how);
  }
  int st = reap_within(c, 10);
  PT_TRUE(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == how);
  for (int w = 0; w < 3; w++) {
    int ws = reap_within(pids[w], 10);
    PT_TRUE(ws != -1);
    /* the parent-death signal, or its own exit when it saw first that
     * the caller's end of its socket had closed */
    if (!(WIFSIGNALED(ws) ? WTERMSIG(ws) == SIGKILL : WEXITSTATUS(ws) == 0))
      PT_FAIL_("worker %d ended with wait status 0x%x", w, ws);
  }
  PT_EQ_INT(waitpid(-1, NULL, WNOHANG), -1); /* nothing else left, no zombie */
  PT_TRUE(!segment_mapped(all, 4));   /* every process that mapped it is gone */
}

static void test_caller_killed(void) { caller_dies(SIGKILL); }
static void test_caller_sigint(void) { caller_dies(SIGINT); }
static void test_caller_sigterm(void) { caller_dies(SIGTERM); }

static int child_fn(void *ctx) {
  int mode = *(int *)ctx;
  if (mode == 1) {
    signal(SIGSEGV, SIG_DFL);
    raise(SIGSEGV);
  }
  if (mode == 2) for (;;) pause();
  return 7;
}

static void test_single_process(void) {
  int modes[3] = {0, 1, 2};
  eng_proc *a, *b, *c;
  PT_EQ_INT(eng_proc_spawn(child_fn, &modes[0], NULL, 0, &a), 0);
  PT_EQ_INT(eng_proc_spawn(child_fn, &modes[1], NULL, 0, &b), 0);
  PT_EQ_INT(eng_proc_spawn(child_fn, &modes[2], NULL, 0, &c), 0);
  PT_EQ_INT(eng_procs_live_children(), 3);
  int st;
  PT_EQ_INT(eng_proc_join(a, 10, &st), 0);
  PT_EQ_INT(st, 7);
  PT_EQ_INT(eng_proc_join(b, 10, &st), 0);
  PT_EQ_INT(st, -SIGSEGV);
  char buf[128];
  eng_procs_describe_status(st, buf, sizeof buf);
  PT_CONTAINS(buf, "SIGSEGV");
  PT_EQ_INT(eng_proc_join(c, 0.05, &st), PL_ETIMEOUT);
  PT_TRUE(eng_proc_alive(c));
  int cpid = eng_proc_pid(c);
  PT_EQ_INT(eng_proc_kill(c, 0), 0);
  PT_EQ_INT(eng_proc_join(c, 10, &st), 0);
  PT_EQ_INT(st, -SIGTERM);
  eng_proc_free(a);
  eng_proc_free(b);
  eng_proc_free(c);
  PT_TRUE(!alive(cpid));
  PT_EQ_INT(eng_procs_live_children(), 0);
}

static void test_crash_storm(void) {
  /* 400 tasks, one in four crashes once: all finish, in any order */
  eng_procs *p = start(2, 1);
  enum { N = 400 };
  uint64_t ids[N];
  for (int i = 0; i < N; i++) {
    char c = i % 4 == 0 ? CMD_FLAKY : CMD_ECHO;
    ids[i] = sub(p, &c, 1);
  }
  int ok = 0;
  for (int i = 0; i < N; i++) {
    eng_procs_result r = wait1(p, ids[i]);
    ok += r.status == ENG_PROCS_OK;
    eng_procs_result_clear(&r);
  }
  PT_EQ_INT(ok, N);
  eng_procs_free(p);
  PT_EQ_INT(eng_procs_live_children(), 0);
}

/* Tasks queued together while the workers sleep run on all of them: at
 * most cores - 1 idle workers spin, the caller wakes nobody while one
 * spins, and the worker that takes the first task wakes the others for
 * the rest. Each task holds its worker 300 ms, so a second one run by the
 * same worker means the others were left asleep. */
static void test_burst_reaches_sleeping_workers(void) {
  eng_procs *p = start(3, 2);
  for (int round = 0; round < 3; round++) {
    /* Idle long enough that the workers stop spinning and sleep; then one
     * task, after which the worker that ran it spins (it may be the only
     * one awake when the burst comes). */
    struct timespec ts = {0, 100000000};
    nanosleep(&ts, NULL);
    char e[2] = {CMD_ECHO, 'x'};
    eng_procs_result r0 = wait1(p, sub(p, e, sizeof e));
    eng_procs_result_clear(&r0);
    char c = CMD_NAP;
    uint64_t ids[3];
    for (int i = 0; i < 3; i++) ids[i] = sub(p, &c, 1);
    int ran[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++) {
      eng_procs_result r = wait1(p, ids[i]);
      PT_EQ_INT(r.status, ENG_PROCS_OK);
      if (r.worker >= 0 && r.worker < 3) ran[r.worker]++;
      eng_procs_result_clear(&r);
    }
    for (int w = 0; w < 3; w++) PT_EQ_INT(ran[w], 1);
  }
  eng_procs_free(p);
  PT_EQ_INT(eng_procs_live_children(), 0);
}

int main(int argc, char **argv) {
  static const pt_case cases[] = {
    PT_CASE(test_echo_sizes),
    PT_CASE(test_many_futures),
    PT_CASE(test_map_chunks),
    PT_CASE(test_job_fds),
    PT_CASE(test_task_fds_both_ways),
    PT_CASE(test_errors_and_wait_any),
    PT_CASE(test_cancel),
    PT_CASE(test_crash_retried_then_reported),
    PT_CASE(test_flaky_succeeds_on_retry),
    PT_CASE(test_hang_killed_at_deadline),
    PT_CASE(test_close_leaves_nothing),
    PT_CASE(test_caller_killed),
    PT_CASE(test_caller_sigint),
    PT_CASE(test_caller_sigterm),
    PT_CASE(test_single_process),
    PT_CASE(test_crash_storm),
    PT_CASE(test_burst_reaches_sleeping_workers),
    {0},
  };
  return pt_main(argc, argv, cases);
}
