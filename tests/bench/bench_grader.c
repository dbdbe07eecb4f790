/*
 * bench_grader.c — the "grader" suite: `parlab grade amdahl-sum DIR
 * --jobs 2` on 100 generated submissions, against a bare compile and run
 * of the same files measured in the same run.
 *
 * The mix (fixed, interleaved by a seeded shuffle so both workers get a
 * bit of everything): 20 correct parallel sums, 10 correct serial sums
 * (they miss the speedup target, so their timed check is re-measured: the
 * slowest kind), 28 wrong sums, 20 crashing (SIGSEGV), 2 looping and 20
 * that do not compile. The looping ones spin only for n = 7, so they hit
 * the correctness check's 15 s limit and nothing else. Correct submissions
 * cost the most (the timed check sums 2e7 doubles 18 times, twice for the
 * serial ones), so their share is what keeps both sides together under
 * about three minutes on two cores.
 *
 * The bare reference does the same work without parlab: for each file
 * `cc -O2 -fopenmp -fPIC -shared`, then a minimal runner (compiled once,
 * before the clock starts) that dlopens the file and calls lab_sum on the
 * lab's data sizes in two plain forked processes with the lab's time
 * limits (15 s for correctness, 60 s for the timed part). The timed part
 * makes the same calls as the lab's scaling check — a warm-up and five
 * rounds of serial baseline, 1 thread and all cores, on 2e7 doubles —
 * repeated once when the speedup misses 0.7 x cores, and it holds a file
 * lock so timed runs never overlap, as the grader's do. Both locks are
 * private to the suite. Both sides use two
 * worker processes pulling files from a queue. The ratio is therefore
 * parlab's overhead: jails, Lua checks, shared-memory marshalling, the
 * gradebook, progress.
 *
 * A child that uses OpenMP is always exec'd, never just forked: this
 * process may already run libgomp threads (the pool suite), and libgomp is
 * not fork-safe.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "eng_measure.h"
#include "pl_err.h"

#define NSUBS 100
#define JOBS 2

enum { K_PAR, K_SERIAL, K_WRONG, K_CRASH, K_LOOP, K_CERR, K_COUNT };
static const int kind_count[K_COUNT] = {20, 10, 28, 20, 2, 20};
static const char *const kind_name[K_COUNT] = {"correct", "serial", "wrong", "crash", "loop",
                                               "no-compile"};

static const char *const kind_src[K_COUNT] = {
  /* K_PAR */
  "#include <omp.h>\n"
  "double lab_sum(const double *x, long n) {\n"
  "  double s = 0.0;\n"
  "#pragma omp parallel for reduction(+ : s) schedule(static)\n"
  "  for (long i = 0; i < n; i++) s += x[i];\n"
  "  return s;\n"
  "}\n",
  /* K_SERIAL */
  "#include <omp.h>\n"
  "double lab_sum(const double *x, long n) {\n"
  "  double s = 0.0;\n"
  "  for (long i = 0; i < n; i++) s += x[i];\n"
  "  return s;\n"
  "}\n",
  /* K_WRONG: drops the last element */
  "#include <omp.h>\n"
  "double lab_sum(const double *x, long n) {\n"
  "  double s = 0.0;\n"
  "#pragma omp parallel for reduction(+ : s)\n"
  "  for (long i = 0; i < n - 1; i++) s += x[i];\n"
  "  return s;\n"
  "}\n",
  /* K_CRASH */
  "#include <omp.h>\n"
  "double lab_sum(const double *x, long n) {\n"
  "  (void)x;\n"
  "  volatile double *p = (volatile double *)0;\n"
  "  return p[n];\n"
  "}\n",
  /* K_LOOP: spins for n == 7 only */
  "#include <omp.h>\n"
  "double lab_sum(const double *x, long n) {\n"
  "  volatile long spin = 0;\n"
  "  while (n == 7) spin++;\n"
  "  double s = 0.0;\n"
  "#pragma omp parallel for reduction(+ : s)\n"
  "  for (long i = 0; i < n; i++) s += x[i];\n"
  "  return s;\n"
  "}\n",
  /* K_CERR */
  "#include <omp.h>\n"
  "double lab_sum(const double *x, long n) {\n"
  "  double s = 0.0\n"
  "  for (long i = 0; i < n; i++) s += x[i];\n"
  "  return s;\n"
  "}\n",
};

/* The bare runner: `runner SO check` or `runner SO timed LOCKFILE CORES`.
 * Exit 0 pass, 1 fail, 2 could not load. */
