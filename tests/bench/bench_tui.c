/*
 * bench_tui.c — the "tui" suite: how the courseware feels, measured on the
 * real binary (this very executable, /proc/self/exe) running in a
 * pseudo-terminal of 100x30, as a student would start it.
 *
 * The TUI writes its screen to PARLAB_TUI_DUMP (temporary file + rename)
 * right after every flush to the terminal, so an inotify watch for the
 * rename tells, to a few microseconds, when a frame is on the screen. The
 * figures:
 *
 *  - cold start to first frame: fork + exec until the first frame, on a
 *    course generated here (one module, one 2,000-line lecture) and, when
 *    it can be found ($PARLAB_COURSE, or content/course.lua in the current
 *    folder), on the real course, whose every lab.lua is loaded at start;
 *    the reference is the same binary's `--version` from exec to exit:
 *    the floor any start pays (loading, dynamic linking).
 *  - keypress to redraw on the 2,000-line lecture: a key written to the
 *    terminal until the frame that answers it, for j (one line) and Space
 *    (one page) alternately; the reference is the same keys on the course
 *    map, a screen with next to nothing on it.
 *  - opening the lecture (Enter on the map until its first frame): the
 *    Markdown layout of all 2,000 lines.
 *  - resident memory (VmRSS) while reading the lecture; the reference is
 *    the same process on the course map before the lecture was opened.
 *
 * Targets (the issue): 100 ms, 16 ms, 30 MB. Like every suite this one
 * reports and never judges. The two sides of each figure alternate, and
 * the terminal's output is drained all along so the TUI never blocks on
 * a full pty.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "bench.h"
#include "eng_measure.h"
#include "pl_err.h"

#define STARTS 11        /* cold starts (and --version runs), one warm-up more */
#define KEYS 60          /* keypresses per screen */
#define LECTURE_LINES 2000
#define FRAME_TIMEOUT 10.0

typedef struct tui_proc {
  pid_t pid;
  int master;     /* pty master: keys in, screen bytes out (drained) */
  int ino;        /* inotify on the process's own dump folder */
} tui_proc;

static char exe[PATH_MAX];
static char root[64]; /* the temporary course, home and dump folder */

/* ---- the generated course ---- */

static int write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (!f) return PL_EIO;
  fputs(text, f);
  return fclose(f) ? PL_EIO : 0;
}

/* A lecture of exactly LECTURE_LINES Markdown lines with everything the
 * reader lays out: headings, paragraphs, lists, quotes, tables, code. */
static int write_lecture(const char *path) {
  FILE *f = fopen(path, "w");
  if (!f) return PL_EIO;
  int n = 0;
  fprintf(f, "# A long lecture for the benchmark\n");
  n++;
  for (int sec = 1; n < LECTURE_LINES; sec++) {
    const char *block[] = {
      "",
      "## Section %d: scaling, again",
      "",
      "Parallel programs split work among *workers*; the **serial part** bounds the",
      "speedup, as Amdahl observed. Measure `T(p)` for several p and fit the curve.",
      "",
      "- data parallelism splits the data",
      "- task parallelism splits the operations",
      "  1. nested item",
      "",
      "> A quoted remark about bandwidth and caches.",
      "",
      "| p | S(p) |",
      "|--:|-----:|",
      "| 1 | 1.00 |",
      "| 8 | 5.93 |",
      "",
      "```lua",
      "local s = 0.05",
      "print(1 / (s + (1 - s) / 8))",
      "```",
      "",
      "```c",
      "for (long i = 0; i < n; i++) s += x[i]; /* sum */",
      "```",
    };
    for (size_t k = 0; k < sizeof block / sizeof block[0] && n < LECTURE_LINES; k++, n++) {
      fprintf(f, block[k], sec);
      fputc('\n', f);
    }
  }
  return fclose(f) ? PL_EIO : 0;
}

