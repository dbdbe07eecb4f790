/*
 * eng_array.c — aligned typed arrays, private (heap) or shared (memfd).
 *
 * A shared array is a memfd mapped MAP_SHARED: the mapping is page aligned
 * (so 64-byte aligned), ftruncate zero-fills it, and the fd is what another
 * process maps. A private array comes from posix_memalign and is zeroed by
 * hand. Either way `data` is NULL when n == 0; an empty shared array has
 * no memfd at all (fd -1), since there are no pages to share.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create, F_ADD_SEALS */
#endif
#include "eng_array.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pl_err.h"

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

#define ENG_ALIGN 64
/* Below this many elements a plain loop is as accurate as splitting again
 * (error grows with the block length, not with n). */
#define PAIRWISE_BLOCK 128

struct eng_array {
  eng_dtype t;
  unsigned flags;
  long n;
  size_t bytes;
  void *data;
  int fd;
  int sealed;
  uint64_t id;
  _Atomic long refs;
};

static _Atomic uint64_t next_id = 1;

size_t eng_dtype_size(eng_dtype t) {
  switch (t) {
  case ENG_F64: return sizeof(double);
  case ENG_F32: return sizeof(float);
  case ENG_I64: return sizeof(int64_t);
  }
  return 0;
}

const char *eng_dtype_name(eng_dtype t) {
  switch (t) {
  case ENG_F64: return "f64";
  case ENG_F32: return "f32";
  case ENG_I64: return "i64";
  }
  return "unknown";
}

int eng_dtype_parse(const char *name, eng_dtype *out) {
  static const eng_dtype all[] = {ENG_F64, ENG_F32, ENG_I64};
  if (!name || !out) return PL_EINVAL;
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
    if (!strcmp(name, eng_dtype_name(all[i]))) {
      *out = all[i];
      return 0;
    }
  }
  return PL_EINVAL;
}

static int map_shared(eng_array *a) {
  int rc = 0;
  int fd = memfd_create("parlab-array", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return errno == ENOMEM ? PL_ENOMEM : PL_EIO;
  if (ftruncate(fd, (off_t)a->bytes) < 0) {
    rc = errno == ENOSPC || errno == ENOMEM || errno == EFBIG ? PL_ENOMEM : PL_EIO;
    goto done;
  }
  void *m = mmap(NULL, a->bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (m == MAP_FAILED) {
    rc = errno == ENOMEM ? PL_ENOMEM : PL_EIO;
    goto done;
  }
  a->data = m;
  a->fd = fd;
  fd = -1;

done:
  if (fd >= 0) close(fd);
  return rc;
}

int eng_array_new(eng_dtype t, long n, unsigned flags, eng_array **out) {
  int rc = 0;
  eng_array *a = NULL;
  if (!out) return PL_EINVAL;
  *out = NULL;
  size_t es = eng_dtype_size(t);
  if (!es || n < 0 || (flags & ~(unsigned)ENG_ARRAY_SHARED)) return PL_EINVAL;
  if ((unsigned long)n > (SIZE_MAX - ENG_ALIGN) / es) return PL_ENOMEM;

  a = calloc(1, sizeof *a);
  if (!a) return PL_ENOMEM;
  a->t = t;
  a->flags = flags;
  a->n = n;
  a->bytes = (size_t)n * es;
  a->fd = -1;
  if (n > 0) {
    if (flags & ENG_ARRAY_SHARED) {
      rc = map_shared(a);
      if (rc < 0) goto done;
    } else {
      /* Rounded up so the block is a whole number of cache lines. */
      size_t sz = (a->bytes + ENG_ALIGN - 1) / ENG_ALIGN * ENG_ALIGN;
      if (posix_memalign(&a->data, ENG_ALIGN, sz)) {
        a->data = NULL;
        rc = PL_ENOMEM;
        goto done;
      }
      memset(a->data, 0, sz);
    }
  }
  a->id = atomic_fetch_add(&next_id, 1);
  atomic_init(&a->refs, 1);
  *out = a;
  a = NULL;

done:
  free(a);
  return rc;
}

int eng_array_map_fd(int fd, eng_dtype t, long len, int writable, eng_array **out) {
  int rc = 0;
  eng_array *a = NULL;
  if (!out) {
    rc = PL_EINVAL;
    goto done;
  }
  *out = NULL;
  size_t es = eng_dtype_size(t);
  if (!es || len < 0 || (len > 0 && fd < 0)) {
    rc = PL_EINVAL;
    goto done;
  }
  if ((unsigned long)len > (SIZE_MAX - ENG_ALIGN) / es) {
    rc = PL_EINVAL;
    goto done;
  }
  a = calloc(1, sizeof *a);
  if (!a) {
    rc = PL_ENOMEM;
    goto done;
  }
  a->t = t;
  a->flags = ENG_ARRAY_SHARED;
  a->n = len;
  a->bytes = (size_t)len * es;
  a->fd = -1;
  a->sealed = !writable;
  if (len > 0) {
    /* The sender could shrink the file under our mapping (SIGBUS on the
     * next access): forbid that first, then check the size. Only a memfd
     * made for sealing can be wrapped. */
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) < 0) {
      int seals = fcntl(fd, F_GET_SEALS);
      if (seals < 0 || !(seals & F_SEAL_SHRINK)) {
        rc = PL_EINVAL;
        goto done;
      }
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
      rc = PL_EIO;
      goto done;
    }
    /* A short file would fault (SIGBUS) on the first access past its end. */
    if (st.st_size < 0 || (unsigned long long)st.st_size < a->bytes) {
      rc = PL_EINVAL;
      goto done;
    }
    int prot = PROT_READ | (writable ? PROT_WRITE : 0);
    void *m = mmap(NULL, a->bytes, prot, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) {
      rc = errno == ENOMEM ? PL_ENOMEM : PL_EIO;
      goto done;
    }
    a->data = m;
    a->fd = fd;
    fd = -1;
  }
  a->id = atomic_fetch_add(&next_id, 1);
  atomic_init(&a->refs, 1);
  *out = a;
  a = NULL;

done:
  if (fd >= 0) close(fd);
  free(a);
  return rc;
}

