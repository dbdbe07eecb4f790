/*
 * tui_screen_quiz.c — a lecture's quiz, one question at a time.
 *
 * Choice questions take a number (or j/k and Enter); numeric and exact
 * questions take a line typed in the prompt, which opens by itself. After
 * each answer the verdict and the explanation show under the question,
 * and the answer goes to the gradebook (quiz_answers) with its verdict.
 * Answers are judged by lx_quiz_check() (lua/lx_quiz.c), so every front
 * end agrees. The last screen sums up. A broken quiz file is shown in an
 * error panel with its file and line.
 */
#include <stdlib.h>
#include <string.h>

#include "pl_err.h"
#include "tui_int.h"

#define QUIZ_MAX_WIDTH 96
#define QUIZ_MAX_CHOICES 9

enum { ACT_AGAIN = TUI_ACT_SCREEN, ACT_CHOICE1 };

typedef struct q_state {
  int answered; /* in this session */
  int correct;
  char *given;  /* as typed, or the choice number */
  int before, before_ok; /* an answer stored by an earlier session */
  char *before_given;
} q_state;

typedef struct tui_quizscr {
  tui_screen base;
  char *lecture, *title;
  lx_quiz *qz;
  char *err;
  q_state *st;
  int cur;   /* question shown; == qz->n: the summary */
  int sel;   /* highlighted choice, 0-based */
  int scroll;
  int view;
  tui_doc doc;
  int choice_line[QUIZ_MAX_CHOICES];
  int doc_y; /* screen row of doc line 0 (minus scroll) */
  int pushed; /* on the stack: prompts may point at it */
} tui_quizscr;

static const tui_binding quiz_keys[] = {
  {{'1', '2', '3', 0}, "1-9", "choose that answer (choice questions)",
   "1-9 answer", ACT_CHOICE1},
  {{'j', TUI_KEY_DOWN, 0}, "j Down", "next choice, or scroll", NULL,
   TUI_ACT_DOWN},
  {{'k', TUI_KEY_UP, 0}, "k Up", "previous choice, or scroll", NULL,
   TUI_ACT_UP},
  {{TUI_KEY_ENTER, 0}, "Enter",
   "answer (types one in for number and word questions), then next",
   "Enter answer/next", TUI_ACT_OPEN},
  {{'n', TUI_KEY_RIGHT, TUI_KEY_TAB, 0}, "n Right Tab", "next question",
   "n next", TUI_ACT_NEXT},
  {{'p', TUI_KEY_LEFT, TUI_KEY_BTAB, 0}, "p Left", "previous question",
   NULL, TUI_ACT_PREV},
  {{'a', 0}, "a", "answer this question again", NULL, ACT_AGAIN},
  {{'q', TUI_KEY_ESC, 0}, "q Esc", "back to the lecture", "q back",
   TUI_ACT_BACK},
  {{0}, NULL, NULL, NULL, 0},
};

static int lookup_choice_key(int key) {
  return key >= '1' && key <= '9' ? key - '0' : 0;
}

/* ---- answering ---- */

static void record(tui_quizscr *z, tui_app *a, const lx_question *q,
                   const char *given, int right) {
  q_state *s = &z->st[z->cur];
  free(s->given);
  s->given = strdup(given);
  s->answered = 1;
  s->correct = right;
  if (a->db && db_quiz_answer_add(a->db, z->lecture, q->id, given, right) == 0)
    a->progress_gen++;
  else if (a->db)
    tui__app_msg(a, 1, "the answer could not be saved");
  z->scroll = 0;
}

static void ask_text(tui_quizscr *z, tui_app *a, const char *again);

static void on_answer(void *arg, tui_app *a, const char *text) {
  tui_quizscr *z = arg;
  if (!text || z->cur >= z->qz->n) return; /* Esc: stay, Enter asks again */
  const lx_question *q = &z->qz->q[z->cur];
  int v = lx_quiz_check(q, text);
  if (v == PL_EINVAL) {
    /* not an answer at all: ask again, saying why, in the prompt itself */
    ask_text(z, a, q->kind == LX_Q_NUMERIC ? "That is not a number. "
                                           : "Type an answer first. ");
    return;
  }
  if (v < 0) {
    tui__app_msg(a, 1, "cannot check the answer: %s", pl_strerror(v));
    return;
  }
  record(z, a, q, text, v);
}

static void ask_text(tui_quizscr *z, tui_app *a, const char *again) {
  const lx_question *q = &z->qz->q[z->cur];
  char label[96];
  snprintf(label, sizeof label, "%s%s", again ? again : "",
           q->kind == LX_Q_NUMERIC ? "Your answer (a number): "
                                   : "Your answer: ");
  tui__app_prompt(a, label, NULL, on_answer, z);
}

