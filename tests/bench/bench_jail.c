/*
 * bench_jail.c — `parlab bench jail`: what one jail costs to set up.
 *
 * A jail is started (fork, namespaces, the pivot_root'ed minimal root,
 * rlimits, exec of parlab's jail mode, seccomp, dlopen of the submission,
 * HELLO) and stopped, over and over. The reference, measured in the same
 * run, is the bare minimum any process-per-run grader pays: fork + exec of
 * the same program (grd__jail_exe: parlab-jail) printing its version, and
 * wait.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "eng_measure.h"
#include "grd_int.h"
#include "pl_err.h"

#define REPS 31

static double bare_exec(void) {
  double t0 = eng_now();
  pid_t p = fork();
  if (p == 0) {
    int dn = open("/dev/null", 1);
    if (dn >= 0) { dup2(dn, 1); dup2(dn, 2); }
    execl(grd__jail_exe(), "parlab-jail", "--version", (char *)NULL);
    _exit(127);
  }
  int st;
  while (waitpid(p, &st, 0) < 0 && errno == EINTR) {}
  return eng_now() - t0;
}

static int run(bench_report *rep) {
  char *dir = NULL, *build = NULL, *src = NULL, *so = NULL, *cmd = NULL;
  int rc = PL_EIO;
  const char *tmp = getenv("TMPDIR");
  if (grd__mkdtemp(tmp && *tmp ? tmp : "/tmp", "parlab-bench-jail", &dir)) return PL_EIO;
  if (asprintf(&build, "%s/build", dir) < 0 || asprintf(&src, "%s/f.c", build) < 0 ||
      asprintf(&so, "%s/f.so", build) < 0 || mkdir(build, 0755) < 0)
    goto done;
  FILE *f = fopen(src, "w");
  if (!f) goto done;
  fputs("double f(void) { return 1.0; }\n", f);
  fclose(f);
  if (asprintf(&cmd, "cc -O2 -fPIC -shared -o %s %s", so, src) < 0 || system(cmd) != 0) goto done;
  chmod(so, 0755);
  double jail[REPS], bare[REPS];
  char spec[] = "f:double(void)";
  char *specs[] = {spec};
  for (int i = 0; i < REPS; i++) {
    bare[i] = bare_exec();
    double t0 = eng_now();
    char *scratch = NULL, *root = NULL, *err = NULL;
    if (grd__mkdtemp(dir, "jail", &scratch) || grd__mkdtemp(dir, "root", &root)) goto done;
    if (geteuid() == 0) {
      uid_t u; gid_t g;
      grd__jail_ids(&u, &g);
      if (chown(scratch, u, g) < 0) goto done;
    }
    grd_jail_cfg cfg = {.so_path = so, .scratch = scratch, .newroot = root, .ro_dir = build,
                        .specs = specs, .nexports = 1, .cpu_s = 10, .threads = 1};
    grd_jail *j = NULL;
    int r = grd__jail_start(&cfg, &j, &err);
    grd__jail_free(j);
    jail[i] = eng_now() - t0;
    free(scratch);
    free(root);
    if (r) {
      fprintf(stderr, "bench jail: %s\n", err ? err : pl_strerror(r));
      free(err);
      rc = r;
      goto done;
    }
  }
  eng_stats sj, sb;
  eng_stats_compute(jail, REPS, &sj);
  eng_stats_compute(bare, REPS, &sb);
  bench_result res = {.suite = "jail", .unit = "ms", .better = "lower", .reference = "fork+exec+wait"};
  snprintf(res.name, sizeof res.name, "jail set-up and tear-down per run");
  res.value = sj.median * 1e3;
  res.spread = sj.spread;
  res.reference_value = sb.median * 1e3;
  res.ratio = res.value / res.reference_value;
  rc = bench_report_add(rep, &res);
done:
  if (dir) grd__rmtree(dir);
  free(dir); free(build); free(src); free(so); free(cmd);
  return rc;
}

const bench_suite bench_suite_jail = {"jail", "cost of one sandboxed jail (target: under 5 ms)", run};
