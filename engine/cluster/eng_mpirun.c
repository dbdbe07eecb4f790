/*
 * eng_mpirun.c — mpicc and mpirun as child processes, and the loader of
 * the MPI link module. See eng_mpirun.h.
 *
 * A child runs in its own session so that a time limit can reach every
 * process it started: mpirun puts each rank in a process group of its
 * own, but they all stay in mpirun's session.
 */
#include "eng_mpirun.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "eng_measure.h"
#include "eng_mpi_link.h"
#include "eng_pool.h"
#include "eng_path.h"
#include "pl_err.h"

/* The last line every rank's wrapper prints: its program's exit status. */
#define EXIT_MARK "@@parlab-rank-exit "

static const char *env_or(const char *name, const char *dflt) {
  const char *v = getenv(name);
  return v && *v ? v : dflt;
}

const char *eng_mpi_mpirun(void) { return env_or("PARLAB_MPIRUN", "mpirun"); }
const char *eng_mpi_mpicc(void) { return env_or("PARLAB_MPICC", "mpicc"); }

/* An executable `cmd` (a path, or a name searched in PATH). */
static int findable(const char *cmd) {
  if (strchr(cmd, '/')) return access(cmd, X_OK) == 0;
  const char *path = env_or("PATH", "/usr/local/bin:/usr/bin:/bin");
  while (*path) {
    size_t n = strcspn(path, ":");
    char buf[PATH_MAX];
    if (n > 0 && n + strlen(cmd) + 2 < sizeof buf) {
      snprintf(buf, sizeof buf, "%.*s/%s", (int)n, path, cmd);
      if (access(buf, X_OK) == 0) return 1;
    }
    path += n;
    if (*path == ':') path++;
  }
  return 0;
}

int eng_mpi_available(char *why, size_t why_len) {
  const char *missing = !findable(eng_mpi_mpirun()) ? eng_mpi_mpirun()
                        : !findable(eng_mpi_mpicc()) ? eng_mpi_mpicc() : NULL;
  if (why && why_len) {
    if (missing)
      snprintf(why, why_len, "no MPI: '%s' not found (install Open MPI: openmpi-bin libopenmpi-dev)",
               missing);
    else
      why[0] = 0;
  }
  return missing == NULL;
}

int eng_mpi_launched(void) {
  const char *s = getenv("OMPI_COMM_WORLD_SIZE");
  if (!s) s = getenv("PMI_SIZE");
  return s && atoi(s) > 1;
}

/* Every process of session `sid` (except us) gets `sig`. */
static void kill_session(pid_t sid, int sig) {
  DIR *d = opendir("/proc");
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d))) {
    char *end;
    long pid = strtol(e->d_name, &end, 10);
    if (*end || pid <= 1 || pid == getpid()) continue;
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) continue;
    buf[n] = 0;
    /* pid (comm) state ppid pgrp session ...; comm may hold anything. */
    char *p = strrchr(buf, ')');
    long ppid, pgrp, session;
    char state;
    if (p && sscanf(p + 1, " %c %ld %ld %ld", &state, &ppid, &pgrp, &session) == 4 && session == sid)
      kill((pid_t)pid, sig);
  }
  closedir(d);
}

/* Run argv in a new session with stdout+stderr captured (capped at cap),
 * stdin from /dev/null. *status: exit status, -1 when killed. */
