/*
 * eng_dataparallel.c — the parameter-server simulation. See
 * eng_dataparallel.h.
 *
 * Messages (MPI_BYTE on the caller's communicator, private tags):
 *   PULL  worker -> server  [int32 step]
 *   W     server -> worker  [int64 version][dim doubles]
 *   PUSH  worker -> server  [int64 version read][int32 step][pad][dim doubles]
 *   FAIL  worker -> server  [int32 code]: the gradient function failed
 * The server waits with MPI_Iprobe and short sleeps rather than a blocking
 * receive: Open MPI's blocking calls spin, and on a small machine the
 * server would take a core away from the workers it simulates.
 */
#include "eng_dataparallel.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pl_err.h"

enum { TAG_PULL = 7101, TAG_W = 7102, TAG_PUSH = 7103, TAG_FAIL = 7104 };

const char *eng_ps_mode_name(eng_ps_mode m) {
  return m == ENG_PS_BSP ? "bsp" : m == ENG_PS_ASP ? "asp" : m == ENG_PS_SSP ? "ssp" : "?";
}

int eng_ps_mode_parse(const char *s, eng_ps_mode *out) {
  for (int m = ENG_PS_BSP; m <= ENG_PS_SSP; m++)
    if (!strcmp(s, eng_ps_mode_name((eng_ps_mode)m))) {
      *out = (eng_ps_mode)m;
      return 0;
    }
  return PL_EINVAL;
}

static void nap(double s) {
  if (s <= 0) return;
  struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
  while (nanosleep(&ts, &ts) != 0) {}
}

/* Wait for any message for this rank with one of our tags. */
static int wait_msg(MPI_Comm comm, int source, int tag, MPI_Status *st) {
  int spins = 0;
  for (;;) {
    int flag = 0;
    if (MPI_Iprobe(source, tag, comm, &flag, st) != MPI_SUCCESS) return PL_EIO;
    if (flag) return 0;
    /* A short spin keeps latency low when messages come quickly. */
    if (++spins > 200) nap(50e-6);
  }
}

typedef struct pending {
  int worker, step;
} pending;

typedef struct server {
  const eng_ps_opts *o;
  MPI_Comm comm;
  int nw;
  double *w, *acc;
  char *msg;             /* a W message */
  long long version;
  int *clock;            /* steps each worker has finished */
  int acc_count;         /* BSP: gradients gathered this round */
  pending *queue;
  int nq;
  eng_ps_stats st;
  double stale_sum;
  int draining;          /* a worker failed: serve every pull at once */
} server;

static int min_clock(const server *s) {
  int m = s->clock[0];
  for (int k = 1; k < s->nw; k++)
    if (s->clock[k] < m) m = s->clock[k];
  return m;
}

static int may_serve(const server *s, int step) {
  if (s->draining) return 1;
  switch (s->o->mode) {
  case ENG_PS_ASP: return 1;
  case ENG_PS_BSP: return s->version == step; /* the previous round is applied */
  case ENG_PS_SSP: return step - min_clock(s) <= s->o->staleness;
  }
  return 1;
}

static int serve(server *s, int worker, int step) {
  int gap = step - min_clock(s);
  if (gap > s->st.max_clock_gap) s->st.max_clock_gap = gap;
  int64_t v = s->version;
  memcpy(s->msg, &v, 8);
  memcpy(s->msg + 8, s->w, sizeof(double) * (size_t)s->o->dim);
  return MPI_Send(s->msg, 8 + 8 * s->o->dim, MPI_BYTE, worker + 1, TAG_W, s->comm) == MPI_SUCCESS ? 0
                                                                                                 : PL_EIO;
}

static void apply(server *s, const double *g, double scale) {
  for (int i = 0; i < s->o->dim; i++) s->w[i] -= s->o->lr * scale * g[i];
  s->version++;
  s->st.updates++;
}

