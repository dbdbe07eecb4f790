/*
 * test_cluster.c — the cluster backend's launcher (eng_mpirun.h): building
 * an MPI program with mpicc, running it under mpirun with every rank's
 * stdout, stderr and exit status collected, time limits that leave no
 * process behind, and the MPI link module `parlab grade --mpi` loads.
 * Each test skips (passes, saying so) where Open MPI is not installed.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eng_mpi_link.h"
#include "eng_mpirun.h"
#include "pl_err.h"
#include "pl_test.h"

static int skip_without_mpi(void) {
  char why[256];
  if (eng_mpi_available(why, sizeof why)) return 0;
  printf("  skip: %s\n", why);
  return 1;
}

/* Made by main() before the tests fork; removed at the end. */
static char dir[] = "/tmp/parlab-test-cluster.XXXXXX";

/* Whether pid is gone: no process, or a zombie waiting to be reaped by
 * init after its killed parent. Waits up to 5 s for the kill to land. */
static int gone(int pid) {
  for (int i = 0; i < 500; i++) {
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return 1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (p && (p[2] == 'Z' || p[2] == 'X')) return 1;
    usleep(10000);
  }
  return 0;
}

/* Build `src` (C text) into dir/name; returns the program's path. */
static char *build(const char *name, const char *src) {
  static char prog[512];
  char file[512], *log = NULL;
  snprintf(file, sizeof file, "%s/%s.c", dir, name);
  snprintf(prog, sizeof prog, "%s/%s", dir, name);
  FILE *f = fopen(file, "w");
  PT_TRUE(f != NULL);
  fputs(src, f);
  fclose(f);
  const char *srcs[] = {file, NULL}, *flags[] = {"-O1", NULL};
  int rc = eng_mpi_build(srcs, flags, NULL, prog, 120, &log);
  if (rc) fprintf(stderr, "%s\n", log ? log : "");
  PT_EQ_INT(rc, 0);
  free(log);
  return prog;
}

static const char ranks_src[] =
  "#include <mpi.h>\n#include <stdio.h>\n#include <stdlib.h>\n"
  "int main(int argc, char **argv) {\n"
  "  MPI_Init(&argc, &argv);\n"
  "  int r, n, v = 0;\n"
  "  MPI_Comm_rank(MPI_COMM_WORLD, &r); MPI_Comm_size(MPI_COMM_WORLD, &n);\n"
  "  if (r == 0) v = atoi(argv[1]);\n"
  "  MPI_Bcast(&v, 1, MPI_INT, 0, MPI_COMM_WORLD);\n"
  "  printf(\"rank %d of %d has %d\\n\", r, n, v);\n"
  "  fprintf(stderr, \"err from %d\\n\", r);\n"
  "  MPI_Finalize();\n"
  "  return r == n - 1 ? 3 : 0;\n"
  "}\n";

static void test_build_and_run(void) {
  if (skip_without_mpi()) return;
  char *prog = build("ranks", ranks_src);
  char *argv[] = {prog, "41", NULL};
  /* keep_going: the last rank's exit 3 must not cut the others short. */
  eng_mpi_run_opts o = {.ranks = 3, .argv = argv, .oversubscribe = -1, .keep_going = 1, .timeout_s = 60};
  eng_mpi_run_result r;
  PT_EQ_INT(eng_mpi_run(&o, &r), 0);
  PT_EQ_INT(r.nranks, 3);
  PT_EQ_INT(r.timed_out, 0);
  for (int i = 0; i < 3; i++) {
    char want[64], err[64];
    snprintf(want, sizeof want, "rank %d of 3 has 41\n", i);
    snprintf(err, sizeof err, "err from %d\n", i);
    PT_EQ_STR(r.rank_out[i], want);
    PT_EQ_STR(r.rank_err[i], err);
    /* every rank's own exit status, not only mpirun's */
    PT_EQ_INT(r.rank_status[i], i == 2 ? 3 : 0);
  }
  PT_NE_INT(r.status, 0); /* mpirun reports the failing rank */
  PT_TRUE(r.seconds > 0);
  eng_mpi_run_result_free(&r);
}

