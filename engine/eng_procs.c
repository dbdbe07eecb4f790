/*
 * eng_procs.c — the pre-forked process pool and single child processes
 * (see eng_procs.h for the model).
 *
 * Cell states (shm_cell.state), the heart of fault tolerance:
 *
 *   FREE ──submit──► READY ──worker w claims (CAS)──► TAKEN(w)
 *     ▲                 ▲                                │ result published
 *     │                 └──── w died: requeue ───────────┤
 *     └──────────── caller collects the result ◄─────────┘
 *
 *   FREE ──submit with fds──► DIRECT(w) ──w receives──► TAKEN(w) ...
 *
 * Only the caller moves a cell to READY, DIRECT or FREE; only a worker
 * moves it to TAKEN, by a compare-and-swap that names itself. So after
 * a worker is reaped, the cells it owned are exactly those in TAKEN(w)
 * or DIRECT(w) whose result it did not publish, and they can be requeued
 * without any lock having been held by the dead process.
 *
 * The ring holds cell indices; a position whose cell is no longer READY
 * (claimed out of order by a slow worker, cancelled) is skipped by whoever
 * reaches it, and every reader helps move the head past it, so a worker
 * that dies in the middle of a dequeue cannot block the queue.
 *
 * Result rings: records { kind, cell, id, len, flags } + bytes, 8-byte
 * aligned, never wrapping (a pad record fills the end); results larger
 * than a quarter of the ring are split into fragments (flag MORE) that the
 * caller reassembles. A worker publishes a record with one release store
 * of its tail; the caller frees space with one store of the head.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "eng_procs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "eng_measure.h"
#include "eng_pool.h"
#include "pl_err.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define SHM_MAGIC 0x70726f6373706c31ull /* "procspl1" */
#define CELL_BYTES 256
#define RB_BYTES (256u << 10)            /* result ring per worker */
#define FRAG_MAX (RB_BYTES / 4)
#define DEFAULT_ARENA ((size_t)32 << 20)
#define MIN_ARENA ((size_t)1 << 20)
#define ARENA_ALIGN 64
#define LATE_GRACE_S 1.0                 /* past a task's deadline before its worker is killed */
#define IDLE_DEATHS_BROKEN 10            /* deaths holding no task, in a row */
#define HANDOVER_NS 5000000ull           /* a spinner on the caller's core hands over at most this often */

enum { ST_FREE = 0, ST_READY = 1, ST_TAKEN = 0x10000, ST_DIRECT = 0x20000 };
#define ST_KIND(s) ((s) & 0xffff0000u)
#define ST_WORKER(s) ((int)((s) & 0xffffu))

enum { CF_INLINE = 1, CF_JOBFDS = 2, CF_DIRECT = 4, CF_JOB = 8 };
enum { REC_DATA = 1, REC_PAD = 2 };
enum { RF_STATUS = 3, RF_MORE = 4, RF_FDS = 8 };
enum { MSG_TASK = 1, MSG_JOB = 2, MSG_JOBEND = 3, MSG_RESULT_FDS = 4 };

/* ------------------------------------------------------------ shared layout */

/* Every word that one side writes often and the other polls has a cache
 * line of its own: a line that both write moves between the cores at
 * each write, and at this scale (a task is about a microsecond) each move
 * is a noticeable part of the round trip. */
typedef struct shm_hdr {
  uint64_t magic;
  int32_t nworkers, ncells;
  uint32_t ringmask;
  uint32_t max_spinners;                 /* idle workers allowed to spin at once (cores) */
  _Atomic uint64_t spin_ns;   /* the spin in force (the caller adapts it) */
  uint64_t arena_bytes;
  _Atomic int32_t caller_cpu; /* where the caller last waited (rarely changes) */
  _Atomic int32_t crowded;    /* other programs compete for the cores (adapt_spin) */
  alignas(64) _Atomic uint64_t head;     /* next ring position to take (workers) */
  alignas(64) _Atomic uint64_t tail;     /* next ring position to fill (caller) */
  _Atomic uint32_t shutdown;             /* beside tail: an idle worker polls one line */
  alignas(64) _Atomic uint32_t idle;     /* futex: generation << IDLE_BITS | workers asleep */
  alignas(64) _Atomic uint32_t spinners; /* idle workers spinning: no wake needed */
  _Atomic uint64_t spin_cpus;            /* bit cpu % 64: a worker is awake there */
  alignas(64) _Atomic uint32_t parent_waiting; /* the caller sleeps in poll() */
} shm_hdr;

typedef struct shm_worker {
  alignas(64) _Atomic uint64_t rtail;   /* result ring: written by the worker */
  alignas(64) _Atomic uint64_t rhead;   /* result ring: written by the caller */
  _Atomic uint32_t rseq;                /* futex: bumped when the caller frees space */
  _Atomic uint32_t rwaiting;            /* the worker sleeps on rseq */
  alignas(64) _Atomic uint32_t dsent;   /* socket messages sent to this worker */
  alignas(64) _Atomic uint64_t tasks;   /* statistics, read by the caller now and then */
  _Atomic uint64_t busy_ns;
  _Atomic uint32_t busy;
} shm_worker;

/* The sleep word (as in eng_pool.c): a notifier that sees sleepers zeroes
 * their count and bumps the generation in one compare-and-swap, then
 * wakes them all; later notifiers see no sleepers and make no system
 * call, until a worker goes back to sleep. */
#define IDLE_BITS 12
#define IDLE_COUNT ((1u << IDLE_BITS) - 1)

/* A cell is four cache lines. What every task needs (state, id, length)
 * comes first and the payload right after it, so a small task (an apply
 * of a cached function with a number or two) is one line to move to the
 * worker; what only tasks with a job or an arena payload need is in the
 * last 32 bytes. */
typedef struct shm_cell_head {
  _Atomic uint32_t state;
  uint32_t attempt;
  uint64_t id;
  double deadline;
  uint32_t len, flags;
} shm_cell_head;

typedef struct shm_cell_ext {
  uint64_t job;
  uint64_t data_off;
  uint64_t job_off;
  uint32_t job_len, pad;
} shm_cell_ext;

#define CELL_INLINE (CELL_BYTES - sizeof(shm_cell_head) - sizeof(shm_cell_ext))

typedef struct shm_cell_full {
  alignas(64) shm_cell_head h;
  char inl[CELL_INLINE];
  shm_cell_ext x;
} shm_cell;

_Static_assert(sizeof(shm_cell) == CELL_BYTES, "a cell is CELL_BYTES");

typedef struct rrec {
  uint32_t kind, cell;
  uint64_t id;
  uint32_t len, flags;
} rrec;

typedef struct sock_msg {
  uint32_t kind, cell;
  uint64_t id;
} sock_msg;

/* ------------------------------------------------------------ caller side */

/* u64 -> i64 map, open addressing with backward-shift deletion. A slot's
 * key, value and mark share a cache line (one line per probe). */
typedef struct mslot {
  uint64_t key;
  int64_t val;
  uint64_t used;
} mslot;

typedef struct u64map {
  mslot *s;
  size_t cap, count;
} u64map;

typedef struct rnode {
  eng_procs_result r;
  struct rnode *prev, *next;
} rnode;

typedef struct pcell {
  uint64_t id, tag, job;
  int used;
  int direct;          /* worker the task was sent to; -1: shared queue */
  int attempts;
  int late;            /* its worker was killed for running past the deadline */
  size_t aoff, alen;   /* arena block, alen 0: none */
  int fds[ENG_PROCS_MAX_FDS];
  int nfds;
  double deadline;
} pcell;

typedef struct pjob {
  uint64_t id;
  size_t off, len;
  int fds[ENG_PROCS_MAX_FDS];
  int nfds;
  long refs;           /* tasks outstanding */
  int freed;           /* eng_procs_job_free called */
} pjob;

typedef struct extent { size_t off, len; } extent;

typedef struct jobend { uint64_t job; int w; pid_t pid; } jobend;

typedef struct asmbuf {
  char *data;
  size_t len, cap;
} asmbuf;

typedef struct wstate {
  pid_t pid;
  int pidfd;           /* -1 when pidfd_open is unavailable */
  int sock;            /* caller's end */
  int restarts;
  long tasks_base;     /* tasks of earlier workers of this slot */
  double busy_base;
  char kill_reason[96];
  asmbuf as;
} wstate;

struct eng_procs {
  shm_hdr *hdr;
  size_t shm_bytes;
  shm_worker *ws;
  _Atomic uint32_t *ring;
  shm_cell *cells;
  char *rbufs;
  char *arena;
  int n, ncells;
  int retries;
  uint64_t spin_ns;     /* the spin in force */
  uint64_t spin_cfg;    /* the spin asked for */
  int cores;
  uint64_t last_load_check;
  eng_procs_fn fn;
  void *ctx;
  eng_procs_init_fn init;
  pid_t parent;
  int efd;
  int broken;
  char broken_why[320];
  int idle_deaths;
  wstate *w;
  pcell *pc;
  int *freecells;      /* stack of free cell indices */
  int nfree;
  extent *ext;         /* arena free list, sorted by offset */
  int next_, capext;
  pjob *jobs;
  int njobs, capjobs;
  int last_job;        /* index of the job found last */
  jobend *jobends;     /* JOBEND messages not sent yet */
  int njobends, capjobends;
  uint64_t next_id, next_job, next_tag;
  u64map out;          /* id -> cell, tasks not finished */
  u64map fin;          /* id -> rnode*, finished, not taken */
  u64map tags;         /* tag -> tasks outstanding (not taken) */
  u64map drop_ids;     /* results nobody will take: dropped on arrival */
  u64map drop_tags;
  rnode *fin_head, *fin_tail;
  long nfin;
  rnode *spare;         /* result nodes to reuse (a result each is common) */
  int nspare;
  uint64_t head_seen;   /* a recent value of hdr->head */
  uint64_t last_death_check;
  uint64_t last_late_check;
  eng_procs_stats st;
};

/* ---- process-wide bookkeeping ---- */

static _Atomic int live_children;
static int in_child;              /* this process is a worker or an eng_proc child */
static int cur_attempt, cur_worker = -1;

int eng_procs_current_attempt(void) { return cur_attempt; }
int eng_procs_current_worker(void) { return cur_worker; }
int eng_procs_in_child(void) { return in_child; }
int eng_procs_live_children(void) { return atomic_load(&live_children); }

/* ------------------------------------------------------------ small helpers */

static long futex_wait(_Atomic uint32_t *addr, uint32_t val, double timeout_s) {
  struct timespec ts, *tp = NULL;
  if (timeout_s >= 0) {
    if (timeout_s > 3600) timeout_s = 3600;
    ts.tv_sec = (time_t)timeout_s;
    ts.tv_nsec = (long)((timeout_s - (double)ts.tv_sec) * 1e9);
    tp = &ts;
  }
  /* Not FUTEX_PRIVATE: the word is in memory shared between processes. */
  return syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT, val, tp, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *addr, int n) {
  syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAKE, n, NULL, NULL, 0);
}

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

static size_t align_up(size_t x, size_t a) { return (x + a - 1) / a * a; }

static int send_msg(int sock, const sock_msg *m, const int *fds, int nfds, int flags) {
  struct iovec iov = {(void *)m, sizeof *m};
  union { char buf[CMSG_SPACE(sizeof(int) * ENG_PROCS_MAX_FDS)]; struct cmsghdr align; } cm;
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
  if (nfds > 0) {
    memset(&cm, 0, sizeof cm);
    mh.msg_control = cm.buf;
    mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
  }
  for (;;) {
    ssize_t r = sendmsg(sock, &mh, MSG_NOSIGNAL | flags);
    if (r == (ssize_t)sizeof *m) return 0;
    if (r < 0 && errno == EINTR) continue;
    return r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? 1 : -1;
  }
}

/* Receive one message and its descriptors (at most ENG_PROCS_MAX_FDS
 * kept, any extra closed). 0 ok, 1 nothing there (non-blocking), -1 EOF
 * or error. */