/* engine.procs memmaps (eng_ipc.c): a regular file this process opened
 * itself, so there is no sender to guard against and no seal to add. */
int eng_array_map_file(int fd, eng_dtype t, long len, int writable, eng_array **out) {
  size_t es = eng_dtype_size(t);
  struct stat st;
  eng_array *a = NULL;
  void *m = MAP_FAILED;
  if (out && es && len > 0 && fd >= 0 && (unsigned long)len <= (SIZE_MAX - ENG_ALIGN) / es &&
      fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
      (unsigned long long)st.st_size >= (size_t)len * es && (a = calloc(1, sizeof *a)))
    m = mmap(NULL, (size_t)len * es, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, fd, 0);
  if (m == MAP_FAILED) {
    int rc = a ? (errno == ENOMEM ? PL_ENOMEM : PL_EIO) : PL_EINVAL;
    free(a);
    if (fd >= 0) close(fd);
    return rc;
  }
  a->t = t;
  a->flags = ENG_ARRAY_SHARED;
  a->n = len;
  a->bytes = (size_t)len * es;
  a->data = m;
  a->fd = fd;
  a->sealed = !writable;
  a->id = atomic_fetch_add(&next_id, 1);
  atomic_init(&a->refs, 1);
  *out = a;
  return 0;
}

eng_array *eng_array_retain(eng_array *a) {
  if (a) atomic_fetch_add_explicit(&a->refs, 1, memory_order_relaxed);
  return a;
}

void eng_array_free(eng_array *a) {
  if (!a) return;
  /* acq_rel: every user's writes happen before the memory is released. */
  if (atomic_fetch_sub_explicit(&a->refs, 1, memory_order_acq_rel) != 1) return;
  if (a->flags & ENG_ARRAY_SHARED) {
    if (a->data) munmap(a->data, a->bytes);
    if (a->fd >= 0) close(a->fd);
  } else {
    free(a->data);
  }
  free(a);
}

void *eng_array_data(const eng_array *a) { return a ? a->data : NULL; }
long eng_array_len(const eng_array *a) { return a ? a->n : 0; }
eng_dtype eng_array_dtype(const eng_array *a) { return a ? a->t : ENG_F64; }
size_t eng_array_bytes(const eng_array *a) { return a ? a->bytes : 0; }
uint64_t eng_array_id(const eng_array *a) { return a ? a->id : 0; }
int eng_array_fd(const eng_array *a) { return a ? a->fd : -1; }
int eng_array_is_sealed(const eng_array *a) { return a ? a->sealed : 0; }

int eng_array_seal(eng_array *a) {
  if (!a || !(a->flags & ENG_ARRAY_SHARED)) return PL_EINVAL;
  /* An empty shared array has no pages anyone could write. */
  if (a->fd >= 0 &&
      fcntl(a->fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE | F_SEAL_SHRINK | F_SEAL_GROW) < 0)
    return errno == EINVAL ? PL_ENOSYS : PL_EIO;
  a->sealed = 1;
  return 0;
}

/* ---- random fill: splitmix64 seeds xoshiro256** (Blackman & Vigna) ---- */