static const char many_src[] =
  "#include <mpi.h>\n#include <stdio.h>\n"
  "int main(int argc, char **argv) {\n"
  "  MPI_Init(&argc, &argv);\n"
  "  int r; MPI_Comm_rank(MPI_COMM_WORLD, &r);\n"
  "  for (int i = 0; i < 20000; i++) printf(\"line %d of rank %d\\n\", i, r);\n"
  "  MPI_Finalize(); return 0;\n"
  "}\n";

/* mpirun tags each chunk it reads, and chunks end mid-line: long outputs
 * must still come back line for line, without stray tags. */
static void test_long_output(void) {
  if (skip_without_mpi()) return;
  char *prog = build("many", many_src);
  char *argv[] = {prog, NULL};
  eng_mpi_run_opts o = {.ranks = 2, .argv = argv, .oversubscribe = 1, .timeout_s = 120};
  eng_mpi_run_result r;
  PT_EQ_INT(eng_mpi_run(&o, &r), 0);
  for (int k = 0; k < 2; k++) {
    const char *p = r.rank_out[k];
    for (int i = 0; i < 20000; i++) {
      char want[64];
      int n = snprintf(want, sizeof want, "line %d of rank %d\n", i, k);
      if (strncmp(p, want, (size_t)n)) {
        char got[64];
        snprintf(got, sizeof got, "%.*s", (int)strcspn(p, "\n"), p);
        PT_EQ_STR(got, want);
      }
      p += n;
    }
    PT_EQ_STR(p, "");
    PT_EQ_INT(r.rank_status[k], 0);
  }
  eng_mpi_run_result_free(&r);
}

static const char hang_src[] =
  "#include <mpi.h>\n#include <stdio.h>\n#include <unistd.h>\n"
  "int main(int argc, char **argv) {\n"
  "  MPI_Init(&argc, &argv);\n"
  "  int r; MPI_Comm_rank(MPI_COMM_WORLD, &r);\n"
  "  printf(\"pid %d\\n\", (int)getpid()); fflush(stdout);\n"
  "  double x; if (r == 0) MPI_Recv(&x, 1, MPI_DOUBLE, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);\n"
  "  else for (;;) pause();\n"
  "  MPI_Finalize(); return 0;\n"
  "}\n";

static void test_timeout_kills_every_rank(void) {
  if (skip_without_mpi()) return;
  char *prog = build("hang", hang_src);
  char *argv[] = {prog, NULL};
  eng_mpi_run_opts o = {.ranks = 2, .argv = argv, .oversubscribe = 1, .timeout_s = 3};
  eng_mpi_run_result r;
  PT_EQ_INT(eng_mpi_run(&o, &r), 0);
  PT_EQ_INT(r.timed_out, 1);
  PT_TRUE(r.seconds < 30);
  /* The ranks printed their pids: none may still exist. */
  int seen = 0;
  for (int i = 0; i < 2; i++) {
    int pid = 0;
    if (sscanf(r.rank_out[i], "pid %d", &pid) == 1 && pid > 0) {
      seen++;
      PT_TRUE(gone(pid));
    }
  }
  PT_GE(seen, 1);
  eng_mpi_run_result_free(&r);
}

static void test_errors(void) {
  eng_mpi_run_opts o = {.ranks = 0};
  eng_mpi_run_result r;
  PT_EQ_INT(eng_mpi_run(&o, &r), PL_EINVAL);
  char *argv[] = {"/bin/true", NULL};
  o = (eng_mpi_run_opts){.ranks = 2, .argv = argv};
  setenv("PARLAB_MPIRUN", "/nonexistent/mpirun", 1);
  PT_EQ_INT(eng_mpi_run(&o, &r), PL_ENOSYS);
  char why[256];
  PT_EQ_INT(eng_mpi_available(why, sizeof why), 0);
  PT_CONTAINS(why, "/nonexistent/mpirun");
  unsetenv("PARLAB_MPIRUN");
  if (skip_without_mpi()) return;
  /* A program that does not compile: PL_ECOMPILE with the compiler's words. */
  char file[512], prog[512], *log = NULL;
  snprintf(file, sizeof file, "%s/bad.c", dir);
  snprintf(prog, sizeof prog, "%s/bad", dir);
  FILE *f = fopen(file, "w");
  fputs("int main(void) { return undeclared; }\n", f);
  fclose(f);
  const char *srcs[] = {file, NULL};
  PT_EQ_INT(eng_mpi_build(srcs, NULL, NULL, prog, 60, &log), PL_ECOMPILE);
  PT_CONTAINS(log, "undeclared");
  free(log);
}

