/*
 * grd_mpi_batch.c — distributed batch grading over MPI. See grd_mpi.h.
 *
 * Messages (bytes, MPI_COMM_WORLD):
 *   TASK    0 -> r  task_hdr, student name, the submission's bytes
 *   GO      0 -> r  int32 jobs: every task has been sent
 *   START   r -> 0  int32 index: a worker of r picked the submission up
 *   RESULT  r -> 0  result_hdr, message, grd_result_json(r, 1)
 *   DONE    r -> 0  int32 rc, then an error text: r has finished its share
 *   ABORT   0 -> r  int32 rc: stop after the submissions in flight
 *   STOP    0 -> r  int32 exit code: leave the job
 * Every wait is MPI_Iprobe plus a 1 ms sleep: the cores are the jails'.
 */
#include "grd_mpi.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "eng_mpi_link.h"
#include "eng_mpirun.h"
#include "grd_int.h"
#include "pl_err.h"

enum { T_TASK = 11, T_GO, T_START, T_RESULT, T_DONE, T_ABORT, T_STOP };

struct grd_mpi {
  const eng_mpi_link *l;
  int rank, size;
  int closed;
};

typedef struct task_hdr {
  int32_t index, n;
  uint32_t student_len, file_len;
  char sha256[65];
  char pad[3];
} task_hdr;

typedef struct result_hdr {
  int32_t index, status;
  uint32_t msg_len, json_len;
} result_hdr;

int grd_mpi_launched(void) { return eng_mpi_launched(); }
int grd_mpi_rank(const grd_mpi *m) { return m->rank; }
int grd_mpi_size(const grd_mpi *m) { return m->size; }

static void nap_ms(int ms) {
  struct timespec ts = {0, ms * 1000000L};
  nanosleep(&ts, NULL);
}

int grd_mpi_open(grd_mpi **out, char **err) {
  *out = NULL;
  *err = NULL;
  char why[4200];
  const eng_mpi_link *l = NULL;
  int rc = eng_mpi_link_load(&l, why, sizeof why);
  if (rc) {
    *err = strdup(why);
    return rc;
  }
  grd_mpi *m = calloc(1, sizeof *m);
  if (!m) return PL_ENOMEM;
  m->l = l;
  if ((rc = l->init(&m->rank, &m->size, why, sizeof why))) {
    *err = strdup(why);
    free(m);
    return rc;
  }
  *out = m;
  return 0;
}

/* Wait for a message from `src` (-1: any) with `tag` (-1: any) and
 * receive it into a fresh buffer (NUL-terminated). */
static int wait_recv(grd_mpi *m, int src, int tag, char **buf, size_t *len, int *src_out, int *tag_out) {
  int s, t;
  size_t n;
  for (;;) {
    int got = m->l->poll(src, tag, &s, &t, &n);
    if (got < 0) return got;
    if (got) break;
    nap_ms(1);
  }
  char *b = malloc(n + 1);
  if (!b) return PL_ENOMEM;
  int rc = m->l->recv(s, t, b, n);
  if (rc) {
    free(b);
    return rc;
  }
  b[n] = 0;
  *buf = b;
  if (len) *len = n;
  if (src_out) *src_out = s;
  if (tag_out) *tag_out = t;
  return 0;
}

static int send_i32(grd_mpi *m, int dest, int tag, int32_t v) { return m->l->send(dest, tag, &v, sizeof v); }

static int32_t get_i32(const char *b, size_t len) {
  int32_t v = 0;
  if (len >= sizeof v) memcpy(&v, b, sizeof v);
  return v;
}

void grd_mpi_close(grd_mpi *m, int code) {
  if (!m) return;
  if (m->rank == 0)
    for (int r = 1; r < m->size; r++) send_i32(m, r, T_STOP, code);
  m->l->finalize();
  free(m);
}

/* ------------------------------------------------------------- rank 0 */

typedef struct shared {
  pthread_mutex_t mu;
  const grd_batch_opts *o;
  atomic_int abort_rc;    /* nonzero: the local batch stops at its next result */
  atomic_int finished;    /* the local grading thread is done */
  atomic_int done_rc;     /* a `done` callback failed (the gradebook) */
  const lx_lab *lab;
  const grd_sub *subs;
  int n;
  const unsigned char *todo;
  int rc;
  char *err;
} shared;

static void local_start(void *arg, int index) {
  shared *s = arg;
  pthread_mutex_lock(&s->mu);
  if (s->o->start) s->o->start(s->o->arg, index);
  pthread_mutex_unlock(&s->mu);
}

