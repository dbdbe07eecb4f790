/*
 * grd_batch.c — batch grading: discovery, forked workers, recording,
 * exports (CSV, JSON, Gradescope results.json).
 *
 * Workers are processes, not threads: grd_run() drives jails with signals
 * and waits on children, a broken Lua lab state must not take down the
 * others, and a worker that dies costs one student's grading, not the
 * batch. Each worker reads submission indices from its task pipe and
 * writes back { index, status, length } + payload (the result as JSON, or
 * an error text) on its result pipe.
 */
#include "grd_batch.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "eng_pool.h"
#include "pl_err.h"

/* ------------------------------------------------------------ discovery */

void grd_subs_free(grd_sub *s, int n) {
  if (!s) return;
  for (int i = 0; i < n; i++) {
    free(s[i].student);
    free(s[i].path);
  }
  free(s);
}

static int cmp_sub(const void *a, const void *b) {
  return strcmp(((const grd_sub *)a)->student, ((const grd_sub *)b)->student);
}

int grd_batch_discover(const lx_lab *lab, const char *dir, grd_sub **out, int *n, char **err) {
  *out = NULL;
  *n = 0;
  *err = NULL;
  const char *ext = strrchr(lab->sub_file, '.'); /* ".c", ".lua"; NULL: folders only */
  size_t extlen = ext ? strlen(ext) : 0;
  grd_sub *s = NULL;
  int ns = 0, rc = PL_ENOMEM;
  /* Absolute paths: the gradebook outlives the current directory. */
  char *root = realpath(dir, NULL);
  DIR *d = root ? opendir(root) : NULL;
  if (!d) {
    if (asprintf(err, "%s: cannot read the submissions folder: %s", dir, strerror(errno)) < 0)
      *err = NULL;
    free(root);
    return PL_ENOTFOUND;
  }
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    char *path = NULL;
    struct stat st;
    if (asprintf(&path, "%s/%s", root, e->d_name) < 0) goto done;
    if (stat(path, &st)) { free(path); continue; }
    char *student = NULL, *file = NULL;
    if (S_ISDIR(st.st_mode)) {
      student = strdup(e->d_name);
      if (asprintf(&file, "%s/%s", path, lab->sub_file) < 0) file = NULL;
      struct stat fs;
      if (file && (stat(file, &fs) || !S_ISREG(fs.st_mode))) {
        free(file);
        file = NULL; /* a missing submission: recorded as such */
      }
      free(path);
    } else if (S_ISREG(st.st_mode) && ext) {
      size_t len = strlen(e->d_name);
      if (len <= extlen || strcmp(e->d_name + len - extlen, ext)) { free(path); continue; }
      student = strndup(e->d_name, len - extlen);
      file = path;
    } else {
      free(path);
      continue;
    }
    if (!student) { free(file); goto done; }
    grd_sub *ns2 = realloc(s, sizeof *s * (size_t)(ns + 1));
    if (!ns2) { free(student); free(file); goto done; }
    s = ns2;
    memset(&s[ns], 0, sizeof *s);
    s[ns].student = student;
    s[ns].path = file;
    ns++;
  }
  qsort(s, (size_t)ns, sizeof *s, cmp_sub);
  for (int i = 0; i + 1 < ns; i++)
    if (!strcmp(s[i].student, s[i + 1].student)) {
      if (asprintf(err, "%s: two submissions for student '%s' (%s%s and %s/%s); keep one",
                   dir, s[i].student, s[i].student, ext ? ext : "", s[i].student, lab->sub_file) < 0)
        *err = NULL;
      rc = PL_EINVAL;
      goto done;
    }
  for (int i = 0; i < ns; i++) {
    struct stat st;
    if (!s[i].path) continue;
    if (grd_hash_file(s[i].path, s[i].sha256) || stat(s[i].path, &st)) {
      if (asprintf(err, "%s: cannot read: %s", s[i].path, strerror(errno)) < 0) *err = NULL;
      rc = PL_EIO;
      goto done;
    }
    s[i].mtime = (long long)st.st_mtime;
  }
  *out = s;
  *n = ns;
  s = NULL;
  ns = 0;
  rc = 0;