static int recv_msg(int sock, sock_msg *m, int *fds, int *nfds, int flags) {
  struct iovec iov = {m, sizeof *m};
  union { char buf[CMSG_SPACE(sizeof(int) * ENG_PROCS_MAX_FDS)]; struct cmsghdr align; } cm;
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf,
                      .msg_controllen = sizeof cm.buf};
  *nfds = 0;
  ssize_t r;
  do r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | flags);
  while (r < 0 && errno == EINTR);
  if (r < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? 1 : -1;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
    for (int i = 0; i < k; i++) {
      int fd;
      memcpy(&fd, CMSG_DATA(c) + sizeof(int) * (size_t)i, sizeof fd);
      if (*nfds < ENG_PROCS_MAX_FDS) fds[(*nfds)++] = fd;
      else close(fd);
    }
  }
  if (r != (ssize_t)sizeof *m) {
    for (int i = 0; i < *nfds; i++) close(fds[i]);
    *nfds = 0;
    return -1;
  }
  return 0;
}

void eng_procs_describe_status(int status, char *buf, size_t cap) {
  if (status < 0) {
    int sig = -status;
    const char *ab = sigabbrev_np(sig);
    const char *d = strsignal(sig);
    if (ab) snprintf(buf, cap, "killed by signal %d (SIG%s: %s)", sig, ab, d ? d : "?");
    else snprintf(buf, cap, "killed by signal %d", sig);
  } else {
    snprintf(buf, cap, "exited with status %d", status);
  }
}

static int status_of(const siginfo_t *si) {
  if (si->si_code == CLD_EXITED) return si->si_status;
  return -si->si_status;
}

/* Close every descriptor above 2 but those in keep[] (a child gets what it
 * needs through its socket or its arguments). Inherited descriptors would
 * count against the child's limit (64 in a jail) and keep the parent's
 * files, sockets and arrays open for nothing. */
static int cmp_int(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

static void close_others(const int *keep, int nkeep) {
  int k[ENG_PROCS_MAX_FDS + 4];
  int n = 0;
  for (int i = 0; i < nkeep && n < (int)(sizeof k / sizeof k[0]); i++)
    if (keep[i] > 2) k[n++] = keep[i];
  qsort(k, (size_t)n, sizeof k[0], cmp_int);
  unsigned lo = 3;
  for (int i = 0; i <= n; i++) {
    unsigned hi = i < n ? (unsigned)k[i] : ~0u;
    if (hi > lo && close_range(lo, hi - 1, 0) < 0) {
      /* Old kernel: one by one, up to the limit. */
      long max = sysconf(_SC_OPEN_MAX);
      unsigned top = hi == ~0u ? (unsigned)(max > 0 ? max : 1024) : hi;
      for (unsigned fd = lo; fd < top; fd++) close((int)fd);
    }
    if (i < n) lo = (unsigned)k[i] + 1;
  }
}

/* fork() with every signal blocked: a child must not die of Ctrl-C in the
 * instant before child_setup() makes it ignore SIGINT (it may not run at
 * all for a while on a busy machine). The child unblocks in child_setup;
 * *saved is the caller's mask, restored by fork_end in the parent. */
static pid_t fork_blocked(sigset_t *saved) {
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, saved);
  return fork();
}

static void fork_end(const sigset_t *saved) { pthread_sigmask(SIG_SETMASK, saved, NULL); }

/* Signals and parent death, the same in every child we make. */
static void child_setup(pid_t parent) {
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  /* The parent may have died between fork() and prctl(). */
  if (getppid() != parent) _exit(0);
  signal(SIGINT, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGTERM, SIG_DFL);
  signal(SIGCHLD, SIG_DFL);
  signal(SIGALRM, SIG_DFL);
  sigset_t all;
  sigemptyset(&all);
  sigprocmask(SIG_SETMASK, &all, NULL);
  in_child = 1;
  atomic_store(&live_children, 0);
}

/* ------------------------------------------------------------ u64map */

static uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  return x ^ (x >> 33);
}

static int map_grow(u64map *m) {
  size_t cap = m->cap ? m->cap * 2 : 64;
  mslot *n = calloc(cap, sizeof *n);
  if (!n) return PL_ENOMEM;
  for (size_t i = 0; i < m->cap; i++) {
    if (!m->s[i].used) continue;
    size_t j = mix64(m->s[i].key) & (cap - 1);
    while (n[j].used) j = (j + 1) & (cap - 1);
    n[j] = m->s[i];
  }
  free(m->s);
  m->s = n;
  m->cap = cap;
  return 0;
}

static int64_t *map_find(u64map *m, uint64_t k) {
  if (!m->count) return NULL;
  for (size_t j = mix64(k) & (m->cap - 1);; j = (j + 1) & (m->cap - 1)) {
    if (!m->s[j].used) return NULL;
    if (m->s[j].key == k) return &m->s[j].val;
  }
}

static int map_put(u64map *m, uint64_t k, int64_t v) {
  int64_t *p = map_find(m, k);
  if (p) {
    *p = v;
    return 0;
  }
  if ((m->count + 1) * 4 > m->cap * 3 && map_grow(m)) return PL_ENOMEM;
  size_t j = mix64(k) & (m->cap - 1);
  while (m->s[j].used) j = (j + 1) & (m->cap - 1);
  m->s[j] = (mslot){k, v, 1};
  m->count++;
  return 0;
}

static void map_del(u64map *m, uint64_t k) {
  if (!m->count) return;
  size_t mask = m->cap - 1, j = mix64(k) & mask;
  for (;; j = (j + 1) & mask) {
    if (!m->s[j].used) return;
    if (m->s[j].key == k) break;
  }
  m->s[j].used = 0;
  m->count--;
  /* Backward shift: move later entries of the cluster into the hole. */
  for (size_t i = (j + 1) & mask; m->s[i].used; i = (i + 1) & mask) {
    size_t home = mix64(m->s[i].key) & mask;
    if (((i - home) & mask) >= ((i - j) & mask)) {
      m->s[j] = m->s[i];
      m->s[i].used = 0;
      j = i;
    }
  }
}

static void map_free(u64map *m) {
  free(m->s);
  memset(m, 0, sizeof *m);
}

/* ------------------------------------------------------------ arena */

static int arena_alloc(eng_procs *p, size_t len, size_t *off) {
  len = align_up(len ? len : 1, ARENA_ALIGN);
  for (int i = 0; i < p->next_; i++) {
    if (p->ext[i].len < len) continue;
    *off = p->ext[i].off;
    p->ext[i].off += len;
    p->ext[i].len -= len;
    if (p->ext[i].len == 0) {
      memmove(&p->ext[i], &p->ext[i + 1], sizeof *p->ext * (size_t)(p->next_ - i - 1));
      p->next_--;
    }
    return 0;
  }
  return 1;
}

static int arena_free(eng_procs *p, size_t off, size_t len) {
  len = align_up(len ? len : 1, ARENA_ALIGN);
  int i = 0;
  while (i < p->next_ && p->ext[i].off < off) i++;
  int merge_prev = i > 0 && p->ext[i - 1].off + p->ext[i - 1].len == off;
  int merge_next = i < p->next_ && off + len == p->ext[i].off;
  if (merge_prev && merge_next) {
    p->ext[i - 1].len += len + p->ext[i].len;
    memmove(&p->ext[i], &p->ext[i + 1], sizeof *p->ext * (size_t)(p->next_ - i - 1));
    p->next_--;
  } else if (merge_prev) {
    p->ext[i - 1].len += len;
  } else if (merge_next) {
    p->ext[i].off = off;
    p->ext[i].len += len;
  } else {
    if (p->next_ == p->capext) {
      int cap = p->capext * 2;
      extent *e = realloc(p->ext, sizeof *e * (size_t)cap);
      if (!e) return PL_ENOMEM; /* the block leaks; the pool goes on */
      p->ext = e;
      p->capext = cap;
    }
    memmove(&p->ext[i + 1], &p->ext[i], sizeof *p->ext * (size_t)(p->next_ - i));
    p->ext[i] = (extent){off, len};
    p->next_++;
  }
  return 0;
}

/* ------------------------------------------------------------ worker side */

typedef struct wjob { uint64_t id; int fds[ENG_PROCS_MAX_FDS]; int nfds; } wjob;

struct eng_procs_out {
  char *data;
  size_t len, cap;
  int fds[ENG_PROCS_MAX_FDS];
  int nfds;
  int failed;
};

typedef struct wdefer { uint32_t cell; uint64_t id; int fds[ENG_PROCS_MAX_FDS]; int nfds; } wdefer;

typedef struct wctx {
  eng_procs *p;
  int w;
  int sock;
  uint32_t drecv;
  wjob *jobs;
  int njobs, capjobs;
  wdefer *defer;       /* task messages read while looking for a job's */
  int ndefer, capdefer;
  eng_procs_out out;
  pid_t parent;
  uint64_t rhead_seen;  /* a recent value of our result ring's head */
  uint64_t cpu_bit;     /* our bit in hdr->spin_cpus, 0: none */
  uint64_t last_handover; /* eng_now_ns() when we last gave our spin away */
} wctx;

int eng_procs_out_write(eng_procs_out *o, const void *src, size_t n) {
  if (!o || (!src && n)) return PL_EINVAL;
  if (o->cap - o->len < n) {
    size_t cap = o->cap ? o->cap : 4096;
    while (cap - o->len < n) {
      if (cap > SIZE_MAX / 2) return PL_ENOMEM;
      cap *= 2;
    }
    char *d = realloc(o->data, cap);
    if (!d) {
      o->failed = 1;
      return PL_ENOMEM;
    }
    o->data = d;
    o->cap = cap;
  }
  if (n) memcpy(o->data + o->len, src, n);
  o->len += n;
  return 0;
}

int eng_procs_out_fds(eng_procs_out *o, const int *fds, int n) {
  if (!o || n < 0 || (n && !fds)) return PL_EINVAL;
  if (o->nfds + n > ENG_PROCS_MAX_FDS) return PL_EINVAL;
  for (int i = 0; i < n; i++) {
    int d = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
    if (d < 0) return PL_EIO;
    o->fds[o->nfds++] = d;
  }
  return 0;
}

static void out_reset(eng_procs_out *o) {
  for (int i = 0; i < o->nfds; i++) close(o->fds[i]);
  o->nfds = 0;
  o->len = 0;
  o->failed = 0;
}

/* The caller is gone (its end of our socket is closed): nothing left to do. */
static void check_parent(wctx *x) {
  if (getppid() != x->parent) _exit(0);
  struct pollfd pf = {x->sock, POLLIN, 0};
  if (poll(&pf, 1, 0) == 1 && (pf.revents & (POLLHUP | POLLERR))) _exit(0);
}

static void wjob_drop(wctx *x, uint64_t id) {
  for (int i = 0; i < x->njobs; i++) {
    if (x->jobs[i].id != id) continue;
    for (int k = 0; k < x->jobs[i].nfds; k++) close(x->jobs[i].fds[k]);
    x->jobs[i] = x->jobs[--x->njobs];
    return;
  }
}

static int wjob_add(wctx *x, uint64_t id, const int *fds, int nfds) {
  if (x->njobs == x->capjobs) {
    int cap = x->capjobs ? 2 * x->capjobs : 8;
    wjob *j = realloc(x->jobs, sizeof *j * (size_t)cap);
    if (!j) return PL_ENOMEM;
    x->jobs = j;
    x->capjobs = cap;
  }
  wjob *j = &x->jobs[x->njobs++];
  j->id = id;
  j->nfds = nfds;
  memcpy(j->fds, fds, sizeof(int) * (size_t)nfds);
  return 0;
}

static wjob *wjob_find(wctx *x, uint64_t id) {
  for (int i = 0; i < x->njobs; i++)
    if (x->jobs[i].id == id) return &x->jobs[i];
  return NULL;
}