static int deliver(shared *s, int index, grd_sub_status st, const grd_result *r, const char *msg) {
  pthread_mutex_lock(&s->mu);
  int rc = s->o->done(s->o->arg, index, st, r, msg);
  if (rc && !atomic_load(&s->done_rc)) atomic_store(&s->done_rc, rc);
  pthread_mutex_unlock(&s->mu);
  return rc;
}

static int local_done(void *arg, int index, grd_sub_status st, const grd_result *r, const char *msg) {
  shared *s = arg;
  int rc = deliver(s, index, st, r, msg);
  return rc ? rc : atomic_load(&s->abort_rc);
}

static void *local_main(void *arg) {
  shared *s = arg;
  grd_batch_opts lo = *s->o;
  lo.start = local_start;
  lo.done = local_done;
  lo.arg = s;
  s->rc = grd_batch_run(s->lab, s->subs, s->n, s->todo, &lo, &s->err);
  atomic_store(&s->finished, 1);
  return NULL;
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *buf = NULL;
  size_t cap = 0;
  FILE *mem = open_memstream(&buf, &cap);
  char chunk[65536];
  size_t k;
  while (mem && (k = fread(chunk, 1, sizeof chunk, f)) > 0) fwrite(chunk, 1, k, mem);
  int bad = ferror(f);
  fclose(f);
  if (mem) fclose(mem);
  if (bad) {
    free(buf);
    return NULL;
  }
  *len = cap;
  return buf;
}

static int send_task(grd_mpi *m, int dest, int index, int n, const grd_sub *s) {
  size_t flen = 0;
  char *file = slurp(s->path, &flen);
  if (!file) return PL_EIO;
  size_t slen = strlen(s->student);
  task_hdr h = {.index = index, .n = n, .student_len = (uint32_t)slen, .file_len = (uint32_t)flen};
  memcpy(h.sha256, s->sha256, sizeof h.sha256);
  size_t len = sizeof h + slen + flen;
  char *msg = malloc(len);
  int rc = PL_ENOMEM;
  if (msg && flen < (1u << 30)) {
    memcpy(msg, &h, sizeof h);
    memcpy(msg + sizeof h, s->student, slen);
    memcpy(msg + sizeof h + slen, file, flen);
    rc = m->l->send(dest, T_TASK, msg, len);
  }
  free(msg);
  free(file);
  return rc;
}

/* A RESULT from a remote rank, handed to `done` as if graded here. */
static int take_result(shared *s, const char *b, size_t len) {
  result_hdr h;
  if (len < sizeof h) return PL_EPROTO;
  memcpy(&h, b, sizeof h);
  if (h.index < 0 || h.index >= s->n || sizeof h + (size_t)h.msg_len + h.json_len > len) return PL_EPROTO;
  char *msg = strndup(b + sizeof h, h.msg_len);
  grd_result *r = NULL;
  int rc = msg ? grd__result_from_json(b + sizeof h + h.msg_len, &r) : PL_ENOMEM;
  if (!rc) {
    /* The remote rank graded a copy: the gradebook keeps rank 0's path. */
    const char *path = s->subs[h.index].path ? s->subs[h.index].path : "";
    char *p = strdup(path);
    if (p) {
      free(r->submission);
      r->submission = p;
    }
    rc = deliver(s, h.index, (grd_sub_status)h.status, r, msg);
  }
  grd_result_free(r);
  free(msg);
  return rc;
}