typedef struct rng {
  uint64_t s[4];
} rng;

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(rng *r) {
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

/* Uniform in [0, 1): the top 53 bits, so every value is exact. */
static double rng_unit(rng *r) { return (double)(rng_next(r) >> 11) * 0x1.0p-53; }

/* lo + u * (hi - lo) can round up to hi; keep the interval half-open. */
static double uniform(rng *r, double lo, double hi) {
  double v = lo + rng_unit(r) * (hi - lo);
  return v < hi ? v : nextafter(hi, lo);
}

/* Rounding to float can leave [lo, hi); step back inside. */
static float to_float_in(double v, double lo, double hi) {
  float f = (float)v;
  while ((double)f >= hi) f = nextafterf(f, -INFINITY);
  while ((double)f < lo) f = nextafterf(f, INFINITY);
  return f;
}

int eng_array_fill_random(eng_array *a, uint64_t seed, double lo, double hi) {
  if (!a || !isfinite(lo) || !isfinite(hi) || !(lo < hi) || !isfinite(hi - lo))
    return PL_EINVAL;
  if (a->t == ENG_F32 && !((float)lo < (float)hi)) return PL_EINVAL;
  /* Every floor() of [lo, hi) must fit an int64. */
  if (a->t == ENG_I64 && (lo < -0x1p63 || hi > 0x1p63)) return PL_EINVAL;

  rng r;
  uint64_t x = seed;
  for (int i = 0; i < 4; i++) r.s[i] = splitmix64(&x);

  switch (a->t) {
  case ENG_F64: {
    double *d = a->data;
    for (long i = 0; i < a->n; i++) d[i] = uniform(&r, lo, hi);
    break;
  }
  case ENG_F32: {
    float *d = a->data;
    for (long i = 0; i < a->n; i++) d[i] = to_float_in(uniform(&r, lo, hi), lo, hi);
    break;
  }
  case ENG_I64: {
    int64_t *d = a->data;
    for (long i = 0; i < a->n; i++) {
      /* The checks above give -2^63 <= floor(v) < 2^63: the cast is exact. */
      d[i] = (int64_t)floor(uniform(&r, lo, hi));
    }
    break;
  }
  }
  return 0;
}

/* ---- reductions ---- */

/* Pairwise summation: error O(eps log n) instead of O(eps n). The leaves use
 * four accumulators, which is also what lets the loop vectorise. */
#define DEFINE_PAIRWISE(name, T)                                               \
  static double name(const T *x, long n) {                                     \
    if (n <= PAIRWISE_BLOCK) {                                                 \
      double s0 = 0, s1 = 0, s2 = 0, s3 = 0;                                   \
      long i = 0;                                                              \
      for (; i + 4 <= n; i += 4) {                                             \
        s0 += (double)x[i];                                                    \
        s1 += (double)x[i + 1];                                                \
        s2 += (double)x[i + 2];                                                \
        s3 += (double)x[i + 3];                                                \
      }                                                                        \
      for (; i < n; i++) s0 += (double)x[i];                                   \
      return (s0 + s1) + (s2 + s3);                                            \
    }                                                                          \
    long h = n / 2;                                                            \
    return name(x, h) + name(x + h, n - h);                                    \
  }

DEFINE_PAIRWISE(pairwise_f64, double)
DEFINE_PAIRWISE(pairwise_f32, float)

double eng_array_sum(const eng_array *a) {
  if (!a || a->n == 0) return 0.0;
  switch (a->t) {
  case ENG_F64: return pairwise_f64(a->data, a->n);
  case ENG_F32: return pairwise_f32(a->data, a->n);
  case ENG_I64: {
    /* Exact in 128 bits (n * 2^63 < 2^127 for any n that fits in memory);
     * the only rounding is the final conversion. */
    const int64_t *d = a->data;
    __int128 s = 0;
    for (long i = 0; i < a->n; i++) s += d[i];
    return (double)s;
  }
  }
  return 0.0;
}

double eng_array_get(const eng_array *a, long i) {
  if (!a || i < 0 || i >= a->n) return NAN;
  switch (a->t) {
  case ENG_F64: return ((const double *)a->data)[i];
  case ENG_F32: return ((const float *)a->data)[i];
  case ENG_I64: return (double)((const int64_t *)a->data)[i];
  }
  return NAN;
}

/* double -> int64 without undefined behaviour: truncate toward zero,
 * saturate at the ends, NaN becomes 0. */
static int64_t to_i64(double v) {
  if (isnan(v)) return 0;
  if (v >= 0x1p63) return INT64_MAX;
  if (v < -0x1p63) return INT64_MIN;
  return (int64_t)v;
}

void eng_array_set(eng_array *a, long i, double v) {
  if (!a || i < 0 || i >= a->n) return;
  switch (a->t) {
  case ENG_F64: ((double *)a->data)[i] = v; break;
  case ENG_F32: ((float *)a->data)[i] = (float)v; break;
  case ENG_I64: ((int64_t *)a->data)[i] = to_i64(v); break;
  }
}

/* NaNs never compare less or greater, so they are skipped. */
double eng_array_min(const eng_array *a) {
  double m = INFINITY;
  if (!a) return m;
  for (long i = 0; i < a->n; i++) {
    double v = eng_array_get(a, i);
    if (v < m) m = v;
  }
  return m;
}

double eng_array_max(const eng_array *a) {
  double m = -INFINITY;
  if (!a) return m;
  for (long i = 0; i < a->n; i++) {
    double v = eng_array_get(a, i);
    if (v > m) m = v;
  }
  return m;
}
