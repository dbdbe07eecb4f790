/*
 * grd_tool.c — running the toolchain (the C compiler) with limits, and the
 * scratch folders of a grading run.
 *
 * The compiler sees the student's source, so it is limited too: its own
 * process group, CPU/memory/file-size rlimits, a wall-clock limit and a cap
 * on how much output is kept.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "eng_measure.h"
#include "grd_int.h"
#include "grd_sandbox.h"
#include "pl_err.h"

int grd__run_tool(char *const argv[], const char *cwd, const char *newroot, int weak,
                  double wall_s, size_t out_cap, grd_proc_out *out) {
  grd_prog_spec spec = {.argv = argv, .rw_dir = cwd, .cwd = cwd, .newroot = newroot, .weak = weak,
                        .wall_s = wall_s, .cpu_s = wall_s / 2 + 1, .mem_bytes = (size_t)2 << 30,
                        .out_cap = out_cap};
  return grd__run_program(&spec, out);
}

int grd__run_program(const grd_prog_spec *spec, grd_proc_out *out) {
  memset(out, 0, sizeof *out);
  size_t out_cap = spec->out_cap;
  double wall_s = spec->wall_s;
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return PL_EIO;
  int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  char *buf = malloc(out_cap + 64);
  if (!buf || devnull < 0) {
    close(p[0]); close(p[1]); free(buf);
    if (devnull >= 0) close(devnull);
    return PL_ENOMEM;
  }
  size_t len = 0;
  static char *const env[] = {"PATH=/usr/local/cuda/bin:/usr/local/bin:/usr/bin:/bin", "LANG=C", "LC_ALL=C",
                              "TMPDIR=/tmp", "OPENBLAS_NUM_THREADS=1", NULL};
  grd_sandbox sb;
  grd__sandbox_defaults(&sb, spec->cpu_s, spec->mem_bytes);
  sb.out = p[1];
  sb.devnull = devnull;
  sb.argv = spec->argv;
  sb.envp = spec->envp ? spec->envp : env;
  sb.newroot = spec->newroot;
  sb.rw_dir = spec->rw_dir;
  sb.ro_dirs[0] = spec->ro_dir;
  sb.cwd = spec->cwd;
  sb.weak = spec->weak;
  sb.net_lo = spec->net_lo;
  sb.sysfs = spec->net_lo; /* MPI jobs: hwloc reads the CPU topology from /sys */
  sb.fsize = (struct rlimit){(rlim_t)256 << 20, (rlim_t)256 << 20};
  sb.nofile = (struct rlimit){256, 256};
  pid_t pid = fork();
  if (pid < 0) {
    close(p[0]); close(p[1]); close(devnull); free(buf);
    return PL_EIO;
  }
  if (pid == 0) grd__sandbox_exec(&sb);
  close(devnull);
  close(p[1]);
  fcntl(p[0], F_SETFL, O_NONBLOCK);
  double deadline = eng_now() + wall_s;
  int eof = 0;
  while (!eof) {
    double left = deadline - eng_now();
    if (left <= 0) {
      out->timed_out = 1;
      kill(-pid, SIGKILL);
      break;
    }
    struct pollfd pf = {p[0], POLLIN, 0};
    if (poll(&pf, 1, (int)(left * 1000) + 1) < 0 && errno != EINTR) break;
    for (;;) {
      char tmp[4096];
      ssize_t n = read(p[0], tmp, sizeof tmp);
      if (n == 0) { eof = 1; break; }
      if (n < 0) break;
      size_t room = out_cap - len;
      size_t take = (size_t)n < room ? (size_t)n : room;
      memcpy(buf + len, tmp, take);
      len += take;
    }
  }
  close(p[0]);
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
  kill(-pid, SIGKILL); /* anything the tool left behind */
  if (len == out_cap) {
    static const char more[] = "\n[output truncated]\n";
    memcpy(buf + len, more, sizeof more - 1);
    len += sizeof more - 1;
  }
  buf[len] = 0;
  out->output = buf;
  out->exited = WIFEXITED(st);
  out->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  out->signaled = WIFSIGNALED(st);
  if (out->exited && out->status == GRD_SB_SETUP_FAILED && strstr(buf, "jail set-up failed"))
    return PL_ESANDBOX;
  return 0;
}

int grd__mkdtemp(const char *root, const char *prefix, char **out) {
  char *path = NULL;
  if (asprintf(&path, "%s/%s-XXXXXX", root, prefix) < 0) return PL_ENOMEM;
  if (!mkdtemp(path)) {
    free(path);
    return PL_EIO;
  }
  chmod(path, 0711);
  *out = path;
  return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st; (void)flag; (void)ftw;
  remove(path);
  return 0;
}

int grd__rmtree(const char *path) {
  return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) ? PL_EIO : 0;
}