static void run_task(wctx *x, int idx, int *fds, int nfds);

/* Claim and run a task sent to us (state DIRECT(w)). */
static void run_direct(wctx *x, uint32_t cell, uint64_t id, int *fds, int nfds) {
  eng_procs *p = x->p;
  if (cell < (uint32_t)p->ncells) {
    uint32_t want = ST_DIRECT | (uint32_t)x->w;
    if (atomic_compare_exchange_strong(&p->cells[cell].h.state, &want, ST_TAKEN | (uint32_t)x->w)) {
      if (p->cells[cell].h.id == id) {
        run_task(x, (int)cell, fds, nfds);
        return;
      }
      /* Our message was for a task cancelled since; the cell now holds a
       * newer task for us, whose own message is still to come. */
      atomic_store(&p->cells[cell].h.state, ST_DIRECT | (uint32_t)x->w);
    }
  }
  for (int i = 0; i < nfds; i++) close(fds[i]);
}

/* Read one socket message (blocking: the caller counted it in dsent before
 * we looked). Job messages are filed; a task message runs the task, or is
 * deferred when we are already setting one up (allow_task == 0). */
static void handle_msg(wctx *x, int allow_task) {
  sock_msg m;
  int fds[ENG_PROCS_MAX_FDS], nfds = 0;
  int r = recv_msg(x->sock, &m, fds, &nfds, 0);
  if (r < 0) _exit(0); /* the caller closed its end */
  x->drecv++;
  switch (m.kind) {
  case MSG_JOB:
    wjob_drop(x, m.id);
    if (wjob_add(x, m.id, fds, nfds))
      for (int i = 0; i < nfds; i++) close(fds[i]);
    break;
  case MSG_JOBEND:
    wjob_drop(x, m.id);
    for (int i = 0; i < nfds; i++) close(fds[i]);
    break;
  case MSG_TASK:
    if (allow_task) {
      run_direct(x, m.cell, m.id, fds, nfds);
      break;
    }
    if (x->ndefer == x->capdefer) {
      int cap = x->capdefer ? 2 * x->capdefer : 4;
      wdefer *d = realloc(x->defer, sizeof *d * (size_t)cap);
      if (!d) _exit(70); /* the caller retries the task elsewhere */
      x->defer = d;
      x->capdefer = cap;
    }
    x->defer[x->ndefer] = (wdefer){m.cell, m.id, {0}, nfds};
    memcpy(x->defer[x->ndefer].fds, fds, sizeof(int) * (size_t)nfds);
    x->ndefer++;
    break;
  default:
    for (int i = 0; i < nfds; i++) close(fds[i]);
    break;
  }
}

/* Wake every worker asleep on the sleep word, if any. */
static void wake_sleepers(shm_hdr *h) {
  uint32_t w = atomic_load(&h->idle);
  while (w & IDLE_COUNT) {
    uint32_t next = (w & ~IDLE_COUNT) + (1u << IDLE_BITS);
    if (atomic_compare_exchange_weak(&h->idle, &w, next)) {
      futex_wake(&h->idle, INT_MAX);
      return;
    }
  }
}

/* Take a READY cell from the shared ring; -1 when there is none. */
static int claim(eng_procs *p, int w) {
  shm_hdr *h = p->hdr;
  for (;;) {
    uint64_t hd = atomic_load_explicit(&h->head, memory_order_acquire);
    uint64_t tl = atomic_load_explicit(&h->tail, memory_order_acquire);
    if (hd == tl) return -1;
    uint32_t idx = atomic_load_explicit(&p->ring[hd & h->ringmask], memory_order_relaxed);
    if (idx < (uint32_t)p->ncells) {
      /* No load first: the cell at the head is READY as a rule, and one
       * compare-and-swap fetches its line once (a load and then a CAS
       * would fetch it shared, then again to own it). */
      uint32_t want = ST_READY;
      if (atomic_compare_exchange_strong(&p->cells[idx].h.state, &want, ST_TAKEN | (uint32_t)w)) {
        atomic_compare_exchange_strong(&h->head, &hd, hd + 1);
        /* More queued behind it: wake the sleepers to help. The caller
         * wakes nobody while a worker spins (the spinner takes the task),
         * so a burst would otherwise wait for that one worker. */
        if (hd + 1 != tl) wake_sleepers(h);
        return (int)idx;
      }
    }
    /* Taken by someone else, cancelled or stale: help the head along. */
    atomic_compare_exchange_strong(&h->head, &hd, hd + 1);
  }
}

/* Wait until `need` bytes are free in our result ring. The caller's head
 * is read only when the last value seen says the ring may be full (its
 * line is the caller's). */
static void ring_reserve(wctx *x, uint64_t tail, size_t need) {
  shm_worker *ws = &x->p->ws[x->w];
  uint64_t t0 = 0;
  if (tail + need - x->rhead_seen <= RB_BYTES) return;
  for (;;) {
    uint64_t hd = x->rhead_seen = atomic_load_explicit(&ws->rhead, memory_order_acquire);
    if (tail + need - hd <= RB_BYTES) return;
    if (!t0) t0 = eng_now_ns();
    if (eng_now_ns() - t0 < atomic_load_explicit(&x->p->hdr->spin_ns, memory_order_relaxed)) {
      cpu_relax();
      continue;
    }
    uint32_t seq = atomic_load(&ws->rseq);
    atomic_store(&ws->rwaiting, 1);
    hd = atomic_load(&ws->rhead);
    if (tail + need - hd <= RB_BYTES) return;
    /* The caller may be waiting for us in poll(): make sure it looks. */
    if (atomic_exchange(&x->p->hdr->parent_waiting, 0)) {
      uint64_t one = 1;
      if (write(x->p->efd, &one, sizeof one) < 0) {
      }
    }
    if (futex_wait(&ws->rseq, seq, 0.5) < 0 && errno == ETIMEDOUT) check_parent(x);
  }
}

static void wake_parent(eng_procs *p) {
  if (atomic_load(&p->hdr->parent_waiting) && atomic_exchange(&p->hdr->parent_waiting, 0)) {
    uint64_t one = 1;
    if (write(p->efd, &one, sizeof one) < 0) {
    }
  }
}

/* Write one result (fragments if large) and publish it. */
static void publish(wctx *x, int idx, uint64_t id, int status, const char *data, size_t len) {
  eng_procs *p = x->p;
  shm_worker *ws = &p->ws[x->w];
  eng_procs_out *o = &x->out;
  if (o->nfds) {
    sock_msg m = {MSG_RESULT_FDS, (uint32_t)idx, id};
    if (send_msg(x->sock, &m, o->fds, o->nfds, 0)) {
      /* Cannot send them: report that instead of a result without them. */
      static const char msg[] = "cannot send the result's descriptors to the caller";
      out_reset(o);
      publish(x, idx, id, ENG_PROCS_ERROR, msg, sizeof msg - 1);
      return;
    }
  }
  char *rb = p->rbufs + (size_t)x->w * RB_BYTES;
  uint64_t tail = atomic_load_explicit(&ws->rtail, memory_order_relaxed);
  size_t done = 0;
  do {
    size_t part = len - done > FRAG_MAX ? FRAG_MAX : len - done;
    size_t need = align_up(sizeof(rrec) + part, 8);
    size_t off = tail & (RB_BYTES - 1);
    if (off + need > RB_BYTES) {
      size_t gap = RB_BYTES - off;
      ring_reserve(x, tail, gap);
      if (gap >= sizeof(rrec)) {
        rrec pad = {REC_PAD, 0, 0, 0, 0};
        memcpy(rb + off, &pad, sizeof pad);
      }
      tail += gap;
      atomic_store_explicit(&ws->rtail, tail, memory_order_release);
      off = 0;
    }
    ring_reserve(x, tail, need);
    int more = done + part < len;
    rrec r = {REC_DATA, (uint32_t)idx, id, (uint32_t)part,
              (uint32_t)status | (more ? RF_MORE : 0) | (!more && o->nfds ? RF_FDS : 0)};
    memcpy(rb + off, &r, sizeof r);
    if (part) memcpy(rb + off + sizeof r, data + done, part);
    tail += need;
    /* seq_cst: pairs with the caller's parent_waiting store (Dekker). */
    atomic_store(&ws->rtail, tail);
    wake_parent(p);
    done += part;
  } while (done < len);
  out_reset(o);
}

static void run_task(wctx *x, int idx, int *fds, int nfds) {
  eng_procs *p = x->p;
  shm_cell *c = &p->cells[idx];
  shm_worker *ws = &p->ws[x->w];
  eng_procs_task t;
  memset(&t, 0, sizeof t);
  t.id = c->h.id;
  t.len = c->h.len;
  t.data = (c->h.flags & CF_INLINE) ? c->inl : p->arena + c->x.data_off;
  t.job = (c->h.flags & CF_JOB) ? c->x.job : 0;
  if (t.job) {
    t.jobdata = p->arena + c->x.job_off;
    t.joblen = c->x.job_len;
    if (c->h.flags & CF_JOBFDS) {
      wjob *j;
      /* The job's descriptors were sent before this task was queued. */
      while (!(j = wjob_find(x, t.job))) {
        if (atomic_load(&ws->dsent) == x->drecv) break;
        handle_msg(x, 0);
      }
      if (j) {
        t.jobfds = j->fds;
        t.njobfds = j->nfds;
      }
    }
  }
  t.fds = fds;
  t.nfds = nfds;
  t.attempt = (int)c->h.attempt;
  t.worker = x->w;
  t.deadline = c->h.deadline;
  cur_attempt = t.attempt;
  cur_worker = x->w;
  atomic_store_explicit(&ws->busy, 1, memory_order_relaxed);
  uint64_t t0 = eng_now_ns();
  out_reset(&x->out);
  int rc = p->fn(p->ctx, &t, &x->out);
  uint64_t dt = eng_now_ns() - t0;
  atomic_store_explicit(&ws->busy, 0, memory_order_relaxed);
  cur_attempt = 0;
  for (int i = 0; i < nfds; i++)
    if (fds[i] >= 0) close(fds[i]);
  atomic_fetch_add_explicit(&ws->busy_ns, dt, memory_order_relaxed);
  atomic_fetch_add_explicit(&ws->tasks, 1, memory_order_relaxed);
  if (x->out.failed) {
    static const char msg[] = "out of memory while writing the result";
    out_reset(&x->out);
    publish(x, idx, t.id, ENG_PROCS_ERROR, msg, sizeof msg - 1);
    return;
  }
  publish(x, idx, t.id, rc ? ENG_PROCS_ERROR : ENG_PROCS_OK, x->out.data, x->out.len);
}

static int has_work(wctx *x) {
  eng_procs *p = x->p;
  return atomic_load_explicit(&p->hdr->head, memory_order_relaxed) !=
             atomic_load_explicit(&p->hdr->tail, memory_order_relaxed) ||
         atomic_load_explicit(&p->ws[x->w].dsent, memory_order_relaxed) != x->drecv ||
         x->ndefer ||
         atomic_load_explicit(&p->hdr->shutdown, memory_order_relaxed);
}

/* Our bit in spin_cpus: set while we are awake (spinning or running a
 * task: either way the caller waiting on this core should let us have
 * it), cleared when we sleep. Changed only when our core changes, so a
 * task costs no write to that shared line. */
static void set_cpu_bit(wctx *x, uint64_t bit) {
  if (bit == x->cpu_bit) return;
  shm_hdr *h = x->p->hdr;
  if (x->cpu_bit) atomic_fetch_and(&h->spin_cpus, ~x->cpu_bit);
  if (bit) atomic_fetch_or(&h->spin_cpus, bit);
  x->cpu_bit = bit;
}

/* Spin, then sleep. While we spin the caller need not wake anyone (a
 * system call per task); the decrement of `spinners` comes after we count
 * ourselves asleep and before the last look at the queue, and the caller
 * reads the sleep word and `spinners` after queueing (Dekker), so a task
 * is never left with every worker asleep.
 *
 * At most max_spinners idle workers spin (one per core: more would only
 * take turns on the cores); the others sleep until there is work for them
 * too (the worker that takes a task from a longer queue wakes them). */
