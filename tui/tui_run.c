/*
 * tui_run.c — a grading run on a background thread.
 *
 * The worker calls grd_run(); its progress callback copies every event
 * into a mutex-protected queue and returns at once, so grading never waits
 * on the UI. The UI thread drains the queue in tui__run_poll() and keeps
 * the view (compile state, per-check state, output tail) that the lab
 * screen draws. The worker touches nothing else: no curses, no database.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pl_err.h"
#include "tui_int.h"

#define RUN_OUTPUT_MAX 200

typedef struct run_ev {
  struct run_ev *next;
  grd_event_kind kind;
  int index, total, ok;
  char *name, *text;
  int has_check;
  tui_run_check check;
} run_ev;

struct tui_run {
  pthread_t th;
  pthread_mutex_t mu;
  const lx_lab *lab;
  char *submission;

  /* shared with the worker, under mu */
  run_ev *head, *tail;
  int done, rc;
  grd_result *res;
  char *err;

  /* UI thread only */
  int joined;
  tui_run_view v;
};

static char *dup0(const char *s) { return strdup(s ? s : ""); }

static void ev_free(run_ev *e) {
  free(e->name);
  free(e->text);
  free(e->check.name);
  free(e->check.message);
  free(e);
}

/* Runs on the grading thread. */
static void on_progress(void *arg, const grd_event *ev) {
  tui_run *r = arg;
  run_ev *e = calloc(1, sizeof *e);
  if (!e) return;
  e->kind = ev->kind;
  e->index = ev->index;
  e->total = ev->total;
  e->ok = ev->ok;
  if (ev->name && !(e->name = strdup(ev->name))) goto oom;
  if (ev->text && !(e->text = strdup(ev->text))) goto oom;
  if (ev->check) {
    const grd_check_result *c = ev->check;
    e->has_check = 1;
    e->check.name = dup0(c->name);
    e->check.message = dup0(c->message);
    if (!e->check.name || !e->check.message) goto oom;
    e->check.state = c->skipped  ? TUI_CHK_SKIP
                     : c->passed ? TUI_CHK_PASS : TUI_CHK_FAIL;
    e->check.hidden = c->hidden;
    e->check.score = c->score;
    e->check.max_score = c->max_score;
    e->check.seconds = c->seconds;
    e->check.npoints = c->npoints < 8 ? c->npoints : 8;
    for (int k = 0; k < e->check.npoints; k++) {
      e->check.threads[k] = c->threads[k];
      e->check.times[k] = c->times[k];
    }
    e->check.baseline_s = c->baseline_s;
  }
  pthread_mutex_lock(&r->mu);
  if (r->tail) r->tail->next = e;
  else r->head = e;
  r->tail = e;
  pthread_mutex_unlock(&r->mu);
  return;
oom:
  ev_free(e);
}

static void *worker(void *arg) {
  tui_run *r = arg;
  /* Terminal resizes are the UI thread's business; here they would only
   * interrupt the grader's system calls. */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGWINCH);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  grd_opts o;
  memset(&o, 0, sizeof o);
  o.submission = r->submission;
  o.progress = on_progress;
  o.progress_arg = r;
  grd_result *res = NULL;
  char *err = NULL;
  int rc = grd_run(r->lab, &o, &res, &err);
  pthread_mutex_lock(&r->mu);
  r->rc = rc;
  r->res = res;
  r->err = err;
  r->done = 1;
  pthread_mutex_unlock(&r->mu);
  return NULL;
}

int tui__run_start(const lx_lab *lab, const char *submission, tui_run **out) {
  *out = NULL;
  tui_run *r = calloc(1, sizeof *r);
  if (!r) return PL_ENOMEM;
  r->lab = lab;
  r->submission = strdup(submission);
  r->v.checks = calloc((size_t)(lab->nchecks > 0 ? lab->nchecks : 1),
                       sizeof *r->v.checks);
  r->v.output = calloc(RUN_OUTPUT_MAX, sizeof *r->v.output);
  if (!r->submission || !r->v.checks || !r->v.output) goto oom;
  /* Every check is listed from the start, so progress reads "2 of 5". */
  for (int k = 0; k < lab->nchecks; k++) {
    tui_run_check *c = &r->v.checks[k];
    c->name = dup0(lab->checks[k].name);
    c->message = dup0("");
    r->v.nchecks++;
    if (!c->name || !c->message) goto oom;
    c->hidden = lab->checks[k].hidden;
    c->max_score = lab->checks[k].points;
  }
  r->v.compile = TUI_COMP_RUN;
  r->v.started = tui__now();
  pthread_mutex_init(&r->mu, NULL);
  if (pthread_create(&r->th, NULL, worker, r) != 0) {
    r->joined = 1; /* no thread to join */
    tui__run_free(r);
    return PL_EIO;
  }
  *out = r;
  return 0;
oom:
  r->joined = 1;
  tui__run_free(r); /* frees what was filled; no mutex yet */
  return PL_ENOMEM;
}

