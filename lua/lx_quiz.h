/*
 * lx_quiz.h — a lecture's quiz (content/quizzes/<lecture-id>.lua) as plain
 * C data, and the rules that decide whether an answer is right.
 *
 * The file is run in a fresh sandboxed state (lx_open) with a time and
 * memory limit, like the course manifest, and the state is closed before
 * returning: the structs own all their strings. Errors name file and line.
 *
 * Answers are judged here, not in the TUI, so that every front end (and
 * the unit tests) agree: choice answers by number, numeric answers within
 * the tolerance, exact answers ignoring case and surrounding/repeated
 * blanks.
 *
 * Thread-safety: a loaded quiz is immutable; functions are reentrant.
 */
#ifndef LX_QUIZ_H
#define LX_QUIZ_H

typedef enum { LX_Q_CHOICE = 0, LX_Q_NUMERIC = 1, LX_Q_EXACT = 2 } lx_qkind;

typedef struct lx_question {
  char *id;          /* "q1", unique in its quiz */
  lx_qkind kind;
  char *text;
  char *explain;     /* shown after every answer, right or wrong */
  char **choices;    /* choice: nchoices >= 2 */
  int nchoices;
  int answer;        /* choice: the right choice, 1-based */
  double value;      /* numeric: the answer ... */
  double tolerance;  /* ... and how far off an answer may be */
  char **accept;     /* exact: accepted answers, naccept >= 1 */
  int naccept;
  int line;          /* line of the question in the quiz file; 0 unknown */
} lx_question;

typedef struct lx_quiz {
  char *path;        /* the file it came from */
  lx_question *q;
  int n;
} lx_quiz;

/* content/quizzes/<lecture>.lua under the course root. OUT: caller frees. */
char *lx_quiz_path(const char *root, const char *lecture);

/* Load a quiz file. PL_ENOTFOUND when the file does not exist (a lecture
 * may have no quiz yet); PL_ELUA / PL_EINVAL for a broken file, with *err
 * = "file:line: message". OUT: *out, free with lx_quiz_free(); *err,
 * caller frees. */
int lx_quiz_load(const char *path, lx_quiz **out, char **err);
void lx_quiz_free(lx_quiz *q);

/* Judge `answer` as the student typed it: 1 right, 0 wrong, PL_EINVAL when
 * it is not an answer to this kind of question at all (a choice number out
 * of range, text where a number is expected), so the UI can ask again
 * instead of recording a mistake. */
int lx_quiz_check(const lx_question *q, const char *answer);

/* The right answer as a student should read it ("2. Task parallelism",
 * "1.9 (± 0.01)", "reduction"). OUT: caller frees; NULL when out of memory. */
char *lx_quiz_answer_text(const lx_question *q);

#endif