static void idle_wait(wctx *x) {
  shm_hdr *h = x->p->hdr;
  uint64_t spin = atomic_load_explicit(&h->spin_ns, memory_order_relaxed);
  if (atomic_fetch_add(&h->spinners, 1) < h->max_spinners && spin) {
    uint64_t t0 = eng_now_ns();
    unsigned k = 0;
    int found = 0;
    while (!found && eng_now_ns() - t0 < spin) {
      /* More processes than cores: let the caller (or a busy worker) run,
       * at once when the caller waits on this very core (then it cannot
       * queue the next task, nor see the result, while we spin). The
       * caller yields to us likewise, when it sees our core's bit. */
      int cpu = sched_getcpu();
      set_cpu_bit(x, 1ull << ((unsigned)cpu & 63));
      if (cpu == atomic_load_explicit(&h->caller_cpu, memory_order_relaxed)) {
        /* Sharing the caller's core costs two context switches a task,
         * and the scheduler does not move a process that keeps running
         * while another core idles. When a worker sleeps (on another
         * core, as a rule) and no other program wants the cores, hand
         * over: wake it to spin in our place, and sleep. Not more than
         * once per HANDOVER_NS per worker, so two workers that share the
         * caller's core do not hand over to each other without end. */
        uint64_t now = eng_now_ns();
        if (now - x->last_handover > HANDOVER_NS &&
            !atomic_load_explicit(&h->crowded, memory_order_relaxed) &&
            (atomic_load_explicit(&h->idle, memory_order_relaxed) & IDLE_COUNT)) {
          x->last_handover = now;
          wake_sleepers(h);
          break;
        }
        sched_yield();
      } else if ((++k & 7) == 0) {
        sched_yield();
      }
      for (int i = 0; i < 32 && !found; i++) {
        found = has_work(x);
        cpu_relax();
      }
    }
    if (found) {
      atomic_fetch_sub(&h->spinners, 1);
      return;
    }
  }
  set_cpu_bit(x, 0);
  uint32_t seen = atomic_fetch_add(&h->idle, 1) + 1;
  atomic_fetch_sub(&h->spinners, 1);
  atomic_thread_fence(memory_order_seq_cst);
  for (;;) {
    if (has_work(x)) break;
    uint32_t cur = atomic_load(&h->idle);
    if ((cur >> IDLE_BITS) != (seen >> IDLE_BITS)) break; /* a notifier woke us */
    /* Another worker counting itself in changes the word too: then the
     * call returns at once and we look again. */
    if (futex_wait(&h->idle, cur, 1.0) < 0 && errno == ETIMEDOUT) {
      check_parent(x);
      break;
    }
  }
  /* A new generation means a notifier zeroed the count, us included. */
  uint32_t w = atomic_load(&h->idle);
  while ((w >> IDLE_BITS) == (seen >> IDLE_BITS))
    if (atomic_compare_exchange_weak(&h->idle, &w, w - 1)) break;
}

static void worker_main(eng_procs *p, int w, int sock) {
  wctx x;
  memset(&x, 0, sizeof x);
  x.p = p;
  x.w = w;
  x.sock = sock;
  x.parent = p->parent;
  prctl(PR_SET_NAME, "parlab-worker", 0, 0, 0);
  cur_worker = w;
  if (p->init) p->init(p->ctx, w);
  shm_hdr *h = p->hdr;
  for (;;) {
    if (atomic_load_explicit(&h->shutdown, memory_order_acquire)) break;
    if (x.ndefer) {
      wdefer d = x.defer[0];
      memmove(x.defer, x.defer + 1, sizeof *x.defer * (size_t)--x.ndefer);
      run_direct(&x, d.cell, d.id, d.fds, d.nfds);
      continue;
    }
    if (atomic_load_explicit(&p->ws[w].dsent, memory_order_acquire) != x.drecv) {
      handle_msg(&x, 1);
      continue;
    }
    int idx = claim(p, w);
    if (idx >= 0) {
      run_task(&x, idx, NULL, 0);
      continue;
    }
    idle_wait(&x);
  }
  fflush(NULL);
  _exit(0);
}

/* ------------------------------------------------------------ caller side */

static int spawn_worker(eng_procs *p, int w);
static void recover(eng_procs *p, int w, int status);
static void check_deaths(eng_procs *p);

#define SPARE_MAX 64

static rnode *node_new(eng_procs *p) {
  rnode *n = p->spare;
  if (!n) return calloc(1, sizeof *n);
  p->spare = n->next;
  p->nspare--;
  memset(n, 0, sizeof *n);
  return n;
}

static void node_free(eng_procs *p, rnode *n) {
  if (p->nspare >= SPARE_MAX) {
    free(n);
    return;
  }
  n->next = p->spare;
  p->spare = n;
  p->nspare++;
}

static void fin_push(eng_procs *p, rnode *n) {
  n->next = NULL;
  n->prev = p->fin_tail;
  if (p->fin_tail) p->fin_tail->next = n;
  else p->fin_head = n;
  p->fin_tail = n;
  p->nfin++;
}

static void fin_unlink(eng_procs *p, rnode *n) {
  if (n->prev) n->prev->next = n->next;
  else p->fin_head = n->next;
  if (n->next) n->next->prev = n->prev;
  else p->fin_tail = n->prev;
  p->nfin--;
  map_del(&p->fin, n->r.id);
}

static void job_release_if_done(eng_procs *p, int i);
static void flush_jobends(eng_procs *p);
static void wake_workers(eng_procs *p, int all);

static pjob *job_find(eng_procs *p, uint64_t id, int *index) {
  /* Consecutive tasks have the same job as a rule (a map's, or an apply's
   * function): look there first. */
  int last = p->last_job;
  if (last < p->njobs && p->jobs[last].id == id) {
    if (index) *index = last;
    return &p->jobs[last];
  }
  for (int i = 0; i < p->njobs; i++)
    if (p->jobs[i].id == id) {
      p->last_job = i;
      if (index) *index = i;
      return &p->jobs[i];
    }
  return NULL;
}

/* The task in cell idx is over: record its result, free the cell. The
 * data and fds are taken over (data may be NULL). */
static void finish_cell(eng_procs *p, int idx, int status, char *data, size_t len, int *fds,
                        int nfds, int worker) {
  pcell *pc = &p->pc[idx];
  rnode *n = node_new(p);
  if (!data) {
    data = malloc(len + 1);
    if (data) data[0] = 0;
    len = 0;
  }
  if (!n || !data) {
    /* Nowhere to put it: the task is lost, but the cell must not be. */
    if (n) node_free(p, n);
    free(data);
    for (int i = 0; i < nfds; i++) close(fds[i]);
    n = NULL;
  } else {
    data[len] = 0;
    n->r.id = pc->id;
    n->r.tag = pc->tag;
    n->r.status = status;
    n->r.data = data;
    n->r.len = len;
    n->r.attempts = pc->attempts;
    n->r.worker = worker;
    n->r.pid = worker >= 0 && worker < p->n ? (int)p->w[worker].pid : 0;
    if (nfds) {
      n->r.fds = malloc(sizeof(int) * (size_t)nfds);
      if (n->r.fds) {
        memcpy(n->r.fds, fds, sizeof(int) * (size_t)nfds);
        n->r.nfds = nfds;
      } else {
        for (int i = 0; i < nfds; i++) close(fds[i]);
      }
    }
    if (map_find(&p->drop_ids, pc->id) || map_find(&p->drop_tags, pc->tag)) {
      map_del(&p->drop_ids, pc->id);
      eng_procs_result_clear(&n->r);
      node_free(p, n);
      n = NULL;
    } else if (map_put(&p->fin, pc->id, (int64_t)(intptr_t)n)) {
      eng_procs_result_clear(&n->r);
      node_free(p, n);
      n = NULL;
    } else {
      fin_push(p, n);
    }
  }
  map_del(&p->out, pc->id);
  if (!n) {
    /* Its tag count must drop now, since nobody can take it. */
    int64_t *c = map_find(&p->tags, pc->tag);
    if (c && --*c <= 0) {
      map_del(&p->tags, pc->tag);
      map_del(&p->drop_tags, pc->tag);
    }
  }
  if (status == ENG_PROCS_OK || status == ENG_PROCS_ERROR) p->st.finished++;
  else if (status == ENG_PROCS_CRASHED) p->st.failed++;
  else if (status == ENG_PROCS_CANCELLED) p->st.cancelled++;
  if (pc->alen) arena_free(p, pc->aoff, pc->alen);
  if (pc->job) {
    int ji;
    pjob *j = job_find(p, pc->job, &ji);
    if (j) {
      j->refs--;
      job_release_if_done(p, ji);
    }
  }
  /* The rest of the entry is set afresh by eng_procs_submit. */
  pc->used = 0;
  pc->alen = 0;
  pc->job = 0;
  pc->nfds = 0;
  pc->direct = -1;
  atomic_store_explicit(&p->cells[idx].h.state, ST_FREE, memory_order_release);
  p->freecells[p->nfree++] = idx;
}

/* A complete record sequence from worker w. */
static void deliver(eng_procs *p, int w, const rrec *r, char *data, size_t len) {
  int fds[ENG_PROCS_MAX_FDS], nfds = 0;
  if (r->flags & RF_FDS) {
    sock_msg m;
    /* Sent before the record was published: it is there. */
    if (recv_msg(p->w[w].sock, &m, fds, &nfds, 0) != 0 || m.kind != MSG_RESULT_FDS ||
        m.id != r->id) {
      for (int i = 0; i < nfds; i++) close(fds[i]);
      nfds = 0;
    }
  }
  if (r->cell >= (uint32_t)p->ncells || !p->pc[r->cell].used || p->pc[r->cell].id != r->id) {
    free(data);
    for (int i = 0; i < nfds; i++) close(fds[i]);
    return;
  }
  p->idle_deaths = 0;
  finish_cell(p, (int)r->cell, (int)(r->flags & RF_STATUS), data, len, fds, nfds, w);
}

/* Read everything worker w has published. Returns records completed. */
static int collect_worker(eng_procs *p, int w) {
  shm_worker *ws = &p->ws[w];
  uint64_t tl = atomic_load_explicit(&ws->rtail, memory_order_acquire);
  uint64_t hd = atomic_load_explicit(&ws->rhead, memory_order_relaxed);
  if (hd == tl) return 0;
  const char *rb = p->rbufs + (size_t)w * RB_BYTES;
  asmbuf *as = &p->w[w].as;
  int got = 0;
  while (hd != tl) {
    size_t off = hd & (RB_BYTES - 1);
    if (RB_BYTES - off < sizeof(rrec)) {
      hd += RB_BYTES - off;
      continue;
    }
    rrec r;
    memcpy(&r, rb + off, sizeof r);
    if (r.kind == REC_PAD) {
      hd += RB_BYTES - off;
      continue;
    }
    if (r.kind != REC_DATA || r.len > FRAG_MAX) { /* cannot happen: skip all */
      hd = tl;
      as->len = 0;
      break;
    }
    const char *src = rb + off + sizeof r;
    int more = (r.flags & RF_MORE) != 0;
    if (!more && as->len == 0) {
      /* Copied out: the space is given back once, after the batch (a
       * store per record would move the line to us and back each time). */
      char *d = malloc((size_t)r.len + 1);
      if (d) memcpy(d, src, r.len);
      hd += align_up(sizeof r + r.len, 8);
      deliver(p, w, &r, d, d ? r.len : 0);
      got++;
      continue;
    }
    if (as->cap - as->len < (size_t)r.len + 1) {
      size_t cap = as->cap ? as->cap : 65536;
      while (cap - as->len < (size_t)r.len + 1) cap *= 2;
      char *d = realloc(as->data, cap);
      if (d) {
        as->data = d;
        as->cap = cap;
      }
    }
    if (as->cap - as->len >= (size_t)r.len + 1) {
      memcpy(as->data + as->len, src, r.len);
      as->len += r.len;
    }
    hd += align_up(sizeof r + r.len, 8);
    atomic_store_explicit(&ws->rhead, hd, memory_order_release);
    if (!more) {
      char *d = as->data;
      size_t n = as->len;
      as->data = NULL;
      as->len = as->cap = 0;
      deliver(p, w, &r, d, n);
      got++;
    }
  }
  atomic_store_explicit(&ws->rhead, hd, memory_order_release);
  if (atomic_load(&ws->rwaiting)) {
    atomic_store(&ws->rwaiting, 0);
    atomic_fetch_add(&ws->rseq, 1);
    futex_wake(&ws->rseq, 1);
  }
  return got;
}

