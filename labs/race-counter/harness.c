/*
 * harness.c — the page tracer of Lab race-counter, compiled together with
 * the student's counter.c (and with baseline.c) and run in the jail.
 *
 * lab_count_traced() calls lab_count() on a private copy of the input in
 * which every page is unreadable. The first read of a page faults; the
 * SIGSEGV handler records which thread read it (its kernel thread id) and
 * when, makes the page readable, and the read goes on. So the grader
 * learns which threads read the input, how much of it each one read first,
 * and over which stretch of time each one was reading: a count done by one
 * thread shows one reader, whatever other threads it starts (idle ones,
 * or ones that spin), and threads run one after another show spans that
 * never overlap. Nothing in the student's code has to cooperate, and a
 * submission that disturbs the tracing (its own SIGSEGV handler, mprotect
 * on the input) only loses the evidence it needs.
 *
 * trace (an i64 array of TRACE_HDR + 4 * TRACE_SLOTS values) receives:
 *   [0] 1 when the call was traced; -1 out of memory, -2 no handler
 *   [1] pages of the input       [2] pages that were read
 *   [3] threads that read pages  [4] page reads by threads past the slots
 *   [5] pages first read by the calling thread  [6] the call's duration, ns
 *   [TRACE_HDR + 4k ..] thread k: thread id, pages it read first, and the
 *   times of its first and last first-read, ns after the call began.
 *
 * Thread-safety: lab_count_traced is called by one thread at a time (the
 * jail serves one call at a time); the handler runs in any thread of the
 * call. A page is credited to one thread (compare-and-swap on its owner);
 * a thread's slot is claimed by compare-and-swap and then written only by
 * that thread. Nothing here is a secret: it runs with the student's code.
 */
#define _GNU_SOURCE /* syscall, SYS_gettid, MAP_ANONYMOUS */

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum { TRACE_HDR = 8, TRACE_SLOTS = 128 };

long lab_count(const double *x, long n, double limit, int threads); /* the student's */

typedef struct reader {
  long tid, pages, first_ns, last_ns;
} reader;

static char *base;            /* the traced copy */
static size_t pagesz, npages;
static long *owner;           /* per page: thread id of its first reader, or 0 */
static reader readers[TRACE_SLOTS];
static long overflow;
static long t0_ns;
static struct sigaction previous;

static long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long)ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static reader *slot_of(long tid) {
  for (int i = 0; i < TRACE_SLOTS; i++) {
    long cur = __atomic_load_n(&readers[i].tid, __ATOMIC_ACQUIRE);
    if (cur == tid) return &readers[i];
    if (cur == 0) {
      long zero = 0;
      if (__atomic_compare_exchange_n(&readers[i].tid, &zero, tid, 0, __ATOMIC_ACQ_REL,
                                      __ATOMIC_ACQUIRE))
        return &readers[i];
      if (zero == tid) return &readers[i];
    }
  }
  return NULL;
}

/* Only clock_gettime, gettid and mprotect: async-signal-safe system calls. */
static void on_fault(int sig, siginfo_t *si, void *ctx) {
  (void)ctx;
  char *a = si->si_addr;
  if (sig != SIGSEGV || !base || a < base || a >= base + npages * pagesz) {
    /* Not a traced page: a real crash. Put the old action back; the
     * faulting instruction runs again and crashes the way it would have. */
    sigaction(SIGSEGV, &previous, NULL);
    return;
  }
  size_t page = (size_t)(a - base) / pagesz;
  long tid = syscall(SYS_gettid), expected = 0;
  if (__atomic_compare_exchange_n(&owner[page], &expected, tid, 0, __ATOMIC_ACQ_REL,
                                  __ATOMIC_ACQUIRE)) {
    long t = now_ns() - t0_ns;
    reader *r = slot_of(tid);
    if (r) {
      if (__atomic_load_n(&r->pages, __ATOMIC_RELAXED) == 0)
        __atomic_store_n(&r->first_ns, t, __ATOMIC_RELAXED);
      __atomic_store_n(&r->last_ns, t, __ATOMIC_RELAXED);
      __atomic_add_fetch(&r->pages, 1, __ATOMIC_RELAXED);
    } else {
      __atomic_add_fetch(&overflow, 1, __ATOMIC_RELAXED);
    }
  }
  /* Writable too: the copy is private, and a submission that wrote to its
   * input must not fault on the same page for ever. */
  if (mprotect(base + page * pagesz, pagesz, PROT_READ | PROT_WRITE))
    sigaction(SIGSEGV, &previous, NULL); /* cannot go on: crash, do not hang */
}

long lab_count_traced(const double *x, long n, double limit, int threads, long *trace) {
  long result = -1, caller, read = 0, caller_pages = 0;
  size_t bytes;
  int k = 0;
  struct sigaction sa;
  memset(trace, 0, sizeof(long) * (TRACE_HDR + 4 * TRACE_SLOTS));
  memset(readers, 0, sizeof readers);
  overflow = 0;
  pagesz = (size_t)sysconf(_SC_PAGESIZE);
  if (n < 0) n = 0;
  npages = ((size_t)n * sizeof(double) + pagesz - 1) / pagesz;
  if (npages == 0) npages = 1;
  bytes = npages * pagesz;
  char *copy = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  owner = calloc(npages, sizeof *owner);
  if (copy == MAP_FAILED || !owner) {
    trace[0] = -1;
    goto done;
  }
  /* Small pages, so that every 4 KiB of input faults on its own. */
  madvise(copy, bytes, MADV_NOHUGEPAGE);
  if (n > 0) memcpy(copy, x, (size_t)n * sizeof(double));
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  if (mprotect(copy, bytes, PROT_NONE) || sigaction(SIGSEGV, &sa, &previous)) {
    trace[0] = -2;
    goto done;
  }
  base = copy;
  t0_ns = now_ns();
  caller = syscall(SYS_gettid);
  result = lab_count((const double *)copy, n, limit, threads);
  trace[6] = now_ns() - t0_ns;
  base = NULL;
  sigaction(SIGSEGV, &previous, NULL);

  for (size_t p = 0; p < npages; p++) {
    long o = __atomic_load_n(&owner[p], __ATOMIC_ACQUIRE);
    if (o) read++;
    if (o && o == caller) caller_pages++;
  }
  for (int i = 0; i < TRACE_SLOTS; i++) {
    reader *r = &readers[i];
    long tid = __atomic_load_n(&r->tid, __ATOMIC_ACQUIRE);
    if (!tid) continue;
    long *out = trace + TRACE_HDR + 4 * k++;
    out[0] = tid;
    out[1] = __atomic_load_n(&r->pages, __ATOMIC_RELAXED);
    out[2] = __atomic_load_n(&r->first_ns, __ATOMIC_RELAXED);
    out[3] = __atomic_load_n(&r->last_ns, __ATOMIC_RELAXED);
  }
  trace[0] = 1;
  trace[1] = n > 0 ? (long)npages : 0;
  trace[2] = n > 0 ? read : 0;
  trace[3] = k;
  trace[4] = __atomic_load_n(&overflow, __ATOMIC_RELAXED);
  trace[5] = caller_pages;

done:
  base = NULL;
  if (copy != MAP_FAILED) munmap(copy, bytes);
  free(owner);
  owner = NULL;
  return result;
}
