/*
 * eng_ipc.c — locks, values, queues and pipes in shared memory, and
 * memory-mapped files (see eng_ipc.h).
 *
 * Layout of an object's array: an ipc_hdr (magic, kind, the mutex, the
 * value, two channel descriptors) followed by the channels' byte rings.
 * A channel is a ring of records { u32 len, u32 flag } + bytes, 8-byte
 * aligned, that never wrap: a record that would cross the end is preceded
 * by a pad record (flag PAD) filling the rest. head and tail are byte
 * positions that only grow.
 *
 * Blocking. A waiter notes the channel's sequence word, counts itself in,
 * releases the mutex and sleeps on the word; whoever changes the channel
 * bumps the word and wakes one waiter if any counted itself in. The sleep
 * is bounded (a quarter second) and the condition re-checked, so a waiter
 * that died counted in costs at most a spurious wake, never a lost one.
 *
 * Crash consistency. The mutex is robust: if its owner died mid-update,
 * the next locker gets EOWNERDEAD, and the channel's message count is
 * recomputed from head and tail (the count is the only field that can be
 * off; tail is moved last, after the bytes are in place).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "eng_ipc.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "eng_measure.h"
#include "pl_err.h"

#define IPC_MAGIC 0x63706970616c7031ull /* "1plapipc" */
#define REC_PAD 1u
#define WAIT_SLICE_S 0.25

typedef struct ipc_chan {
  uint64_t cap;        /* bytes in the ring (multiple of 8) */
  uint64_t off;        /* offset of the ring from the object's start */
  uint64_t head, tail; /* byte positions */
  int64_t count, max_items, puts, gets, max_depth;
  _Atomic uint32_t not_empty, not_full; /* futex sequence words */
  _Atomic uint32_t get_waiters, put_waiters;
} ipc_chan;

typedef struct ipc_hdr {
  uint64_t magic;
  uint32_t kind, dtype;
  uint64_t bytes;
  pthread_mutex_t mu;
  union { double d; int64_t i; } value;
  ipc_chan ch[2];
} ipc_hdr;

typedef struct rec { uint32_t len, flag; } rec;

struct eng_ipc {
  eng_array *mem;
  ipc_hdr *h;
};

static size_t align8(size_t x) { return (x + 7) & ~(size_t)7; }

const char *eng_ipc_kind_name(eng_ipc_kind k) {
  switch (k) {
  case ENG_IPC_LOCK: return "lock";
  case ENG_IPC_VALUE: return "value";
  case ENG_IPC_QUEUE: return "queue";
  case ENG_IPC_PIPE: return "pipe";
  }
  return "unknown";
}

/* ---- futex ---- */

static void futex_wait(_Atomic uint32_t *w, uint32_t val, double secs) {
  struct timespec ts = {(time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9)};
  syscall(SYS_futex, (uint32_t *)w, FUTEX_WAIT, val, &ts, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *w, int n) {
  syscall(SYS_futex, (uint32_t *)w, FUTEX_WAKE, n, NULL, NULL, 0);
}

/* ---- making and attaching ---- */

static int make(eng_ipc_kind kind, size_t ring0, size_t ring1, eng_ipc **out) {
  int rc = 0;
  eng_ipc *o = NULL;
  pthread_mutexattr_t ma;
  int ma_init = 0;
  *out = NULL;
  size_t hdr = align8(sizeof(ipc_hdr));
  size_t bytes = hdr + ring0 + ring1;
  o = calloc(1, sizeof *o);
  if (!o) return PL_ENOMEM;
  rc = eng_array_new(ENG_I64, (long)((bytes + 7) / 8), ENG_ARRAY_SHARED, &o->mem);
  if (rc) goto done;
  ipc_hdr *h = o->h = eng_array_data(o->mem);
  h->magic = IPC_MAGIC;
  h->kind = (uint32_t)kind;
  h->bytes = bytes;
  h->ch[0].cap = ring0;
  h->ch[0].off = hdr;
  h->ch[1].cap = ring1;
  h->ch[1].off = hdr + ring0;
  if (pthread_mutexattr_init(&ma)) {
    rc = PL_ENOMEM;
    goto done;
  }
  ma_init = 1;
  /* Shared between processes, survives its owner's death, and may be
   * taken again by its owner (a value's lock() then get()). */
  if (pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED) ||
      pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST) ||
      pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE) || pthread_mutex_init(&h->mu, &ma)) {
    rc = PL_EIO;
    goto done;
  }
  *out = o;
  o = NULL;