static int collect_all(eng_procs *p) {
  int got = 0;
  for (int w = 0; w < p->n; w++) got += collect_worker(p, w);
  return got;
}

/* Reap the workers that have ended (non-blocking); recover their tasks. */
static void check_deaths(eng_procs *p) {
  for (int w = 0; w < p->n; w++) {
    wstate *s = &p->w[w];
    if (s->pid <= 0) continue;
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int r = s->pidfd >= 0 ? waitid(P_PIDFD, (id_t)s->pidfd, &si, WEXITED | WNOHANG)
                          : waitid(P_PID, (id_t)s->pid, &si, WEXITED | WNOHANG);
    if (r < 0 && errno == ECHILD) {
      /* Reaped by someone else (SIGCHLD ignored): is it still there? */
      if (kill(s->pid, 0) == 0) continue;
      si.si_pid = s->pid;
      si.si_code = CLD_KILLED;
      si.si_status = SIGKILL; /* the real status is lost */
    } else if (r < 0 || si.si_pid == 0) {
      continue;
    }
    recover(p, w, status_of(&si));
  }
}

/* Workers running a task past its deadline are killed (then recovered). */
static void check_late(eng_procs *p) {
  double now = eng_now();
  for (int i = 0; i < p->ncells; i++) {
    pcell *pc = &p->pc[i];
    if (!pc->used || pc->deadline <= 0 || now < pc->deadline + LATE_GRACE_S) continue;
    uint32_t st = atomic_load(&p->cells[i].h.state);
    if (ST_KIND(st) != ST_TAKEN) continue;
    int w = ST_WORKER(st);
    if (w >= p->n || p->w[w].pid <= 0 || pc->late) continue;
    pc->late = 1;
    snprintf(p->w[w].kill_reason, sizeof p->w[w].kill_reason,
             "was killed because the task ran past its time limit");
    kill(p->w[w].pid, SIGKILL);
  }
}

/* Spinning pays when the process we wait for has a core of its own. On a
 * machine where other programs keep every core busy it does not: a
 * spinning process is scheduled like any busy one and waits its turn,
 * while one that sleeps is woken ahead of them. So every 20 ms the caller
 * looks at how many tasks the system has runnable (/proc/loadavg), and if
 * others than ours compete for the cores it spins only briefly (2 us),
 * workers included. Whether others run at all (`crowded`) also tells a
 * worker spinning on the caller's core whether another core is free for
 * it (idle_wait). */
static void adapt_spin(eng_procs *p, uint64_t now) {
  if (now - p->last_load_check < 20000000 || p->spin_cfg <= 2000) return;
  p->last_load_check = now;
  int fd = open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  char buf[128];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return;
  buf[n] = 0;
  double l1, l5, l15;
  int running, total;
  if (sscanf(buf, "%lf %lf %lf %d/%d", &l1, &l5, &l15, &running, &total) != 5) return;
  /* Ours: the caller and every worker not asleep (spinning, running a
   * task, or still starting: a new worker's first milliseconds are busy). */
  int asleep = (int)(atomic_load(&p->hdr->idle) & IDLE_COUNT);
  int ours = 1 + (p->n > asleep ? p->n - asleep : 0);
  int crowded = running > ours;
  if (crowded != atomic_load_explicit(&p->hdr->crowded, memory_order_relaxed))
    atomic_store_explicit(&p->hdr->crowded, crowded, memory_order_relaxed);
  uint64_t spin = running > p->cores && crowded ? 2000 : p->spin_cfg;
  if (spin != p->spin_ns) {
    p->spin_ns = spin;
    atomic_store_explicit(&p->hdr->spin_ns, spin, memory_order_relaxed);
  }
}

typedef int (*cond_fn)(eng_procs *p, void *arg);

/* Collect results until cond holds or the time is up: spin, then sleep in
 * poll() on the eventfd and the pidfds. 0, PL_ETIMEOUT. */
static int wait_until(eng_procs *p, cond_fn cond, void *arg, double timeout_s) {
  double end = timeout_s >= 0 ? eng_now() + timeout_s : 0;
  struct pollfd pf[1 + ENG_PROCS_MAX_WORKERS];
  for (;;) {
    collect_all(p);
    flush_jobends(p);
    if (cond(p, arg)) return 0;
    if (timeout_s >= 0 && eng_now() >= end) return PL_ETIMEOUT;
    uint64_t now = eng_now_ns();
    adapt_spin(p, now);
    if (now - p->last_death_check > 2000000) {
      p->last_death_check = now;
      check_deaths(p);
      if (cond(p, arg)) return 0;
    }
    /* Spin: results of short tasks arrive within microseconds. */
    int cpu = sched_getcpu();
    if (cpu != atomic_load_explicit(&p->hdr->caller_cpu, memory_order_relaxed))
      atomic_store_explicit(&p->hdr->caller_cpu, cpu, memory_order_relaxed);
    uint64_t t0 = now, mybit = 1ull << ((unsigned)cpu & 63);
    int hit = 0;
    unsigned k = 0;
    while (eng_now_ns() - t0 < p->spin_ns) {
      for (int w = 0; w < p->n && !hit; w++)
        hit = atomic_load_explicit(&p->ws[w].rtail, memory_order_relaxed) !=
              atomic_load_explicit(&p->ws[w].rhead, memory_order_relaxed);
      if (hit) break;
      cpu_relax();
      /* The worker we wait for may share our core (more processes than
       * cores): give it the core, at once when a worker is awake here (it
       * may be the one to take our task or to run it), else now and then. */
      if ((++k & 63) == 0 ||
          ((k & 7) == 0 && (atomic_load_explicit(&p->hdr->spin_cpus, memory_order_relaxed) & mybit)))
        sched_yield();
    }
    if (hit) continue;
    /* Sleep. */
    atomic_store(&p->hdr->parent_waiting, 1);
    int any = 0;
    for (int w = 0; w < p->n && !any; w++)
      any = atomic_load(&p->ws[w].rtail) != atomic_load(&p->ws[w].rhead);
    if (!any) {
      int nf = 0;
      pf[nf++] = (struct pollfd){p->efd, POLLIN, 0};
      for (int w = 0; w < p->n; w++)
        if (p->w[w].pid > 0 && p->w[w].pidfd >= 0) pf[nf++] = (struct pollfd){p->w[w].pidfd, POLLIN, 0};
      /* Wake now and then: deadlines of running tasks, and workers whose
       * death no pidfd reports (old kernels). */
      int ms = 100;
      if (timeout_s >= 0) {
        double left = end - eng_now();
        int lm = left > 0 ? (int)(left * 1000) + 1 : 0;
        if (lm < ms) ms = lm;
      }
      poll(pf, (nfds_t)nf, ms);
      uint64_t junk;
      if (read(p->efd, &junk, sizeof junk) < 0) {
      }
    }
    atomic_store(&p->hdr->parent_waiting, 0);
    check_deaths(p);
    p->last_death_check = eng_now_ns();
    if (eng_now_ns() - p->last_late_check > 100000000) {
      p->last_late_check = eng_now_ns();
      check_late(p);
    }
  }
}

/* ---- recovery ---- */

/* After queueing (seq_cst store of the tail): wake the sleepers, unless
 * none sleeps or (all == 0) a spinning worker will take the task. The
 * common case reads one line that nobody writes and makes no call. */
static void wake_workers(eng_procs *p, int all) {
  shm_hdr *h = p->hdr;
  if (!(atomic_load(&h->idle) & IDLE_COUNT)) return;
  /* One of them takes it (and wakes the others if more are queued). */
  if (!all && atomic_load(&h->spinners) > 0) return;
  wake_sleepers(h);
}

static int send_to_worker(eng_procs *p, int w, const sock_msg *m, const int *fds, int nfds);

static void push_ring(eng_procs *p, int idx) {
  shm_hdr *h = p->hdr;
  uint64_t tl = atomic_load_explicit(&h->tail, memory_order_relaxed);
  /* The ring has twice as many slots as cells: a full ring has stale
   * entries at its head that any reader may skip. The head is read only
   * when a stale copy says the ring may be full (it is the workers' line). */
  if (tl - p->head_seen <= h->ringmask) goto room;
  while (tl - (p->head_seen = atomic_load(&h->head)) > h->ringmask) {
    uint64_t hd = atomic_load(&h->head);
    uint32_t i = atomic_load(&p->ring[hd & h->ringmask]);
    if (i < (uint32_t)p->ncells && atomic_load(&p->cells[i].h.state) == ST_READY) {
      collect_all(p);
      check_deaths(p);
      sched_yield();
    } else {
      atomic_compare_exchange_strong(&h->head, &hd, hd + 1);
    }
  }
room:
  atomic_store_explicit(&p->ring[tl & h->ringmask], (uint32_t)idx, memory_order_relaxed);
  atomic_store(&h->tail, tl + 1);
}

/* Worker slot with the least work for a task that carries descriptors. */
static int pick_worker(eng_procs *p) {
  int best = -1;
  long best_load = 0;
  for (int w = 0; w < p->n; w++) {
    if (p->w[w].pid <= 0) continue;
    long load = atomic_load(&p->ws[w].busy);
    for (int i = 0; i < p->ncells; i++)
      if (p->pc[i].used && p->pc[i].direct == w) load++;
    if (best < 0 || load < best_load) {
      best = w;
      best_load = load;
    }
  }
  return best;
}

/* Put a task (back) where a worker will find it. */
static int dispatch(eng_procs *p, int idx) {
  pcell *pc = &p->pc[idx];
  shm_cell *c = &p->cells[idx];
  if (pc->nfds > 0) {
    /* A worker that died unnoticed refuses the message: reap it (its
     * replacement may take the task) and try another. */
    for (int tries = 0; tries <= p->n; tries++) {
      int w = pick_worker(p);
      if (w < 0) break;
      pc->direct = w;
      atomic_store(&c->h.state, ST_DIRECT | (uint32_t)w);
      sock_msg m = {MSG_TASK, (uint32_t)idx, pc->id};
      if (send_to_worker(p, w, &m, pc->fds, pc->nfds) == 0) return 0;
      atomic_store(&c->h.state, ST_FREE);
      pc->direct = -1;
      check_deaths(p);
      if (p->broken) break;
    }
    return PL_EIO;
  }
  pc->direct = -1;
  atomic_store_explicit(&c->h.state, ST_READY, memory_order_release);
  push_ring(p, idx);
  wake_workers(p, 0);
  return 0;
}

static void fail_cell(eng_procs *p, int idx, int status, const char *why, int worker) {
  char *d = strdup(why ? why : "");
  finish_cell(p, idx, status, d, d ? strlen(d) : 0, NULL, 0, worker);
}

