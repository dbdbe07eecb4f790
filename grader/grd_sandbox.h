/*
 * grd_sandbox.h — the layers of the jail (DESIGN.md §6), shared by the
 * jail that runs a submission and by the compiler that builds it.
 *
 * grd__sandbox_exec() runs in a freshly forked child and never returns:
 *
 *   A  (forked by the grader) new session; user namespace when not root;
 *      mount, pid, network and IPC namespaces. Forks B, waits for it and
 *      ends the same way it did (exit status or signal).
 *   B  pid 1 of the new pid namespace: builds a new root on a tmpfs —
 *      read-only binds of /usr, /etc and the library folders, a few /dev
 *      nodes, a fresh /proc, a private /tmp, the build folder read-only and
 *      the one writable folder — pivots into it, forks C and reaps. When B
 *      ends, the kernel kills every process left in the namespace, so no
 *      daemon outlives the grading.
 *   C  drops to nobody (when the grader is root), sets the rlimits,
 *      no_new_privs and the parent-death signal, and execs.
 *
 * The course folder, the reference solution, hidden data, the gradebook
 * and the student's other files are simply not in C's file system.
 * A layer that cannot be set up is reported by name ("jail set-up failed:
 * pid namespace: Operation not permitted") and C never runs — unless the
 * plan says `weak`, in which case the namespace layers are skipped and the
 * rest still applies (the instructor's explicit, recorded choice).
 *
 * Only async-signal-safe calls are made after fork (no malloc): the plan
 * is fully prepared by the parent.
 */
#ifndef GRD_SANDBOX_H
#define GRD_SANDBOX_H

#include <sys/resource.h>
#include <sys/types.h>

#define GRD_SB_MAX_RO 4

typedef struct grd_sandbox {
  int report_fd;        /* after dup2: where set-up errors go (3 for the jail, 2 for tools) */
  int ctl;              /* -1, or a descriptor to place at fd 3 (the jail's control socket) */
  int out;              /* becomes fd 1 and 2 */
  int devnull;          /* becomes fd 0 */
  int exe_fd;           /* >= 0: fexecve this (the jail); -1: execvp(argv[0]) (a tool) */
  char *const *argv;
  char *const *envp;
  const char *newroot;  /* empty directory the new root is built on */
  const char *rw_dir;   /* the one writable folder (bound at the same path) */
  const char *ro_dirs[GRD_SB_MAX_RO]; /* read-only folders (same paths), NULL-terminated */
  const char *cwd;
  pid_t parent;         /* the grader: C exits if it is gone */
  int as_root;          /* the grader is root: drop C to uid/gid */
  uid_t uid, outer_uid;
  gid_t gid, outer_gid;
  int weak;             /* skip the namespace layers instead of refusing */
  int gpu;              /* bind the NVIDIA device nodes and /sys into the root */
  int net_lo;           /* bring up the private network namespace's loopback */
  int sysfs;            /* bind /sys read-only (hwloc and CUDA read the topology there) */
  char uid_map[32], gid_map[32]; /* "<uid> <uid> 1" for the user namespace */
  char deny_layer[32];  /* tests only ($PARLAB_TEST_DENY_LAYER): act as if this
                           namespace layer were refused by the kernel */
  struct rlimit cpu, as, nproc, fsize, nofile, core;
} grd_sandbox;

/* In a forked child: set up every layer and exec. Never returns; on a
 * set-up failure writes "jail set-up failed: LAYER: reason" to report_fd
 * (as a grd_wire_rep when report_fd is the control socket) and exits 125. */
void grd__sandbox_exec(const grd_sandbox *sb) __attribute__((noreturn));

/* Exit status C's set-up failures produce, so tools can tell them apart. */
#define GRD_SB_SETUP_FAILED 125

#endif
