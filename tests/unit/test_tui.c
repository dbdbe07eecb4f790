/* The TUI's curses-free parts: the courseware tables of the gradebook, the
 * Amdahl fit and the speedup chart, syntax highlighting, what the Markdown
 * layout reports (headings, code blocks, output under a block), snippets
 * in the sandbox, and watching a file for saves. The screens themselves
 * are tested in tmux (tests/tui/). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

#include "db.h"
#include "pl_err.h"
#include "pl_test.h"
#include "tui_int.h"

static char *tmpdir_new(void) {
  char *d = strdup("/tmp/parlab-tui-unit-XXXXXX");
  PT_TRUE(d && mkdtemp(d));
  return d;
}

static void rm_rf(const char *d) {
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
  if (system(cmd)) {}
}

/* ---- gradebook: hints, quiz answers, time spent, settings ---- */

static void test_db_courseware(void) {
  char *dir = tmpdir_new(), path[512], *err = NULL;
  snprintf(path, sizeof path, "%s/parlab.db", dir);
  db *d = NULL;
  PT_EQ_INT(db_open(path, &d, &err), 0);

  int n = -1;
  PT_EQ_INT(db_hints_count(d, "lab-a", &n), 0);
  PT_EQ_INT(n, 0);
  PT_EQ_INT(db_hint_used(d, "lab-a", 1), 0);
  PT_EQ_INT(db_hint_used(d, "lab-a", 2), 0);
  PT_EQ_INT(db_hint_used(d, "lab-a", 2), 0); /* again: no second row */
  PT_EQ_INT(db_hint_used(d, "lab-b", 1), 0);
  PT_EQ_INT(db_hints_count(d, "lab-a", &n), 0);
  PT_EQ_INT(n, 2);
  PT_EQ_INT(db_hints_total(d, &n), 0);
  PT_EQ_INT(n, 3);

  int answered = -1, correct = -1;
  char *ans = NULL;
  PT_EQ_INT(db_quiz_last(d, "l01", "q1", &answered, &correct, &ans), 0);
  PT_EQ_INT(answered, 0);
  PT_TRUE(ans == NULL);
  PT_EQ_INT(db_quiz_answer_add(d, "l01", "q1", "1", 0), 0);
  PT_EQ_INT(db_quiz_answer_add(d, "l01", "q1", "2", 1), 0);
  PT_EQ_INT(db_quiz_answer_add(d, "l01", "q2", "3.1", 1), 0);
  PT_EQ_INT(db_quiz_answer_add(d, "l01", "q2", "9", 0), 0); /* latest: wrong */
  PT_EQ_INT(db_quiz_answer_add(d, "l02", "q1", "x", 1), 0);
  PT_EQ_INT(db_quiz_last(d, "l01", "q1", &answered, &correct, &ans), 0);
  PT_EQ_INT(answered, 1);
  PT_EQ_INT(correct, 1);
  PT_EQ_STR(ans, "2");
  free(ans);
  PT_EQ_INT(db_quiz_progress(d, "l01", &answered, &correct), 0);
  PT_EQ_INT(answered, 2);
  PT_EQ_INT(correct, 1); /* q1 right now, q2 wrong now */

  double s = -1;
  PT_EQ_INT(db_time_get(d, "l01", &s), 0);
  PT_NEAR(s, 0, 0);
  PT_EQ_INT(db_time_add(d, "l01", 12.5), 0);
  PT_EQ_INT(db_time_add(d, "l01", 7.5), 0);
  PT_EQ_INT(db_time_add(d, "l01", -3), 0); /* ignored */
  PT_EQ_INT(db_time_get(d, "l01", &s), 0);
  PT_NEAR(s, 20, 1e-9);

  char *v = NULL;
  PT_EQ_INT(db_setting_get(d, "last_item", &v), 0);
  PT_TRUE(v == NULL);
  PT_EQ_INT(db_setting_set(d, "last_item", "l01"), 0);
  PT_EQ_INT(db_setting_set(d, "last_item", "amdahl-sum"), 0);
  PT_EQ_INT(db_setting_get(d, "last_item", &v), 0);
  PT_EQ_STR(v, "amdahl-sum");
  free(v);
  db_close(d);

  /* it all survives reopening */
  PT_EQ_INT(db_open(path, &d, &err), 0);
  PT_EQ_INT(db_hints_count(d, "lab-a", &n), 0);
  PT_EQ_INT(n, 2);
  PT_EQ_INT(db_time_get(d, "l01", &s), 0);
  PT_NEAR(s, 20, 1e-9);
  db_close(d);
  rm_rf(dir);
  free(dir);
}