static void recover(eng_procs *p, int w, int status) {
  wstate *s = &p->w[w];
  char how[160], cause[320];
  if (s->kill_reason[0]) {
    snprintf(how, sizeof how, "%s", s->kill_reason);
  } else {
    char d[140];
    eng_procs_describe_status(status, d, sizeof d);
    snprintf(how, sizeof how, "%s%s", status < 0 ? "was " : "", d);
  }
  s->kill_reason[0] = 0;
  pid_t dead = s->pid;
  /* Its bit may stay set: clear them all (the others set theirs again). */
  atomic_store(&p->hdr->spin_cpus, 0);
  atomic_fetch_sub(&live_children, 1);
  if (s->pidfd >= 0) close(s->pidfd);
  s->pidfd = -1;
  s->pid = 0;
  /* What it published before dying still counts. */
  collect_worker(p, w);
  free(s->as.data);
  memset(&s->as, 0, sizeof s->as);
  /* Descriptors it sent for results it never published. */
  for (;;) {
    sock_msg m;
    int fds[ENG_PROCS_MAX_FDS], nfds;
    int r = recv_msg(s->sock, &m, fds, &nfds, MSG_DONTWAIT);
    for (int i = 0; i < nfds; i++) close(fds[i]);
    if (r) break;
  }
  close(s->sock);
  s->sock = -1;
  s->tasks_base += (long)atomic_load(&p->ws[w].tasks);
  s->busy_base += (double)atomic_load(&p->ws[w].busy_ns) * 1e-9;

  int held = 0;
  int *orphans = malloc(sizeof(int) * (size_t)p->ncells);
  int norphans = 0;
  for (int i = 0; i < p->ncells; i++) {
    if (!p->pc[i].used) continue;
    uint32_t st = atomic_load(&p->cells[i].h.state);
    if ((ST_KIND(st) == ST_TAKEN || ST_KIND(st) == ST_DIRECT) && ST_WORKER(st) == w) {
      if (ST_KIND(st) == ST_TAKEN) held++;
      if (orphans) orphans[norphans++] = i;
      else fail_cell(p, i, ENG_PROCS_CRASHED, "out of memory while recovering", w);
    }
  }
  if (held) p->st.crashes++;
  p->idle_deaths = held ? 0 : p->idle_deaths + 1;
  if (!p->broken && !atomic_load(&p->hdr->shutdown)) {
    if (p->idle_deaths > IDLE_DEATHS_BROKEN) {
      p->broken = 1;
      snprintf(p->broken_why, sizeof p->broken_why,
               "the pool is broken: its workers keep dying before taking any task (last: %s)", how);
    } else {
      s->restarts++;
      if (spawn_worker(p, w)) {
        p->broken = 1;
        snprintf(p->broken_why, sizeof p->broken_why,
                 "the pool is broken: cannot start a replacement worker (%s)", strerror(errno));
      }
    }
  }
  for (int k = 0; k < norphans; k++) {
    int i = orphans[k];
    pcell *pc = &p->pc[i];
    uint32_t st = atomic_load(&p->cells[i].h.state);
    int ran = ST_KIND(st) == ST_TAKEN;
    snprintf(cause, sizeof cause, "worker %d (pid %d) %s while running it", w, (int)dead, how);
    if (pc->late) {
      fail_cell(p, i, ENG_PROCS_CRASHED, cause, w);
      continue;
    }
    if (!ran) {
      /* Never received: not an attempt. */
    } else if (pc->attempts >= 1 + p->retries) {
      if (pc->attempts > 1) {
        size_t l = strlen(cause);
        snprintf(cause + l, sizeof cause - l, ", on attempt %d of %d (every attempt crashed)",
                 pc->attempts, 1 + p->retries);
      }
      fail_cell(p, i, ENG_PROCS_CRASHED, cause, w);
      continue;
    }
    if (p->broken) {
      fail_cell(p, i, ENG_PROCS_CRASHED, p->broken_why, w);
      continue;
    }
    if (ran) {
      pc->attempts++;
      p->cells[i].h.attempt = (uint32_t)pc->attempts;
      p->st.retries++;
    }
    if (dispatch(p, i)) fail_cell(p, i, ENG_PROCS_CRASHED, "cannot hand the task to a worker", w);
  }
  free(orphans);
  if (p->broken) {
    /* Nobody will run what is queued. */
    for (int i = 0; i < p->ncells; i++) {
      if (!p->pc[i].used) continue;
      uint32_t st = atomic_load(&p->cells[i].h.state);
      if (st == ST_READY) {
        uint32_t want = ST_READY;
        if (atomic_compare_exchange_strong(&p->cells[i].h.state, &want, ST_FREE))
          fail_cell(p, i, ENG_PROCS_CRASHED, p->broken_why, -1);
      }
    }
  }
}

/* ---- sending descriptors ---- */

static int send_to_worker(eng_procs *p, int w, const sock_msg *m, const int *fds, int nfds) {
  for (;;) {
    if (p->w[w].pid <= 0 || p->w[w].sock < 0) return PL_EIO;
    int r = send_msg(p->w[w].sock, m, fds, nfds, MSG_DONTWAIT);
    if (r == 0) {
      atomic_fetch_add(&p->ws[w].dsent, 1);
      wake_workers(p, 1);
      return 0;
    }
    if (r < 0) return PL_EIO;
    /* Its socket is full: let it work (it reads before claiming). */
    wake_workers(p, 1);
    collect_all(p);
    check_deaths(p);
    struct timespec ts = {0, 100000};
    nanosleep(&ts, NULL);
  }
}

/* Called while results are being delivered, so it must not send (that
 * could collect, reentering the delivery): workers learn that a job with
 * descriptors ended from flush_jobends(), at the next safe point. */
static void job_release_if_done(eng_procs *p, int i) {
  pjob *j = &p->jobs[i];
  if (!j->freed || j->refs > 0) return;
  arena_free(p, j->off, j->len);
  if (j->nfds) {
    for (int w = 0; w < p->n; w++) {
      if (p->w[w].pid <= 0) continue;
      if (p->njobends == p->capjobends) {
        int cap = p->capjobends ? 2 * p->capjobends : 16;
        jobend *e = realloc(p->jobends, sizeof *e * (size_t)cap);
        if (!e) break; /* the worker keeps the descriptors a while longer */
        p->jobends = e;
        p->capjobends = cap;
      }
      p->jobends[p->njobends++] = (jobend){j->id, w, p->w[w].pid};
    }
  }
  p->jobs[i] = p->jobs[--p->njobs];
}

static void flush_jobends(eng_procs *p) {
  int k = 0;
  for (int i = 0; i < p->njobends; i++) {
    jobend *e = &p->jobends[i];
    if (p->w[e->w].pid != e->pid) continue; /* that worker is gone */
    sock_msg m = {MSG_JOBEND, 0, e->job};
    int r = send_msg(p->w[e->w].sock, &m, NULL, 0, MSG_DONTWAIT);
    if (r == 0) atomic_fetch_add(&p->ws[e->w].dsent, 1);
    else if (r > 0) p->jobends[k++] = *e; /* full: later */
  }
  if (k != p->njobends) wake_workers(p, 1);
  p->njobends = k;
}

/* ---- spawning ---- */

static int spawn_worker(eng_procs *p, int w) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return PL_EIO;
  shm_worker *ws = &p->ws[w];
  atomic_store(&ws->rhead, 0);
  atomic_store(&ws->rtail, 0);
  atomic_store(&ws->rwaiting, 0);
  atomic_store(&ws->dsent, 0);
  atomic_store(&ws->busy, 0);
  atomic_store(&ws->tasks, 0);
  atomic_store(&ws->busy_ns, 0);
  fflush(stdout);
  fflush(stderr);
  sigset_t saved;
  pid_t pid = fork_blocked(&saved);
  if (pid != 0) fork_end(&saved);
  if (pid < 0) {
    close(sv[0]);
    close(sv[1]);
    return PL_EIO;
  }
  if (pid == 0) {
    child_setup(p->parent);
    int keep[2] = {sv[1], p->efd};
    close_others(keep, 2);
    worker_main(p, w, sv[1]);
  }
  close(sv[1]);
  atomic_fetch_add(&live_children, 1);
  wstate *s = &p->w[w];
  s->pid = pid;
  s->sock = sv[0];
  s->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (s->pidfd >= 0) fcntl(s->pidfd, F_SETFD, FD_CLOEXEC);
  /* A replacement needs the live jobs' descriptors too. */
  for (int i = 0; i < p->njobs; i++) {
    if (!p->jobs[i].nfds) continue;
    sock_msg m = {MSG_JOB, 0, p->jobs[i].id};
    send_to_worker(p, w, &m, p->jobs[i].fds, p->jobs[i].nfds);
  }
  return 0;
}

static uint64_t spin_default(long spin_us) {
  if (spin_us >= 0) return (uint64_t)spin_us * 1000;
  const char *e = getenv("PARLAB_SPIN_US");
  if (e && *e) {
    char *end;
    long v = strtol(e, &end, 10);
    if (!*end && v >= 0 && v <= 1000000) return (uint64_t)v * 1000;
  }
  return 50000;
}

int eng_procs_new(const eng_procs_opts *o, eng_procs_fn fn, void *ctx, eng_procs **out) {
  int rc = 0;
  eng_procs *p = NULL;
  int memfd = -1;
  if (!out || !fn) return PL_EINVAL;
  *out = NULL;
  eng_procs_opts d = {0};
  if (!o) o = &d;
  int n = o->workers > 0 ? o->workers : eng_default_threads();
  int cells = o->cells > 0 ? o->cells : 1024;
  if (n > ENG_PROCS_MAX_WORKERS || cells > (1 << 20) || o->retries > 100) return PL_EINVAL;
  size_t arena = o->arena ? align_up(o->arena, 4096) : DEFAULT_ARENA;

  p = calloc(1, sizeof *p);
  if (!p) return PL_ENOMEM;
  p->n = n;
  p->ncells = cells;
  p->retries = o->retries < 0 ? 2 : o->retries;
  p->spin_ns = p->spin_cfg = spin_default(o->spin_us);
  p->cores = eng_cores();
  p->fn = fn;
  p->ctx = ctx;
  p->init = o->init;
  p->parent = getpid();
  p->efd = -1;
  p->next_id = p->next_job = p->next_tag = 1;

  uint32_t ringcap = 1;
  while (ringcap < 2u * (uint32_t)cells) ringcap <<= 1;
  size_t off_ws = align_up(sizeof(shm_hdr), 64);
  size_t off_ring = off_ws + align_up(sizeof(shm_worker) * (size_t)n, 64);
  size_t off_cells = off_ring + align_up(sizeof(uint32_t) * ringcap, 64);
  size_t off_rb = align_up(off_cells + sizeof(shm_cell) * (size_t)cells, 4096);
  size_t off_arena = off_rb + (size_t)RB_BYTES * (size_t)n;
  /* A memfd is a file: RLIMIT_FSIZE (64 MiB in a jail) applies to it, and
   * going past it is SIGXFSZ. A smaller arena only means that large
   * payloads wait for room. */
  struct rlimit fl;
  if (!o->arena && getrlimit(RLIMIT_FSIZE, &fl) == 0 && fl.rlim_cur != RLIM_INFINITY) {
    size_t cap = fl.rlim_cur > off_arena + MIN_ARENA + 4096 ? (size_t)fl.rlim_cur - off_arena - 4096 : MIN_ARENA;
    cap = cap / 2 / 4096 * 4096;
    if (cap < MIN_ARENA) cap = MIN_ARENA;
    if (arena > cap) arena = cap;
  }
  p->shm_bytes = off_arena + arena;

  p->w = calloc((size_t)n, sizeof *p->w);
  p->pc = calloc((size_t)cells, sizeof *p->pc);
  p->freecells = malloc(sizeof(int) * (size_t)cells);
  p->capext = 16;
  p->ext = malloc(sizeof *p->ext * (size_t)p->capext);
  if (!p->w || !p->pc || !p->freecells || !p->ext) {
    rc = PL_ENOMEM;
    goto done;
  }
  for (int w = 0; w < n; w++) p->w[w].sock = p->w[w].pidfd = -1;
  for (int i = 0; i < cells; i++) {
    p->pc[i].direct = -1;
    p->freecells[i] = cells - 1 - i;
  }
  p->nfree = cells;
  p->ext[0] = (extent){0, arena};
  p->next_ = 1;

  /* An anonymous memfd, closed as soon as it is mapped: the mapping (and
   * the workers' inherited copies) is the only reference, so the memory
   * goes away with the last process, however it ends. */
  memfd = memfd_create("parlab-procs", MFD_CLOEXEC);
  if (memfd < 0 || ftruncate(memfd, (off_t)p->shm_bytes) < 0) {
    rc = errno == ENOMEM || errno == ENOSPC ? PL_ENOMEM : PL_EIO;
    goto done;
  }
  void *m = mmap(NULL, p->shm_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, memfd, 0);
  if (m == MAP_FAILED) {
    rc = errno == ENOMEM ? PL_ENOMEM : PL_EIO;
    goto done;
  }
  close(memfd);
  memfd = -1;
  p->hdr = m;
  p->ws = (shm_worker *)((char *)m + off_ws);
  p->ring = (_Atomic uint32_t *)((char *)m + off_ring);
  p->cells = (shm_cell *)((char *)m + off_cells);
  p->rbufs = (char *)m + off_rb;
  p->arena = (char *)m + off_arena;
  p->hdr->magic = SHM_MAGIC;
  p->hdr->nworkers = n;
  p->hdr->ncells = cells;
  p->hdr->ringmask = ringcap - 1;
  atomic_store(&p->hdr->spin_ns, p->spin_ns);
  p->hdr->max_spinners = (uint32_t)p->cores;
  atomic_store(&p->hdr->caller_cpu, -1);
  p->hdr->arena_bytes = arena;

  p->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (p->efd < 0) {
    rc = PL_EIO;
    goto done;
  }
  for (int w = 0; w < n; w++) {
    if (spawn_worker(p, w)) {
      rc = PL_EIO;
      goto done;
    }
  }
  *out = p;
  p = NULL;

done:
  if (rc) {
    int e = errno; /* the caller may want to know why (EMFILE, EAGAIN) */
    if (memfd >= 0) close(memfd);
    if (p) eng_procs_free(p);
    errno = e;
  }
  return rc;
}