done:
  if (ma_init) pthread_mutexattr_destroy(&ma);
  if (o) {
    eng_array_free(o->mem);
    free(o);
  }
  return rc;
}

int eng_ipc_lock_new(eng_ipc **out) {
  if (!out) return PL_EINVAL;
  return make(ENG_IPC_LOCK, 0, 0, out);
}

int eng_ipc_value_new(eng_dtype t, double init, eng_ipc **out) {
  if (!out || (t != ENG_F64 && t != ENG_I64)) return PL_EINVAL;
  int rc = make(ENG_IPC_VALUE, 0, 0, out);
  if (rc) return rc;
  ipc_hdr *h = (*out)->h = eng_array_data((*out)->mem);
  h->dtype = (uint32_t)t;
  if (t == ENG_F64) h->value.d = init;
  else h->value.i = (int64_t)init;
  return 0;
}

int eng_ipc_queue_new(long max_items, size_t max_bytes, eng_ipc **out) {
  if (!out || max_items < 1 || max_items > (1L << 40)) return PL_EINVAL;
  if (!max_bytes) max_bytes = (size_t)1 << 20;
  if (max_bytes > ((size_t)1 << 32)) return PL_EINVAL;
  /* Room for the records' headers, and for one pad at the end. */
  size_t ring = align8(max_bytes) + 16;
  int rc = make(ENG_IPC_QUEUE, ring, 0, out);
  if (rc) return rc;
  (*out)->h = eng_array_data((*out)->mem);
  (*out)->h->ch[0].max_items = max_items;
  return 0;
}

int eng_ipc_pipe_new(size_t bytes, eng_ipc **out) {
  if (!out) return PL_EINVAL;
  if (!bytes) bytes = (size_t)64 << 10;
  if (bytes > ((size_t)1 << 32)) return PL_EINVAL;
  size_t ring = align8(bytes) + 16;
  int rc = make(ENG_IPC_PIPE, ring, ring, out);
  if (rc) return rc;
  ipc_hdr *h = (*out)->h = eng_array_data((*out)->mem);
  h->ch[0].max_items = h->ch[1].max_items = INT64_MAX;
  return 0;
}

static int chan_ok(const ipc_chan *c, uint64_t bytes) {
  return c->cap % 8 == 0 && c->off % 8 == 0 && c->off <= bytes && c->cap <= bytes - c->off &&
         c->tail >= c->head && c->tail - c->head <= c->cap;
}

int eng_ipc_attach(eng_array *mem, eng_ipc **out) {
  if (!mem || !out) return PL_EINVAL;
  *out = NULL;
  size_t bytes = eng_array_bytes(mem);
  ipc_hdr *h = eng_array_data(mem);
  if (!h || bytes < sizeof *h || eng_array_fd(mem) < 0 || eng_array_is_sealed(mem) ||
      h->magic != IPC_MAGIC || h->bytes > bytes || h->kind < ENG_IPC_LOCK || h->kind > ENG_IPC_PIPE ||
      !chan_ok(&h->ch[0], h->bytes) || !chan_ok(&h->ch[1], h->bytes))
    return PL_EINVAL;
  eng_ipc *o = calloc(1, sizeof *o);
  if (!o) return PL_ENOMEM;
  o->mem = eng_array_retain(mem);
  o->h = h;
  *out = o;
  return 0;
}

void eng_ipc_free(eng_ipc *o) {
  if (!o) return;
  eng_array_free(o->mem);
  free(o);
}

static ipc_hdr *H(const eng_ipc *o) { return o->h ? o->h : (ipc_hdr *)eng_array_data(o->mem); }

eng_ipc_kind eng_ipc_kind_of(const eng_ipc *o) { return o ? (eng_ipc_kind)H(o)->kind : 0; }
eng_array *eng_ipc_array(const eng_ipc *o) { return o ? o->mem : NULL; }

/* ---- the lock ---- */

static void recount(ipc_hdr *h);

static int lock_until(ipc_hdr *h, double timeout_s) {
  int r;
  if (timeout_s < 0) {
    r = pthread_mutex_lock(&h->mu);
  } else {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double s = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9 + timeout_s;
    ts.tv_sec = (time_t)s;
    ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
    r = pthread_mutex_clocklock(&h->mu, CLOCK_MONOTONIC, &ts);
  }
  if (r == 0) return 0;
  if (r == EOWNERDEAD) {
    /* Its owner died inside: repair what it may have left half-done. */
    recount(h);
    pthread_mutex_consistent(&h->mu);
    return 1;
  }
  if (r == ETIMEDOUT) return PL_ETIMEOUT;
  return PL_EIO;
}

