/*
 * grd_sandbox.c — the jail's layers (see grd_sandbox.h for the picture).
 *
 * Everything here runs between fork and exec, so it sticks to system calls
 * and fixed buffers: no malloc, no stdio.
 */
#include "grd_sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "grd_int.h"
#include "pl_err.h"

#define PATHMAX 4096

static int report_is_ctl;

static size_t cat(char *dst, size_t n, size_t cap, const char *s) {
  while (*s && n + 1 < cap) dst[n++] = *s++;
  dst[n] = 0;
  return n;
}

static void fail(int fd, const char *layer) __attribute__((noreturn));
static void fail(int fd, const char *layer) {
  const char *es = strerror(errno);
  char msg[480];
  size_t n = 0;
  n = cat(msg, n, sizeof msg, "jail set-up failed: ");
  n = cat(msg, n, sizeof msg, layer);
  n = cat(msg, n, sizeof msg, ": ");
  n = cat(msg, n, sizeof msg, es);
  if (report_is_ctl) {
    grd_wire_rep rep;
    memset(&rep, 0, sizeof rep);
    rep.status = PL_ESANDBOX;
    memcpy(rep.msg, msg, n + 1);
    (void)!write(fd, &rep, sizeof rep);
  } else {
    n = cat(msg, n, sizeof msg, "\n");
    (void)!write(fd, msg, n);
  }
  _exit(GRD_SB_SETUP_FAILED);
}

static int write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = write(fd, text, strlen(text));
  close(fd);
  return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* mkdir -p for a path inside the new root. */
static int mkdirs(char *path) {
  for (char *p = path + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    if (mkdir(path, 0755) < 0 && errno != EEXIST) return -1;
    *p = '/';
  }
  return mkdir(path, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

static void join(char *out, const char *root, const char *path) {
  size_t n = cat(out, 0, PATHMAX, root);
  cat(out, n, PATHMAX, path);
}

/* Bind src at the same path under root; read-only unless rw. Mount flags
 * that the original mount has locked (nosuid, nodev, noexec in a user
 * namespace) must be kept, hence the retry. */
static int bind_dir(const char *root, const char *src, int rw) {
  char dst[PATHMAX];
  join(dst, root, src);
  if (mkdirs(dst) < 0) return -1;
  if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) < 0) return -1;
  if (rw) return 0;
  unsigned long fl = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID;
  if (mount(NULL, dst, NULL, fl, NULL) == 0) return 0;
  if (mount(NULL, dst, NULL, fl | MS_NODEV, NULL) == 0) return 0;
  return mount(NULL, dst, NULL, fl | MS_NODEV | MS_NOEXEC, NULL);
}