/* ---- the Amdahl fit ---- */

static void test_amdahl_fit_exact(void) {
  double p[4] = {1, 2, 4, 8}, t[4];
  for (int k = 0; k < 4; k++) t[k] = 10.0 * (0.2 + 0.8 / p[k]);
  double s = -1, t1 = -1;
  PT_EQ_INT(tui__amdahl_fit(p, t, 4, &s, &t1), 0);
  PT_NEAR(s, 0.2, 1e-9);
  PT_NEAR(t1, 10, 1e-9);
  /* two points determine the fit */
  PT_EQ_INT(tui__amdahl_fit(p + 1, t + 1, 2, &s, &t1), 0);
  PT_NEAR(s, 0.2, 1e-9);
}

static void test_amdahl_fit_noise_and_limits(void) {
  double p[4] = {1, 2, 4, 8};
  /* noisy but close to s = 0.1 */
  double t[4] = {10.1, 5.4, 3.3, 2.2};
  double s, t1;
  PT_EQ_INT(tui__amdahl_fit(p, t, 4, &s, &t1), 0);
  PT_TRUE(s > 0.05 && s < 0.15);
  /* slower with more threads: everything serial */
  double slow[2] = {1.0, 1.5};
  PT_EQ_INT(tui__amdahl_fit(p, slow, 2, &s, &t1), 0);
  PT_NEAR(s, 1, 0);
  /* better than linear: nothing serial */
  double super[2] = {1.0, 0.4};
  PT_EQ_INT(tui__amdahl_fit(p, super, 2, &s, &t1), 0);
  PT_NEAR(s, 0, 0);
  PT_TRUE(t1 > 0);
  /* not enough to fit */
  PT_EQ_INT(tui__amdahl_fit(p, t, 1, &s, &t1), PL_EINVAL);
  double same[2] = {2, 2};
  PT_EQ_INT(tui__amdahl_fit(same, t, 2, &s, &t1), PL_EINVAL);
  double bad[2] = {-1, 0.0};
  PT_EQ_INT(tui__amdahl_fit(p, bad, 2, &s, &t1), PL_EINVAL);
}

static char *doc_text(const tui_doc *d) {
  size_t cap = 1;
  for (int k = 0; k < d->n; k++) cap += (size_t)d->lines[k].t.n * 4 + 1;
  char *s = malloc(cap), *o = s;
  for (int k = 0; k < d->n; k++) {
    char *l = tui__line_utf8(&d->lines[k]);
    size_t n = strlen(l);
    memcpy(o, l, n);
    o += n;
    *o++ = '\n';
    free(l);
  }
  *o = 0;
  return s;
}

static void test_speedup_chart(void) {
  double p[3] = {1, 2, 4}, t[3];
  for (int k = 0; k < 3; k++) t[k] = 2.0 * (0.25 + 0.75 / p[k]);
  tui_doc d = {0};
  PT_EQ_INT(tui__speedup_chart(&d, 70, 0, p, t, 3, 0), 0);
  char *s = doc_text(&d);
  PT_CONTAINS(s, "Serial fraction (Amdahl fit): s = 0.250 (25.0%)");
  PT_CONTAINS(s, "at most 4.0x");
  PT_CONTAINS(s, "ideal (speedup = threads)");
  PT_CONTAINS(s, "Amdahl fit, s = 0.250");
  PT_CONTAINS(s, "threads");
  PT_CONTAINS(s, "\xe2\xa0"); /* braille cells: U+28xx */
  for (int k = 0; k < d.n; k++)
    PT_TRUE(tui__rich_width(&d.lines[k].t, 0, d.lines[k].t.n) <= 70);
  free(s);
  tui__doc_free(&d);

  /* ASCII for terminals without UTF-8 */
  PT_EQ_INT(tui__speedup_chart(&d, 60, 1, p, t, 3, 1.5), 0);
  s = doc_text(&d);
  for (const char *c = s; *c; c++) PT_TRUE((unsigned char)*c < 0x80);
  PT_CONTAINS(s, "speedup over the serial baseline");
  free(s);
  tui__doc_free(&d);

  /* one point: charted, but no fit */
  PT_EQ_INT(tui__speedup_chart(&d, 60, 0, p + 2, t + 2, 1, 1.5), 0);
  s = doc_text(&d);
  PT_CONTAINS(s, "no Amdahl fit");
  free(s);
  tui__doc_free(&d);
  PT_EQ_INT(tui__speedup_chart(&d, 60, 0, p, t, 0, 0), PL_EINVAL);
}

