/*
 * main.c — parlab's entry point: global options, subcommand dispatch, and
 * the helpers every subcommand shares (home, course, gradebook, labs).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "lx_probe.h"
#include "grd.h"
#include "pl_err.h"
#include "tui.h"

static const char usage[] =
  "usage: parlab [--home DIR] [--course DIR] [--no-color] [COMMAND ...]\n"
  "\n"
  "  parlab                          open the courseware (TUI)\n"
  "  parlab list [--json]            modules, lectures, labs, with progress\n"
  "  parlab read LECTURE             print a lecture, rendered\n"
  "  parlab lab show LAB             print a lab's brief\n"
  "  parlab lab start LAB [--force]  copy the starter into your workspace\n"
  "  parlab lab run LAB [--submission PATH] [--json] [--ascii]\n"
  "                                  grade a submission (default: your workspace copy)\n"
  "  parlab lab test [LAB... | --all] [--json]\n"
  "                                  instructor check: starter fails, reference gets full marks\n"
  "  parlab lab lint PATH            validate a lab folder\n"
  "  parlab progress [--reset]       lectures read and lab scores\n"
  "  parlab grade LAB DIR [--jobs N] [--db FILE] [--json] [--student NAME] [--regrade-all]\n"
  "                                  grade a class's submissions into a gradebook\n"
  "  parlab grade --gradescope [--lab LAB] [--submission-dir DIR] [--results FILE]\n"
  "                                  run as a Gradescope autograder\n"
  "  parlab gradebook export --format csv|json|gradescope [--lab LAB] [--out FILE] [--db FILE]\n"
  "                                  export the latest grade of every student\n"
  "  parlab bench [SUITE...] [--json]\n"
  "                                  benchmarks against references measured in the same run\n"
  "  parlab info [--json] [--refresh] [--roofline] [--ascii]\n"
  "                                  machine: cores, caches, ISA, bandwidth, peak, OpenBLAS, GPU, MPI\n"
  "\n"
  "Global: --home DIR (or PARLAB_HOME), --course DIR, --no-color (or NO_COLOR),\n"
  "        --help, --version\n"
  "Exit codes: 0 ok, 1 checks failed, 2 usage or input error, 3 environment error,\n"
  "            4 internal error.\n";

int cmd_exit_for(int rc) {
  switch (rc) {
  case 0: return EXIT_OK;
  case PL_EINVAL: case PL_ENOTFOUND: case PL_ELUA: case PL_ECOMPILE: return EXIT_USAGE;
  case PL_ESANDBOX: case PL_ENOSYS: case PL_EIO: case PL_EDB: return EXIT_ENV;
  default: return EXIT_INTERNAL;
  }
}

int cmd_take_flag(int *argc, char **argv, const char *flag) {
  for (int i = 1; i < *argc; i++)
    if (!strcmp(argv[i], flag)) {
      memmove(argv + i, argv + i + 1, sizeof *argv * (size_t)(*argc - i));
      (*argc)--;
      return 1;
    }
  return 0;
}

const char *cmd_take_opt(int *argc, char **argv, const char *opt) {
  size_t n = strlen(opt);
  for (int i = 1; i < *argc; i++) {
    if (!strncmp(argv[i], opt, n) && argv[i][n] == '=') {
      const char *v = argv[i] + n + 1;
      memmove(argv + i, argv + i + 1, sizeof *argv * (size_t)(*argc - i));
      (*argc)--;
      return v;
    }
    if (!strcmp(argv[i], opt) && i + 1 < *argc) {
      const char *v = argv[i + 1];
      memmove(argv + i, argv + i + 2, sizeof *argv * (size_t)(*argc - i - 1));
      *argc -= 2;
      return v;
    }
  }
  return NULL;
}

int cmd_use_color(const cmd_ctx *c) { return !c->no_color && isatty(1); }

int cmd_home(cmd_ctx *c) {
  if (c->home) return 0;
  int rc = grd_home(c->home_opt, &c->home);
  if (rc) {
    fprintf(stderr, "parlab: cannot create the parlab home folder (%s): %s\n",
            c->home_opt ? c->home_opt : "$PARLAB_HOME", strerror(errno));
    return EXIT_ENV;
  }
  return 0;
}

int cmd_course(cmd_ctx *c) {
  if (c->course) return 0;
  char *err = NULL;
  int rc = lx_course_load(c->course_root, &c->course, &err);
  if (rc) {
    fprintf(stderr, "parlab: %s\n", err ? err : pl_strerror(rc));
    free(err);
    return cmd_exit_for(rc);
  }
  return 0;
}

int cmd_open_db(cmd_ctx *c, db **out) {
  int rc = cmd_home(c);
  if (rc) return rc;
  char *path = NULL, *err = NULL;
  if (asprintf(&path, "%s/parlab.db", c->home) < 0) return EXIT_INTERNAL;
  rc = db_open(path, out, &err);
  if (rc) {
    fprintf(stderr, "parlab: gradebook %s: %s\n", path, err ? err : pl_strerror(rc));
    free(err);
    free(path);
    return EXIT_ENV;
  }
  free(path);
  return 0;
}

int cmd_load_lab(cmd_ctx *c, const char *id, lx_lab **out) {
  char *dir = NULL, *err = NULL;
  struct stat st;
  char probe[4096];
  snprintf(probe, sizeof probe, "%s/lab.lua", id);
  if (strchr(id, '/') && stat(probe, &st) == 0) {
    dir = strdup(id);
  } else {
    int rc = cmd_course(c);
    if (rc) return rc;
    const lx_item *it = lx_course_find(c->course, id, LX_ITEM_LAB);
    if (!it) {
      fprintf(stderr, "parlab: no lab named '%s' in %s/content/course.lua (see `parlab list`)\n", id,
              c->course_root);
      return EXIT_USAGE;
    }
    dir = strdup(it->path);
  }
  int rc = lx_lab_load(dir, out, &err);
  free(dir);
  if (rc) {
    fprintf(stderr, "parlab: %s\n", err ? err : pl_strerror(rc));
    free(err);
    return cmd_exit_for(rc);
  }
  return 0;
}

static char *find_course_root(const char *opt) {
  const char *env = getenv("PARLAB_COURSE");
  if (opt && *opt) return strdup(opt);
  if (env && *env) return strdup(env);
  if (access("content/course.lua", R_OK) == 0) return strdup(".");
  return strdup(PARLAB_SOURCE_DIR);
}

typedef struct { const char *name; cmd_fn fn; } command;
static const command commands[] = {
  {"list", cmd_list}, {"read", cmd_read}, {"lab", cmd_lab},
  {"progress", cmd_progress}, {"bench", cmd_bench}, {"info", cmd_info},
  {"grade", cmd_grade}, {"gradebook", cmd_gradebook}, {NULL, NULL}};

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "__jail")) return grd_jail_main(argc, argv);
  if (argc > 1 && !strcmp(argv[1], "__luacheck")) return grd_luacheck_main(argc, argv);

  cmd_ctx c = {0};
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) { fputs(usage, stdout); return 0; }
    if (!strcmp(a, "--version")) { printf("parlab %s\n", PL_VERSION); return 0; }
    if (!strcmp(a, "--no-color")) { c.no_color = 1; continue; }
    if (!strncmp(a, "--home=", 7)) { c.home_opt = a + 7; continue; }
    if (!strncmp(a, "--course=", 9)) { c.course_opt = a + 9; continue; }
    if ((!strcmp(a, "--home") || !strcmp(a, "--course")) && i + 1 < argc) {
      if (a[2] == 'h') c.home_opt = argv[++i];
      else c.course_opt = argv[++i];
      continue;
    }
    fprintf(stderr, "parlab: unknown option '%s'\n\n%s", a, usage);
    return EXIT_USAGE;
  }
  const char *nc = getenv("NO_COLOR");
  if (nc && *nc) c.no_color = 1;
  c.course_root = find_course_root(c.course_opt);
  lx_probe_set_provider(cmd_info_machine, &c); /* engine.machine(): the gradebook's cached probe */

  int rc;
  if (i == argc) {
    if ((rc = cmd_home(&c))) goto done;
    tui_opts o = {.home = c.home, .course_root = c.course_root, .no_color = c.no_color};
    rc = tui_main(&o);
    goto done;
  }
  /* Subcommand options may also carry --help. */
  const command *cmd = NULL;
  for (const command *k = commands; k->name; k++)
    if (!strcmp(k->name, argv[i])) cmd = k;
  if (!cmd) {
    fprintf(stderr, "parlab: unknown command '%s'\n\n%s", argv[i], usage);
    rc = EXIT_USAGE;
    goto done;
  }
  int sub_argc = argc - i;
  char **sub_argv = argv + i;
  if (cmd_take_flag(&sub_argc, sub_argv, "--help")) { fputs(usage, stdout); rc = 0; goto done; }
  if (cmd_take_flag(&sub_argc, sub_argv, "--no-color")) c.no_color = 1;
  const char *home = cmd_take_opt(&sub_argc, sub_argv, "--home");
  if (home) c.home_opt = home;
  rc = cmd->fn(&c, sub_argc, sub_argv);
done:
  lx_course_free(c.course);
  free(c.home);
  free(c.course_root);
  return rc;
}