static void answer_choice(tui_quizscr *z, tui_app *a, int k) {
  const lx_question *q = &z->qz->q[z->cur];
  char buf[16];
  snprintf(buf, sizeof buf, "%d", k);
  int v = lx_quiz_check(q, buf);
  if (v < 0) {
    tui__app_msg(a, 0, "Choose 1 to %d", q->nchoices);
    return;
  }
  z->sel = k - 1;
  record(z, a, q, buf, v);
}

/* Show question i; a word or number question opens the prompt. */
static void go_to(tui_quizscr *z, tui_app *a, int i) {
  if (i < 0) i = 0;
  if (i > z->qz->n) i = z->qz->n;
  z->cur = i;
  z->sel = 0;
  z->scroll = 0;
  if (z->pushed && i < z->qz->n && !z->st[i].answered &&
      z->qz->q[i].kind != LX_Q_CHOICE)
    ask_text(z, a, NULL);
}

/* ---- layout ---- */

static void add_text(tui_doc *d, int w, const char *pf, const char *text,
                     uint16_t st) {
  tui_rich r = {0}, p = {0};
  tui__rich_puts(&p, pf, (size_t)-1, 0);
  tui__rich_puts(&r, text, (size_t)-1, st);
  tui_rich cont = {0};
  for (int k = 0; k < tui__rich_width(&p, 0, p.n); k++)
    tui__rich_putc(&cont, L' ', 0);
  tui__wrap(d, &r, w, &p, &cont, 0);
  tui__rich_free(&r);
  tui__rich_free(&p);
  tui__rich_free(&cont);
}

static int count_right(const tui_quizscr *z) {
  int n = 0;
  for (int k = 0; k < z->qz->n; k++)
    n += z->st[k].answered ? z->st[k].correct
                           : (z->st[k].before && z->st[k].before_ok);
  return n;
}

static void build_question(tui_quizscr *z, tui_app *a, int w) {
  int ascii = !a->utf8;
  const lx_question *q = &z->qz->q[z->cur];
  const q_state *s = &z->st[z->cur];
  tui_doc *d = &z->doc;
  char buf[256];
  snprintf(buf, sizeof buf, "Question %d of %d", z->cur + 1, z->qz->n);
  add_text(d, w, "", buf, TUI_C_HEADING | TUI_A_BOLD);
  tui__doc_add(d, 0);
  add_text(d, w, "", q->text, TUI_A_BOLD);
  tui__doc_add(d, 0);
  for (int k = 0; k < QUIZ_MAX_CHOICES; k++) z->choice_line[k] = -1;
  if (q->kind == LX_Q_CHOICE) {
    for (int k = 0; k < q->nchoices; k++) {
      int on = s->answered ? (s->given && atoi(s->given) == k + 1) : k == z->sel;
      snprintf(buf, sizeof buf, "  %s %d. ",
               tui__glyph(ascii, on ? TUI_G_RADIO_ON : TUI_G_RADIO_OFF), k + 1);
      uint16_t st = 0;
      if (s->answered && k + 1 == q->answer) st = TUI_C_OK | TUI_A_BOLD;
      else if (s->answered && on) st = TUI_C_FAIL;
      if (k < QUIZ_MAX_CHOICES) z->choice_line[k] = d->n;
      add_text(d, w, buf, q->choices[k], st);
    }
  } else {
    char *typed = tui__app_prompt_text(a);
    snprintf(buf, sizeof buf, "  Your answer: %s",
             s->answered ? s->given : typed ? typed : "");
    free(typed);
    add_text(d, w, "", buf, s->answered ? TUI_A_BOLD : 0);
    if (!s->answered && !a->prompt.active)
      add_text(d, w, "  ", "Press Enter to type your answer.", TUI_C_MUTED);
  }
  tui__doc_add(d, 0);
  if (s->answered) {
    char *right = lx_quiz_answer_text(q);
    if (s->correct)
      snprintf(buf, sizeof buf, "%s Right.", tui__glyph(ascii, TUI_G_CHECK));
    else
      snprintf(buf, sizeof buf, "%s Not quite: the answer is %s.",
               tui__glyph(ascii, TUI_G_CROSS), right ? right : "?");
    free(right);
    add_text(d, w, "", buf, (s->correct ? TUI_C_OK : TUI_C_FAIL) | TUI_A_BOLD);
    add_text(d, w, "", q->explain, 0);
    tui__doc_add(d, 0);
    add_text(d, w, "",
             z->cur + 1 < z->qz->n ? "Enter: next question. a: answer again."
                                   : "Enter: see your score. a: answer again.",
             TUI_C_MUTED);
  } else if (s->before) {
    snprintf(buf, sizeof buf, "Last time you answered %s: %s.",
             s->before_given ? s->before_given : "",
             s->before_ok ? "right" : "not right");
    add_text(d, w, "", buf, TUI_C_MUTED);
  }
}

