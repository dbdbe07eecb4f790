/*
 * grd_jail.c — the jail, grader side: start a sandboxed process that loads
 * the student's shared object, talk to it, and kill it.
 *
 * The child is set up between fork and exec (new session, no network,
 * unprivileged ids, rlimits, scratch cwd, scrubbed environment, parent-death
 * signal) and then re-executes parlab in its hidden `__jail` mode
 * (grd_jail_child.c), so it starts from a fresh address space that holds
 * none of the grader's data. Any set-up step that fails is reported back
 * over the control socket and the jail refuses to start: grading never
 * proceeds unsandboxed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <grp.h>

#include "eng_measure.h"
#include "eng_path.h"
#include "grd_int.h"
#include "grd_sandbox.h"
#include "pl_err.h"

#define TAIL_CAP 4096          /* bytes of recent output kept for messages */
#define OUTPUT_EVENT_CAP (256 * 1024) /* output bytes forwarded as events */

struct grd_jail {
  pid_t pid;
  int ctl, out;
  int alive;
  int stopped;
  char tail[TAIL_CAP];       /* last output bytes, oldest first */
  size_t tail_len;
  char line[512];            /* partial line being assembled for events */
  size_t line_len;
  size_t forwarded;          /* bytes passed to the progress callback */
  uint64_t *known;           /* ids of arrays already mapped in the jail */
  int nknown, capknown;
  grd_progress_fn progress;
  void *progress_arg;
  char tail_text[TAIL_CAP + 64];
  char *rbuf;                /* last reply: header + payload */
  size_t rlen;
  int rfds[GRD_MAX_ARGS];    /* descriptors that came with it (Lua results) */
  int nrfds;
};

/* parlab-jail next to the running executable, found once per process. */
static char jail_exe_path[4096];
static void find_jail_exe(void) {
  char path[sizeof jail_exe_path];
  if (eng_exe_sibling("parlab-jail", path, sizeof path) == 0 && access(path, X_OK) == 0)
    memcpy(jail_exe_path, path, sizeof path);
}

const char *grd__jail_exe(void) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  const char *e = getenv("PARLAB_JAIL_EXE");
  if (e && *e) return e;
  pthread_once(&once, find_jail_exe);
  /* Without parlab-jail (a copied binary), parlab runs its own jail mode. */
  return jail_exe_path[0] ? jail_exe_path : "/proc/self/exe";
}

void grd__jail_ids(uid_t *uid, gid_t *gid) {
  *uid = 65534;
  *gid = 65534;
}

/* Threads and processes this uid already runs, so RLIMIT_NPROC (which
 * counts all of them) leaves the jail a fixed headroom. */
static long count_user_tasks(uid_t uid) {
  DIR *d = opendir("/proc");
  if (!d) return 0;
  long n = 0;
  struct dirent *e;
  char path[300];
  while ((e = readdir(d))) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    struct stat st;
    snprintf(path, sizeof path, "/proc/%s", e->d_name);
    if (stat(path, &st) || st.st_uid != uid) continue;
    snprintf(path, sizeof path, "/proc/%s/task", e->d_name);
    DIR *t = opendir(path);
    if (!t) continue;
    while ((e = readdir(t)))
      if (e->d_name[0] != '.') n++;
    closedir(t);
    e = NULL;
  }
  closedir(d);
  return n;
}

static void tail_add(grd_jail *j, const char *buf, size_t n) {
  if (n >= TAIL_CAP) {
    memcpy(j->tail, buf + n - TAIL_CAP, TAIL_CAP);
    j->tail_len = TAIL_CAP;
    return;
  }
  if (j->tail_len + n > TAIL_CAP) {
    size_t drop = j->tail_len + n - TAIL_CAP;
    memmove(j->tail, j->tail + drop, j->tail_len - drop);
    j->tail_len -= drop;
  }
  memcpy(j->tail + j->tail_len, buf, n);
  j->tail_len += n;
}