static int push(server *s, int worker, const char *m) {
  int64_t vread;
  int32_t step;
  memcpy(&vread, m, 8);
  memcpy(&step, m + 8, 4);
  const double *g = (const double *)(m + 16);
  int stale = (int)(s->version - vread);
  s->stale_sum += stale;
  if (stale > s->st.max_staleness) s->st.max_staleness = stale;
  s->st.hist[stale < ENG_PS_HIST - 1 ? stale : ENG_PS_HIST - 1]++;
  s->st.pushes++;
  s->clock[worker] = step + 1;
  if (s->o->mode == ENG_PS_BSP) {
    for (int i = 0; i < s->o->dim; i++) s->acc[i] += g[i];
    if (++s->acc_count == s->nw) {
      apply(s, s->acc, 1.0 / s->nw);
      memset(s->acc, 0, sizeof(double) * (size_t)s->o->dim);
      s->acc_count = 0;
    }
  } else {
    apply(s, g, 1.0);
  }
  /* A push may unblock waiting pulls (in arrival order). */
  for (int i = 0; i < s->nq;) {
    if (may_serve(s, s->queue[i].step)) {
      int rc = serve(s, s->queue[i].worker, s->queue[i].step);
      if (rc) return rc;
      s->queue[i] = s->queue[--s->nq];
    } else {
      i++;
    }
  }
  return 0;
}

static int run_server(const eng_ps_opts *o, MPI_Comm comm, int nw, double *w, eng_ps_stats *out) {
  server s = {.o = o, .comm = comm, .nw = nw, .w = w};
  size_t pushlen = 16 + 8 * (size_t)o->dim;
  char *m = malloc(pushlen);
  s.acc = calloc((size_t)o->dim, sizeof *s.acc);
  s.msg = malloc(8 + 8 * (size_t)o->dim);
  s.clock = calloc((size_t)nw, sizeof *s.clock);
  s.queue = calloc((size_t)nw, sizeof *s.queue);
  int rc = m && s.acc && s.msg && s.clock && s.queue ? 0 : PL_ENOMEM;
  double t0 = MPI_Wtime();
  long total = (long)nw * o->steps;
  int failed = 0, fail_rc = 0;
  while (!rc && s.st.pushes + failed < total) {
    MPI_Status st;
    if ((rc = wait_msg(comm, MPI_ANY_SOURCE, MPI_ANY_TAG, &st))) break;
    int worker = st.MPI_SOURCE - 1;
    if (st.MPI_TAG == TAG_PULL) {
      int32_t step;
      MPI_Recv(&step, 4, MPI_BYTE, st.MPI_SOURCE, TAG_PULL, comm, MPI_STATUS_IGNORE);
      if (may_serve(&s, step)) {
        rc = serve(&s, worker, step);
      } else {
        s.queue[s.nq++] = (pending){worker, step};
        s.st.blocked_pulls++;
      }
    } else if (st.MPI_TAG == TAG_PUSH) {
      MPI_Recv(m, (int)pushlen, MPI_BYTE, st.MPI_SOURCE, TAG_PUSH, comm, MPI_STATUS_IGNORE);
      rc = push(&s, worker, m);
    } else if (st.MPI_TAG == TAG_FAIL) {
      int32_t code;
      MPI_Recv(&code, 4, MPI_BYTE, st.MPI_SOURCE, TAG_FAIL, comm, MPI_STATUS_IGNORE);
      /* That worker stops. The others must not wait for it forever: from
       * now on every pull is served at once, and the run ends when the
       * live workers are done. */
      failed += o->steps - s.clock[worker];
      fail_rc = PL_EINVAL;
      s.draining = 1;
      for (int i = 0; i < s.nq && !rc; i++) rc = serve(&s, s.queue[i].worker, s.queue[i].step);
      s.nq = 0;
    } else {
      /* Not ours: leave it to its owner. */
      rc = PL_EPROTO;
    }
  }
  if (!rc) rc = fail_rc;
  s.st.workers = nw;
  s.st.seconds = MPI_Wtime() - t0;
  s.st.mean_staleness = s.st.pushes ? s.stale_sum / (double)s.st.pushes : 0;
  *out = s.st;
  free(m);
  free(s.acc);
  free(s.msg);
  free(s.clock);
  free(s.queue);
  return rc;
}