static void build_summary(tui_quizscr *z, tui_app *a, int w) {
  int ascii = !a->utf8;
  tui_doc *d = &z->doc;
  char buf[300];
  int right = count_right(z);
  add_text(d, w, "", "Your score", TUI_C_HEADING | TUI_A_BOLD);
  tui__doc_add(d, 0);
  snprintf(buf, sizeof buf, "You answered %d of %d questions right.", right,
           z->qz->n);
  add_text(d, w, "", buf,
           (right == z->qz->n ? TUI_C_OK : TUI_C_WARN) | TUI_A_BOLD);
  tui__doc_add(d, 0);
  for (int k = 0; k < z->qz->n; k++) {
    const q_state *s = &z->st[k];
    int done = s->answered || s->before;
    int ok = s->answered ? s->correct : s->before_ok;
    snprintf(buf, sizeof buf, "  %s %d. ",
             !done ? tui__glyph(ascii, TUI_G_DOT)
                   : tui__glyph(ascii, ok ? TUI_G_CHECK : TUI_G_CROSS),
             k + 1);
    add_text(d, w, buf, z->qz->q[k].text,
             !done ? TUI_C_MUTED : ok ? TUI_C_OK : TUI_C_FAIL);
  }
  tui__doc_add(d, 0);
  add_text(d, w, "", "p goes back to a question; q returns to the lecture.",
           TUI_C_MUTED);
}

static void quiz_draw(tui_screen *s, tui_app *a, tui_grid *g, int top, int h) {
  tui_quizscr *z = (tui_quizscr *)s;
  if (z->err) {
    snprintf(s->where, sizeof s->where, "Quiz");
    tui__draw_error_panel(a, g, top, h, "The quiz could not be loaded", z->err,
                          "Fix the quiz file and open the quiz again; q goes back.");
    return;
  }
  int w = g->w - 4 < QUIZ_MAX_WIDTH ? g->w - 4 : QUIZ_MAX_WIDTH;
  int x0 = (g->w - w) / 2;
  tui__doc_free(&z->doc);
  tui__grid_puts(g, top + 1, x0, w - 20, z->title ? z->title : "Quiz",
                 TUI_C_ACCENT | TUI_A_BOLD);
  char right[64];
  snprintf(right, sizeof right, "%d of %d right", count_right(z), z->qz->n);
  tui__grid_puts(g, top + 1, x0 + w - (int)strlen(right), -1, right,
                 TUI_C_MUTED);
  if (z->cur < z->qz->n) build_question(z, a, w);
  else build_summary(z, a, w);
  z->view = h - 3;
  int max = z->doc.n - z->view;
  if (z->scroll > max) z->scroll = max;
  if (z->scroll < 0) z->scroll = 0;
  z->doc_y = top + 3 - z->scroll;
  tui__draw_doc(g, &z->doc, z->scroll, top + 3, z->view, x0, w);
  if (z->cur < z->qz->n) {
    const lx_question *q = &z->qz->q[z->cur];
    int k = z->sel;
    if (q->kind == LX_Q_CHOICE && !z->st[z->cur].answered && k >= 0 &&
        k < QUIZ_MAX_CHOICES && z->choice_line[k] >= 0) {
      int y = z->doc_y + z->choice_line[k];
      if (y >= top + 3 && y < top + 3 + z->view)
        tui__grid_restyle(g, y, x0, w, TUI_C_SEL);
    }
    snprintf(s->where, sizeof s->where, "Quiz %d/%d", z->cur + 1, z->qz->n);
  } else {
    snprintf(s->where, sizeof s->where, "Quiz: score");
  }
}