/* ---- syntax highlighting ---- */

/* The role of the first character of `word` in s. */
static int role_at(const wchar_t *s, const uint16_t *st, const wchar_t *word) {
  const wchar_t *p = wcsstr(s, word);
  if (!p) PT_FAIL_("'%ls' not in the code", word);
  return st[p - s] & TUI_C_MASK;
}

static void test_highlight(void) {
  uint16_t st[512];
  const wchar_t *c = L"#include <stdio.h>\n/* block\n comment */ int main(void) {\n"
                     L"  double x2 = 1.5e-3; // line\n  printf(\"%d\\n\", 'c');\n}";
  int n = (int)wcslen(c);
  PT_EQ_INT(tui__hl("c", c, n, st), 1);
  PT_EQ_INT(role_at(c, st, L"#include"), TUI_C_KEYWORD);
  PT_EQ_INT(role_at(c, st, L"<stdio.h>"), TUI_C_STRING);
  PT_EQ_INT(role_at(c, st, L" comment */"), TUI_C_COMMENT);
  PT_EQ_INT(role_at(c, st, L"int main"), TUI_C_KEYWORD);
  PT_EQ_INT(role_at(c, st, L"main"), TUI_C_NORMAL);
  PT_EQ_INT(role_at(c, st, L"x2"), TUI_C_NORMAL);
  PT_EQ_INT(role_at(c, st, L"1.5e-3"), TUI_C_NUMBER);
  PT_EQ_INT(role_at(c, st, L"-3;"), TUI_C_NUMBER);
  PT_EQ_INT(role_at(c, st, L"// line"), TUI_C_COMMENT);
  PT_EQ_INT(role_at(c, st, L"\"%d"), TUI_C_STRING);
  PT_EQ_INT(role_at(c, st, L"\\n\""), TUI_C_STRING);
  PT_EQ_INT(role_at(c, st, L"'c'"), TUI_C_STRING);

  const wchar_t *cu = L"__global__ void k(float *a) { a[threadIdx.x] = 0; }";
  PT_EQ_INT(tui__hl("cuda", cu, (int)wcslen(cu), st), 1);
  PT_EQ_INT(role_at(cu, st, L"__global__"), TUI_C_KEYWORD);
  PT_EQ_INT(role_at(cu, st, L"threadIdx"), TUI_C_KEYWORD);

  const wchar_t *lua = L"local s = [[long\nstring]] --[==[ long\ncomment ]==] x = 0x1F -- c\n"
                       L"for i = 1, 10 do end";
  PT_EQ_INT(tui__hl("Lua", lua, (int)wcslen(lua), st), 1);
  PT_EQ_INT(role_at(lua, st, L"local"), TUI_C_KEYWORD);
  PT_EQ_INT(role_at(lua, st, L"string]]"), TUI_C_STRING);
  PT_EQ_INT(role_at(lua, st, L"comment ]==]"), TUI_C_COMMENT);
  PT_EQ_INT(role_at(lua, st, L" x = 0x1F") + 0, TUI_C_NORMAL);
  PT_EQ_INT(role_at(lua, st, L"0x1F"), TUI_C_NUMBER);
  PT_EQ_INT(role_at(lua, st, L"-- c"), TUI_C_COMMENT);
  PT_EQ_INT(role_at(lua, st, L"do end"), TUI_C_KEYWORD);

  const wchar_t *sh = L"# note\necho \"$HOME\" a#b ${X} '$lit' # tail";
  PT_EQ_INT(tui__hl("bash", sh, (int)wcslen(sh), st), 1);
  PT_EQ_INT(role_at(sh, st, L"# note"), TUI_C_COMMENT);
  PT_EQ_INT(role_at(sh, st, L"echo"), TUI_C_KEYWORD);
  PT_EQ_INT(role_at(sh, st, L"a#b"), TUI_C_NORMAL);
  PT_EQ_INT(role_at(sh, st, L"#b"), TUI_C_NORMAL); /* not a comment mid-word */
  PT_EQ_INT(role_at(sh, st, L"${X}"), TUI_C_NUMBER);
  PT_EQ_INT(role_at(sh, st, L"'$lit'"), TUI_C_STRING);
  PT_EQ_INT(role_at(sh, st, L"# tail"), TUI_C_COMMENT);

  const wchar_t *py = L"@cache\ndef f(x):\n    \"\"\"doc\n    string\"\"\"\n    return x ** 2  # sq";
  PT_EQ_INT(tui__hl("python", py, (int)wcslen(py), st), 1);
  PT_EQ_INT(role_at(py, st, L"@cache"), TUI_C_KEYWORD);
  PT_EQ_INT(role_at(py, st, L"def"), TUI_C_KEYWORD);
  PT_EQ_INT(role_at(py, st, L"string\"\"\""), TUI_C_STRING);
  PT_EQ_INT(role_at(py, st, L"return"), TUI_C_KEYWORD);
  PT_EQ_INT(role_at(py, st, L"2  #"), TUI_C_NUMBER);
  PT_EQ_INT(role_at(py, st, L"# sq"), TUI_C_COMMENT);

  st[0] = 77;
  PT_EQ_INT(tui__hl("fortran", L"x", 1, st), 0);
  PT_EQ_INT(tui__hl("", L"x", 1, st), 0);
  PT_EQ_INT(st[0], 77); /* untouched */
}

