/* Quizzes: the loader (lua/lx_quiz.c with lua/lib/quiz.lua), its errors
 * with file and line, the judging of answers, and the course's promise:
 * every lecture listed in content/course.lua has a quiz of at least three
 * questions (lectures are discovered from the course, never listed here). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lx_course.h"
#include "lx_quiz.h"
#include "pl_err.h"
#include "pl_test.h"

static char tmpdir[] = "/tmp/parlab-quiz-XXXXXX"; /* made by main() */

/* Write text to a fresh file; returns its path (static buffer per call). */
static const char *write_quiz(const char *name, const char *text) {
  static char path[4][512];
  static int k;
  char *p = path[k++ % 4];
  snprintf(p, 512, "%s/%s.lua", tmpdir, name);
  FILE *f = fopen(p, "w");
  PT_TRUE(f != NULL);
  fputs(text, f);
  fclose(f);
  return p;
}

static const char good[] =
  "-- a quiz\n"
  "return quiz {\n"
  "  question \"q1\" { kind = \"choice\", text = \"Pick\", choices = { \"a\", \"b\", \"c\" },\n"
  "                  answer = 2, explain = \"b it is\" },\n"
  "  question \"q2\" { kind = \"numeric\", text = \"Num\", answer = 1.9, tolerance = 0.01,\n"
  "                  explain = \"1.9\" },\n"
  "  question \"q3\" { kind = \"exact\", text = \"Word\", answer = \"Reduction\", explain = \"r\" },\n"
  "  question \"q4\" { kind = \"exact\", text = \"Words\", answer = { \"mutex\", \"lock\" },\n"
  "                  explain = \"either\" },\n"
  "  question \"q5\" { kind = \"numeric\", text = \"Exact num\", answer = 10, explain = \"ten\" },\n"
  "}\n";

static lx_quiz *load_ok(const char *text) {
  lx_quiz *q = NULL;
  char *err = NULL;
  int rc = lx_quiz_load(write_quiz("ok", text), &q, &err);
  if (rc) PT_FAIL_("load failed: %s", err ? err : pl_strerror(rc));
  PT_TRUE(err == NULL);
  return q;
}

/* Load text expecting failure; the error must contain every needle. */
static void load_bad(const char *name, const char *text, const char *needle1,
                     const char *needle2) {
  lx_quiz *q = NULL;
  char *err = NULL;
  const char *path = write_quiz(name, text);
  int rc = lx_quiz_load(path, &q, &err);
  PT_TRUE(rc != 0);
  PT_TRUE(q == NULL);
  PT_CONTAINS(err, path);
  PT_CONTAINS(err, needle1);
  if (needle2) PT_CONTAINS(err, needle2);
  free(err);
}

static void test_load_fields(void) {
  lx_quiz *qz = load_ok(good);
  PT_EQ_INT(qz->n, 5);
  const lx_question *q = qz->q;
  PT_EQ_STR(q[0].id, "q1");
  PT_EQ_INT(q[0].kind, LX_Q_CHOICE);
  PT_EQ_STR(q[0].text, "Pick");
  PT_EQ_INT(q[0].nchoices, 3);
  PT_EQ_STR(q[0].choices[2], "c");
  PT_EQ_INT(q[0].answer, 2);
  PT_EQ_STR(q[0].explain, "b it is");
  PT_EQ_INT(q[0].line, 3);
  PT_EQ_INT(q[1].kind, LX_Q_NUMERIC);
  PT_NEAR(q[1].value, 1.9, 0);
  PT_NEAR(q[1].tolerance, 0.01, 0);
  PT_EQ_INT(q[2].kind, LX_Q_EXACT);
  PT_EQ_INT(q[2].naccept, 1);
  PT_EQ_STR(q[2].accept[0], "Reduction");
  PT_EQ_INT(q[3].naccept, 2);
  PT_EQ_STR(q[3].accept[1], "lock");
  PT_NEAR(q[4].tolerance, 0, 0);
  lx_quiz_free(qz);
}