static int run_capture(char *const *argv, const char *cwd, double timeout_s, size_t cap,
                       char **out, int *status, int *timed_out, int *truncated, double *seconds) {
  int p[2];
  *out = NULL;
  *status = -1;
  *timed_out = *truncated = 0;
  if (pipe2(p, O_CLOEXEC)) return PL_EIO;
  double t0 = eng_now();
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    close(p[0]);
    close(p[1]);
    return PL_EIO;
  }
  if (pid == 0) {
    setsid();
    int dn = open("/dev/null", O_RDONLY);
    if (dn >= 0) dup2(dn, 0);
    dup2(p[1], 1);
    dup2(p[1], 2);
    if (cwd && chdir(cwd)) _exit(126);
    signal(SIGPIPE, SIG_DFL);
    execvp(argv[0], argv);
    dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  close(p[1]);
  char *buf = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&buf, &len);
  double deadline = timeout_s > 0 ? t0 + timeout_s : 0, kill_at = 0;
  int termed = 0;
  for (;;) {
    int wait_ms = -1;
    double now = eng_now();
    if (deadline > 0 && !termed && now >= deadline) {
      /* mpirun stops its ranks on SIGTERM; whatever is left gets SIGKILL. */
      *timed_out = 1;
      termed = 1;
      kill(pid, SIGTERM);
      kill_at = now + 3.0;
    }
    if (termed && now >= kill_at) {
      kill_session(pid, SIGKILL);
      kill(pid, SIGKILL);
      kill_at = now + 1.0;
    }
    if (termed) wait_ms = (int)((kill_at - now) * 1000) + 1;
    else if (deadline > 0) wait_ms = (int)((deadline - now) * 1000) + 1;
    struct pollfd pf = {p[0], POLLIN, 0};
    int r = poll(&pf, 1, wait_ms);
    if (r < 0 && errno != EINTR) break;
    if (r <= 0) continue;
    char chunk[8192];
    ssize_t n = read(p[0], chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (m && len + (size_t)n <= cap) fwrite(chunk, 1, (size_t)n, m);
    else if (m && len < cap) {
      fwrite(chunk, 1, cap - len, m);
      *truncated = 1;
    } else {
      *truncated = 1;
    }
    if (m) fflush(m);
  }
  close(p[0]);
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
  /* Ranks orphaned by a dead mpirun must not live on. */
  kill_session(pid, SIGKILL);
  *seconds = eng_now() - t0;
  *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  if (m) fclose(m);
  *out = buf ? buf : strdup("");
  return *out ? 0 : PL_ENOMEM;
}

int eng_mpi_build(const char *const *sources, const char *const *flags, const char *const *libs,
                  const char *out, double timeout_s, char **log) {
  if (log) *log = NULL;
  if (!sources || !sources[0] || !out) return PL_EINVAL;
  if (!findable(eng_mpi_mpicc())) return PL_ENOSYS;
  size_t n = 4;
  for (const char *const *p = flags; p && *p; p++) n++;
  for (const char *const *p = sources; *p; p++) n++;
  for (const char *const *p = libs; p && *p; p++) n++;
  char **argv = calloc(n + 1, sizeof *argv);
  if (!argv) return PL_ENOMEM;
  size_t a = 0;
  argv[a++] = (char *)eng_mpi_mpicc();
  for (const char *const *p = flags; p && *p; p++) argv[a++] = (char *)*p;
  argv[a++] = "-o";
  argv[a++] = (char *)out;
  for (const char *const *p = sources; *p; p++) argv[a++] = (char *)*p;
  for (const char *const *p = libs; p && *p; p++) argv[a++] = (char *)*p;
  argv[a] = NULL;
  char *text = NULL;
  int status, timed_out, truncated;
  double secs;
  int rc = run_capture(argv, NULL, timeout_s > 0 ? timeout_s : 120, 256 * 1024, &text, &status,
                       &timed_out, &truncated, &secs);
  free(argv);
  if (rc) return rc;
  if (timed_out || status != 0) rc = PL_ECOMPILE;
  if (log) *log = text;
  else free(text);
  return rc;
}

void eng_mpi_run_result_free(eng_mpi_run_result *res) {
  if (!res) return;
  for (int i = 0; i < res->nranks; i++) {
    if (res->rank_out) free(res->rank_out[i]);
    if (res->rank_err) free(res->rank_err[i]);
  }
  free(res->rank_out);
  free(res->rank_err);
  free(res->rank_status);
  free(res->output);
  memset(res, 0, sizeof *res);
}

/* Length of a tag "[job,rank]<stream>:" at p (0 if there is none);
 * *rank and *is_out say whose it is. */
static size_t tag_at(const char *p, int *rank, int *is_out) {
  int job, off = 0;
  char stream[8];
  if (p[0] != '[') return 0;
  if (sscanf(p, "[%d,%d]<%7[a-z]>:%n", &job, rank, stream, &off) == 3 && off > 0) {
    *is_out = !strcmp(stream, "stdout");
    return (size_t)off;
  }
  return 0;
}

