/*
 * eng_array.h — typed, aligned arrays (f64, f32, i64).
 *
 * Data is 64-byte aligned. An array made with ENG_ARRAY_SHARED lives in an
 * anonymous shared-memory file (memfd), so another process — the grader's
 * jail — can map the very same pages without copying: eng_array_fd() gives
 * the descriptor to pass over a Unix socket. eng_array_seal() forbids any
 * new writable mapping (F_SEAL_FUTURE_WRITE): the creator keeps writing
 * through its own mapping, a process that receives the fd can only read.
 *
 * Arrays are reference counted: eng_array_new() returns one reference,
 * eng_array_retain() adds one, eng_array_free() drops one and frees the
 * array with the last. A worker's Lua state holds its own reference to an
 * array it was sent, so the sender may drop its copy first.
 *
 * Thread-safety: an array is plain memory; the functions that compute over
 * it (sum, min, max) only read and may run concurrently. Retain and free
 * are atomic and may be called from any thread.
 */
#ifndef ENG_ARRAY_H
#define ENG_ARRAY_H

#include <stddef.h>
#include <stdint.h>

typedef enum { ENG_F64 = 0, ENG_F32 = 1, ENG_I64 = 2 } eng_dtype;

enum { ENG_ARRAY_SHARED = 1u << 0 };

typedef struct eng_array eng_array;

size_t eng_dtype_size(eng_dtype t);
const char *eng_dtype_name(eng_dtype t);          /* "f64", "f32", "i64" */
int eng_dtype_parse(const char *name, eng_dtype *out); /* PL_EINVAL if unknown */

/* Zero-filled array of n elements (n >= 0; n == 0 is a valid empty array
 * whose data is NULL; an empty shared array has no memfd, fd -1).
 * PL_EINVAL for a bad dtype, n < 0 or unknown flags.
 * OUT: *out, caller frees with eng_array_free(). */
int eng_array_new(eng_dtype t, long n, unsigned flags, eng_array **out);
/* Drop one reference; the last one frees the memory (and the memfd). */
void eng_array_free(eng_array *a);
/* Add a reference; returns a. */
eng_array *eng_array_retain(eng_array *a);

/* Wrap a shared array received from another process: map `fd` (a memfd of
 * at least len elements of type t) and take ownership of the descriptor,
 * also on failure. writable = 0 maps it read-only and marks the array
 * sealed (a sealed memfd only maps read-only). len == 0 gives an empty
 * array and closes fd (which may be -1). The file gets F_SEAL_SHRINK, so
 * the sender cannot shrink it under the mapping. PL_EINVAL when fd is not
 * a sealable memfd, is too small, or the arguments are bad; PL_EIO when
 * mmap refuses.
 * OUT: *out, caller frees with eng_array_free(). */
int eng_array_map_fd(int fd, eng_dtype t, long len, int writable, eng_array **out);
/* The same for a regular file this process opened itself (never a
 * descriptor another process sent: it could truncate the file under the
 * mapping); len > 0; takes fd, also on failure. For eng_ipc_memmap(). */
int eng_array_map_file(int fd, eng_dtype t, long len, int writable, eng_array **out);

void *eng_array_data(const eng_array *a); /* NULL when n == 0 */
long eng_array_len(const eng_array *a);
eng_dtype eng_array_dtype(const eng_array *a);
size_t eng_array_bytes(const eng_array *a);
/* Unique id within this process, never reused. */
uint64_t eng_array_id(const eng_array *a);
/* memfd of a shared array, -1 otherwise (and for an empty shared array).
 * Owned by the array. */
int eng_array_fd(const eng_array *a);
int eng_array_is_sealed(const eng_array *a);
/* Shared arrays only (PL_EINVAL otherwise); idempotent. Seals the memfd
 * with F_SEAL_FUTURE_WRITE | F_SEAL_SHRINK | F_SEAL_GROW. */
int eng_array_seal(eng_array *a);

/* Deterministic uniform values in [lo, hi) from `seed` (splitmix64 +
 * xoshiro256**); an i64 element is floor() of such a value. PL_EINVAL
 * unless lo < hi, both finite (and within int64 range for i64). */
int eng_array_fill_random(eng_array *a, uint64_t seed, double lo, double hi);

/* Accurate sum (pairwise; exact 128-bit integer sum for i64), min, max as
 * double; 0 / +inf / -inf when empty. min/max skip NaNs. get returns NaN
 * and set does nothing out of range; set on i64 truncates toward zero and
 * saturates (NaN stores 0). */
double eng_array_sum(const eng_array *a);
double eng_array_min(const eng_array *a);
double eng_array_max(const eng_array *a);
double eng_array_get(const eng_array *a, long i);
void eng_array_set(eng_array *a, long i, double v);

#endif