static void test_errors_name_file_and_line(void) {
  load_bad("kind",
           "return quiz {\n"
           "  question \"q1\" { kind = \"choice\", text = \"t\", choices = { \"a\", \"b\" }, answer = 1, explain = \"e\" },\n"
           "  question \"q2\" { kind = \"choise\", text = \"t\", answer = 1, explain = \"e\" },\n"
           "}\n",
           ":3: question \"q2\"", "kind must be");
  load_bad("range",
           "return quiz {\n"
           "  question \"q1\" { kind = \"choice\", text = \"t\", choices = { \"a\", \"b\" },\n"
           "    answer = 3, explain = \"e\" },\n"
           "}\n",
           ":2:", "answer must be the number of the right choice, 1 to 2");
  load_bad("explain",
           "return quiz {\n"
           "  question \"q1\" { kind = \"exact\", text = \"t\", answer = \"x\" },\n"
           "}\n",
           ":2:", "needs an explanation");
  load_bad("unknown",
           "return quiz {\n"
           "  question \"q1\" { kind = \"exact\", text = \"t\", answer = \"x\", explain = \"e\", hint = 1 },\n"
           "}\n",
           ":2:", "unknown field 'hint'");
  load_bad("dup",
           "return quiz {\n"
           "  question \"q1\" { kind = \"exact\", text = \"t\", answer = \"x\", explain = \"e\" },\n"
           "  question \"q1\" { kind = \"exact\", text = \"u\", answer = \"y\", explain = \"e\" },\n"
           "}\n",
           ":3:", "two questions are named 'q1'");
  load_bad("entry",
           "return quiz {\n"
           "  { kind = \"exact\", text = \"t\", answer = \"x\", explain = \"e\" },\n"
           "}\n",
           ":1:", "entry 1 must be made with question");
  load_bad("numeric",
           "return quiz {\n"
           "  question \"q1\" { kind = \"numeric\", text = \"t\", answer = \"12\", explain = \"e\" },\n"
           "}\n",
           ":2:", "answer must be a number");
  load_bad("syntax", "return quiz {\n  question \"q1\" {\n", ":3:", NULL);
  load_bad("notquiz", "return { 1, 2, 3 }\n", "must return quiz", NULL);
  load_bad("empty", "return quiz {}\n", ":1:", "has no questions");
}

static void test_sandboxed(void) {
  load_bad("io", "local f = io.open('/etc/passwd')\nreturn quiz {}\n", ":1:", "io");
  load_bad("loop", "while true do end\n", "time limit", NULL);
}

static void test_missing_file(void) {
  lx_quiz *q = NULL;
  char *err = NULL;
  PT_EQ_INT(lx_quiz_load("/nonexistent/quiz.lua", &q, &err), PL_ENOTFOUND);
  PT_CONTAINS(err, "/nonexistent/quiz.lua");
  free(err);
  char *p = lx_quiz_path("/course", "l01-x");
  PT_EQ_STR(p, "/course/content/quizzes/l01-x.lua");
  free(p);
}