done:
  closedir(d);
  free(root);
  grd_subs_free(s, ns);
  return rc;
}

const char *grd_sub_status_name(grd_sub_status s) {
  switch (s) {
  case GRD_SUB_GRADED: return "graded";
  case GRD_SUB_MISSING: return "missing";
  default: return "error";
  }
}

/* ---------------------------------------------------------- results */

int grd_result_failed(const lx_lab *lab, const char *submission, const char *why, grd_result **out) {
  grd_result *r = calloc(1, sizeof *r);
  *out = NULL;
  if (!r) return PL_ENOMEM;
  r->lab = strdup(lab->id);
  r->submission = strdup(submission ? submission : "");
  r->sub_hash = strdup("");
  r->checks = calloc((size_t)lab->nchecks + 1, sizeof *r->checks);
  r->diagnostics = calloc(1, sizeof *r->diagnostics);
  if (!r->lab || !r->submission || !r->sub_hash || !r->checks || !r->diagnostics) goto fail;
  if (!(r->diagnostics[0] = strdup(why))) goto fail;
  r->ndiagnostics = 1;
  for (int i = 0; i < lab->nchecks; i++) {
    grd_check_result *c = &r->checks[i];
    r->nchecks++;
    c->name = strdup(lab->checks[i].name);
    c->message = strdup(why);
    c->hidden = lab->checks[i].hidden;
    c->max_score = lab->checks[i].points;
    r->max_score += c->max_score;
    if (!c->name || !c->message) goto fail;
  }
  *out = r;
  return 0;
fail:
  grd_result_free(r);
  return PL_ENOMEM;
}

static char *jstr(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return strdup(cJSON_IsString(v) && v->valuestring ? v->valuestring : "");
}

static double jnum(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static int jbool(const cJSON *o, const char *k) {
  return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, k));
}

/* The inverse of grd_result_json(r, 1): how a worker's result crosses the
 * pipe. */
static int result_from_json(const char *text, grd_result **out) {
  *out = NULL;
  cJSON *doc = cJSON_Parse(text);
  if (!doc) return PL_EPROTO;
  int rc = PL_ENOMEM;
  grd_result *r = calloc(1, sizeof *r);
  if (!r) goto done;
  r->lab = jstr(doc, "lab");
  r->submission = jstr(doc, "submission");
  r->sub_hash = jstr(doc, "submission_sha256");
  r->score = jnum(doc, "score");
  r->max_score = jnum(doc, "max_score");
  r->compiled = jbool(doc, "compiled");
  r->weak_jail = jbool(doc, "weak_jail");
  r->seconds = jnum(doc, "seconds");
  if (!r->lab || !r->submission || !r->sub_hash) goto done;
  const cJSON *checks = cJSON_GetObjectItemCaseSensitive(doc, "checks");
  const cJSON *diag = cJSON_GetObjectItemCaseSensitive(doc, "diagnostics");
  int nc = cJSON_GetArraySize(checks), nd = cJSON_GetArraySize(diag);
  r->checks = calloc((size_t)nc + 1, sizeof *r->checks);
  r->diagnostics = calloc((size_t)nd + 1, sizeof *r->diagnostics);
  if (!r->checks || !r->diagnostics) goto done;
  const cJSON *c;
  cJSON_ArrayForEach(c, checks) {
    grd_check_result *x = &r->checks[r->nchecks++];
    x->name = jstr(c, "name");
    x->message = jstr(c, "message");
    x->passed = jbool(c, "passed");
    x->skipped = jbool(c, "skipped");
    x->hidden = jbool(c, "hidden");
    x->score = jnum(c, "score");
    x->max_score = jnum(c, "max_score");
    x->seconds = jnum(c, "seconds");
    x->attempts = (int)jnum(c, "attempts");
    if (!x->name || !x->message) goto done;
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(c, "figures");
    const cJSON *th = cJSON_GetObjectItemCaseSensitive(f, "threads");
    const cJSON *sec = cJSON_GetObjectItemCaseSensitive(f, "seconds");
    int np = cJSON_GetArraySize(th);
    if (np > 8 || np != cJSON_GetArraySize(sec)) np = 0;
    for (int k = 0; k < np; k++) {
      x->threads[k] = cJSON_GetNumberValue(cJSON_GetArrayItem(th, k));
      x->times[k] = cJSON_GetNumberValue(cJSON_GetArrayItem(sec, k));
    }
    x->npoints = np;
    x->baseline_s = np ? jnum(f, "baseline_s") : 0;
  }
  cJSON_ArrayForEach(c, diag) {
    if (!(r->diagnostics[r->ndiagnostics] = strdup(cJSON_IsString(c) ? c->valuestring : ""))) goto done;
    r->ndiagnostics++;
  }
  *out = r;
  r = NULL;
  rc = 0;
done:
  grd_result_free(r);
  cJSON_Delete(doc);
  return rc;
}