int eng_ipc_lock(eng_ipc *o, double timeout_s) {
  if (!o) return PL_EINVAL;
  return lock_until(H(o), timeout_s);
}

int eng_ipc_unlock(eng_ipc *o) {
  if (!o) return PL_EINVAL;
  return pthread_mutex_unlock(&H(o)->mu) == 0 ? 0 : PL_EINVAL;
}

/* ---- values ---- */

eng_dtype eng_ipc_value_dtype(const eng_ipc *o) { return o ? (eng_dtype)H(o)->dtype : ENG_F64; }

static double vget(const ipc_hdr *h) {
  return h->dtype == ENG_I64 ? (double)h->value.i : h->value.d;
}

static void vset(ipc_hdr *h, double v) {
  if (h->dtype == ENG_I64) {
    if (v != v) v = 0;
    if (v >= 0x1p63) h->value.i = INT64_MAX;
    else if (v < -0x1p63) h->value.i = INT64_MIN;
    else h->value.i = (int64_t)v;
  } else {
    h->value.d = v;
  }
}

int eng_ipc_value_get(eng_ipc *o, double *v) {
  if (!o || !v || H(o)->kind != ENG_IPC_VALUE) return PL_EINVAL;
  int rc = lock_until(H(o), -1);
  if (rc < 0) return rc;
  *v = vget(H(o));
  pthread_mutex_unlock(&H(o)->mu);
  return 0;
}

int eng_ipc_value_set(eng_ipc *o, double v) {
  if (!o || H(o)->kind != ENG_IPC_VALUE) return PL_EINVAL;
  int rc = lock_until(H(o), -1);
  if (rc < 0) return rc;
  vset(H(o), v);
  pthread_mutex_unlock(&H(o)->mu);
  return 0;
}

int eng_ipc_value_add(eng_ipc *o, double d, double *after) {
  if (!o || H(o)->kind != ENG_IPC_VALUE) return PL_EINVAL;
  ipc_hdr *h = H(o);
  int rc = lock_until(h, -1);
  if (rc < 0) return rc;
  if (h->dtype == ENG_I64) h->value.i += (int64_t)d; /* integer add: exact */
  else h->value.d += d;
  if (after) *after = vget(h);
  pthread_mutex_unlock(&h->mu);
  return 0;
}

/* ---- channels ---- */

static ipc_chan *chan_of(ipc_hdr *h, int end, int sending) {
  if (h->kind == ENG_IPC_QUEUE) return end == 0 ? &h->ch[0] : NULL;
  if (h->kind != ENG_IPC_PIPE || (end != 0 && end != 1)) return NULL;
  /* End e sends on channel e and receives on the other. */
  return &h->ch[sending ? end : 1 - end];
}

static char *ring(ipc_hdr *h, ipc_chan *c) { return (char *)h + c->off; }

/* Bytes a message of len takes at the current tail, pad included; 0 if it
 * can never fit. */
static uint64_t need_at(const ipc_chan *c, size_t len) {
  uint64_t need = align8(sizeof(rec) + len);
  if (need > c->cap) return 0;
  uint64_t off = c->tail % c->cap;
  if (off + need > c->cap) need += c->cap - off;
  return need;
}

static void recount(ipc_hdr *h) {
  for (int k = 0; k < 2; k++) {
    ipc_chan *c = &h->ch[k];
    if (!c->cap) continue;
    int64_t n = 0;
    uint64_t pos = c->head;
    while (pos < c->tail) {
      uint64_t off = pos % c->cap;
      rec r;
      if (c->cap - off < sizeof r) {
        pos += c->cap - off;
        continue;
      }
      memcpy(&r, ring(h, c) + off, sizeof r);
      if (r.flag & REC_PAD) {
        pos += c->cap - off;
        continue;
      }
      pos += align8(sizeof r + r.len);
      n++;
    }
    c->count = n;
  }
}

static double left_of(double end) {
  if (end <= 0) return WAIT_SLICE_S;
  double l = end - eng_now();
  return l < WAIT_SLICE_S ? l : WAIT_SLICE_S;
}

