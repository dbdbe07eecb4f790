/*
 * cmd.h — the command line: one file per subcommand (cmd_*.c), parsed and
 * dispatched by main.c. Exit codes are DESIGN.md §8's: 0 ok / full marks,
 * 1 checks failed, 2 usage or input error, 3 environment error,
 * 4 internal error.
 */
#ifndef CMD_H
#define CMD_H

#include "db.h"
#include "lx_course.h"

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_ENV = 3, EXIT_INTERNAL = 4 };

typedef struct cmd_ctx {
  const char *home_opt;    /* --home */
  const char *course_opt;  /* --course */
  int no_color;
  char *home;              /* resolved lazily by cmd_home() */
  char *course_root;       /* resolved by main */
  lx_course *course;       /* loaded lazily by cmd_course() */
} cmd_ctx;

typedef int (*cmd_fn)(cmd_ctx *c, int argc, char **argv);

int cmd_list(cmd_ctx *c, int argc, char **argv);
int cmd_read(cmd_ctx *c, int argc, char **argv);
int cmd_lab(cmd_ctx *c, int argc, char **argv);
int cmd_progress(cmd_ctx *c, int argc, char **argv);
int cmd_bench(cmd_ctx *c, int argc, char **argv);
int cmd_info(cmd_ctx *c, int argc, char **argv);
/* engine.machine()'s provider: the cached probe (cmd_info.c); ud is the cmd_ctx. */
struct eng_probe;
int cmd_info_machine(void *ud, struct eng_probe *out);
int cmd_grade(cmd_ctx *c, int argc, char **argv);
int cmd_gradebook(cmd_ctx *c, int argc, char **argv);

/* Helpers (main.c). Each prints its own error and returns an exit code. */
int cmd_home(cmd_ctx *c);
int cmd_course(cmd_ctx *c);
int cmd_open_db(cmd_ctx *c, db **out);
/* Find a lab by id in the course, or a folder path with lab.lua in it. */
int cmd_load_lab(cmd_ctx *c, const char *id, lx_lab **out);
/* Map a PL_E* code to an exit code. */
int cmd_exit_for(int rc);
/* Is `flag` among argv[1..]? Removes it when found. */
int cmd_take_flag(int *argc, char **argv, const char *flag);
/* Value of `--opt VALUE` or `--opt=VALUE` in argv; removes both. */
const char *cmd_take_opt(int *argc, char **argv, const char *opt);
int cmd_use_color(const cmd_ctx *c);

#endif
