/*
 * pl_err.h — error codes shared by every parlab module.
 *
 * Functions return int: 0 on success, a negative PL_E* code on failure.
 * pl_strerror() gives a short English text for a code. Thread-safe.
 */
#ifndef PL_ERR_H
#define PL_ERR_H

enum {
  PL_OK = 0,
  PL_ENOMEM = -1,   /* out of memory */
  PL_EINVAL = -2,   /* bad argument or input */
  PL_EIO = -3,      /* system call or file failed (errno has details) */
  PL_ENOTFOUND = -4,/* no such item */
  PL_ETIMEOUT = -5, /* a time limit was hit */
  PL_ECRASH = -6,   /* a jailed process died */
  PL_ESANDBOX = -7, /* the sandbox could not be set up */
  PL_ECOMPILE = -8, /* a submission did not compile */
  PL_ELUA = -9,     /* a Lua error (message elsewhere) */
  PL_EDB = -10,     /* SQLite error */
  PL_ENOSYS = -11,  /* not available on this machine (no GPU, no MPI) */
  PL_EPROTO = -12   /* malformed message between grader and jail */
};

const char *pl_strerror(int code);

#define PL_VERSION "0.1.0"

#endif