static void emit_line(grd_jail *j) {
  j->line[j->line_len] = 0;
  if (j->progress && j->forwarded < OUTPUT_EVENT_CAP) {
    grd_event ev = {.kind = GRD_EV_OUTPUT, .text = j->line};
    j->progress(j->progress_arg, &ev);
  }
  j->forwarded += j->line_len + 1;
  j->line_len = 0;
}

/* Drain what the jail printed; returns 0 at EOF, 1 otherwise. */
static int drain_output(grd_jail *j) {
  char buf[8192];
  for (;;) {
    ssize_t n = read(j->out, buf, sizeof buf);
    if (n == 0) return 0;
    if (n < 0) return errno == EINTR ? 1 : (errno == EAGAIN ? 1 : 0);
    tail_add(j, buf, (size_t)n);
    for (ssize_t i = 0; i < n; i++) {
      if (buf[i] == '\n' || j->line_len == sizeof j->line - 1) emit_line(j);
      if (buf[i] != '\n') j->line[j->line_len++] = buf[i];
    }
  }
}

const char *grd__jail_output_tail(grd_jail *j) {
  /* The last 6 lines, for crash messages. */
  size_t n = j->tail_len;
  while (n && (j->tail[n - 1] == '\n' || j->tail[n - 1] == ' ')) n--;
  size_t start = n;
  int lines = 0;
  while (start > 0) {
    if (j->tail[start - 1] == '\n' && ++lines == 6) break;
    start--;
  }
  size_t len = n - start;
  memcpy(j->tail_text, j->tail + start, len);
  j->tail_text[len] = 0;
  if (j->line_len && !len) {
    memcpy(j->tail_text, j->line, j->line_len);
    j->tail_text[j->line_len] = 0;
  }
  return j->tail_text;
}

static char *describe_exit(grd_jail *j, int st, const char *what) {
  char head[256];
  if (WIFSIGNALED(st)) {
    int sig = WTERMSIG(st);
    const char *abbr = sigabbrev_np(sig);
    const char *why = sig == SIGSEGV || sig == SIGBUS
                          ? ": a bad pointer, or a write into a read-only (const) input array"
                      : sig == SIGXCPU ? ": it used up its CPU-time limit"
                      : sig == SIGKILL ? ": it was killed (memory or time limit)"
                                       : "";
    snprintf(head, sizeof head, "%s crashed with signal SIG%s (%s)%s", what, abbr ? abbr : "?",
             strsignal(sig), why);
  } else if (WIFEXITED(st)) {
    snprintf(head, sizeof head,
             "%s ended the process with exit status %d (a submission must return from its "
             "functions, never call exit)", what, WEXITSTATUS(st));
  } else {
    snprintf(head, sizeof head, "%s stopped unexpectedly", what);
  }
  const char *tail = grd__jail_output_tail(j);
  char *msg = NULL;
  if (*tail) {
    if (asprintf(&msg, "%s; last output:\n%s", head, tail) < 0) msg = NULL;
  } else {
    msg = strdup(head);
  }
  return msg;
}

/* End the jail and collect its status. grace > 0: the jail is already
 * ending (its channel closed), so give its wrapper processes a moment to
 * report how the submission died before killing what is left. */
static void reap(grd_jail *j, int *status, double grace) {
  if (!j->pid) return;
  int st = 0;
  pid_t got = 0;
  double until = eng_now() + grace;
  while (grace > 0 && (got = waitpid(j->pid, &st, WNOHANG)) == 0 && eng_now() < until) {
    struct timespec ts = {0, 2000000};
    nanosleep(&ts, NULL);
  }
  kill(-j->pid, SIGKILL);
  kill(j->pid, SIGKILL);
  if (got != j->pid)
    while (waitpid(j->pid, &st, 0) < 0 && errno == EINTR) {}
  if (status) *status = st;
  j->pid = 0;
  j->alive = 0;
  /* Collect whatever was printed before the end. */
  int fl = fcntl(j->out, F_GETFL);
  fcntl(j->out, F_SETFL, fl | O_NONBLOCK);
  drain_output(j);
  if (j->line_len) emit_line(j);
}