static const char runner_src[] =
  "#include <dlfcn.h>\n#include <fcntl.h>\n#include <math.h>\n#include <omp.h>\n"
  "#include <stdint.h>\n#include <stdlib.h>\n#include <string.h>\n#include <sys/file.h>\n"
  "#include <time.h>\n"
  "typedef double (*sum_fn)(const double *, long);\n"
  "static double *randoms(long n, uint64_t seed) {\n"
  "  double *x = malloc(sizeof *x * (size_t)(n ? n : 1));\n"
  "  for (long i = 0; i < n; i++) {\n"
  "    uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);\n"
  "    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL; z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;\n"
  "    x[i] = (double)((z ^ (z >> 31)) >> 11) * 0x1.0p-53 * 2 - 1;\n"
  "  }\n"
  "  return x;\n"
  "}\n"
  "static double serial(const double *x, long n) { double s = 0; for (long i = 0; i < n; i++) s += x[i]; return s; }\n"
  "static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }\n"
  "static int cmpd(const void *a, const void *b) { double d = *(const double *)a - *(const double *)b; return (d > 0) - (d < 0); }\n"
  "static double median(double *v, int n) { qsort(v, n, sizeof *v, cmpd); return v[n / 2]; }\n"
  "int main(int argc, char **argv) {\n"
  "  void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);\n"
  "  sum_fn f = h ? (sum_fn)dlsym(h, \"lab_sum\") : 0;\n"
  "  if (!f) return 2;\n"
  "  if (!strcmp(argv[2], \"check\")) {\n"
  "    long ns[] = {0, 1, 7, 2000003};\n"
  "    for (int k = 0; k < 4; k++) {\n"
  "      double *x = randoms(ns[k], 1000 + ns[k]);\n"
  "      double want = serial(x, ns[k]), got = f(x, ns[k]);\n"
  "      free(x);\n"
  "      if (!(fabs(got - want) <= 1e-9 * fmax(1, fabs(want)) + 1e-12 * ns[k])) return 1;\n"
  "    }\n"
  "    return 0;\n"
  "  }\n"
  "  int lock = open(argv[3], O_RDWR | O_CREAT, 0600), cores = atoi(argv[4]);\n"
  "  flock(lock, LOCK_EX);\n"
  "  long N = 20000000;\n"
  "  double speedup = 0;\n"
  "  volatile double sink;\n"
  "  /* As the lab: fresh data per attempt, expected sums from one total\n"
  "   * minus a tail, a second attempt only after a missed target or a\n"
  "   * wrong sum. */\n"
  "  for (int attempt = 0; attempt < 2; attempt++) {\n"
  "    double *x = randoms(N, 7), tb[5], tn[5], want[6], tail = 0, total = serial(x, N);\n"
  "    int ok = 1;\n"
  "    for (int rep = 0; rep <= 5; rep++) { want[rep] = total - tail; tail += x[N - 1 - rep]; }\n"
  "    for (int rep = 0; rep <= 5 && ok; rep++) {\n"
  "      long n = N - rep;\n"
  "      double tol = 1e-9 * fmax(1, fabs(want[rep])) + 1e-12 * n, t0 = now();\n"
  "      sink = serial(x, n); double b = now() - t0;\n"
  "      omp_set_num_threads(1); t0 = now();\n"
  "      double g1 = f(x, n); now();\n"
  "      if (!(fabs(g1 - want[rep]) <= tol)) { ok = 0; break; }\n"
  "      omp_set_num_threads(cores); t0 = now();\n"
  "      double gn = f(x, n); double c = now() - t0;\n"
  "      if (!(fabs(gn - want[rep]) <= tol)) { ok = 0; break; }\n"
  "      if (rep > 0) { tb[rep - 1] = b; tn[rep - 1] = c; }\n"
  "    }\n"
  "    free(x);\n"
  "    if (!ok) continue;\n"
  "    speedup = median(tb, 5) / median(tn, 5);\n"
  "    if (speedup >= 0.7 * cores) break;\n"
  "  }\n"
  "  (void)sink;\n"
  "  return speedup >= 0.7 * cores ? 0 : 1;\n"
  "}\n";

static int write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (!f) return PL_EIO;
  fputs(text, f);
  return fclose(f) ? PL_EIO : 0;
}

/* Run argv with stdout/stderr to `out` (or /dev/null), killing its
 * process group after limit_s; tmpdir (may be NULL) becomes its TMPDIR.
 * Returns the wait status, or -1. */
static int run_limited(char *const argv[], const char *out, const char *tmpdir, double limit_s) {
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    setpgid(0, 0);
    int fd = open(out ? out : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int nul = open("/dev/null", O_WRONLY);
    if (fd >= 0) dup2(fd, 1);
    if (nul >= 0) dup2(out ? nul : fd, 2);
    if (tmpdir) setenv("TMPDIR", tmpdir, 1);
    execvp(argv[0], argv);
    _exit(127);
  }
  setpgid(pid, pid);
  double deadline = eng_now() + limit_s;
  int st = 0;
  for (;;) {
    pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) return -1;
    if (eng_now() > deadline) {
      kill(-pid, SIGKILL);
      waitpid(pid, &st, 0);
      break;
    }
    struct timespec ts = {0, 2000000}; /* 2 ms: polling a child's exit, not a sync point */
    nanosleep(&ts, NULL);
  }
  kill(-pid, SIGKILL);
  return st;
}