/* ---- the Markdown layout's report ---- */

static void add_output(void *arg, int index, tui_doc *d, int width) {
  int *calls = arg;
  calls[index]++;
  tui_line *l = tui__doc_add(d, 0);
  tui__rich_printf(&l->t, 0, "OUTPUT OF BLOCK %d (width %d)", index, width);
}

static void test_md_info(void) {
  const char *md = "# Title\n\ntext\n\n## Part *two*\n\n```lua\nprint(1)\nprint(2)\n```\n\n"
                   "```C\nint x;\n```\n\n    indented\n";
  tui_mdinfo info = {0};
  int calls[8] = {0};
  tui_mdopts o = {.width = 60, .info = &info, .after_code = add_output, .arg = calls};
  tui_doc d = {0};
  PT_EQ_INT(tui__md_layout(md, strlen(md), &o, &d), 0);
  PT_EQ_INT(info.nheads, 2);
  PT_EQ_INT(info.heads[0].level, 1);
  PT_EQ_STR(info.heads[0].text, "Title");
  PT_EQ_INT(info.heads[1].level, 2);
  PT_EQ_STR(info.heads[1].text, "Part two");
  char *l = tui__line_utf8(&d.lines[info.heads[1].line]);
  PT_CONTAINS(l, "Part two");
  free(l);
  PT_EQ_INT(info.ncodes, 3);
  PT_EQ_STR(info.codes[0].lang, "lua");
  PT_EQ_STR(info.codes[0].text, "print(1)\nprint(2)\n");
  PT_EQ_INT(info.codes[0].src, 8); /* the first code line in the Markdown */
  PT_EQ_INT(info.codes[0].last - info.codes[0].first, 2);
  PT_EQ_STR(info.codes[1].lang, "c"); /* lower-cased */
  PT_EQ_STR(info.codes[2].lang, "");  /* indented: no language */
  PT_EQ_INT(calls[0], 1);
  PT_EQ_INT(calls[1], 1);
  PT_EQ_INT(calls[2], 1);
  /* the output sits right under its block */
  l = tui__line_utf8(&d.lines[info.codes[0].last]);
  PT_CONTAINS(l, "OUTPUT OF BLOCK 0");
  free(l);
  l = tui__line_utf8(&d.lines[info.codes[0].last - 1]);
  PT_CONTAINS(l, "print(2)");
  free(l);
  /* highlighted: `print` is plain, `1` a number */
  const tui_rich *r = &d.lines[info.codes[0].first].t;
  int k = 0;
  while (k < r->n && r->ch[k] != L'1') k++;
  PT_EQ_INT(r->st[k] & TUI_C_MASK, TUI_C_NUMBER);
  tui__mdinfo_free(&info);
  PT_EQ_INT(info.nheads, 0);
  tui__doc_free(&d);
}

/* ---- snippets ---- */

static void test_snippet_runs_and_captures(void) {
  char *out = NULL;
  int failed = -1;
  PT_EQ_INT(tui__snippet_run("print('a', 1 + 1)\nprint(engine.cores() >= 1)", "x.md", 5, 2.0,
                             &out, &failed), 0);
  PT_EQ_INT(failed, 0);
  PT_EQ_STR(out, "a\t2\ntrue");
  free(out);
  PT_EQ_INT(tui__snippet_run("", "x.md", 1, 2.0, &out, &failed), 0);
  PT_EQ_STR(out, "");
  free(out);
}