/* Split mpirun's tagged output per rank and stream. mpirun tags every
 * chunk it reads from a rank, and a chunk may end in the middle of a
 * line; the next chunk (of that rank or another) then starts with its own
 * tag on the same output line: "[1,0]<stdout>:li[1,1]<stdout>:x\n". So
 * the output is read as segments, each running from a tag to the next
 * tag or newline, appended to its own rank's stream; a newline ends the
 * line of the segment it closes. Untagged lines are mpirun's own. */
static int split_ranks(eng_mpi_run_result *res) {
  int n = res->nranks, rc = PL_ENOMEM;
  FILE **f = calloc((size_t)n * 2, sizeof *f);
  size_t *len = calloc((size_t)n * 2, sizeof *len);
  char **buf = calloc((size_t)n * 2, sizeof *buf);
  res->rank_out = calloc((size_t)n, sizeof *res->rank_out);
  res->rank_err = calloc((size_t)n, sizeof *res->rank_err);
  res->rank_status = calloc((size_t)n, sizeof *res->rank_status);
  if (!f || !len || !buf || !res->rank_out || !res->rank_err || !res->rank_status) goto done;
  for (int i = 0; i < 2 * n; i++)
    if (!(f[i] = open_memstream(&buf[i], &len[i]))) goto done;
  FILE *cur = NULL;
  for (const char *p = res->output; *p;) {
    int rank, is_out;
    size_t tl = tag_at(p, &rank, &is_out);
    if (tl) {
      cur = rank >= 0 && rank < n ? f[2 * rank + !is_out] : NULL;
      p += tl;
      continue;
    }
    /* Text up to the next newline or the next tag. */
    const char *q = p;
    while (*q && *q != '\n' && !(q > p && *q == '[' && tag_at(q, &rank, &is_out))) q++;
    if (cur) fwrite(p, 1, (size_t)(q - p), cur);
    if (*q == '\n') {
      if (cur) fputc('\n', cur);
      cur = NULL;
      q++;
    }
    p = q;
  }
  for (int i = 0; i < 2 * n; i++) {
    fclose(f[i]);
    f[i] = NULL;
  }
  /* Each rank's wrapper printed its exit status last (after the program's
   * own last line, on the same line if that had no newline). */
  for (int r = 0; r < n; r++) {
    res->rank_status[r] = -1;
    char *mark = NULL;
    for (char *m = buf[2 * r]; (m = strstr(m, EXIT_MARK)); m++) mark = m;
    if (mark) {
      res->rank_status[r] = atoi(mark + strlen(EXIT_MARK));
      if (mark > buf[2 * r] && mark[-1] != '\n') *mark++ = '\n';
      *mark = 0;
    }
    res->rank_out[r] = buf[2 * r];
    res->rank_err[r] = buf[2 * r + 1];
    buf[2 * r] = buf[2 * r + 1] = NULL;
  }
  rc = 0;
done:
  for (int i = 0; f && i < 2 * n; i++)
    if (f[i]) fclose(f[i]);
  for (int i = 0; buf && i < 2 * n; i++) free(buf[i]);
  for (int r = 0; r < n; r++) {
    if (res->rank_out && !res->rank_out[r]) res->rank_out[r] = strdup("");
    if (res->rank_err && !res->rank_err[r]) res->rank_err[r] = strdup("");
  }
  free(f);
  free(len);
  free(buf);
  return rc;
}