/* One submission the bare way. */
static void bare_one(const char *dir, int i, const char *runner, const char *lock, int cores) {
  char src[512], so[512], cores_s[16];
  snprintf(src, sizeof src, "%s/subs/s%03d.c", dir, i);
  snprintf(so, sizeof so, "%s/bare/s%03d.so", dir, i);
  snprintf(cores_s, sizeof cores_s, "%d", cores);
  char *cc = getenv("PARLAB_CC") && *getenv("PARLAB_CC") ? getenv("PARLAB_CC") : "cc";
  char *cargv[] = {cc, "-O2", "-fopenmp", "-fPIC", "-shared", "-o", so, src, NULL};
  int st = run_limited(cargv, NULL, NULL, 60);
  if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) return;
  char *a1[] = {(char *)runner, so, "check", NULL};
  run_limited(a1, NULL, NULL, 15);
  char *a2[] = {(char *)runner, so, "timed", (char *)lock, cores_s, NULL};
  run_limited(a2, NULL, NULL, 60);
}

/* JOBS processes pull indices from a pipe, like the grader's workers. */
static double bare_all(const char *dir, const char *runner, const char *lock, int cores) {
  int p[2];
  if (pipe(p)) return -1;
  for (int32_t i = 0; i < NSUBS; i++)
    if (write(p[1], &i, sizeof i) != sizeof i) return -1;
  close(p[1]);
  double t0 = eng_now();
  pid_t kids[JOBS];
  for (int k = 0; k < JOBS; k++) {
    kids[k] = fork();
    if (kids[k] == 0) {
      int32_t i;
      while (read(p[0], &i, sizeof i) == sizeof i) bare_one(dir, i, runner, lock, cores);
      _exit(0);
    }
  }
  close(p[0]);
  for (int k = 0; k < JOBS; k++)
    if (kids[k] > 0) waitpid(kids[k], NULL, 0);
  return eng_now() - t0;
}

static int cores_online(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
}

/* Checks the batch's --json document: every student there, and the kinds
 * scored as they must be (so a fast but broken grader cannot win). */
static int check_results(const char *path, const int *kind) {
  FILE *f = fopen(path, "r");
  if (!f) return PL_EIO;
  char *buf = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&buf, &len);
  char tmp[8192];
  size_t n;
  while (m && (n = fread(tmp, 1, sizeof tmp, f)) > 0) fwrite(tmp, 1, n, m);
  fclose(f);
  if (m) fclose(m);
  cJSON *doc = cJSON_Parse(buf ? buf : "");
  free(buf);
  const cJSON *st = cJSON_GetObjectItemCaseSensitive(doc, "students"), *s;
  int seen = 0, bad = 0;
  cJSON_ArrayForEach(s, st) {
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(s, "id");
    const cJSON *checks = cJSON_GetObjectItemCaseSensitive(s, "checks");
    const cJSON *comp = cJSON_GetObjectItemCaseSensitive(s, "compiled");
    if (!cJSON_IsString(id) || id->valuestring[0] != 's') { bad++; continue; }
    int i = atoi(id->valuestring + 1);
    if (i < 0 || i >= NSUBS) { bad++; continue; }
    seen++;
    int sums = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(checks, 0), "passed"));
    int want_sums = kind[i] == K_PAR || kind[i] == K_SERIAL;
    if (sums != want_sums || cJSON_IsTrue(comp) != (kind[i] != K_CERR)) {
      fprintf(stderr, "bench grader: s%03d (%s) graded wrongly\n", i, kind_name[kind[i]]);
      bad++;
    }
  }
  cJSON_Delete(doc);
  if (seen != NSUBS) fprintf(stderr, "bench grader: %d of %d students in the results\n", seen, NSUBS);
  return seen == NSUBS && !bad ? 0 : PL_EINVAL;
}