int eng_ipc_put(eng_ipc *o, int end, const void *msg, size_t len, double timeout_s) {
  if (!o || (!msg && len)) return PL_EINVAL;
  ipc_hdr *h = H(o);
  ipc_chan *c = chan_of(h, end, 1);
  if (!c) return PL_EINVAL;
  if (len > UINT32_MAX || align8(sizeof(rec) + len) > c->cap) return PL_EINVAL;
  double until = timeout_s >= 0 ? eng_now() + timeout_s : 0;
  int rc = lock_until(h, timeout_s);
  if (rc < 0) return rc;
  for (;;) {
    /* An empty ring starts over at offset 0, so that any message up to
     * the capacity fits without a pad in front of it. */
    if (c->head == c->tail && c->tail % c->cap) c->head = c->tail = c->tail + (c->cap - c->tail % c->cap);
    uint64_t need = need_at(c, len);
    if (c->count < c->max_items && need && c->tail + need - c->head <= c->cap) break;
    double left = left_of(until);
    if (timeout_s >= 0 && left <= 0) {
      pthread_mutex_unlock(&h->mu);
      return PL_ETIMEOUT;
    }
    uint32_t seq = atomic_load(&c->not_full);
    atomic_fetch_add(&c->put_waiters, 1);
    pthread_mutex_unlock(&h->mu);
    futex_wait(&c->not_full, seq, left);
    atomic_fetch_sub(&c->put_waiters, 1);
    rc = lock_until(h, timeout_s >= 0 ? (until - eng_now() > 0 ? until - eng_now() : 0) : -1);
    if (rc < 0) return rc;
  }
  char *rb = ring(h, c);
  uint64_t off = c->tail % c->cap;
  uint64_t pos = c->tail;
  if (off + align8(sizeof(rec) + len) > c->cap) {
    if (c->cap - off >= sizeof(rec)) {
      rec pad = {0, REC_PAD};
      memcpy(rb + off, &pad, sizeof pad);
    }
    pos += c->cap - off;
    off = 0;
  }
  rec r = {(uint32_t)len, 0};
  memcpy(rb + off, &r, sizeof r);
  if (len) memcpy(rb + off + sizeof r, msg, len);
  c->count++;
  c->puts++;
  if (c->count > c->max_depth) c->max_depth = c->count;
  c->tail = pos + align8(sizeof r + len); /* last: the message now exists */
  atomic_fetch_add(&c->not_empty, 1);
  int wake = atomic_load(&c->get_waiters) > 0;
  pthread_mutex_unlock(&h->mu);
  if (wake) futex_wake(&c->not_empty, 1);
  return 0;
}

int eng_ipc_get(eng_ipc *o, int end, char **msg, size_t *len, double timeout_s) {
  if (!o || !msg || !len) return PL_EINVAL;
  *msg = NULL;
  *len = 0;
  ipc_hdr *h = H(o);
  ipc_chan *c = chan_of(h, end, 0);
  if (!c) return PL_EINVAL;
  double until = timeout_s >= 0 ? eng_now() + timeout_s : 0;
  int rc = lock_until(h, timeout_s);
  if (rc < 0) return rc;
  for (;;) {
    if (c->head != c->tail) break;
    double left = left_of(until);
    if (timeout_s >= 0 && left <= 0) {
      pthread_mutex_unlock(&h->mu);
      return PL_ETIMEOUT;
    }
    uint32_t seq = atomic_load(&c->not_empty);
    atomic_fetch_add(&c->get_waiters, 1);
    pthread_mutex_unlock(&h->mu);
    futex_wait(&c->not_empty, seq, left);
    atomic_fetch_sub(&c->get_waiters, 1);
    rc = lock_until(h, timeout_s >= 0 ? (until - eng_now() > 0 ? until - eng_now() : 0) : -1);
    if (rc < 0) return rc;
  }
  char *rb = ring(h, c);
  uint64_t off = c->head % c->cap;
  rec r;
  if (c->cap - off < sizeof r) {
    c->head += c->cap - off;
    off = 0;
  }
  memcpy(&r, rb + off, sizeof r);
  if (r.flag & REC_PAD) {
    c->head += c->cap - off;
    off = 0;
    memcpy(&r, rb, sizeof r);
  }
  if ((uint64_t)r.len + sizeof r > c->cap - off) { /* damaged: drop everything */
    c->head = c->tail;
    c->count = 0;
    pthread_mutex_unlock(&h->mu);
    return PL_EPROTO;
  }
  char *m = malloc((size_t)r.len + 1);
  if (!m) {
    pthread_mutex_unlock(&h->mu);
    return PL_ENOMEM;
  }
  memcpy(m, rb + off + sizeof r, r.len);
  m[r.len] = 0;
  c->head += align8(sizeof r + r.len);
  c->count--;
  c->gets++;
  atomic_fetch_add(&c->not_full, 1);
  int wake = atomic_load(&c->put_waiters) > 0;
  pthread_mutex_unlock(&h->mu);
  if (wake) futex_wake(&c->not_full, 1);
  *msg = m;
  *len = r.len;
  return 0;
}