/* Fill the parts of a sandbox plan common to the jail and the tools. */
void grd__sandbox_defaults(grd_sandbox *sb, double cpu_s, size_t mem_bytes) {
  memset(sb, 0, sizeof *sb);
  sb->ctl = -1;
  sb->exe_fd = -1;
  sb->parent = getpid();
  sb->as_root = geteuid() == 0;
  grd__jail_ids(&sb->uid, &sb->gid);
  sb->outer_uid = getuid();
  sb->outer_gid = getgid();
  snprintf(sb->uid_map, sizeof sb->uid_map, "%u %u 1", (unsigned)sb->outer_uid, (unsigned)sb->outer_uid);
  snprintf(sb->gid_map, sizeof sb->gid_map, "%u %u 1", (unsigned)sb->outer_gid, (unsigned)sb->outer_gid);
  rlim_t cpu = (rlim_t)(cpu_s > 1 ? cpu_s : 1);
  sb->cpu = (struct rlimit){cpu, cpu + 1};
  rlim_t as = mem_bytes ? mem_bytes : (rlim_t)4 << 30;
  sb->as = (struct rlimit){as, as};
  long tasks = count_user_tasks(sb->as_root ? sb->uid : getuid());
  rlim_t np = (rlim_t)tasks + 64;
  sb->nproc = (struct rlimit){np, np};
  sb->fsize = (struct rlimit){(rlim_t)64 << 20, (rlim_t)64 << 20};
  sb->nofile = (struct rlimit){64, 64};
  sb->core = (struct rlimit){0, 0};
  const char *deny = getenv("PARLAB_TEST_DENY_LAYER");
  if (deny) snprintf(sb->deny_layer, sizeof sb->deny_layer, "%s", deny);
}