/* For grd_mpi_batch.c (grd_mpi.h): results from other MPI ranks. */
int grd__result_from_json(const char *text, grd_result **out) { return result_from_json(text, out); }

/* ------------------------------------------------------------- workers */

typedef struct msg_hdr {
  int32_t index;
  int32_t status; /* 0: payload is the result JSON; else PL_E*, payload is the error */
  uint32_t len;
} msg_hdr;

typedef struct worker {
  pid_t pid;
  int task_fd, result_fd; /* parent's ends; -1 when closed */
  int busy;               /* index being graded, -1 when idle */
} worker;

static int write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len) {
    ssize_t w = write(fd, p, len);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w;
    len -= (size_t)w;
  }
  return 0;
}

/* 1: read len bytes; 0: EOF before any byte; -1: error or short. */
static int read_all(int fd, void *buf, size_t len) {
  char *p = buf;
  size_t got = 0;
  while (got < len) {
    ssize_t r = read(fd, p + got, len - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) return got ? -1 : 0;
    got += (size_t)r;
  }
  return 1;
}

static void send_msg(int fd, int index, int status, const char *payload) {
  msg_hdr h = {.index = index, .status = status, .len = (uint32_t)strlen(payload)};
  if (write_all(fd, &h, sizeof h) == 0) write_all(fd, payload, h.len);
}

static void worker_main(const lx_lab *lab, const grd_sub *subs, const grd_batch_opts *o, int task_fd,
                        int result_fd, pid_t parent) {
  /* A batch killed with -9 must not leave workers (and their jails,
   * which die with their worker) grading on. */
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (getppid() != parent) _exit(0);
  signal(SIGPIPE, SIG_DFL);
  int32_t index;
  while (read_all(task_fd, &index, sizeof index) == 1) {
    grd_opts go = {.submission = subs[index].path, .scratch_root = o->scratch_root,
                   .weak_jail = o->weak_jail};
    grd_result *r = NULL;
    char *err = NULL;
    int rc = grd_run(lab, &go, &r, &err);
    if (rc == 0) {
      char *s = grd_result_json(r, 1);
      if (s) send_msg(result_fd, index, 0, s);
      else send_msg(result_fd, index, PL_ENOMEM, "out of memory");
      free(s);
    } else {
      send_msg(result_fd, index, rc, err ? err : pl_strerror(rc));
    }
    free(err);
    grd_result_free(r);
  }
  _exit(0);
}

static int worker_start(worker *w, const lx_lab *lab, const grd_sub *subs, const grd_batch_opts *o,
                        const worker *all, int nall) {
  int tp[2], rp[2];
  w->pid = -1;
  w->task_fd = w->result_fd = -1;
  w->busy = -1;
  if (pipe2(tp, O_CLOEXEC)) return PL_EIO;
  if (pipe2(rp, O_CLOEXEC)) { close(tp[0]); close(tp[1]); return PL_EIO; }
  fflush(NULL); /* no stdio buffer is written twice */
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    close(tp[0]); close(tp[1]); close(rp[0]); close(rp[1]);
    return PL_EIO;
  }
  if (pid == 0) {
    /* Other workers' pipes: holding them would keep those workers from
     * seeing EOF on their task pipe. */
    for (int i = 0; i < nall; i++) {
      if (all[i].task_fd >= 0) close(all[i].task_fd);
      if (all[i].result_fd >= 0) close(all[i].result_fd);
    }
    close(tp[1]);
    close(rp[0]);
    worker_main(lab, subs, o, tp[0], rp[1], parent);
  }
  close(tp[0]);
  close(rp[1]);
  w->pid = pid;
  w->task_fd = tp[1];
  w->result_fd = rp[0];
  return 0;
}