static void test_snippet_errors_name_the_lecture_line(void) {
  char *out = NULL;
  int failed = 0;
  /* the block starts on line 40 of the lecture: its line 2 is line 41 */
  PT_EQ_INT(tui__snippet_run("print('before')\nlocal t = nil; print(t.x)", "l01.md", 40, 2.0,
                             &out, &failed), 0);
  PT_EQ_INT(failed, 1);
  PT_CONTAINS(out, "before\n");
  PT_CONTAINS(out, "l01.md:41:");
  PT_CONTAINS(out, "attempt to index");
  free(out);
  PT_EQ_INT(tui__snippet_run("x = = 1", "l01.md", 3, 2.0, &out, &failed), 0);
  PT_EQ_INT(failed, 1);
  PT_CONTAINS(out, "l01.md:3:");
  free(out);
}

static void test_snippet_sandbox_and_limits(void) {
  char *out = NULL;
  int failed = 0;
  PT_EQ_INT(tui__snippet_run("io.open('/etc/passwd')", "s.md", 1, 2.0, &out, &failed), 0);
  PT_EQ_INT(failed, 1);
  PT_CONTAINS(out, "io");
  free(out);
  double t0 = tui__now();
  PT_EQ_INT(tui__snippet_run("while true do end", "s.md", 7, 0.3, &out, &failed), 0);
  PT_TRUE(tui__now() - t0 < 5);
  PT_EQ_INT(failed, 1);
  PT_CONTAINS(out, "s.md:7: time limit");
  free(out);
  PT_EQ_INT(tui__snippet_run("local t = {} for i = 1, 1e9 do t[i] = {i} end", "s.md", 1, 20.0,
                             &out, &failed), 0);
  PT_EQ_INT(failed, 1);
  PT_CONTAINS(out, "memory limit");
  free(out);
  /* endless printing is cut, not stored */
  PT_EQ_INT(tui__snippet_run("for i = 1, 1e6 do print(('x'):rep(80)) end", "s.md", 1, 10.0,
                             &out, &failed), 0);
  PT_EQ_INT(failed, 0);
  PT_TRUE(strlen(out) < 20000);
  PT_CONTAINS(out, "[output cut at 16 KiB]");
  free(out);
}

/* ---- watching a file ---- */

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  PT_TRUE(f != NULL);
  fputs(text, f);
  fclose(f);
}

static void test_watch(void) {
  char *dir = tmpdir_new(), file[512], tmp[512], other[512], *err = NULL;
  snprintf(file, sizeof file, "%s/sum.c", dir);
  snprintf(tmp, sizeof tmp, "%s/.sum.c.swp", dir);
  snprintf(other, sizeof other, "%s/notes.txt", dir);
  write_file(file, "v1");
  tui_watch *w = NULL;
  PT_EQ_INT(tui__watch_open(file, &w, &err), 0);
  PT_EQ_INT(tui__watch_poll(w), 0);
  write_file(file, "v2"); /* in place: IN_CLOSE_WRITE */
  PT_EQ_INT(tui__watch_poll(w), 1);
  PT_EQ_INT(tui__watch_poll(w), 0); /* reported once */
  write_file(tmp, "v3");            /* an editor's temporary file ... */
  PT_EQ_INT(tui__watch_poll(w), 0);
  PT_EQ_INT(rename(tmp, file), 0);  /* ... renamed over: IN_MOVED_TO */
  PT_EQ_INT(tui__watch_poll(w), 1);
  write_file(other, "x");           /* other files do not count */
  PT_EQ_INT(tui__watch_poll(w), 0);
  FILE *f = fopen(file, "r");       /* reading is not saving */
  fclose(f);
  PT_EQ_INT(tui__watch_poll(w), 0);
  tui__watch_free(w);
  PT_EQ_INT(tui__watch_open("/nonexistent-dir/x.c", &w, &err), PL_EIO);
  PT_CONTAINS(err, "/nonexistent-dir");
  free(err);
  rm_rf(dir);
  free(dir);
}

int main(int argc, char **argv) {
  static const pt_case cases[] = {
    PT_CASE(test_db_courseware),
    PT_CASE(test_amdahl_fit_exact),
    PT_CASE(test_amdahl_fit_noise_and_limits),
    PT_CASE(test_speedup_chart),
    PT_CASE(test_highlight),
    PT_CASE(test_md_info),
    PT_CASE(test_snippet_runs_and_captures),
    PT_CASE(test_snippet_errors_name_the_lecture_line),
    PT_CASE(test_snippet_sandbox_and_limits),
    PT_CASE(test_watch),
    {0},
  };
  return pt_main(argc, argv, cases);
}