static int run_worker(const eng_ps_opts *o, MPI_Comm comm, int worker, double *wait_s) {
  size_t dim = (size_t)o->dim;
  char *wmsg = malloc(8 + 8 * dim), *pmsg = calloc(1, 16 + 8 * dim);
  double *w = malloc(8 * dim), *g = malloc(8 * dim);
  int rc = wmsg && pmsg && w && g ? 0 : PL_ENOMEM;
  *wait_s = 0;
  for (int32_t step = 0; !rc && step < o->steps; step++) {
    double t0 = MPI_Wtime();
    MPI_Status st;
    if (MPI_Send(&step, 4, MPI_BYTE, 0, TAG_PULL, comm) != MPI_SUCCESS ||
        wait_msg(comm, 0, TAG_W, &st) ||
        MPI_Recv(wmsg, (int)(8 + 8 * dim), MPI_BYTE, 0, TAG_W, comm, MPI_STATUS_IGNORE) != MPI_SUCCESS) {
      rc = PL_EIO;
      break;
    }
    *wait_s += MPI_Wtime() - t0;
    memcpy(w, wmsg + 8, 8 * dim);
    if (o->grad(w, o->dim, worker, step, g, o->arg)) {
      int32_t code = PL_EINVAL;
      MPI_Send(&code, 4, MPI_BYTE, 0, TAG_FAIL, comm);
      rc = PL_EINVAL;
      break;
    }
    if (o->delay_s) nap(o->delay_s[worker]);
    memcpy(pmsg, wmsg, 8); /* the version this gradient was computed at */
    memcpy(pmsg + 8, &step, 4);
    memcpy(pmsg + 16, g, 8 * dim);
    if (MPI_Send(pmsg, (int)(16 + 8 * dim), MPI_BYTE, 0, TAG_PUSH, comm) != MPI_SUCCESS) rc = PL_EIO;
  }
  free(wmsg);
  free(pmsg);
  free(w);
  free(g);
  return rc;
}

int eng_ps_run(const eng_ps_opts *o, MPI_Comm comm, double *w, eng_ps_stats *st) {
  int rank, size;
  if (MPI_Comm_rank(comm, &rank) != MPI_SUCCESS || MPI_Comm_size(comm, &size) != MPI_SUCCESS)
    return PL_EIO;
  if (!o || !w || !o->grad || o->steps < 1 || o->dim < 1 || o->staleness < 0 || size < 2 ||
      (o->mode != ENG_PS_BSP && o->mode != ENG_PS_ASP && o->mode != ENG_PS_SSP))
    return PL_EINVAL;
  eng_ps_stats s;
  memset(&s, 0, sizeof s);
  double wait = 0, wait_sum = 0;
  /* Everyone starts from the server's weights. */
  if (MPI_Bcast(w, o->dim, MPI_DOUBLE, 0, comm) != MPI_SUCCESS) return PL_EIO;
  int rc = rank == 0 ? run_server(o, comm, size - 1, w, &s) : run_worker(o, comm, rank - 1, &wait);
  /* Agree on the outcome, then share the results. */
  int worst = rc;
  if (MPI_Allreduce(&rc, &worst, 1, MPI_INT, MPI_MIN, comm) != MPI_SUCCESS) return PL_EIO;
  if (MPI_Reduce(&wait, &wait_sum, 1, MPI_DOUBLE, MPI_SUM, 0, comm) != MPI_SUCCESS) return PL_EIO;
  s.wait_s = wait_sum;
  if (MPI_Bcast(w, o->dim, MPI_DOUBLE, 0, comm) != MPI_SUCCESS ||
      MPI_Bcast(&s, (int)sizeof s, MPI_BYTE, 0, comm) != MPI_SUCCESS)
    return PL_EIO;
  if (st) *st = s;
  return worst;
}
