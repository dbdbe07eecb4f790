/*
 * eng_ipc.h — inter-process communication over shared memory: locks,
 * shared values, bounded multi-producer/multi-consumer queues, duplex
 * pipes, and arrays memory-mapped from a file.
 *
 * Every object lives inside an engine array in shared memory (a memfd,
 * eng_array.h): eng_ipc_array() gives that array, which reaches another
 * process the way any array does (inherited across fork, or sent as a
 * descriptor), and eng_ipc_attach() turns it back into the object there.
 * The counterparts in Python are multiprocessing.Lock, Value, Queue and
 * Pipe, and numpy/joblib memmaps.
 *
 * Locks are robust, recursive, process-shared pthread mutexes: a process
 * that dies holding one does not block the others (the next owner is told,
 * eng_ipc_lock returns 1). Queues and pipes block on futexes in the shared
 * memory; messages are byte strings of any length up to the capacity, in
 * FIFO order. A process killed in the middle of a put or get leaves the
 * queue consistent (the state it was changing is published last).
 *
 * Thread-safety: every operation may be called from any thread of any
 * process that has the object; an eng_ipc handle itself is freed by one
 * thread once nobody uses it.
 */
#ifndef ENG_IPC_H
#define ENG_IPC_H

#include <stddef.h>
#include <stdint.h>

#include "eng_array.h"

typedef struct eng_ipc eng_ipc;

typedef enum {
  ENG_IPC_LOCK = 1,
  ENG_IPC_VALUE = 2,
  ENG_IPC_QUEUE = 3,
  ENG_IPC_PIPE = 4
} eng_ipc_kind;

const char *eng_ipc_kind_name(eng_ipc_kind k); /* "lock", "value", "queue", "pipe" */

/* OUT: *out, caller frees with eng_ipc_free(). PL_ENOMEM, PL_EIO. */
int eng_ipc_lock_new(eng_ipc **out);
/* A value of type t (f64 or i64), initially `init`. */
int eng_ipc_value_new(eng_dtype t, double init, eng_ipc **out);
/* A queue of at most max_items messages (>= 1) and max_bytes bytes of
 * messages (0: 1 MiB; each message also takes 8 bytes). PL_EINVAL. */
int eng_ipc_queue_new(long max_items, size_t max_bytes, eng_ipc **out);
/* A duplex pipe: two channels of `bytes` each (0: 64 KiB); end 0 sends
 * what end 1 receives, and the other way round. */
int eng_ipc_pipe_new(size_t bytes, eng_ipc **out);

/* The object stored in `mem` (a shared array made by one of the above, in
 * any process): validated and retained. PL_EINVAL when mem holds no
 * object or a damaged one. OUT: *out, caller frees with eng_ipc_free(). */
int eng_ipc_attach(eng_array *mem, eng_ipc **out);
void eng_ipc_free(eng_ipc *o);

eng_ipc_kind eng_ipc_kind_of(const eng_ipc *o);
eng_array *eng_ipc_array(const eng_ipc *o); /* owned by o */

/* Every object has a lock (values and queues use it themselves). timeout_s
 * < 0 waits without limit. 0 acquired, 1 acquired but its last owner died
 * holding it (what it protected may be half-updated), PL_ETIMEOUT. The
 * lock is recursive: the owner may take it again, and releases it as many
 * times. */
int eng_ipc_lock(eng_ipc *o, double timeout_s);
/* PL_EINVAL when the caller does not hold it. */
int eng_ipc_unlock(eng_ipc *o);

/* Values (ENG_IPC_VALUE), each operation under the lock. */
eng_dtype eng_ipc_value_dtype(const eng_ipc *o);
int eng_ipc_value_get(eng_ipc *o, double *v);
int eng_ipc_value_set(eng_ipc *o, double v);
/* *after (may be NULL) = the value after adding d. */
int eng_ipc_value_add(eng_ipc *o, double d, double *after);

/* Queues and pipes. `end` is 0 for a queue, 0 or 1 for a pipe (the end
 * that sends, or receives). put blocks while the queue is full, get while
 * it is empty, up to timeout_s (< 0: no limit): PL_ETIMEOUT. PL_EINVAL for
 * a message larger than the capacity. OUT (get): *msg, caller frees with
 * free() (NUL-terminated after len bytes). */
int eng_ipc_put(eng_ipc *o, int end, const void *msg, size_t len, double timeout_s);
int eng_ipc_get(eng_ipc *o, int end, char **msg, size_t *len, double timeout_s);
/* Messages waiting to be received at `end` (a snapshot). */
long eng_ipc_count(eng_ipc *o, int end);

typedef struct eng_ipc_qstats {
  long puts, gets;     /* messages put and taken so far */
  long depth;          /* waiting now */
  long max_depth;      /* most ever waiting at once */
  long max_items;      /* capacity in messages */
  size_t max_bytes;    /* capacity in bytes */
} eng_ipc_qstats;
/* Statistics of the channel received at `end`. */
int eng_ipc_qstats_get(eng_ipc *o, int end, eng_ipc_qstats *out);

/* ---- memory-mapped files ---- */

enum { ENG_MMAP_READ = 0, ENG_MMAP_RW = 1, ENG_MMAP_CREATE = 2 };

/* Map the file at `path` as an array of type t, shared with the file (the
 * page cache): writes reach the file, and data larger than memory is paged
 * in and out by the kernel. The file holds the raw elements (the layout of
 * numpy's tofile/memmap). mode: READ (existing file, read-only array), RW
 * (existing file), CREATE (created or truncated to n zeroed elements).
 * n < 0 (READ, RW) takes every whole element of the file; otherwise the
 * file must hold at least n. The array keeps the file open and can be sent
 * to other processes like any shared array. PL_ENOTFOUND, PL_EINVAL,
 * PL_EIO. OUT: *out, caller frees with eng_array_free(). */
int eng_ipc_memmap(const char *path, eng_dtype t, int mode, long n, eng_array **out);
/* Write the array's elements to path (created or replaced). */
int eng_ipc_save(const char *path, const eng_array *a);

#endif