static void test_link_module(void) {
  const eng_mpi_link *l = NULL;
  char why[1024], mod[1024] = "";
  /* The module sits next to parlab (ctest names it), not next to us. */
  const char *exe = getenv("PARLAB_JAIL_EXE");
  if (exe) {
    snprintf(mod, sizeof mod, "%s", exe);
    char *slash = strrchr(mod, '/');
    if (slash) snprintf(slash, sizeof mod - (size_t)(slash - mod), "/libparlab-mpi.so");
    setenv("PARLAB_MPI_MODULE", mod, 1);
  }
  int built = mod[0] && access(mod, R_OK) == 0;
  int rc = eng_mpi_link_load(&l, why, sizeof why);
  if (built) PT_EQ_INT(rc, 0); /* the build made it: it must load */
  if (rc) {
    /* A build without MPI: the reason names what is missing. */
    PT_EQ_INT(rc, PL_ENOSYS);
    PT_CONTAINS(why, "no MPI");
    printf("  skip: %s\n", why);
    return;
  }
  PT_EQ_INT(l->abi, ENG_MPI_LINK_ABI);
  /* Outside mpirun the process is a job of one (a singleton). */
  int rank = -1, size = -1;
  PT_EQ_INT(l->init(&rank, &size, why, sizeof why), 0);
  PT_EQ_INT(rank, 0);
  PT_EQ_INT(size, 1);
  PT_CONTAINS(l->library(), "MPI");
  /* A message to ourselves: nothing waits before, it waits after. */
  int src = -1, tag = -1;
  size_t len = 0;
  PT_EQ_INT(l->poll(-1, -1, &src, &tag, &len), 0);
  /* (a standard send to self of a small message completes eagerly) */
  PT_EQ_INT(l->send(0, 5, "hello", 6), 0);
  PT_EQ_INT(l->poll(-1, -1, &src, &tag, &len), 1);
  PT_EQ_INT(src, 0);
  PT_EQ_INT(tag, 5);
  PT_EQ_INT(len, 6);
  char buf[6];
  PT_EQ_INT(l->recv(0, 5, buf, sizeof buf), 0);
  PT_EQ_STR(buf, "hello");
  PT_EQ_INT(l->finalize(), 0);
}

static void test_module_missing(void) {
  setenv("PARLAB_MPI_MODULE", "/nonexistent/libparlab-mpi.so", 1);
  const eng_mpi_link *l = NULL;
  char why[1024];
  PT_EQ_INT(eng_mpi_link_load(&l, why, sizeof why), PL_ENOSYS);
  PT_TRUE(l == NULL);
  PT_CONTAINS(why, "/nonexistent/libparlab-mpi.so");
}

static void test_launched(void) {
  unsetenv("OMPI_COMM_WORLD_SIZE");
  unsetenv("PMI_SIZE");
  PT_EQ_INT(eng_mpi_launched(), 0);
  setenv("OMPI_COMM_WORLD_SIZE", "4", 1);
  PT_EQ_INT(eng_mpi_launched(), 1);
  setenv("OMPI_COMM_WORLD_SIZE", "1", 1);
  PT_EQ_INT(eng_mpi_launched(), 0);
}


int main(int argc, char **argv) {
  static const pt_case cases[] = {
    PT_CASE_T(test_build_and_run, 120),
    PT_CASE_T(test_long_output, 120),
    PT_CASE_T(test_timeout_kills_every_rank, 120),
    PT_CASE_T(test_errors, 120),
    PT_CASE_T(test_link_module, 60),
    PT_CASE(test_module_missing),
    PT_CASE(test_launched),
    {0},
  };
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  int rc = pt_main(argc, argv, cases);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd)) {}
  return rc;
}