static void worker_close(worker *w, int kill_it) {
  if (w->task_fd >= 0) close(w->task_fd);
  if (w->result_fd >= 0) close(w->result_fd);
  w->task_fd = w->result_fd = -1;
  if (w->pid > 0) {
    if (kill_it) kill(w->pid, SIGKILL);
    while (waitpid(w->pid, NULL, 0) < 0 && errno == EINTR) {}
  }
  w->pid = -1;
  w->busy = -1;
}

/* Report a per-student failure through `done`. */
static int report_failed(const lx_lab *lab, const grd_sub *s, int index, grd_sub_status st,
                         const char *why, const grd_batch_opts *o) {
  grd_result *r = NULL;
  int rc = grd_result_failed(lab, s->path, why, &r);
  if (rc) return rc;
  free(r->sub_hash);
  r->sub_hash = strdup(s->sha256);
  rc = r->sub_hash ? o->done(o->arg, index, st, r, why) : PL_ENOMEM;
  grd_result_free(r);
  return rc;
}

int grd_batch_run(const lx_lab *lab, const grd_sub *subs, int n, const unsigned char *todo,
                  const grd_batch_opts *o, char **err) {
  *err = NULL;
  int jobs = o->jobs > 0 ? o->jobs : 1, rc = 0, next = 0, running = 0;
  int *queue = calloc((size_t)n + 1, sizeof *queue), nq = 0;
  worker *w = calloc((size_t)jobs, sizeof *w);
  struct sigaction ign = {.sa_handler = SIG_IGN}, old_pipe;
  if (!queue || !w) { free(queue); free(w); return PL_ENOMEM; }
  for (int i = 0; i < jobs; i++) w[i].pid = w[i].task_fd = w[i].result_fd = w[i].busy = -1;
  /* A worker that died must show up as EPIPE on its task pipe, not kill us. */
  sigaction(SIGPIPE, &ign, &old_pipe);

  for (int i = 0; i < n; i++) {
    if (todo && !todo[i]) continue;
    if (!subs[i].path) {
      if ((rc = report_failed(lab, &subs[i], i, GRD_SUB_MISSING, "missing submission: no file", o)))
        goto done;
      continue;
    }
    queue[nq++] = i;
  }
  if (jobs > nq) jobs = nq;

  while (next < nq || running > 0) {
    /* Hand out work; (re)start workers that are not there. */
    for (int k = 0; k < jobs && next < nq; k++) {
      if (w[k].busy >= 0) continue;
      if (w[k].pid < 0 && (rc = worker_start(&w[k], lab, subs, o, w, jobs))) goto done;
      int32_t idx = queue[next];
      if (write_all(w[k].task_fd, &idx, sizeof idx)) {
        worker_close(&w[k], 1); /* died while idle: start another */
        continue;
      }
      next++;
      w[k].busy = idx;
      running++;
      if (o->start) o->start(o->arg, idx);
    }
    struct pollfd pf[64];
    int map[64], np = 0;
    for (int k = 0; k < jobs && np < 64; k++)
      if (w[k].busy >= 0) {
        pf[np] = (struct pollfd){w[k].result_fd, POLLIN, 0};
        map[np++] = k;
      }
    if (np == 0) continue;
    if (poll(pf, (nfds_t)np, -1) < 0) {
      if (errno == EINTR) continue;
      rc = PL_EIO;
      goto done;
    }
    for (int p = 0; p < np; p++) {
      if (!(pf[p].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      worker *x = &w[map[p]];
      int idx = x->busy;
      msg_hdr h;
      char *payload = NULL;
      int got = read_all(x->result_fd, &h, sizeof h);
      if (got == 1 && h.index == idx && h.len < (64u << 20) && (payload = malloc(h.len + 1)) &&
          read_all(x->result_fd, payload, h.len) == 1) {
        payload[h.len] = 0;
      } else {
        free(payload);
        payload = NULL;
      }
      x->busy = -1;
      running--;
      if (!payload) {
        /* The worker died mid-grading (killed, out of memory, a bug):
         * that student gets an error attempt, retried by the next run. */
        int st = 0;
        char why[160];
        kill(x->pid, SIGKILL);
        while (waitpid(x->pid, &st, 0) < 0 && errno == EINTR) {}
        x->pid = -1;
        worker_close(x, 0);
        snprintf(why, sizeof why, "grading error: the grading process died (%s %d)",
                 WIFSIGNALED(st) ? "signal" : "exit status",
                 WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
        if ((rc = report_failed(lab, &subs[idx], idx, GRD_SUB_ERROR, why, o))) goto done;
        continue;
      }
      if (h.status == PL_ESANDBOX || h.status == PL_ELUA) {
        /* Never grade unsandboxed; a broken lab is broken for everyone. */
        rc = h.status;
        *err = payload;
        goto done;
      }
      if (h.status) {
        char *why = NULL;
        if (asprintf(&why, "grading error: %s", payload) < 0) why = NULL;
        rc = report_failed(lab, &subs[idx], idx, GRD_SUB_ERROR, why ? why : payload, o);
        free(why);
        free(payload);
        if (rc) goto done;
        continue;
      }
      grd_result *r = NULL;
      rc = result_from_json(payload, &r);
      free(payload);
      if (rc) {
        rc = report_failed(lab, &subs[idx], idx, GRD_SUB_ERROR,
                           "grading error: unreadable result from the grading process", o);
        if (rc) goto done;
        continue;
      }
      rc = o->done(o->arg, idx, GRD_SUB_GRADED, r, "");
      grd_result_free(r);
      if (rc) goto done;
    }
  }
  rc = 0;
done:
  for (int k = 0; k < jobs; k++) worker_close(&w[k], rc != 0);
  sigaction(SIGPIPE, &old_pipe, NULL);
  free(queue);
  free(w);
  return rc;
}

/* ------------------------------------------------------------ machine */

static char *trim_dup(const char *s) {
  while (*s == ' ' || *s == '\t') s++;
  size_t n = strlen(s);
  while (n && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\r')) n--;
  return strndup(s, n);
}

int grd_machine_get(db_machine *m) {
  memset(m, 0, sizeof *m);
  struct utsname u;
  int have_u = uname(&u) == 0;
  m->hostname = strdup(have_u ? u.nodename : "unknown");
  m->kernel = strdup(have_u ? u.release : "unknown");
  m->parlab_version = strdup(PL_VERSION);
  m->cores = eng_cores();
  FILE *f = fopen("/proc/cpuinfo", "r");
  char line[512];
  while (f && !m->cpu_model && fgets(line, sizeof line, f)) {
    char *colon = strchr(line, ':');
    if (!colon) continue;
    /* x86: "model name"; some ARM kernels: "Model" or "Hardware". */
    if (!strncmp(line, "model name", 10) || !strncmp(line, "Model", 5) || !strncmp(line, "Hardware", 8))
      m->cpu_model = trim_dup(colon + 1);
  }
  if (f) fclose(f);
  if (!m->cpu_model) m->cpu_model = strdup(have_u ? u.machine : "unknown");
  if (!m->hostname || !m->kernel || !m->parlab_version || !m->cpu_model) {
    grd_machine_free(m);
    return PL_ENOMEM;
  }
  return 0;
}

void grd_machine_free(db_machine *m) {
  free(m->hostname);
  free(m->cpu_model);
  free(m->kernel);
  free(m->parlab_version);
  memset(m, 0, sizeof *m);
}

int grd_batch_record(db *d, long long batch_id, const grd_sub *s, grd_sub_status status,
                     const grd_result *r) {
  db_submission ds = {.student = s->student, .lab = r->lab, .sha256 = s->sha256,
                      .path = s->path ? s->path : "", .submitted_at = s->mtime};
  return db_submission_record(d, batch_id, &ds, grd_sub_status_name(status), r, NULL);
}

/* ------------------------------------------------------------- exports */

char *grd_gradescope_json(const grd_result *r, const char *output) {
  cJSON *doc = cJSON_CreateObject();
  char *text = NULL, *s = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (!doc || !f) goto done;
  if (output && *output) fprintf(f, "%s\n", output);
  fprintf(f, "Score: %g/%g\n", r->score, r->max_score);
  if (!r->compiled && r->ndiagnostics) fprintf(f, "\nThe checks did not run:\n");
  else if (r->ndiagnostics) fprintf(f, "\nCompiler output:\n");
  for (int i = 0; i < r->ndiagnostics; i++) fprintf(f, "  %s\n", r->diagnostics[i]);
  if (fclose(f)) { f = NULL; goto done; }
  f = NULL;
  cJSON_AddNumberToObject(doc, "score", r->score);
  /* The documented example gives whole seconds. */
  cJSON_AddNumberToObject(doc, "execution_time", (double)(long)ceil(r->seconds));
  cJSON_AddStringToObject(doc, "output", text);
  cJSON_AddStringToObject(doc, "visibility", "visible");
  cJSON_AddStringToObject(doc, "stdout_visibility", "hidden");
  cJSON *tests = cJSON_AddArrayToObject(doc, "tests");
  for (int i = 0; i < r->nchecks; i++) {
    const grd_check_result *c = &r->checks[i];
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "name", c->name);
    cJSON_AddNumberToObject(t, "score", c->score);
    cJSON_AddNumberToObject(t, "max_score", c->max_score);
    cJSON_AddStringToObject(t, "status", c->passed ? "passed" : "failed");
    /* A hidden check's message may hold its inputs: students get only the
     * verdict, and only once grades are published. */
    char *m = NULL;
    if (c->skipped && !c->hidden && strncmp(c->message, "skipped", 7) &&
        asprintf(&m, "not run: %s", c->message) < 0)
      m = NULL;
    cJSON_AddStringToObject(t, "output", c->hidden ? "hidden check: details are not shown"
                                         : m ? m : c->message);
    free(m);
    cJSON_AddStringToObject(t, "visibility", c->hidden ? "after_published" : "visible");
    cJSON_AddItemToArray(tests, t);
  }
  /* The leaderboard ranks the speedup of each visible timed check, from
   * the measured figures (never from message text), and only for a
   * submission whose correctness checks (those without figures) all
   * passed: a fast wrong answer does not rank. */
  cJSON *board = cJSON_AddArrayToObject(doc, "leaderboard");
  int correct = r->compiled;
  for (int i = 0; i < r->nchecks; i++)
    if (r->checks[i].npoints == 0 && !r->checks[i].passed && !r->checks[i].skipped) correct = 0;
  for (int i = 0; correct && board && i < r->nchecks; i++) {
    const grd_check_result *c = &r->checks[i];
    double sp = grd_check_speedup(c);
    if (c->hidden || !(sp > 0)) continue;
    char *name = NULL;
    if (asprintf(&name, "%s (speedup)", c->name) < 0) goto done;
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "name", name);
    cJSON_AddNumberToObject(e, "value", round(sp * 100) / 100);
    cJSON_AddStringToObject(e, "order", "desc");
    cJSON_AddItemToArray(board, e);
    free(name);
  }
  s = cJSON_Print(doc);
done:
  if (f) fclose(f);
  free(text);
  cJSON_Delete(doc);
  return s;
}

static void iso_time(long long t, char out[32]) {
  time_t tt = (time_t)t;
  struct tm tm;
  gmtime_r(&tt, &tm);
  strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* RFC 4180: quote fields holding a comma, quote, CR or LF; double quotes. */
static void csv_field(FILE *out, const char *s) {
  if (!strpbrk(s, ",\"\r\n")) { fputs(s, out); return; }
  fputc('"', out);
  for (; *s; s++) {
    if (*s == '"') fputc('"', out);
    fputc(*s, out);
  }
  fputc('"', out);
}

int grd_export_csv(FILE *out, const db_grade *g, int n) {
  fputs("id,lab,score,max_score,timestamp,sha256\r\n", out);
  for (int i = 0; i < n; i++) {
    char ts[32];
    iso_time(g[i].at, ts);
    csv_field(out, g[i].student);
    fputc(',', out);
    csv_field(out, g[i].lab);
    fprintf(out, ",%g,%g,%s,", g[i].r->score, g[i].r->max_score, ts);
    csv_field(out, g[i].sha256);
    fputs("\r\n", out);
  }
  return ferror(out) ? PL_EIO : 0;
}

int grd_export_json(FILE *out, db *d, const db_grade *g, int n) {
  db_batch *b = NULL;
  int nb = 0, rc = db_batches_get(d, &b, &nb);
  if (rc) return rc;
  cJSON *doc = cJSON_CreateObject();
  char ts[32];
  cJSON_AddStringToObject(doc, "parlab_version", PL_VERSION);
  iso_time((long long)time(NULL), ts);
  cJSON_AddStringToObject(doc, "exported_at", ts);
  cJSON *ba = cJSON_AddArrayToObject(doc, "batches");
  for (int i = 0; i < nb; i++) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)b[i].id);
    cJSON_AddStringToObject(o, "lab", b[i].lab);
    cJSON_AddStringToObject(o, "dir", b[i].dir);
    cJSON_AddNumberToObject(o, "jobs", b[i].jobs);
    iso_time(b[i].started_at, ts);
    cJSON_AddStringToObject(o, "started_at", ts);
    if (b[i].finished_at) {
      iso_time(b[i].finished_at, ts);
      cJSON_AddStringToObject(o, "finished_at", ts);
    } else {
      cJSON_AddNullToObject(o, "finished_at");
    }
    cJSON *m = cJSON_AddObjectToObject(o, "machine");
    cJSON_AddStringToObject(m, "hostname", b[i].m.hostname);
    cJSON_AddStringToObject(m, "cpu_model", b[i].m.cpu_model);
    cJSON_AddNumberToObject(m, "cores", b[i].m.cores);
    cJSON_AddStringToObject(m, "kernel", b[i].m.kernel);
    cJSON_AddStringToObject(o, "parlab_version", b[i].m.parlab_version);
    cJSON_AddItemToArray(ba, o);
  }
  cJSON *ga = cJSON_AddArrayToObject(doc, "grades");
  for (int i = 0; i < n; i++) {
    const grd_result *r = g[i].r;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", g[i].student);
    cJSON_AddStringToObject(o, "lab", g[i].lab);
    cJSON_AddNumberToObject(o, "score", r->score);
    cJSON_AddNumberToObject(o, "max_score", r->max_score);
    iso_time(g[i].at, ts);
    cJSON_AddStringToObject(o, "timestamp", ts);
    cJSON_AddStringToObject(o, "sha256", g[i].sha256);
    cJSON_AddStringToObject(o, "status", g[i].status);
    cJSON_AddBoolToObject(o, "compiled", r->compiled);
    cJSON_AddNumberToObject(o, "seconds", r->seconds);
    cJSON_AddNumberToObject(o, "batch_id", (double)g[i].batch_id);
    cJSON *ca = cJSON_AddArrayToObject(o, "checks");
    for (int k = 0; k < r->nchecks; k++) {
      const grd_check_result *c = &r->checks[k];
      cJSON *co = cJSON_CreateObject();
      cJSON_AddStringToObject(co, "name", c->name);
      cJSON_AddBoolToObject(co, "passed", c->passed);
      cJSON_AddBoolToObject(co, "skipped", c->skipped);
      cJSON_AddBoolToObject(co, "hidden", c->hidden);
      cJSON_AddNumberToObject(co, "score", c->score);
      cJSON_AddNumberToObject(co, "max_score", c->max_score);
      cJSON_AddStringToObject(co, "message", c->message);
      cJSON_AddNumberToObject(co, "seconds", c->seconds);
      cJSON_AddItemToArray(ca, co);
    }
    cJSON *da = cJSON_AddArrayToObject(o, "diagnostics");
    for (int k = 0; k < r->ndiagnostics; k++)
      cJSON_AddItemToArray(da, cJSON_CreateString(r->diagnostics[k]));
    cJSON_AddItemToArray(ga, o);
  }
  char *s = cJSON_Print(doc);
  rc = s ? 0 : PL_ENOMEM;
  if (s) {
    fputs(s, out);
    fputc('\n', out);
    if (ferror(out)) rc = PL_EIO;
  }
  free(s);
  cJSON_Delete(doc);
  db_batches_free(b, nb);
  return rc;
}