int eng_procs_size(const eng_procs *p) { return p ? p->n : 0; }

int eng_procs_pid(const eng_procs *p, int w) {
  if (!p || w < 0 || w >= p->n) return -1;
  return (int)p->w[w].pid;
}

/* Ask every worker to exit, wait up to grace_s, kill the rest, reap all. */
static void stop_workers(eng_procs *p, double grace_s) {
  if (!p->hdr) return;
  atomic_store(&p->hdr->shutdown, 1);
  wake_workers(p, 1);
  double end = eng_now() + grace_s;
  for (int pass = 0; pass < 2; pass++) {
    for (int w = 0; w < p->n; w++) {
      wstate *s = &p->w[w];
      if (s->pid <= 0) continue;
      for (;;) {
        siginfo_t si;
        memset(&si, 0, sizeof si);
        int r = s->pidfd >= 0 ? waitid(P_PIDFD, (id_t)s->pidfd, &si, WEXITED | WNOHANG)
                              : waitid(P_PID, (id_t)s->pid, &si, WEXITED | WNOHANG);
        if ((r == 0 && si.si_pid != 0) || (r < 0 && errno == ECHILD)) {
          s->pid = 0;
          atomic_fetch_sub(&live_children, 1);
          break;
        }
        if (pass == 1) {
          /* Killed: now block until it is gone. */
          if (s->pidfd >= 0) waitid(P_PIDFD, (id_t)s->pidfd, &si, WEXITED);
          else waitid(P_PID, (id_t)s->pid, &si, WEXITED);
          s->pid = 0;
          atomic_fetch_sub(&live_children, 1);
          break;
        }
        if (eng_now() >= end) break;
        struct pollfd pf = {s->pidfd, POLLIN, 0};
        if (s->pidfd >= 0) poll(&pf, 1, 10);
        else {
          struct timespec ts = {0, 1000000};
          nanosleep(&ts, NULL);
        }
      }
    }
    if (pass == 0)
      for (int w = 0; w < p->n; w++)
        if (p->w[w].pid > 0) kill(p->w[w].pid, SIGKILL);
  }
  for (int w = 0; w < p->n; w++) {
    wstate *s = &p->w[w];
    if (s->pidfd >= 0) close(s->pidfd);
    if (s->sock >= 0) close(s->sock);
    s->pidfd = s->sock = -1;
  }
}

static int cond_idle(eng_procs *p, void *arg) {
  (void)arg;
  return p->out.count == 0 || p->broken;
}

int eng_procs_close(eng_procs *p, double timeout_s) {
  if (!p) return PL_EINVAL;
  if (wait_until(p, cond_idle, NULL, timeout_s)) return PL_ETIMEOUT;
  stop_workers(p, 5.0);
  return 0;
}

void eng_procs_free(eng_procs *p) {
  if (!p) return;
  stop_workers(p, 0.1);
  for (rnode *n = p->fin_head, *next; n; n = next) {
    next = n->next;
    eng_procs_result_clear(&n->r);
    free(n);
  }
  if (p->w)
    for (int w = 0; w < p->n; w++) free(p->w[w].as.data);
  if (p->hdr) munmap(p->hdr, p->shm_bytes);
  if (p->efd >= 0) close(p->efd);
  while (p->spare) {
    rnode *n = p->spare;
    p->spare = n->next;
    free(n);
  }
  map_free(&p->out);
  map_free(&p->fin);
  map_free(&p->tags);
  map_free(&p->drop_ids);
  map_free(&p->drop_tags);
  free(p->jobs);
  free(p->jobends);
  free(p->w);
  free(p->pc);
  free(p->freecells);
  free(p->ext);
  free(p);
}

/* ---- jobs ---- */

static int cond_arena(eng_procs *p, void *arg) {
  size_t need = *(size_t *)arg;
  need = align_up(need ? need : 1, ARENA_ALIGN);
  if (p->broken) return 1;
  for (int i = 0; i < p->next_; i++)
    if (p->ext[i].len >= need) return 1;
  return 0;
}

int eng_procs_job_new(eng_procs *p, const void *data, size_t len, const int *fds, int nfds,
                      uint64_t *job) {
  if (!p || !job || (!data && len) || nfds < 0 || nfds > ENG_PROCS_MAX_FDS || (nfds && !fds))
    return PL_EINVAL;
  if (p->broken) return PL_EIO;
  if (align_up(len ? len : 1, ARENA_ALIGN) > p->hdr->arena_bytes) return PL_EINVAL;
  if (p->njobs == p->capjobs) {
    int cap = p->capjobs ? 2 * p->capjobs : 8;
    pjob *j = realloc(p->jobs, sizeof *j * (size_t)cap);
    if (!j) return PL_ENOMEM;
    p->jobs = j;
    p->capjobs = cap;
  }
  size_t off;
  while (arena_alloc(p, len, &off)) {
    if (wait_until(p, cond_arena, &len, -1) || p->broken) return PL_EIO;
  }
  if (len) memcpy(p->arena + off, data, len);
  pjob *j = &p->jobs[p->njobs++];
  memset(j, 0, sizeof *j);
  j->id = p->next_job++;
  j->off = off;
  j->len = len;
  j->nfds = nfds;
  if (nfds) memcpy(j->fds, fds, sizeof(int) * (size_t)nfds);
  uint64_t id = j->id;
  if (nfds) {
    /* Sending may collect results, which may move the table: j is not
     * used after this point. */
    sock_msg m = {MSG_JOB, 0, id};
    for (int w = 0; w < p->n; w++)
      if (p->w[w].pid > 0) send_to_worker(p, w, &m, fds, nfds);
  }
  *job = id;
  return 0;
}

void eng_procs_job_free(eng_procs *p, uint64_t job) {
  int i;
  if (!p || !job_find(p, job, &i)) return;
  p->jobs[i].freed = 1;
  job_release_if_done(p, i);
}

/* ---- submitting and waiting ---- */

static int cond_room(eng_procs *p, void *arg) {
  const eng_procs_sub *s = arg;
  if (p->broken) return 1;
  if (p->nfree == 0) return 0;
  if (s->len > CELL_INLINE) {
    size_t len = s->len;
    return cond_arena(p, &len);
  }
  return 1;
}

int eng_procs_submit(eng_procs *p, const eng_procs_sub *s, double timeout_s, uint64_t *id) {
  if (!p || !s || (!s->data && s->len) || s->nfds < 0 || s->nfds > ENG_PROCS_MAX_FDS ||
      (s->nfds && !s->fds))
    return PL_EINVAL;
  if (s->len > CELL_INLINE && align_up(s->len, ARENA_ALIGN) > p->hdr->arena_bytes) return PL_EINVAL;
  if (s->len > UINT32_MAX) return PL_EINVAL;
  int ji = -1;
  if (s->job && !job_find(p, s->job, &ji)) return PL_EINVAL;
  if (p->broken || atomic_load(&p->hdr->shutdown)) return PL_EIO;
  flush_jobends(p);
  if (!cond_room(p, (void *)s)) {
    collect_all(p);
    if (!cond_room(p, (void *)s)) {
      if (timeout_s == 0) return PL_ETIMEOUT;
      int rc = wait_until(p, cond_room, (void *)s, timeout_s);
      if (rc) return rc;
    }
  }
  if (p->broken) return PL_EIO;
  if (s->job && !job_find(p, s->job, &ji)) return PL_EINVAL; /* the table may have moved */
  size_t aoff = 0;
  if (s->len > CELL_INLINE && arena_alloc(p, s->len, &aoff)) return PL_EIO;
  int idx = p->freecells[--p->nfree];
  pcell *pc = &p->pc[idx];
  shm_cell *c = &p->cells[idx];
  uint64_t tid = p->next_id++;
  if (map_put(&p->out, tid, idx)) {
    p->freecells[p->nfree++] = idx;
    if (s->len > CELL_INLINE) arena_free(p, aoff, s->len);
    return PL_ENOMEM;
  }
  int64_t *tc = map_find(&p->tags, s->tag);
  if (tc) (*tc)++;
  else if (map_put(&p->tags, s->tag, 1)) {
    map_del(&p->out, tid);
    p->freecells[p->nfree++] = idx;
    if (s->len > CELL_INLINE) arena_free(p, aoff, s->len);
    return PL_ENOMEM;
  }
  memset(pc, 0, sizeof *pc);
  pc->used = 1;
  pc->id = tid;
  pc->tag = s->tag;
  pc->job = s->job;
  pc->attempts = 1;
  pc->deadline = s->deadline;
  pc->nfds = s->nfds;
  if (s->nfds) memcpy(pc->fds, s->fds, sizeof(int) * (size_t)s->nfds);
  c->h.id = tid;
  c->h.attempt = 1;
  c->h.deadline = s->deadline;
  c->h.len = (uint32_t)s->len;
  c->h.flags = 0;
  if (s->job) {
    pjob *j = &p->jobs[ji];
    j->refs++;
    /* Written only when they change: the line then stays in the cache of
     * the worker that ran the cell's last task (the same job, as a rule). */
    if (c->x.job != s->job) c->x.job = s->job;
    if (c->x.job_off != j->off) c->x.job_off = j->off;
    if (c->x.job_len != (uint32_t)j->len) c->x.job_len = (uint32_t)j->len;
    c->h.flags |= CF_JOB | (j->nfds ? CF_JOBFDS : 0);
  }
  if (s->len <= CELL_INLINE) {
    c->h.flags |= CF_INLINE;
    if (s->len) memcpy(c->inl, s->data, s->len);
  } else {
    pc->aoff = aoff;
    pc->alen = s->len;
    c->x.data_off = aoff;
    memcpy(p->arena + aoff, s->data, s->len);
  }
  p->st.submitted++;
  int rc = dispatch(p, idx);
  if (rc) {
    fail_cell(p, idx, ENG_PROCS_CRASHED, "cannot hand the task to a worker", -1);
  }
  *id = tid;
  return 0;
}