static int make_course(void) {
  snprintf(root, sizeof root, "/tmp/parlab-bench-tui-XXXXXX");
  if (!mkdtemp(root)) return PL_EIO;
  char p[PATH_MAX];
  const char *dirs[] = {"content", "content/lectures", "home", "dump"};
  for (size_t k = 0; k < sizeof dirs / sizeof dirs[0]; k++) {
    snprintf(p, sizeof p, "%s/%s", root, dirs[k]);
    if (mkdir(p, 0755)) return PL_EIO;
  }
  snprintf(p, sizeof p, "%s/content/course.lua", root);
  int rc = write_text(p, "return course {\n  title = \"Benchmark\",\n"
                         "  module { id = \"m1\", title = \"Long\", lecture \"b01-long\" },\n}\n");
  if (rc) return rc;
  snprintf(p, sizeof p, "%s/content/lectures/b01-long.md", root);
  return write_lecture(p);
}

static void remove_course(void) {
  if (!root[0]) return;
  pid_t pid = fork();
  if (pid == 0) {
    execlp("rm", "rm", "-rf", root, (char *)NULL);
    _exit(127);
  }
  if (pid > 0) waitpid(pid, NULL, 0);
}

/* ---- the TUI in a pty ---- */

/* home: the parlab home. The key figures give each TUI a fresh one, so
 * that no "back where you left off" message (which expires and redraws by
 * itself) can land inside a measurement; the TUIs are killed, so they
 * record no reading position on the way out either. */
static int tui_start(tui_proc *t, const char *home, const char *course) {
  static int seq;
  memset(t, 0, sizeof *t);
  t->master = -1;
  t->ino = -1;
  /* a folder per process: two TUIs run side by side for the key figures */
  char dump[PATH_MAX + 16], dumpdir[PATH_MAX];
  snprintf(dumpdir, sizeof dumpdir, "%s/dump/%d", root, seq++);
  if (mkdir(dumpdir, 0755)) return PL_EIO;
  snprintf(dump, sizeof dump, "%s/screen.txt", dumpdir);
  t->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (t->ino < 0 || inotify_add_watch(t->ino, dumpdir, IN_MOVED_TO) < 0) return PL_EIO;
  t->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (t->master < 0 || grantpt(t->master) || unlockpt(t->master)) return PL_EIO;
  const char *slave = ptsname(t->master);
  if (!slave) return PL_EIO;
  struct winsize ws = {.ws_row = 30, .ws_col = 100};
  ioctl(t->master, TIOCSWINSZ, &ws);
  t->pid = fork();
  if (t->pid < 0) return PL_EIO;
  if (t->pid == 0) {
    setsid();
    int s = open(slave, O_RDWR);
    if (s < 0) _exit(127);
    ioctl(s, TIOCSCTTY, 0);
    dup2(s, 0);
    dup2(s, 1);
    dup2(s, 2);
    if (s > 2) close(s);
    setenv("TERM", "xterm-256color", 1);
    setenv("LANG", "C.UTF-8", 1);
    unsetenv("LC_ALL");
    unsetenv("NO_COLOR");
    setenv("PARLAB_TUI_DUMP", dump, 1);
    execl(exe, exe, "--home", home, "--course", course, (char *)NULL);
    _exit(127);
  }
  return 0;
}

/* Wait for the next frame (the dump renamed into place); drain the
 * terminal meanwhile. Returns the time it appeared, or a negative value
 * on a time-out or when the TUI died. */
static double next_frame(tui_proc *t) {
  double end = eng_now() + FRAME_TIMEOUT;
  char buf[65536] __attribute__((aligned(__alignof__(struct inotify_event))));
  for (;;) {
    double left = end - eng_now();
    if (left <= 0) return -1;
    struct pollfd pf[2] = {{t->master, POLLIN, 0}, {t->ino, POLLIN, 0}};
    int n = poll(pf, 2, (int)(left * 1000) + 1);
    if (n < 0 && errno != EINTR) return -1;
    if (pf[0].revents & POLLIN) {
      if (read(t->master, buf, sizeof buf) < 0 && errno != EAGAIN) return -1;
    } else if (pf[0].revents & (POLLHUP | POLLERR)) {
      return -1; /* the TUI is gone */
    }
    if (pf[1].revents & POLLIN) {
      double now = eng_now();
      ssize_t r = read(t->ino, buf, sizeof buf);
      for (char *p = buf; r > 0 && p < buf + r;) {
        const struct inotify_event *ev = (const struct inotify_event *)p;
        if (ev->len && !strcmp(ev->name, "screen.txt")) return now;
        p += sizeof *ev + ev->len;
      }
    }
  }
}