static void bind_dev(const char *root, const char *name, int rfd) {
  char src[64], dst[PATHMAX];
  cat(src, cat(src, 0, sizeof src, "/dev/"), sizeof src, name);
  join(dst, root, src);
  int fd = open(dst, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
  if (fd < 0) fail(rfd, "new root: /dev");
  close(fd);
  if (mount(src, dst, NULL, MS_BIND, NULL) < 0) fail(rfd, "new root: /dev bind");
}

static void build_root(const grd_sandbox *sb, int rfd) {
  const char *root = sb->newroot;
  char dst[PATHMAX];
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) fail(rfd, "mount namespace: private /");
  if (mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=0755") < 0)
    fail(rfd, "new root: tmpfs");
  /* The system, read-only: programs, libraries, headers, /etc. On a
   * merged-/usr system /bin, /lib... are symlinks: copy the links. */
  static const char *const sys[] = {"/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32",
                                    "/lib64", "/libx32", NULL};
  for (int i = 0; sys[i]; i++) {
    struct stat st;
    if (lstat(sys[i], &st) < 0) continue;
    if (S_ISLNK(st.st_mode)) {
      char target[PATHMAX];
      ssize_t n = readlink(sys[i], target, sizeof target - 1);
      if (n < 0) fail(rfd, "new root: readlink");
      target[n] = 0;
      join(dst, root, sys[i]);
      if (symlink(target, dst) < 0) fail(rfd, "new root: symlink");
    } else if (S_ISDIR(st.st_mode)) {
      if (bind_dir(root, sys[i], 0) < 0) fail(rfd, "new root: system folders");
    }
  }
  join(dst, root, "/dev");
  if (mkdir(dst, 0755) < 0) fail(rfd, "new root: /dev");
  static const char *const devs[] = {"null", "zero", "full", "random", "urandom", NULL};
  for (int i = 0; devs[i]; i++) bind_dev(root, devs[i], rfd);
  if (sb->gpu) {
    /* CUDA needs its device nodes and reads the PCI topology from /sys. */
    static const char *const nv[] = {"nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "nvidia-modeset",
                                     "nvidia0", "nvidia1", "nvidia2", "nvidia3", "nvidia4",
                                     "nvidia5", "nvidia6", "nvidia7", NULL};
    for (int i = 0; nv[i]; i++) {
      char src[64];
      cat(src, cat(src, 0, sizeof src, "/dev/"), sizeof src, nv[i]);
      if (access(src, F_OK) == 0) bind_dev(root, nv[i], rfd);
    }
  }
  if ((sb->gpu || sb->sysfs) && access("/sys", F_OK) == 0 && bind_dir(root, "/sys", 0) < 0)
    fail(rfd, "new root: /sys");
  join(dst, root, "/dev/shm");
  if (mkdir(dst, 01777) < 0 || mount("tmpfs", dst, "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=1777") < 0)
    fail(rfd, "new root: /dev/shm");
  join(dst, root, "/proc");
  if (mkdir(dst, 0555) < 0 || mount("proc", dst, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
    fail(rfd, "new root: /proc");
  join(dst, root, "/tmp");
  if (mkdir(dst, 01777) < 0 || mount("tmpfs", dst, "tmpfs", MS_NOSUID | MS_NODEV, "size=256m,mode=1777") < 0)
    fail(rfd, "new root: /tmp");
  for (int i = 0; i < GRD_SB_MAX_RO && sb->ro_dirs[i]; i++)
    if (bind_dir(root, sb->ro_dirs[i], 0) < 0) fail(rfd, "new root: read-only folders");
  if (sb->rw_dir && bind_dir(root, sb->rw_dir, 1) < 0) fail(rfd, "new root: scratch folder");
  if (chdir(root) < 0) fail(rfd, "new root: chdir");
  if (mkdir("oldroot", 0700) < 0) fail(rfd, "new root: oldroot");
  if (syscall(SYS_pivot_root, ".", "oldroot") < 0) fail(rfd, "pivot_root");
  if (chdir("/") < 0) fail(rfd, "pivot_root: chdir");
  if (umount2("/oldroot", MNT_DETACH) < 0) fail(rfd, "pivot_root: detach the old root");
  if (rmdir("/oldroot") < 0) fail(rfd, "pivot_root: rmdir");
}

/* End the way `st` says: same exit status, or the same signal. */
static void replicate(int st) __attribute__((noreturn));
static void replicate(int st) {
  if (WIFSIGNALED(st)) {
    int sig = WTERMSIG(st);
    signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    _exit(128 + sig);
  }
  _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 1);
}

static void stage_c(const grd_sandbox *sb, int rfd, int ns) __attribute__((noreturn));
static void stage_c(const grd_sandbox *sb, int rfd, int ns) {
  if (sb->cwd && chdir(sb->cwd) < 0) fail(rfd, "chdir to the scratch folder");
  if (sb->as_root) {
    if (setgroups(0, NULL) < 0) fail(rfd, "setgroups");
    if (setgid(sb->gid) < 0) fail(rfd, "setgid (unprivileged group)");
    if (setuid(sb->uid) < 0) fail(rfd, "setuid (unprivileged user)");
  }
  if (setrlimit(RLIMIT_CPU, &sb->cpu) < 0) fail(rfd, "rlimit CPU");
  if (setrlimit(RLIMIT_AS, &sb->as) < 0) fail(rfd, "rlimit address space");
  if (setrlimit(RLIMIT_NPROC, &sb->nproc) < 0) fail(rfd, "rlimit processes");
  if (setrlimit(RLIMIT_FSIZE, &sb->fsize) < 0) fail(rfd, "rlimit file size");
  if (setrlimit(RLIMIT_NOFILE, &sb->nofile) < 0) fail(rfd, "rlimit open files");
  if (setrlimit(RLIMIT_CORE, &sb->core) < 0) fail(rfd, "rlimit core dumps");
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail(rfd, "no_new_privs");
  /* After setuid: a credential change clears the parent-death signal. */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) fail(rfd, "parent-death signal");
  if (!ns && getppid() == 1) _exit(GRD_SB_SETUP_FAILED);
  if (sb->exe_fd >= 0) {
    fcntl(4, F_SETFD, FD_CLOEXEC);
    fexecve(4, sb->argv, sb->envp);
  } else {
    execvpe(sb->argv[0], sb->argv, sb->envp);
  }
  fail(rfd, "exec");
}

void grd__sandbox_exec(const grd_sandbox *sb) {
  report_is_ctl = sb->ctl >= 0;
  int rfd = sb->ctl >= 0 ? sb->ctl : sb->out;
  /* A and B end by re-raising C's fatal signal: never dump a core for it. */
  struct rlimit nocore = {0, 0};
  setrlimit(RLIMIT_CORE, &nocore);
  if (setsid() < 0) fail(rfd, "setsid");
  if (dup2(sb->devnull, 0) < 0 || dup2(sb->out, 1) < 0 || dup2(sb->out, 2) < 0) fail(rfd, "dup2");
  if (sb->ctl >= 0 && dup2(sb->ctl, 3) < 0) fail(rfd, "dup2");
  rfd = sb->ctl >= 0 ? 3 : 2;
  int keep = 4;
  if (sb->exe_fd >= 0) {
    if (dup2(sb->exe_fd, 4) < 0) fail(rfd, "dup2");
    keep = 5;
  }
  if (close_range((unsigned)keep, ~0U, 0) < 0) fail(rfd, "close_range");
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) fail(rfd, "parent-death signal");
  if (getppid() != sb->parent) _exit(GRD_SB_SETUP_FAILED);

  int ns = 1;
  if (!sb->as_root) {
    if (unshare(CLONE_NEWUSER) < 0) {
      if (!sb->weak) fail(rfd, "user namespace");
      ns = 0;
    } else if (write_file("/proc/self/setgroups", "deny") < 0 ||
               write_file("/proc/self/uid_map", sb->uid_map) < 0 ||
               write_file("/proc/self/gid_map", sb->gid_map) < 0) {
      fail(rfd, "user namespace: id maps");
    }
  }
  static const struct { int flag; const char *name; } layers[] = {
    {CLONE_NEWNS, "mount namespace"}, {CLONE_NEWPID, "pid namespace"},
    {CLONE_NEWNET, "network namespace"}, {CLONE_NEWIPC, "IPC namespace"}};
  for (int i = 0; ns && i < 4; i++) {
    int denied = sb->deny_layer[0] && !strcmp(sb->deny_layer, layers[i].name);
    if (denied) errno = EPERM;
    else if (unshare(layers[i].flag) == 0) continue;
    if (!sb->weak) fail(rfd, layers[i].name);
    ns = 0; /* weak: no namespaces; seccomp and rlimits still apply */
  }

  if (ns && sb->net_lo) {
    /* Only this namespace's own loopback: nothing outside is reachable. */
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, "lo", 3);
    if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0) fail(rfd, "network namespace: loopback");
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) fail(rfd, "network namespace: loopback up");
    close(s);
  }
  int sp[2];
  if (pipe2(sp, O_CLOEXEC) < 0) fail(rfd, "pipe");
  pid_t b = fork();
  if (b < 0) fail(rfd, "fork");
  if (b == 0) {
    /* B: pid 1 of the new namespace. */
    close(sp[0]);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) fail(rfd, "parent-death signal");
    if (ns) build_root(sb, rfd);
    pid_t c = fork();
    if (c < 0) fail(rfd, "fork");
    if (c == 0) stage_c(sb, rfd, ns);
    for (int fd = 0; fd < keep; fd++) close(fd);
    int st = 0, cst = 0;
    pid_t w;
    /* Reap everything (orphans are re-parented to pid 1) until C ends. */
    while ((w = waitpid(-1, &st, 0)) != c)
      if (w < 0 && errno != EINTR) break;
    cst = st;
    (void)!write(sp[1], &cst, sizeof cst);
    _exit(0); /* the kernel now kills whatever C left behind */
  }
  /* A: nothing to hold open but the status pipe. */
  close(sp[1]);
  for (int fd = 0; fd < keep; fd++) close(fd);
  int st = 0, cst = 0;
  while (waitpid(b, &st, 0) < 0 && errno == EINTR) {}
  ssize_t n = read(sp[0], &cst, sizeof cst);
  replicate(n == (ssize_t)sizeof cst ? cst : st);
}