int eng_mpi_run(const eng_mpi_run_opts *o, eng_mpi_run_result *res) {
  memset(res, 0, sizeof *res);
  if (!o || o->ranks < 1 || o->ranks > 1024 || !o->argv || !o->argv[0]) return PL_EINVAL;
  if (!findable(eng_mpi_mpirun())) return PL_ENOSYS;
  size_t nextra = 0, nargs = 0;
  for (char *const *p = o->mpirun_args; p && *p; p++) nextra++;
  for (char *const *p = o->argv; *p; p++) nargs++;
  char **argv = calloc(nextra + nargs + 24, sizeof *argv);
  if (!argv) return PL_ENOMEM;
  char np[16];
  snprintf(np, sizeof np, "%d", o->ranks);
  size_t a = 0;
  argv[a++] = (char *)eng_mpi_mpirun();
  if (geteuid() == 0) argv[a++] = "--allow-run-as-root";
  int over = o->oversubscribe;
  if (over < 0) over = !o->hostfile && o->ranks > eng_cores();
  if (over) argv[a++] = "--oversubscribe";
  argv[a++] = "--bind-to";
  argv[a++] = (char *)(o->bind ? o->bind : "none");
  argv[a++] = "--tag-output";
  if (o->hostfile) {
    argv[a++] = "--hostfile";
    argv[a++] = (char *)o->hostfile;
  }
  if (o->keep_going) {
    argv[a++] = "--mca";
    argv[a++] = "orte_abort_on_non_zero_status";
    argv[a++] = "0";
  }
  for (char *const *p = o->mpirun_args; p && *p; p++) argv[a++] = *p;
  argv[a++] = "-np";
  argv[a++] = np;
  /* The wrapper: $0 is the program, "$@" its arguments. */
  argv[a++] = "/bin/sh";
  argv[a++] = "-c";
  argv[a++] = "\"$0\" \"$@\"; s=$?; echo \"" EXIT_MARK "$s\"; exit $s";
  for (char *const *p = o->argv; *p; p++) argv[a++] = *p;
  argv[a] = NULL;
  res->nranks = o->ranks;
  int rc = run_capture(argv, o->cwd, o->timeout_s, o->out_cap ? o->out_cap : (size_t)4 << 20,
                       &res->output, &res->status, &res->timed_out, &res->truncated, &res->seconds);
  free(argv);
  if (!rc) rc = split_ranks(res);
  for (int r = 0; !rc && o->keep_going && res->status == 0 && r < res->nranks; r++)
    if (res->rank_status[r] != 0) res->status = res->rank_status[r];
  if (rc) eng_mpi_run_result_free(res);
  return rc;
}

/* ---------------------------------------------------------- the module */

static pthread_mutex_t link_mu = PTHREAD_MUTEX_INITIALIZER;
static const eng_mpi_link *link_table;
static char link_why[PATH_MAX + 512];

static int load_module(void) {
  char path[PATH_MAX];
  const char *env = getenv("PARLAB_MPI_MODULE");
  if (env && *env) {
    snprintf(path, sizeof path, "%s", env);
  } else {
    if (eng_exe_sibling("libparlab-mpi.so", path, sizeof path)) {
      snprintf(link_why, sizeof link_why,
               "no MPI: cannot find the running executable (or its path is too long)");
      return PL_ENOSYS;
    }
  }
  if (access(path, R_OK)) {
    snprintf(link_why, sizeof link_why,
             "no MPI: %s not found (this parlab was built without Open MPI; install "
             "libopenmpi-dev and rebuild, or set PARLAB_MPI_MODULE)", path);
    return PL_ENOSYS;
  }
  /* RTLD_GLOBAL: Open MPI loads its components with dlopen and they
   * resolve libmpi's symbols through the global scope. */
  void *h = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
  if (!h) {
    snprintf(link_why, sizeof link_why, "no MPI: cannot load %s: %.300s", path, dlerror());
    return PL_ENOSYS;
  }
  eng_mpi_link_table_fn fn;
  *(void **)&fn = dlsym(h, "eng_mpi_link_table");
  const eng_mpi_link *t = fn ? fn() : NULL;
  if (!t || t->abi != ENG_MPI_LINK_ABI) {
    snprintf(link_why, sizeof link_why, "no MPI: %s is from another parlab version", path);
    return PL_ENOSYS;
  }
  link_table = t;
  return 0;
}

int eng_mpi_link_load(const eng_mpi_link **link, char *why, size_t why_len) {
  pthread_mutex_lock(&link_mu);
  int rc = link_table ? 0 : load_module();
  pthread_mutex_unlock(&link_mu);
  *link = rc ? NULL : link_table;
  if (why && why_len) snprintf(why, why_len, "%s", rc ? link_why : "");
  return rc;
}