/* Press key; the time until its frame, or < 0. */
static double key_to_frame(tui_proc *t, char key) {
  double t0 = eng_now();
  if (write(t->master, &key, 1) != 1) return -1;
  double t1 = next_frame(t);
  return t1 < 0 ? -1 : t1 - t0;
}

/* VmRSS of the TUI in MiB, or < 0. */
static double rss_mib(pid_t pid) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  double kb = -1;
  while (fgets(line, sizeof line, f))
    if (!strncmp(line, "VmRSS:", 6)) kb = atof(line + 6);
  fclose(f);
  return kb < 0 ? -1 : kb / 1024.0;
}

static void tui_stop(tui_proc *t) {
  if (t->pid > 0) {
    kill(t->pid, SIGTERM);
    /* drain while it exits, so it cannot block on the terminal */
    char buf[4096];
    for (int k = 0; k < 200; k++) {
      if (waitpid(t->pid, NULL, WNOHANG) == t->pid) { t->pid = 0; break; }
      struct pollfd pf = {t->master, POLLIN, 0};
      if (poll(&pf, 1, 10) > 0 && read(t->master, buf, sizeof buf) <= 0) {}
    }
    if (t->pid > 0) {
      kill(t->pid, SIGKILL);
      waitpid(t->pid, NULL, 0);
    }
  }
  if (t->master >= 0) close(t->master);
  if (t->ino >= 0) close(t->ino);
  t->pid = 0;
  t->master = t->ino = -1;
}

/* `parlab --version`, exec to exit: the reference for starting. */
static double version_run(void) {
  double t0 = eng_now();
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) dup2(null, 1);
    execl(exe, exe, "--version", (char *)NULL);
    _exit(127);
  }
  int st;
  if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st)) return -1;
  return eng_now() - t0;
}

/* ---- reporting ---- */

static int report(bench_report *rep, const char *name, const char *unit, const double *v,
                  int n, const char *ref, const double *rv, int rn, double scale) {
  eng_stats a, b;
  if (eng_stats_compute(v, n, &a) || eng_stats_compute(rv, rn, &b)) return PL_EINVAL;
  bench_result r;
  memset(&r, 0, sizeof r);
  snprintf(r.suite, sizeof r.suite, "tui");
  snprintf(r.name, sizeof r.name, "%s", name);
  snprintf(r.unit, sizeof r.unit, "%s", unit);
  r.value = a.median * scale;
  r.spread = a.spread;
  snprintf(r.reference, sizeof r.reference, "%s", ref);
  r.reference_value = b.median * scale;
  r.ratio = r.reference_value > 0 ? r.value / r.reference_value : 0;
  snprintf(r.better, sizeof r.better, "lower");
  return bench_report_add(rep, &r);
}

