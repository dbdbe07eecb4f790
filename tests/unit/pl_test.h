/*
 * pl_test.h — the unit-test runner: each test runs in a forked child with
 * a time limit, so a crash or a hang fails that test only. Typed asserts
 * print both values. Usage:
 *
 *   static void test_x(void) { PT_EQ_INT(1 + 1, 2); }
 *   int main(int argc, char **argv) {
 *     static const pt_case cases[] = { PT_CASE(test_x), {0} };
 *     return pt_main(argc, argv, cases);
 *   }
 *
 * `./test_foo NAME` runs one test. A final "N passed, N failed" line is
 * printed. Header-only; single-threaded.
 */
#ifndef PL_TEST_H
#define PL_TEST_H

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct pt_case { const char *name; void (*fn)(void); int timeout_s; } pt_case;
#define PT_CASE(f) { #f, f, 60 }
#define PT_CASE_T(f, secs) { #f, f, secs }

#define PT_FAIL_(...) do { fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__); \
  fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); exit(1); } while (0)

#define PT_TRUE(c) do { if (!(c)) PT_FAIL_("expected true: %s", #c); } while (0)
#define PT_EQ_INT(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
  if (a_ != b_) PT_FAIL_("%s == %s: got %lld, expected %lld", #a, #b, a_, b_); } while (0)
#define PT_NE_INT(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
  if (a_ == b_) PT_FAIL_("%s != %s: both are %lld", #a, #b, a_); } while (0)
#define PT_GE(a, b) do { double a_ = (double)(a), b_ = (double)(b); \
  if (!(a_ >= b_)) PT_FAIL_("%s >= %s: got %g < %g", #a, #b, a_, b_); } while (0)
#define PT_NEAR(a, b, tol) do { double a_ = (double)(a), b_ = (double)(b); \
  if (!(fabs(a_ - b_) <= (tol))) PT_FAIL_("%s ~ %s: got %.17g, expected %.17g (tol %g)", \
    #a, #b, a_, b_, (double)(tol)); } while (0)
#define PT_EQ_STR(a, b) do { const char *a_ = (a), *b_ = (b); \
  if (!a_ || !b_ || strcmp(a_, b_)) PT_FAIL_("%s == %s: got \"%s\", expected \"%s\"", \
    #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); } while (0)
#define PT_CONTAINS(hay, needle) do { const char *h_ = (hay), *n_ = (needle); \
  if (!h_ || !strstr(h_, n_)) PT_FAIL_("%s contains \"%s\": got \"%s\"", #hay, n_, \
    h_ ? h_ : "(null)"); } while (0)

static int pt_run_one(const pt_case *c) {
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) { perror("fork"); return 0; }
  if (pid == 0) { alarm((unsigned)c->timeout_s); c->fn(); fflush(NULL); _exit(0); }
  int st = 0;
  while (waitpid(pid, &st, 0) < 0) {}
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0) { printf("ok    %s\n", c->name); return 1; }
  if (WIFSIGNALED(st))
    printf("FAIL  %s (%s)\n", c->name, WTERMSIG(st) == SIGALRM ? "timed out" : strsignal(WTERMSIG(st)));
  else
    printf("FAIL  %s\n", c->name);
  return 0;
}

static int pt_main(int argc, char **argv, const pt_case *cases) {
  int passed = 0, failed = 0;
  for (const pt_case *c = cases; c->name; c++) {
    if (argc > 1 && strcmp(argv[1], c->name)) continue;
    if (pt_run_one(c)) passed++; else failed++;
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}

#endif