int grd__jail_start(const grd_jail_cfg *cfg, grd_jail **out, char **err) {
  *out = NULL;
  *err = NULL;
  int sv[2] = {-1, -1}, op[2] = {-1, -1}, devnull = -1, exe = -1;
  int rc = PL_ESANDBOX;
  char **argv = NULL;
  char *envp[8] = {0};
  grd_jail *j = calloc(1, sizeof *j);
  if (!j) return PL_ENOMEM;
  j->ctl = j->out = -1;
  j->progress = cfg->progress;
  j->progress_arg = cfg->progress_arg;

  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 ||
      pipe2(op, O_CLOEXEC) < 0 || (devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0 ||
      (exe = open(grd__jail_exe(), O_RDONLY | O_CLOEXEC)) < 0) {
    if (asprintf(err, "jail set-up failed: %s", strerror(errno)) < 0) *err = NULL;
    goto done;
  }

  /* argv: parlab __jail [--lua] FILE NAME:SIG ... */
  argv = calloc((size_t)(5 + cfg->nexports), sizeof *argv);
  if (!argv) { rc = PL_ENOMEM; goto done; }
  int a = 0;
  argv[a++] = "parlab-jail";
  argv[a++] = "__jail";
  if (cfg->lua) argv[a++] = "--lua";
  argv[a++] = (char *)cfg->so_path;
  for (int i = 0; i < cfg->nexports; i++) argv[a++] = cfg->specs[i];
  argv[a] = NULL;

  int threads = cfg->threads > 0 ? cfg->threads : 1;
  if (asprintf(&envp[0], "OMP_NUM_THREADS=%d", threads) < 0 ||
      asprintf(&envp[1], "HOME=%s", cfg->scratch) < 0 ||
      asprintf(&envp[2], "PARLAB_NUM_THREADS=%d", threads) < 0 ||
      !(envp[3] = strdup("PATH=/usr/bin:/bin")) || !(envp[4] = strdup("LANG=C.UTF-8")) ||
      /* OpenBLAS starts a thread pool when it loads: one thread is enough
       * for a process that does not use it. */
      !(envp[5] = strdup("OPENBLAS_NUM_THREADS=1"))) {
    rc = PL_ENOMEM;
    goto done;
  }

  grd_sandbox sb;
  grd__sandbox_defaults(&sb, cfg->cpu_s, cfg->mem_bytes);
  sb.ctl = sv[1];
  sb.out = op[1];
  sb.devnull = devnull;
  sb.exe_fd = exe;
  sb.argv = argv;
  sb.envp = envp;
  sb.newroot = cfg->newroot;
  sb.rw_dir = cfg->scratch;
  sb.ro_dirs[0] = cfg->ro_dir;
  sb.cwd = cfg->scratch;
  sb.weak = cfg->weak;
  sb.gpu = cfg->gpu;
  /* The CUDA driver reserves terabytes of virtual address space. */
  if (cfg->gpu) sb.as = (struct rlimit){RLIM_INFINITY, RLIM_INFINITY};

  pid_t pid = fork();
  if (pid < 0) {
    if (asprintf(err, "jail set-up failed: fork: %s", strerror(errno)) < 0) *err = NULL;
    goto done;
  }
  if (pid == 0) grd__sandbox_exec(&sb); /* never returns */

  j->pid = pid;
  j->alive = 1;
  j->ctl = sv[0];
  sv[0] = -1;
  j->out = op[0];
  op[0] = -1;
  close(sv[1]); sv[1] = -1;
  close(op[1]); op[1] = -1;
  fcntl(j->out, F_SETFL, fcntl(j->out, F_GETFL) | O_NONBLOCK);

  /* The jail answers HELLO once it has loaded the object and found every
   * export, or explains why it could not. */
  grd_wire_req hello = {.op = GRD_OP_HELLO};
  grd_wire_rep rep;
  double secs;
  char *why = NULL;
  rc = grd__jail_request(j, &hello, sizeof hello, NULL, 0, eng_now() + 10.0, &rep, &secs, &why);
  if (rc) {
    if (asprintf(err, "the submission could not be loaded: %s", why ? why : pl_strerror(rc)) < 0)
      *err = NULL;
    free(why);
    goto done;
  }
  if (rep.status) {
    rc = rep.status;
    *err = strdup(rep.msg);
    goto done;
  }
  *out = j;
  j = NULL;
  rc = 0;
done:
  if (sv[0] >= 0) close(sv[0]);
  if (sv[1] >= 0) close(sv[1]);
  if (op[0] >= 0) close(op[0]);
  if (op[1] >= 0) close(op[1]);
  if (devnull >= 0) close(devnull);
  if (exe >= 0) close(exe);
  for (int i = 0; envp[i]; i++) free(envp[i]);
  free(argv);
  grd__jail_free(j);
  return rc;
}

void grd__jail_free(grd_jail *j) {
  if (!j) return;
  if (j->pid) {
    if (j->stopped) kill(-j->pid, SIGCONT);
    reap(j, NULL, 0);
  }
  if (j->ctl >= 0) close(j->ctl);
  if (j->out >= 0) close(j->out);
  free(j->known);
  free(j->rbuf);
  free(j);
}

int grd__jail_alive(const grd_jail *j) { return j && j->alive; }

const int *grd__jail_payload_fds(grd_jail *j, int *n) {
  *n = j->nrfds;
  j->nrfds = 0; /* the caller owns them now */
  return j->rfds;
}

const char *grd__jail_payload(grd_jail *j, size_t *len) {
  *len = j->rlen > sizeof(grd_wire_rep) ? j->rlen - sizeof(grd_wire_rep) : 0;
  return j->rbuf ? j->rbuf + sizeof(grd_wire_rep) : NULL;
}
pid_t grd__jail_pid(const grd_jail *j) { return j ? j->pid : 0; }

int grd__jail_knows_array(grd_jail *j, uint64_t id) {
  for (int i = 0; i < j->nknown; i++)
    if (j->known[i] == id) return 1;
  if (j->nknown == j->capknown) {
    int cap = j->capknown ? 2 * j->capknown : 16;
    uint64_t *k = realloc(j->known, sizeof *k * (size_t)cap);
    if (!k) return 0; /* sending the fd again is always safe */
    j->known = k;
    j->capknown = cap;
  }
  j->known[j->nknown++] = id;
  return 0;
}