static int bench_grader_run(bench_report *rep) {
  char dir[] = "/tmp/parlab-bench-grader-XXXXXX";
  char path[600], runner[600], lock[600], db[600], json[600];
  int kind[NSUBS], rc = PL_EIO, cores = cores_online();
  if (!mkdtemp(dir)) return PL_EIO;
  snprintf(path, sizeof path, "%s/subs", dir);
  if (mkdir(path, 0700)) goto done;
  snprintf(path, sizeof path, "%s/bare", dir);
  if (mkdir(path, 0700)) goto done;

  /* The mix, shuffled with a fixed seed. */
  int k = 0;
  for (int t = 0; t < K_COUNT; t++)
    for (int j = 0; j < kind_count[t]; j++) kind[k++] = t;
  uint64_t seed = 12345;
  for (int i = NSUBS - 1; i > 0; i--) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    int j = (int)((seed >> 33) % (uint64_t)(i + 1));
    int t = kind[i]; kind[i] = kind[j]; kind[j] = t;
  }
  for (int i = 0; i < NSUBS; i++) {
    char text[2048];
    /* A distinct first line gives every file its own hash. */
    snprintf(text, sizeof text, "/* submission %d (%s) */\n%s", i, kind_name[kind[i]], kind_src[kind[i]]);
    snprintf(path, sizeof path, "%s/subs/s%03d.c", dir, i);
    if ((rc = write_file(path, text))) goto done;
  }

  /* The bare runner, compiled before any clock starts. */
  snprintf(path, sizeof path, "%s/runner.c", dir);
  snprintf(runner, sizeof runner, "%s/runner", dir);
  snprintf(lock, sizeof lock, "%s/timed.lock", dir);
  if ((rc = write_file(path, runner_src))) goto done;
  char *cc = getenv("PARLAB_CC") && *getenv("PARLAB_CC") ? getenv("PARLAB_CC") : "cc";
  char *rargv[] = {cc, "-O2", "-fopenmp", "-o", runner, path, "-lm", "-ldl", NULL};
  int st = run_limited(rargv, NULL, NULL, 120);
  rc = PL_ENOSYS;
  if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
    fprintf(stderr, "bench grader: cannot build the bare runner with %s\n", cc);
    goto done;
  }

  fprintf(stderr, "bench grader: %d submissions (", NSUBS);
  for (int t = 0; t < K_COUNT; t++) fprintf(stderr, "%s%d %s", t ? ", " : "", kind_count[t], kind_name[t]);
  fprintf(stderr, "), %d jobs, %d cores\n", JOBS, cores);

  snprintf(db, sizeof db, "%s/gradebook.db", dir);
  snprintf(json, sizeof json, "%s/grade.json", dir);
  snprintf(path, sizeof path, "%s/subs", dir);
  char jobs_s[8];
  snprintf(jobs_s, sizeof jobs_s, "%d", JOBS);
  char *gargv[] = {"/proc/self/exe", "grade", "amdahl-sum", path, "--jobs", jobs_s, "--db", db, "--json",
                   NULL};
  /* Its own TMPDIR: the grader's machine-wide lock for timed checks
   * ($TMPDIR/parlab-timed.lock) is then private to this run, like the
   * bare side's, so other parlab processes on the machine stall neither. */
  double t0 = eng_now();
  st = run_limited(gargv, json, dir, 900);
  double grade_s = eng_now() - t0;
  /* Exit 0: every submission graded (scores do not matter here). */
  if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    fprintf(stderr, "bench grader: `parlab grade` failed (status %d)\n", st);
    rc = PL_EINVAL;
    goto done;
  }
  if ((rc = check_results(json, kind))) goto done;

  double bare_s = bare_all(dir, runner, lock, cores);
  if (bare_s <= 0) { rc = PL_EIO; goto done; }

  bench_result r;
  memset(&r, 0, sizeof r);
  snprintf(r.suite, sizeof r.suite, "grader");
  snprintf(r.name, sizeof r.name, "grade %d amdahl-sum submissions, --jobs %d", NSUBS, JOBS);
  snprintf(r.unit, sizeof r.unit, "subs/min");
  snprintf(r.reference, sizeof r.reference, "bare cc + dlopen run");
  snprintf(r.better, sizeof r.better, "higher");
  r.value = NSUBS * 60.0 / grade_s;
  r.reference_value = NSUBS * 60.0 / bare_s;
  r.ratio = r.value / r.reference_value;
  if ((rc = bench_report_add(rep, &r))) goto done;
  snprintf(r.name, sizeof r.name, "wall time per submission (target: at most 1.5x bare)");
  snprintf(r.unit, sizeof r.unit, "s");
  snprintf(r.better, sizeof r.better, "lower");
  r.value = grade_s / NSUBS;
  r.reference_value = bare_s / NSUBS;
  r.ratio = r.value / r.reference_value;
  rc = bench_report_add(rep, &r);
done:
  snprintf(path, sizeof path, "rm -rf '%s'", dir);
  if (system(path) != 0) fprintf(stderr, "bench grader: could not remove %s\n", dir);
  return rc;
}

const bench_suite bench_suite_grader = {
    "grader",
    "batch grading throughput and overhead against a bare compile and run",
    bench_grader_run,
};