long eng_ipc_count(eng_ipc *o, int end) {
  if (!o) return 0;
  ipc_hdr *h = H(o);
  ipc_chan *c = chan_of(h, end, 0);
  if (!c) return 0;
  if (lock_until(h, -1) < 0) return 0;
  long n = (long)c->count;
  pthread_mutex_unlock(&h->mu);
  return n;
}

int eng_ipc_qstats_get(eng_ipc *o, int end, eng_ipc_qstats *out) {
  if (!o || !out) return PL_EINVAL;
  ipc_hdr *h = H(o);
  ipc_chan *c = chan_of(h, end, 0);
  if (!c) return PL_EINVAL;
  int rc = lock_until(h, -1);
  if (rc < 0) return rc;
  out->puts = (long)c->puts;
  out->gets = (long)c->gets;
  out->depth = (long)c->count;
  out->max_depth = (long)c->max_depth;
  out->max_items = c->max_items > (int64_t)0x7fffffff ? -1 : (long)c->max_items;
  out->max_bytes = (size_t)(c->cap - 16);
  pthread_mutex_unlock(&h->mu);
  return 0;
}

/* ---- memory-mapped files ---- */

int eng_ipc_memmap(const char *path, eng_dtype t, int mode, long n, eng_array **out) {
  if (!path || !out || !eng_dtype_size(t) || mode < ENG_MMAP_READ || mode > ENG_MMAP_CREATE ||
      (mode == ENG_MMAP_CREATE && n < 0))
    return PL_EINVAL;
  *out = NULL;
  size_t es = eng_dtype_size(t);
  int flags = O_CLOEXEC | (mode == ENG_MMAP_READ ? O_RDONLY : O_RDWR);
  if (mode == ENG_MMAP_CREATE) flags |= O_CREAT | O_TRUNC;
  int fd = open(path, flags, 0644);
  if (fd < 0) return errno == ENOENT ? PL_ENOTFOUND : PL_EIO;
  struct stat st;
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return PL_EINVAL;
  }
  if (mode == ENG_MMAP_CREATE) {
    if ((unsigned long)n > (unsigned long)INT64_MAX / es || ftruncate(fd, (off_t)((size_t)n * es)) < 0) {
      close(fd);
      return errno == EFBIG || errno == ENOSPC ? PL_ENOMEM : PL_EIO;
    }
  } else if (n < 0) {
    n = (long)((size_t)st.st_size / es);
  } else if ((size_t)st.st_size < (size_t)n * es) {
    close(fd);
    return PL_EINVAL;
  }
  if (n == 0) {
    close(fd);
    return eng_array_new(t, 0, ENG_ARRAY_SHARED, out);
  }
  /* Takes the descriptor, also on failure. */
  return eng_array_map_file(fd, t, n, mode != ENG_MMAP_READ, out);
}

int eng_ipc_save(const char *path, const eng_array *a) {
  if (!path || !a) return PL_EINVAL;
  size_t plen = strlen(path);
  char *tmp = malloc(plen + 16);
  if (!tmp) return PL_ENOMEM;
  snprintf(tmp, plen + 16, "%s.tmp%d", path, (int)getpid());
  int rc = 0;
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    free(tmp);
    return errno == ENOENT ? PL_ENOTFOUND : PL_EIO;
  }
  const char *p = eng_array_data(a);
  size_t left = eng_array_bytes(a);
  while (left > 0) {
    ssize_t w = write(fd, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      rc = errno == EFBIG || errno == ENOSPC || errno == EDQUOT ? PL_ENOMEM : PL_EIO;
      break;
    }
    p += w;
    left -= (size_t)w;
  }
  if (close(fd) < 0 && !rc) rc = PL_EIO;
  /* Readers see the old file or the new one, never half of it. */
  if (!rc && rename(tmp, path) < 0) rc = PL_EIO;
  if (rc) unlink(tmp);
  free(tmp);
  return rc;
}