void grd__jail_stop(grd_jail *j, int stop) {
  if (!j || !j->alive || j->stopped == stop) return;
  kill(-j->pid, stop ? SIGSTOP : SIGCONT);
  j->stopped = stop;
}

int grd__jail_request(grd_jail *j, const grd_wire_req *req, size_t len, const int *fds,
                      int nfds, double deadline, grd_wire_rep *rep, double *seconds,
                      char **err) {
  *err = NULL;
  if (!j->alive) {
    *err = strdup("the jail is no longer running");
    return PL_ECRASH;
  }
  struct iovec iov = {(void *)req, len};
  union { char buf[CMSG_SPACE(sizeof(int) * GRD_MAX_ARGS)]; struct cmsghdr align; } cm;
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
  if (nfds > 0) {
    mh.msg_control = cm.buf;
    mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
  }
  double t0 = eng_now();
  if (sendmsg(j->ctl, &mh, MSG_NOSIGNAL) < 0) {
    int st = 0;
    reap(j, &st, 1.0);
    *err = describe_exit(j, st, "the submission");
    return PL_ECRASH;
  }
  for (;;) {
    double left = deadline - eng_now();
    if (left <= 0) {
      reap(j, NULL, 0);
      if (asprintf(err, "time limit exceeded (the call ran for %.1f s and was stopped)",
                   eng_now() - t0) < 0)
        *err = NULL;
      const char *tail = grd__jail_output_tail(j);
      if (*err && *tail) {
        char *m = NULL;
        if (asprintf(&m, "%s; last output:\n%s", *err, tail) >= 0) { free(*err); *err = m; }
      }
      return PL_ETIMEOUT;
    }
    struct pollfd pf[2] = {{j->ctl, POLLIN, 0}, {j->out, POLLIN, 0}};
    int ms = left > 1.0 ? 1000 : (int)(left * 1000) + 1;
    int n = poll(pf, 2, ms);
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) continue;
    if (pf[1].revents & (POLLIN | POLLHUP)) drain_output(j);
    if (pf[0].revents & POLLIN) {
      if (!j->rbuf && !(j->rbuf = malloc(sizeof *rep + GRD_WIRE_MAX))) break;
      union { char buf[CMSG_SPACE(sizeof(int) * GRD_MAX_ARGS)]; struct cmsghdr align; } rcm;
      struct iovec riov = {j->rbuf, sizeof *rep + GRD_WIRE_MAX};
      struct msghdr rmh = {.msg_iov = &riov, .msg_iovlen = 1, .msg_control = rcm.buf,
                           .msg_controllen = sizeof rcm.buf};
      ssize_t got = recvmsg(j->ctl, &rmh, MSG_CMSG_CLOEXEC);
      j->nrfds = 0;
      for (struct cmsghdr *c = CMSG_FIRSTHDR(&rmh); got > 0 && c; c = CMSG_NXTHDR(&rmh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        for (int i = 0; i < k; i++) {
          int fd;
          memcpy(&fd, CMSG_DATA(c) + sizeof(int) * (size_t)i, sizeof fd);
          if (j->nrfds < GRD_MAX_ARGS) j->rfds[j->nrfds++] = fd;
          else close(fd);
        }
      }
      if (got >= (ssize_t)sizeof *rep) {
        *seconds = eng_now() - t0;
        j->rlen = (size_t)got;
        memcpy(rep, j->rbuf, sizeof *rep);
        rep->msg[sizeof rep->msg - 1] = 0;
        return 0;
      }
      if (got > 0) {
        reap(j, NULL, 0);
        *err = strdup("the jail sent a malformed reply");
        return PL_EPROTO;
      }
      break; /* EOF: the jail is gone */
    }
    if (pf[0].revents & (POLLHUP | POLLERR)) break;
  }
  int st = 0;
  reap(j, &st, 1.0);
  *err = describe_exit(j, st, "the submission");
  return PL_ECRASH;
}