int grd_mpi_batch_run(grd_mpi *m, const lx_lab *lab, const grd_sub *subs, int n,
                      const unsigned char *todo, const grd_batch_opts *o, char **err) {
  *err = NULL;
  if (m->size == 1) return grd_batch_run(lab, subs, n, todo, o, err);
  int P = m->size, rc = 0, nremote = 0;
  int jobs = o->jobs > 0 ? o->jobs : 1;
  unsigned char *local = calloc((size_t)n + 1, 1);
  int *share = calloc((size_t)P, sizeof *share);
  shared s = {.o = o, .lab = lab, .subs = subs, .n = n, .todo = local};
  pthread_t th;
  int started = 0;
  if (!local || !share) {
    free(local);
    free(share);
    return PL_ENOMEM;
  }
  pthread_mutex_init(&s.mu, NULL);
  /* Deal the submissions round-robin in name order; a missing file (or
   * one rank 0 cannot read) is rank 0's to report. */
  int k = 0;
  for (int i = 0; i < n && !rc; i++) {
    if (todo && !todo[i]) continue;
    int dest = subs[i].path ? k++ % P : 0;
    if (dest != 0 && send_task(m, dest, i, n, &subs[i]) != 0) dest = 0;
    if (dest == 0) local[i] = 1;
    share[dest]++;
  }
  char host[256] = "?";
  gethostname(host, sizeof host - 1);
  fprintf(stderr, "mpi: %d ranks (%s); rank 0 on %s grades %d, the others", P, m->l->library(), host,
          share[0]);
  for (int r = 1; r < P; r++) fprintf(stderr, " %d", share[r]);
  fputc('\n', stderr);
  for (int r = 1; r < P; r++) send_i32(m, r, T_GO, jobs);
  nremote = P - 1;
  if (pthread_create(&th, NULL, local_main, &s) == 0) {
    started = 1;
  } else {
    atomic_store(&s.finished, 1);
    s.rc = PL_EIO;
  }

  int fatal = 0, aborted = 0;
  while (nremote > 0 || !atomic_load(&s.finished)) {
    /* The first fatal error anywhere stops every rank. */
    int drc = atomic_load(&s.done_rc);
    if (!aborted && (fatal || drc || (atomic_load(&s.finished) && s.rc))) {
      aborted = 1;
      int why = fatal ? fatal : drc ? drc : s.rc;
      atomic_store(&s.abort_rc, why);
      for (int r = 1; r < P; r++) send_i32(m, r, T_ABORT, why);
    }
    int src, tag;
    size_t len;
    int got = m->l->poll(-1, -1, &src, &tag, &len);
    if (got < 0) {
      rc = got;
      break;
    }
    if (!got) {
      nap_ms(1);
      continue;
    }
    char *b = NULL;
    if ((rc = wait_recv(m, src, tag, &b, &len, NULL, NULL))) break;
    if (tag == T_START) {
      int32_t idx = get_i32(b, len);
      if (idx >= 0 && idx < n) local_start(&s, idx);
    } else if (tag == T_RESULT) {
      int trc = take_result(&s, b, len);
      if (trc == PL_EPROTO && !fatal) {
        fatal = PL_EPROTO;
        free(*err);
        if (asprintf(err, "rank %d sent a result rank 0 cannot read", src) < 0) *err = NULL;
      }
    } else if (tag == T_DONE) {
      nremote--;
      int32_t drc = get_i32(b, len);
      if (drc && !fatal) {
        fatal = drc;
        free(*err);
        *err = strdup(len > 4 ? b + 4 : pl_strerror(drc));
      }
    }
    free(b);
  }
  if (rc) atomic_store(&s.abort_rc, rc); /* MPI failed: stop grading here too */
  if (started) pthread_join(th, NULL);
  if (!rc) rc = fatal ? fatal : s.rc ? s.rc : atomic_load(&s.done_rc);
  if (!fatal && s.rc && s.err && !*err) {
    *err = s.err; /* rank 0's own batch failed: its message */
    s.err = NULL;
  }
  free(s.err);
  pthread_mutex_destroy(&s.mu);
  free(local);
  free(share);
  return rc;
}

/* --------------------------------------------------------- ranks > 0 */

typedef struct worker {
  grd_mpi *m;
  int aborted;
} worker;

static void remote_start(void *arg, int index) { send_i32(((worker *)arg)->m, 0, T_START, index); }

static int remote_done(void *arg, int index, grd_sub_status st, const grd_result *r, const char *msg) {
  worker *w = arg;
  char *json = grd_result_json(r, 1);
  if (!json) return PL_ENOMEM;
  result_hdr h = {.index = index, .status = st, .msg_len = (uint32_t)strlen(msg ? msg : ""),
                  .json_len = (uint32_t)strlen(json)};
  size_t len = sizeof h + h.msg_len + h.json_len + 1;
  char *b = malloc(len);
  int rc = PL_ENOMEM;
  if (b) {
    memcpy(b, &h, sizeof h);
    if (h.msg_len) memcpy(b + sizeof h, msg, h.msg_len);
    memcpy(b + sizeof h + h.msg_len, json, h.json_len + 1);
    rc = w->m->l->send(0, T_RESULT, b, len);
  }
  free(b);
  free(json);
  if (rc) return rc;
  /* Rank 0 may have called the batch off. */
  if (w->m->l->poll(0, T_ABORT, NULL, NULL, NULL) == 1) {
    char *a = NULL;
    if (!wait_recv(w->m, 0, T_ABORT, &a, NULL, NULL, NULL)) free(a);
    w->aborted = 1;
    return PL_EINVAL;
  }
  return 0;
}