static int quiz_key(tui_screen *s, tui_app *a, int action, int key) {
  tui_quizscr *z = (tui_quizscr *)s;
  if (action == TUI_ACT_BACK) {
    tui__app_pop(a);
    return 1;
  }
  if (z->err) return 0;
  int n = z->qz->n;
  int at_q = z->cur < n;
  const lx_question *q = at_q ? &z->qz->q[z->cur] : NULL;
  q_state *st = at_q ? &z->st[z->cur] : NULL;
  int digit = lookup_choice_key(key);
  if (digit && at_q) {
    if (q->kind != LX_Q_CHOICE) {
      ask_text(z, a, NULL); /* the digit starts the typed answer */
      a->prompt.buf[0] = (wchar_t)key;
      a->prompt.n = a->prompt.cur = 1;
    } else if (!st->answered) {
      answer_choice(z, a, digit);
    } else {
      tui__app_msg(a, 0, "Answered: Enter goes on, a answers again");
    }
    return 1;
  }
  switch (action) {
  case TUI_ACT_OPEN:
    if (!at_q) return 1;
    if (st->answered) go_to(z, a, z->cur + 1);
    else if (q->kind == LX_Q_CHOICE) answer_choice(z, a, z->sel + 1);
    else ask_text(z, a, NULL);
    return 1;
  case TUI_ACT_NEXT: go_to(z, a, z->cur + 1); return 1;
  case TUI_ACT_PREV: go_to(z, a, z->cur - 1); return 1;
  case ACT_AGAIN:
    if (!at_q) return 1;
    st->answered = 0;
    z->sel = 0;
    if (q->kind != LX_Q_CHOICE) ask_text(z, a, NULL);
    return 1;
  case TUI_ACT_UP:
  case TUI_ACT_DOWN:
    if (at_q && q->kind == LX_Q_CHOICE && !st->answered && key != TUI_KEY_MOUSE) {
      z->sel += action == TUI_ACT_DOWN ? 1 : -1;
      if (z->sel < 0) z->sel = 0;
      if (z->sel >= q->nchoices) z->sel = q->nchoices - 1;
      return 1;
    }
    return tui__scroll(action, &z->scroll, z->doc.n, z->view);
  default:
    return tui__scroll(action, &z->scroll, z->doc.n, z->view);
  }
}

static int quiz_click(tui_screen *s, tui_app *a, int x, int y) {
  tui_quizscr *z = (tui_quizscr *)s;
  (void)x;
  if (z->err || z->cur >= z->qz->n) return 0;
  const lx_question *q = &z->qz->q[z->cur];
  if (q->kind != LX_Q_CHOICE || z->st[z->cur].answered) return 0;
  int line = y - z->doc_y;
  for (int k = 0; k < q->nchoices && k < QUIZ_MAX_CHOICES; k++) {
    int next = k + 1 < q->nchoices && k + 1 < QUIZ_MAX_CHOICES
                   ? z->choice_line[k + 1] : z->choice_line[k] + 1;
    if (line >= z->choice_line[k] && line < next) {
      answer_choice(z, a, k + 1);
      return 1;
    }
  }
  return 0;
}

/* Called once the screen is on the stack (and at every terminal resize):
 * only now may a prompt hold a pointer to it. */
static void quiz_resize(tui_screen *s, tui_app *a, int w, int h) {
  tui_quizscr *z = (tui_quizscr *)s;
  (void)w;
  (void)h;
  if (z->pushed || z->err) return;
  z->pushed = 1;
  go_to(z, a, z->cur);
}

static void quiz_free(tui_screen *s, tui_app *a) {
  tui_quizscr *z = (tui_quizscr *)s;
  (void)a;
  for (int k = 0; z->st && z->qz && k < z->qz->n; k++) {
    free(z->st[k].given);
    free(z->st[k].before_given);
  }
  free(z->st);
  lx_quiz_free(z->qz);
  tui__doc_free(&z->doc);
  free(z->lecture);
  free(z->title);
  free(z->err);
  free(z);
}

static const tui_screen_vt quiz_vt = {
  .name = "Quiz",
  .keys = quiz_keys,
  .draw = quiz_draw,
  .key = quiz_key,
  .resize = quiz_resize,
  .tick = NULL,
  .free = quiz_free,
  .click = quiz_click,
};

tui_screen *tui__quiz_new(tui_app *a, const char *crumb, const char *lecture_id,
                          const char *title) {
  tui_quizscr *z = calloc(1, sizeof *z);
  if (!z) return NULL;
  z->base.vt = &quiz_vt;
  snprintf(z->base.crumb, sizeof z->base.crumb, "%s", crumb ? crumb : "");
  snprintf(z->base.where, sizeof z->base.where, "Quiz");
  z->lecture = strdup(lecture_id);
  z->title = strdup(title ? title : lecture_id);
  char *path = lx_quiz_path(a->course_root, lecture_id);
  if (!z->lecture || !z->title || !path) goto oom;
  int rc = lx_quiz_load(path, &z->qz, &z->err);
  free(path);
  if (rc != 0) {
    if (!z->err && !(z->err = strdup(pl_strerror(rc)))) goto oom;
    return &z->base;
  }
  z->st = calloc((size_t)z->qz->n, sizeof *z->st);
  if (!z->st) goto oom;
  for (int k = 0; a->db && k < z->qz->n; k++) {
    q_state *s = &z->st[k];
    db_quiz_last(a->db, lecture_id, z->qz->q[k].id, &s->before, &s->before_ok,
                 &s->before_given);
  }
  return &z->base;
oom:
  quiz_free(&z->base, a);
  return NULL;
}