static int run(bench_report *rep) {
  int rc = PL_EIO;
  double start[STARTS], version[STARTS], lec[KEYS], map[KEYS], open_s[STARTS];
  double rss_lec[STARTS], rss_map[STARTS], real[STARTS];
  int nreal = 0;
  int nstart = 0, nkeys = 0, nopen = 0;
  tui_proc t = {.pid = 0, .master = -1, .ino = -1};
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return PL_EIO;
  exe[n] = 0;
  if ((rc = make_course())) goto done;
  rc = PL_EIO;

  /* cold starts, alternating with --version; run 0 warms the caches and
   * creates the gradebook, which later starts open as a student's would */
  for (int k = 0; k <= STARTS; k++) {
    char home[PATH_MAX];
    snprintf(home, sizeof home, "%s/home/start", root);
    double v = version_run();
    double t0 = eng_now();
    if (tui_start(&t, home, root)) goto done;
    double t1 = next_frame(&t);
    if (t1 < 0 || v < 0) {
      fprintf(stderr, "bench tui: the TUI showed no first frame\n");
      goto done;
    }
    if (k > 0) {
      start[nstart] = t1 - t0;
      version[nstart++] = v;
    }
    /* memory at the course map, then reading the lecture */
    if (k > 0) rss_map[k - 1] = rss_mib(t.pid);
    double t2 = eng_now();
    if (write(t.master, "\r", 1) != 1) goto done;
    double t3 = next_frame(&t);
    if (t3 < 0) goto done;
    if (k > 0) open_s[nopen++] = t3 - t2;
    if (k > 0) {
      /* scroll through it first: every laid-out line has been drawn */
      for (int j = 0; j < 5; j++)
        if (key_to_frame(&t, ' ') < 0) goto done;
      rss_lec[k - 1] = rss_mib(t.pid);
    }
    tui_stop(&t);
  }

  /* cold starts on the real course, if there is one here */
  const char *course = getenv("PARLAB_COURSE");
  if (!course || !*course) course = access("content/course.lua", R_OK) == 0 ? "." : NULL;
  for (int k = 0; course && k <= STARTS; k++) {
    char home[PATH_MAX];
    snprintf(home, sizeof home, "%s/home/real", root);
    double t0 = eng_now();
    if (tui_start(&t, home, course)) goto done;
    double t1 = next_frame(&t);
    tui_stop(&t);
    if (t1 < 0) break; /* a broken course still draws; a dead TUI does not */
    if (k > 0) real[nreal++] = t1 - t0;
  }

  /* keypresses: the lecture (j and Space) against the course map (j, k) */
  {
    tui_proc lt, mt;
    char h1[PATH_MAX], h2[PATH_MAX];
    snprintf(h1, sizeof h1, "%s/home/keys-lecture", root);
    snprintf(h2, sizeof h2, "%s/home/keys-map", root);
    if (tui_start(&lt, h1, root) || next_frame(&lt) < 0) { tui_stop(&lt); goto done; }
    if (write(lt.master, "\r", 1) != 1 || next_frame(&lt) < 0) { tui_stop(&lt); goto done; }
    if (tui_start(&mt, h2, root) || next_frame(&mt) < 0) {
      tui_stop(&lt);
      tui_stop(&mt);
      goto done;
    }
    for (int k = 0; k < KEYS; k++) {
      double a = key_to_frame(&lt, k % 2 ? ' ' : 'j');
      double b = key_to_frame(&mt, k % 2 ? 'k' : 'j');
      if (a < 0 || b < 0) {
        tui_stop(&lt);
        tui_stop(&mt);
        goto done;
      }
      lec[nkeys] = a;
      map[nkeys++] = b;
    }
    tui_stop(&lt);
    tui_stop(&mt);
  }

  rc = report(rep, "cold start to first frame", "ms", start, nstart,
              "parlab --version (exec to exit)", version, nstart, 1e3);
  if (!rc && nreal > 0)
    rc = report(rep, "cold start to first frame, this course", "ms", real, nreal,
                "parlab --version (exec to exit)", version, nstart, 1e3);
  if (!rc)
    rc = report(rep, "keypress to redraw, 2,000-line lecture", "ms", lec, nkeys,
                "keypress to redraw, course map", map, nkeys, 1e3);
  if (!rc)
    rc = report(rep, "open the 2,000-line lecture (layout + frame)", "ms", open_s, nopen,
                "keypress to redraw, course map", map, nkeys, 1e3);
  if (!rc)
    rc = report(rep, "resident memory reading the lecture", "MiB", rss_lec, STARTS,
                "resident memory on the course map", rss_map, STARTS, 1);
done:
  tui_stop(&t);
  remove_course();
  return rc;
}

const bench_suite bench_suite_tui = {
  .name = "tui",
  .summary = "courseware: cold start, keypress to redraw and memory on a 2,000-line lecture",
  .run = run,
};