static tui_run_check *find_check(tui_run *r, int index, const char *name) {
  tui_run_view *v = &r->v;
  if (index >= 0 && index < v->nchecks &&
      (!name || !strcmp(v->checks[index].name, name)))
    return &v->checks[index];
  for (int k = 0; name && k < v->nchecks; k++)
    if (!strcmp(v->checks[k].name, name)) return &v->checks[k];
  if (!name) return NULL;
  /* a check the metadata did not list: append it */
  tui_run_check *nc = realloc(v->checks, (size_t)(v->nchecks + 1) * sizeof *nc);
  if (!nc) return NULL;
  v->checks = nc;
  tui_run_check *c = &v->checks[v->nchecks];
  memset(c, 0, sizeof *c);
  c->name = strdup(name);
  c->message = strdup("");
  if (!c->name || !c->message) {
    free(c->name);
    free(c->message);
    return NULL;
  }
  v->nchecks++;
  return c;
}

static void add_output(tui_run_view *v, const char *text) {
  char *s = strdup(text);
  if (!s) return;
  if (v->noutput == RUN_OUTPUT_MAX) {
    free(v->output[0]);
    memmove(v->output, v->output + 1,
            (RUN_OUTPUT_MAX - 1) * sizeof *v->output);
    v->noutput--;
  }
  v->output[v->noutput++] = s;
}

static void apply(tui_run *r, run_ev *e) {
  tui_run_view *v = &r->v;
  switch (e->kind) {
  case GRD_EV_COMPILE_START:
    v->compile = TUI_COMP_RUN;
    break;
  case GRD_EV_COMPILE_DONE:
    v->compile = e->ok ? TUI_COMP_OK : TUI_COMP_FAIL;
    break;
  case GRD_EV_CHECK_START: {
    if (v->compile == TUI_COMP_RUN) v->compile = TUI_COMP_OK;
    tui_run_check *c = find_check(r, e->index, e->name);
    if (c) c->state = TUI_CHK_RUN;
    break;
  }
  case GRD_EV_CHECK_DONE: {
    const char *name = e->has_check ? e->check.name : e->name;
    tui_run_check *c = find_check(r, e->index, name);
    if (c && e->has_check) {
      c->state = e->check.state;
      c->hidden = e->check.hidden;
      c->score = e->check.score;
      c->max_score = e->check.max_score;
      c->seconds = e->check.seconds;
      c->npoints = e->check.npoints;
      memcpy(c->threads, e->check.threads, sizeof c->threads);
      memcpy(c->times, e->check.times, sizeof c->times);
      c->baseline_s = e->check.baseline_s;
      free(c->message);
      c->message = e->check.message;
      e->check.message = NULL;
    }
    break;
  }
  case GRD_EV_OUTPUT:
    if (e->text) add_output(v, e->text);
    break;
  }
}

int tui__run_poll(tui_run *r) {
  if (!r || r->joined) return 0;
  pthread_mutex_lock(&r->mu);
  run_ev *list = r->head;
  r->head = r->tail = NULL;
  int done = r->done;
  pthread_mutex_unlock(&r->mu);
  int changed = list != NULL;
  while (list) {
    run_ev *next = list->next;
    apply(r, list);
    ev_free(list);
    list = next;
  }
  if (done) {
    pthread_join(r->th, NULL);
    r->joined = 1;
    /* events posted after the last drain */
    for (run_ev *e = r->head, *next; e; e = next) {
      next = e->next;
      apply(r, e);
      ev_free(e);
    }
    r->head = r->tail = NULL;
    r->v.finished = 1;
    r->v.rc = r->rc;
    r->v.result = r->rc == 0 ? r->res : NULL;
    r->v.err = r->err;
    r->v.ended = tui__now();
    if (r->res && !r->res->compiled) r->v.compile = TUI_COMP_FAIL;
    changed = 1;
  }
  return changed;
}

const tui_run_view *tui__run_view(const tui_run *r) { return &r->v; }

void tui__run_free(tui_run *r) {
  if (!r) return;
  if (!r->joined) {
    fputs("parlab: waiting for the running checks to finish\n", stderr);
    pthread_join(r->th, NULL);
    r->joined = 1;
  }
  if (r->v.started) pthread_mutex_destroy(&r->mu);
  for (run_ev *e = r->head, *next; e; e = next) {
    next = e->next;
    ev_free(e);
  }
  for (int k = 0; r->v.checks && k < r->v.nchecks; k++) {
    free(r->v.checks[k].name);
    free(r->v.checks[k].message);
  }
  free(r->v.checks);
  for (int k = 0; r->v.output && k < r->v.noutput; k++) free(r->v.output[k]);
  free(r->v.output);
  if (r->res) grd_result_free(r->res);
  free(r->err);
  free(r->submission);
  free(r);
}
