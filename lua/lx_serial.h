/*
 * lx_serial.h — copying Lua values from one lua_State to another: to a
 * worker state on another thread (engine.threads), to a worker process
 * (engine.procs) or into a jail (Lua submissions).
 *
 * What can be copied: nil, booleans, numbers (integer or float kept),
 * strings, plain tables of copyable values (no metatables, no cycles),
 * engine arrays (by reference: the same memory, never a copy), and Lua
 * functions without upvalues (sent as text-free bytecode dumps and loaded
 * only by lx_deserialize, which is the one place binary chunks are allowed,
 * because they come from parlab's own dump, never from a user string).
 * Anything else — a function with upvalues, a C function, a coroutine, a
 * userdata that is not an engine array, a table with a metatable or a
 * cycle — is refused with a message that says what and where ("argument 2,
 * field 'f': a function with upvalues (count) cannot be sent to a worker;
 * pass the value as an argument instead"). These are the same rules as
 * Python's pickling, and the lectures say so.
 *
 * Thread-safety: a buffer belongs to one thread; serializing reads only
 * the source state, deserializing writes only the destination state.
 */
#ifndef LX_SERIAL_H
#define LX_SERIAL_H

#include <stddef.h>
#include <lua.h>

/* Arrays travel by pointer inside one process (the receiver holds a
 * reference until its state closes), or by memfd between processes. */
enum { LX_SER_THREAD = 0, LX_SER_PROCESS = 1 };

/* Or-ed into lx_deserialize's mode: refuse functions. The grader reads a
 * jail's replies this way, so bytecode crafted by a submission is never
 * loaded in the process that computes the verdict. */
#define LX_SER_NO_FUNCTIONS 2

typedef struct lx_buf {
  char *data;
  size_t len, cap;
  int *fds;      /* LX_SER_PROCESS: descriptors to send with the bytes (not owned) */
  int nfds, capfds;
  long nrefs;    /* LX_SER_THREAD: array references the bytes hold */
} lx_buf;

void lx_buf_init(lx_buf *b);
void lx_buf_free(lx_buf *b);
/* Empty the buffer for reuse (what lx_buf_free releases is released) but
 * keep its memory: a buffer filled once per task allocates nothing. */
void lx_buf_reset(lx_buf *b);

/* Append the value at idx. what: how to name it in messages
 * ("argument 2", "result"). OUT on failure: *err, caller frees. */
int lx_serialize(lua_State *L, int idx, int mode, const char *what, lx_buf *b, char **err);

/* Push the values encoded in data (as many as were serialized into it).
 * fds: the descriptors that came with it (LX_SER_PROCESS), consumed.
 * Returns the number of values pushed, or a negative PL_E* code. */
int lx_deserialize(lua_State *L, const char *data, size_t len, int mode,
                   const int *fds, int nfds, char **err);

#endif