static int send_done(grd_mpi *m, int rc, const char *why) {
  size_t wl = why ? strlen(why) : 0;
  char *b = malloc(4 + wl + 1);
  if (!b) return PL_ENOMEM;
  int32_t v = rc;
  memcpy(b, &v, 4);
  memcpy(b + 4, why ? why : "", wl + 1);
  int r = m->l->send(0, T_DONE, b, 4 + wl + 1);
  free(b);
  return r;
}

int grd_mpi_serve(grd_mpi *m, const lx_lab *lab, int jobs) {
  grd_sub *subs = NULL;
  unsigned char *todo = NULL;
  int n = 0, code = 0, stopped = 0, go = 0, rc = 0;
  char *dir = NULL, host[256] = "?", *why = NULL;
  gethostname(host, sizeof host - 1);
  const char *tmp = getenv("TMPDIR");
  /* 1. Tasks until GO (or STOP: rank 0 gave up before grading). */
  while (!go && !stopped) {
    char *b = NULL;
    size_t len;
    int tag;
    if ((rc = wait_recv(m, 0, -1, &b, &len, NULL, &tag))) break;
    if (tag == T_STOP) {
      stopped = 1;
      code = get_i32(b, len);
    } else if (tag == T_GO) {
      go = 1;
      jobs = get_i32(b, len);
    } else if (tag == T_TASK && len >= sizeof(task_hdr) && !rc) {
      task_hdr h;
      memcpy(&h, b, sizeof h);
      if (!subs) {
        n = h.n;
        subs = calloc((size_t)n + 1, sizeof *subs);
        todo = calloc((size_t)n + 1, 1);
        if (!subs || !todo) rc = PL_ENOMEM;
        else if (!lab) rc = PL_ELUA;
        else if ((rc = grd__mkdtemp(tmp && *tmp ? tmp : "/tmp", "parlab-mpi", &dir))) rc = PL_EIO;
      }
      if (!rc && (h.index < 0 || h.index >= n || sizeof h + (size_t)h.student_len + h.file_len > len))
        rc = PL_EPROTO;
      if (!rc) {
        /* DIR/<index>/<the lab's file name>: grd_run copies it from here. */
        grd_sub *s = &subs[h.index];
        char *sub = NULL;
        s->student = strndup(b + sizeof h, h.student_len);
        memcpy(s->sha256, h.sha256, sizeof s->sha256);
        s->sha256[64] = 0;
        if (asprintf(&sub, "%s/%d", dir, h.index) < 0 || mkdir(sub, 0755) ||
            asprintf(&s->path, "%s/%s", sub, lab->sub_file) < 0) {
          rc = PL_EIO;
        } else {
          FILE *f = fopen(s->path, "wb");
          if (!f || fwrite(b + sizeof h + h.student_len, 1, h.file_len, f) != h.file_len) rc = PL_EIO;
          if (f && fclose(f)) rc = PL_EIO;
          todo[h.index] = 1;
        }
        free(sub);
      }
    }
    free(b);
  }
  /* 2. Grade the share, reporting each result as it finishes. */
  if (go) {
    worker w = {.m = m};
    char *err = NULL;
    if (!lab) {
      if (asprintf(&why, "rank %d on %s cannot load the lab (see that rank's error output)", m->rank,
                   host) < 0)
        why = NULL;
      rc = PL_ELUA;
    } else if (rc) {
      if (asprintf(&why, "rank %d on %s cannot take its share: %s", m->rank, host, pl_strerror(rc)) < 0)
        why = NULL;
    } else if (subs) {
      grd_batch_opts o = {.jobs = jobs, .start = remote_start, .done = remote_done, .arg = &w};
      rc = grd_batch_run(lab, subs, n, todo, &o, &err);
      if (w.aborted) rc = 0; /* rank 0 knows why it stopped us */
      if (rc && asprintf(&why, "rank %d on %s: %s", m->rank, host, err ? err : pl_strerror(rc)) < 0)
        why = NULL;
    }
    free(err);
    send_done(m, rc, why);
  }
  /* 3. Wait for STOP (late ABORTs are read and dropped). */
  while (!stopped) {
    char *b = NULL;
    size_t len;
    int tag;
    if (wait_recv(m, 0, -1, &b, &len, NULL, &tag)) {
      code = 4; /* EXIT_INTERNAL: MPI failed under us */
      break;
    }
    if (tag == T_STOP) {
      stopped = 1;
      code = get_i32(b, len);
    }
    free(b);
  }
  if (dir) grd__rmtree(dir);
  free(dir);
  free(why);
  grd_subs_free(subs, n);
  free(todo);
  m->l->finalize();
  free(m);
  return code;
}