static void test_judging(void) {
  lx_quiz *qz = load_ok(good);
  const lx_question *c = &qz->q[0], *n = &qz->q[1], *e = &qz->q[2],
                    *e2 = &qz->q[3], *n0 = &qz->q[4];
  PT_EQ_INT(lx_quiz_check(c, "2"), 1);
  PT_EQ_INT(lx_quiz_check(c, " 2. "), 1);
  PT_EQ_INT(lx_quiz_check(c, "b"), 1);
  PT_EQ_INT(lx_quiz_check(c, "1"), 0);
  PT_EQ_INT(lx_quiz_check(c, "4"), PL_EINVAL);
  PT_EQ_INT(lx_quiz_check(c, "0"), PL_EINVAL);
  PT_EQ_INT(lx_quiz_check(c, "two"), PL_EINVAL);

  PT_EQ_INT(lx_quiz_check(n, "1.9"), 1);
  PT_EQ_INT(lx_quiz_check(n, " 1.905 "), 1);
  PT_EQ_INT(lx_quiz_check(n, "1.92"), 0);
  PT_EQ_INT(lx_quiz_check(n, "19/10"), 1);
  PT_EQ_INT(lx_quiz_check(n, "190%"), 1);
  PT_EQ_INT(lx_quiz_check(n, "abc"), PL_EINVAL);
  PT_EQ_INT(lx_quiz_check(n, ""), PL_EINVAL);
  PT_EQ_INT(lx_quiz_check(n, "1.9x"), PL_EINVAL);
  PT_EQ_INT(lx_quiz_check(n, "1/0"), PL_EINVAL);
  PT_EQ_INT(lx_quiz_check(n0, "10"), 1);
  PT_EQ_INT(lx_quiz_check(n0, "10.0000000001"), 1); /* decimal noise */
  PT_EQ_INT(lx_quiz_check(n0, "10.01"), 0);

  PT_EQ_INT(lx_quiz_check(e, "reduction"), 1);
  PT_EQ_INT(lx_quiz_check(e, "  REDUCTION  "), 1);
  PT_EQ_INT(lx_quiz_check(e, "reductions"), 0);
  PT_EQ_INT(lx_quiz_check(e, "   "), PL_EINVAL);
  PT_EQ_INT(lx_quiz_check(e2, "Lock"), 1);
  PT_EQ_INT(lx_quiz_check(e2, "mutex"), 1);
  PT_EQ_INT(lx_quiz_check(e2, "semaphore"), 0);

  char *t = lx_quiz_answer_text(c);
  PT_EQ_STR(t, "2. b");
  free(t);
  t = lx_quiz_answer_text(n);
  PT_EQ_STR(t, "1.90 (within 0.01)");
  free(t);
  t = lx_quiz_answer_text(e2);
  PT_EQ_STR(t, "mutex");
  free(t);
  lx_quiz_free(qz);
}

/* The promise to the content writers: every lecture the course lists has
 * a quiz that loads, with at least three questions. */
static void test_every_lecture_has_a_quiz(void) {
  lx_course *c = NULL;
  char *err = NULL;
  int rc = lx_course_load(PARLAB_SOURCE_DIR, &c, &err);
  if (rc) PT_FAIL_("the course does not load: %s", err ? err : pl_strerror(rc));
  int lectures = 0, bad = 0;
  for (int m = 0; m < c->nmodules; m++)
    for (int i = 0; i < c->modules[m].nitems; i++) {
      const lx_item *it = &c->modules[m].items[i];
      if (it->kind != LX_ITEM_LECTURE) continue;
      lectures++;
      char *path = lx_quiz_path(PARLAB_SOURCE_DIR, it->id);
      lx_quiz *q = NULL;
      char *qerr = NULL;
      rc = lx_quiz_load(path, &q, &qerr);
      if (rc) {
        fprintf(stderr, "  lecture %s: %s\n", it->id, qerr ? qerr : pl_strerror(rc));
        bad++;
      } else if (q->n < 3) {
        fprintf(stderr, "  lecture %s: %s has %d question%s, needs at least 3\n", it->id,
                path, q->n, q->n == 1 ? "" : "s");
        bad++;
      }
      lx_quiz_free(q);
      free(qerr);
      free(path);
    }
  lx_course_free(c);
  PT_TRUE(lectures >= 1);
  PT_EQ_INT(bad, 0);
}

int main(int argc, char **argv) {
  static const pt_case cases[] = {
    PT_CASE(test_load_fields),
    PT_CASE(test_errors_name_file_and_line),
    PT_CASE(test_sandboxed),
    PT_CASE(test_missing_file),
    PT_CASE(test_judging),
    PT_CASE(test_every_lecture_has_a_quiz),
    {0},
  };
  if (!mkdtemp(tmpdir)) {
    perror("mkdtemp");
    return 1;
  }
  int rc = pt_main(argc, argv, cases);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  if (system(cmd)) {}
  return rc;
}
