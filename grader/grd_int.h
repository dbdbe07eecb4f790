/*
 * grd_int.h — internals shared by the grader's files: export signatures,
 * the grader↔jail wire protocol, the jail handle, the compiler runner.
 */
#ifndef GRD_INT_H
#define GRD_INT_H

#include <stdint.h>
#include <sys/types.h>

#include "grd.h"

/* ---- export signatures: "double(const double*, long)" ---- */

typedef enum {
  GRD_T_VOID, GRD_T_INT, GRD_T_UINT, GRD_T_LONG, GRD_T_ULONG, GRD_T_I64,
  GRD_T_FLOAT, GRD_T_DOUBLE,
  GRD_T_PTR_F64, GRD_T_PTR_F32, GRD_T_PTR_I64, GRD_T_STR
} grd_type;

#define GRD_MAX_ARGS 8

typedef struct grd_sig {
  grd_type ret;
  int nargs;
  grd_type args[GRD_MAX_ARGS];
  unsigned char is_const[GRD_MAX_ARGS]; /* pointer to const data */
} grd_sig;

/* Parse a C-like signature; on error *err (caller frees) says what is wrong. */
int grd__sig_parse(const char *text, grd_sig *out, char **err);
int grd__type_is_ptr(grd_type t);
int grd__type_is_int(grd_type t);
const char *grd__type_name(grd_type t);

/* ---- wire protocol (SOCK_SEQPACKET, one message per datagram) ---- */

enum { GRD_OP_HELLO = 1, GRD_OP_CALL = 2, GRD_OP_THREADS = 3,
       GRD_OP_LCALL = 4 /* Lua submission: lx_serial payload follows the header */ };
enum { GRD_A_NULL = 0, GRD_A_INT = 1, GRD_A_NUM = 2, GRD_A_ARRAY = 3, GRD_A_STR = 4 };

typedef struct grd_wire_arg {
  uint8_t kind;
  uint8_t writable;   /* arrays: mapped read-write */
  uint8_t new_fd;     /* arrays: this message carries its fd */
  uint8_t pad[5];
  union { int64_t i; double d; uint64_t id; } v;
  uint64_t bytes;     /* arrays: length in bytes; strings: length */
  uint64_t offset;    /* strings: offset in the message's string area */
} grd_wire_arg;

typedef struct grd_wire_req {
  uint32_t op;
  uint32_t export_index;
  int32_t threads;
  uint32_t nargs;
  grd_wire_arg args[GRD_MAX_ARGS];
  /* followed by the string area */
} grd_wire_req;

#define GRD_WIRE_MAX 65536

typedef struct grd_wire_rep {
  int32_t status;     /* 0 ok; else a PL_E* code, text in msg */
  uint8_t kind;       /* GRD_A_NULL for void, INT or NUM */
  uint8_t pad[3];
  union { int64_t i; double d; } v;
  char msg[512];
} grd_wire_rep;

/* ---- the jail (parent side) ---- */

typedef struct grd_jail grd_jail;

typedef struct grd_jail_cfg {
  const char *so_path;     /* shared object to load, or the .lua file */
  int lua;                 /* a Lua submission: run so_path in a sandboxed state */
  const char *scratch;     /* private working directory (created by caller) */
  const char *newroot;     /* empty folder the jail's root file system is built on */
  const char *ro_dir;      /* the build folder, visible read-only */
  int weak;                /* the instructor accepted a jail without namespaces */
  int gpu;                 /* a CUDA submission: device nodes, no address-space cap */
  char *const *specs;      /* "name:signature", one per export */
  int nexports;
  double cpu_s;            /* RLIMIT_CPU */
  size_t mem_bytes;        /* RLIMIT_AS */
  int threads;             /* initial OMP_NUM_THREADS */
  grd_progress_fn progress;
  void *progress_arg;
} grd_jail_cfg;

/* OUT: *out, stop with grd__jail_free(). On failure *err (caller frees). */
int grd__jail_start(const grd_jail_cfg *cfg, grd_jail **out, char **err);
void grd__jail_free(grd_jail *j);
int grd__jail_alive(const grd_jail *j);
pid_t grd__jail_pid(const grd_jail *j);
/* Send a prepared request; wait up to `deadline` (eng_now seconds).
 * fds[] go with the message. On failure *err describes a crash, time-out
 * or exit, with the last lines of output (caller frees). *seconds is the
 * round-trip time measured here. */
int grd__jail_request(grd_jail *j, const grd_wire_req *req, size_t len,
                      const int *fds, int nfds, double deadline,
                      grd_wire_rep *rep, double *seconds, char **err);
/* Bytes that followed the last reply's header (Lua results), owned by
 * the jail until the next request. */
const char *grd__jail_payload(grd_jail *j, size_t *len);
/* Descriptors that came with the last reply; the caller owns them. */
const int *grd__jail_payload_fds(grd_jail *j, int *n);
/* Whether the array with this id was already handed to the jail; marks it. */
int grd__jail_knows_array(grd_jail *j, uint64_t id);
void grd__jail_stop(grd_jail *j, int stop); /* SIGSTOP / SIGCONT the group */
/* Last captured output lines (owned by the jail). */
const char *grd__jail_output_tail(grd_jail *j);

struct grd_sandbox;
/* Defaults for a sandbox plan (grd_sandbox.h): ids, rlimits, id maps. */
void grd__sandbox_defaults(struct grd_sandbox *sb, double cpu_s, size_t mem_bytes);

/* The exe the jail runs: $PARLAB_JAIL_EXE, else parlab-jail next to the
 * running executable, else /proc/self/exe (parlab has the same modes). */
const char *grd__jail_exe(void);

/* ---- running tools (compiler) with limits ---- */

typedef struct grd_proc_out {
  int exited, status, signaled, timed_out;
  char *output;  /* stdout+stderr, capped (caller frees) */
} grd_proc_out;

/* Run a tool (the compiler, the Lua syntax check) in the sandbox: cwd is
 * its one writable folder, newroot an empty folder for its root; weak as
 * for the jail. A sandbox set-up failure returns PL_ESANDBOX with the
 * reason in out->output. */
int grd__run_tool(char *const argv[], const char *cwd, const char *newroot, int weak,
                  double wall_s, size_t out_cap, grd_proc_out *out);

/* A program run in the sandbox (the compiler, an MPI job): rw_dir is its
 * one writable folder, ro_dir (may be NULL) is visible read-only; envp NULL
 * gives a minimal tool environment. net_lo brings the private network
 * namespace's loopback up (MPI's out-of-band channel needs it). */
typedef struct grd_prog_spec {
  char *const *argv;
  char *const *envp;
  const char *rw_dir, *ro_dir, *cwd, *newroot;
  int weak, net_lo;
  double wall_s, cpu_s;
  size_t mem_bytes, out_cap;
} grd_prog_spec;

int grd__run_program(const grd_prog_spec *spec, grd_proc_out *out);

/* Scratch folders under a per-run root (mode 0711). */
int grd__mkdtemp(const char *root, const char *prefix, char **out);
int grd__rmtree(const char *path);
/* uid/gid the jail runs as when the grader is root (nobody). */
void grd__jail_ids(uid_t *uid, gid_t *gid);

#endif