static int cond_has(eng_procs *p, void *arg) {
  uint64_t id = *(uint64_t *)arg;
  return map_find(&p->fin, id) != NULL || map_find(&p->out, id) == NULL;
}

int eng_procs_done(eng_procs *p, uint64_t id) {
  if (!p) return PL_EINVAL;
  collect_all(p);
  if (map_find(&p->fin, id)) return 1;
  if (map_find(&p->out, id)) return 0;
  return PL_ENOTFOUND;
}

static void take(eng_procs *p, rnode *n, eng_procs_result *out) {
  fin_unlink(p, n);
  int64_t *c = map_find(&p->tags, n->r.tag);
  if (c && --*c <= 0) map_del(&p->tags, n->r.tag);
  *out = n->r;
  node_free(p, n);
}

int eng_procs_wait(eng_procs *p, uint64_t id, double timeout_s, eng_procs_result *out) {
  if (!p || !out) return PL_EINVAL;
  memset(out, 0, sizeof *out);
  if (!map_find(&p->fin, id) && !map_find(&p->out, id)) return PL_ENOTFOUND;
  int rc = wait_until(p, cond_has, &id, timeout_s);
  if (rc) return rc;
  int64_t *v = map_find(&p->fin, id);
  if (!v) return PL_ENOTFOUND;
  take(p, (rnode *)(intptr_t)*v, out);
  return 0;
}

typedef struct tagwait { uint64_t tag; rnode *hit; } tagwait;

static int cond_tag(eng_procs *p, void *arg) {
  tagwait *t = arg;
  for (rnode *n = p->fin_head; n; n = n->next)
    if (n->r.tag == t->tag) {
      t->hit = n;
      return 1;
    }
  return map_find(&p->tags, t->tag) == NULL;
}

int eng_procs_wait_tag(eng_procs *p, uint64_t tag, double timeout_s, eng_procs_result *out) {
  if (!p || !out) return PL_EINVAL;
  memset(out, 0, sizeof *out);
  tagwait t = {tag, NULL};
  if (!map_find(&p->tags, tag)) return PL_ENOTFOUND;
  int rc = wait_until(p, cond_tag, &t, timeout_s);
  if (rc) return rc;
  if (!t.hit) return PL_ENOTFOUND;
  take(p, t.hit, out);
  return 0;
}

typedef struct anywait { const uint64_t *ids; int n, hit; } anywait;

static int cond_any(eng_procs *p, void *arg) {
  anywait *a = arg;
  for (int i = 0; i < a->n; i++) {
    if (map_find(&p->fin, a->ids[i]) || !map_find(&p->out, a->ids[i])) {
      a->hit = i;
      return 1;
    }
  }
  return 0;
}

int eng_procs_wait_any(eng_procs *p, const uint64_t *ids, int n, double timeout_s) {
  if (!p || !ids || n < 1) return PL_EINVAL;
  for (int i = 0; i < n; i++)
    if (!map_find(&p->fin, ids[i]) && !map_find(&p->out, ids[i])) return PL_ENOTFOUND;
  anywait a = {ids, n, -1};
  int rc = wait_until(p, cond_any, &a, timeout_s);
  if (rc) return rc;
  return a.hit;
}

static int cancel_cell(eng_procs *p, int idx) {
  shm_cell *c = &p->cells[idx];
  uint32_t st = atomic_load(&c->h.state);
  if (st != ST_READY && ST_KIND(st) != ST_DIRECT) return 0;
  if (!atomic_compare_exchange_strong(&c->h.state, &st, ST_FREE)) return 0;
  fail_cell(p, idx, ENG_PROCS_CANCELLED, "cancelled", -1);
  return 1;
}

int eng_procs_cancel(eng_procs *p, uint64_t id) {
  if (!p) return PL_EINVAL;
  int64_t *v = map_find(&p->out, id);
  if (!v) return PL_ENOTFOUND;
  return cancel_cell(p, (int)*v) ? 0 : PL_ENOTFOUND;
}

long eng_procs_cancel_tag(eng_procs *p, uint64_t tag) {
  if (!p) return 0;
  long k = 0;
  for (int i = 0; i < p->ncells; i++)
    if (p->pc[i].used && p->pc[i].tag == tag) k += cancel_cell(p, i);
  return k;
}

void eng_procs_discard(eng_procs *p, uint64_t id) {
  if (!p) return;
  int64_t *v = map_find(&p->fin, id);
  if (v) {
    eng_procs_result r;
    take(p, (rnode *)(intptr_t)*v, &r);
    eng_procs_result_clear(&r);
    return;
  }
  v = map_find(&p->out, id);
  if (!v) return;
  if (cancel_cell(p, (int)*v)) {
    eng_procs_discard(p, id); /* it is finished now, as cancelled */
    return;
  }
  map_put(&p->drop_ids, id, 1);
}

void eng_procs_discard_tag(eng_procs *p, uint64_t tag) {
  if (!p || !map_find(&p->tags, tag)) return;
  eng_procs_cancel_tag(p, tag);
  for (rnode *n = p->fin_head, *next; n; n = next) {
    next = n->next;
    if (n->r.tag != tag) continue;
    eng_procs_result r;
    take(p, n, &r);
    eng_procs_result_clear(&r);
  }
  if (map_find(&p->tags, tag)) map_put(&p->drop_tags, tag, 1);
}

long eng_procs_pending(const eng_procs *p) {
  return p ? (long)p->out.count + p->nfin : 0;
}

void eng_procs_result_clear(eng_procs_result *r) {
  if (!r) return;
  free(r->data);
  for (int i = 0; i < r->nfds; i++) close(r->fds[i]);
  free(r->fds);
  memset(r, 0, sizeof *r);
}

int eng_procs_map(eng_procs *p, long n, long chunk, uint64_t job, double deadline,
                  eng_procs_collect_fn collect, void *arg) {
  if (!p || n < 0 || !collect) return PL_EINVAL;
  if (chunk <= 0) {
    long per = 4L * p->n;
    chunk = (n + per - 1) / per;
    if (chunk < 1) chunk = 1;
  }
  uint64_t tag = (1ull << 63) | p->next_tag++;
  uint64_t first = 0;
  long next = 0, outstanding = 0;
  int stop = 0, rc = 0;
  while ((next < n && !stop) || outstanding > 0) {
    while (next < n && !stop) {
      int64_t range[2] = {next, next + chunk < n ? next + chunk : n};
      eng_procs_sub s = {.data = range, .len = sizeof range, .job = job, .tag = tag,
                         .deadline = deadline};
      uint64_t id;
      int r = eng_procs_submit(p, &s, 0, &id);
      if (r == PL_ETIMEOUT) break;
      if (r) {
        rc = r;
        stop = 1;
        break;
      }
      if (!first) first = id;
      outstanding++;
      next = range[1];
    }
    if (!outstanding) break;
    double left = deadline > 0 ? deadline - eng_now() : -1;
    if (deadline > 0 && left < 0) left = 0;
    eng_procs_result r;
    int w = eng_procs_wait_tag(p, tag, left, &r);
    if (w) {
      rc = w;
      /* Running tasks finish on their own; their results are dropped. */
      eng_procs_discard_tag(p, tag);
      break;
    }
    outstanding--;
    long b = (long)(r.id - first) * chunk;
    long e = b + chunk < n ? b + chunk : n;
    if (!stop && r.status != ENG_PROCS_CANCELLED && collect(arg, &r, b, e)) {
      stop = 1;
      eng_procs_cancel_tag(p, tag); /* they come back as CANCELLED */
    }
    eng_procs_result_clear(&r);
  }
  return rc;
}

int eng_procs_worker_stats(eng_procs *p, eng_procs_wstats *out, int n) {
  if (!p || !out || n < 0) return 0;
  collect_all(p);
  int k = n < p->n ? n : p->n;
  for (int w = 0; w < k; w++) {
    out[w].pid = (int)p->w[w].pid;
    out[w].tasks = p->w[w].tasks_base + (long)atomic_load(&p->ws[w].tasks);
    out[w].busy_s = p->w[w].busy_base + (double)atomic_load(&p->ws[w].busy_ns) * 1e-9;
    out[w].restarts = p->w[w].restarts;
  }
  return k;
}

void eng_procs_get_stats(eng_procs *p, eng_procs_stats *out) {
  if (!p || !out) return;
  *out = p->st;
}

/* ------------------------------------------------------------ eng_proc */

struct eng_proc {
  pid_t pid;
  int pidfd;
  int status;
  int ended;
};

int eng_proc_spawn(eng_proc_fn fn, void *ctx, const int *keep, int nkeep, eng_proc **out) {
  if (!fn || !out || nkeep < 0 || nkeep > ENG_PROCS_MAX_FDS || (nkeep && !keep)) return PL_EINVAL;
  *out = NULL;
  eng_proc *c = calloc(1, sizeof *c);
  if (!c) return PL_ENOMEM;
  pid_t parent = getpid();
  fflush(stdout);
  fflush(stderr);
  sigset_t saved;
  pid_t pid = fork_blocked(&saved);
  if (pid != 0) fork_end(&saved);
  if (pid < 0) {
    free(c);
    return PL_EIO;
  }
  if (pid == 0) {
    child_setup(parent);
    close_others(keep, nkeep);
    prctl(PR_SET_NAME, "parlab-process", 0, 0, 0);
    int st = fn(ctx);
    fflush(NULL);
    _exit(st & 0xff);
  }
  atomic_fetch_add(&live_children, 1);
  c->pid = pid;
  c->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (c->pidfd >= 0) fcntl(c->pidfd, F_SETFD, FD_CLOEXEC);
  *out = c;
  return 0;
}

int eng_proc_pid(const eng_proc *c) { return c ? (int)c->pid : -1; }

static int proc_reap(eng_proc *c, int block) {
  if (c->ended) return 1;
  siginfo_t si;
  memset(&si, 0, sizeof si);
  int fl = WEXITED | (block ? 0 : WNOHANG);
  int r = c->pidfd >= 0 ? waitid(P_PIDFD, (id_t)c->pidfd, &si, fl) : waitid(P_PID, (id_t)c->pid, &si, fl);
  if (r < 0 && errno == EINTR) return 0;
  if (r < 0) {
    if (errno != ECHILD) return 0;
    c->status = -SIGKILL; /* reaped elsewhere: the status is lost */
  } else if (si.si_pid == 0) {
    return 0;
  } else {
    c->status = status_of(&si);
  }
  c->ended = 1;
  atomic_fetch_sub(&live_children, 1);
  if (c->pidfd >= 0) close(c->pidfd);
  c->pidfd = -1;
  return 1;
}

int eng_proc_join(eng_proc *c, double timeout_s, int *status) {
  if (!c) return PL_EINVAL;
  double end = timeout_s >= 0 ? eng_now() + timeout_s : 0;
  while (!proc_reap(c, 0)) {
    double left = timeout_s >= 0 ? end - eng_now() : 1.0;
    if (left <= 0) return PL_ETIMEOUT;
    int ms = left > 1.0 ? 1000 : (int)(left * 1000) + 1;
    if (c->pidfd >= 0) {
      struct pollfd pf = {c->pidfd, POLLIN, 0};
      poll(&pf, 1, ms);
    } else {
      struct timespec ts = {0, 2000000};
      nanosleep(&ts, NULL);
    }
  }
  if (status) *status = c->status;
  return 0;
}

int eng_proc_alive(eng_proc *c) { return c && !proc_reap(c, 0); }

int eng_proc_kill(eng_proc *c, int sig) {
  if (!c) return PL_EINVAL;
  if (proc_reap(c, 0)) return 0;
  return kill(c->pid, sig > 0 ? sig : SIGTERM) == 0 ? 0 : PL_EIO;
}

void eng_proc_free(eng_proc *c) {
  if (!c) return;
  if (!proc_reap(c, 0)) {
    kill(c->pid, SIGKILL);
    while (!proc_reap(c, 1)) {
    }
  }
  free(c);
}
