/*
 * parlab_jail.c — `parlab-jail`, the small executable a jail re-executes.
 *
 * Every check of every submission starts a fresh jail, and the exec of the
 * jail's program is most of what a jail costs. The full parlab binary
 * carries the TUI, the gradebook, the benchmarks and their libraries
 * (ncursesw, md4c, SQLite, ...), and the dynamic loader maps and relocates
 * all of them at every exec. This program has only the two hidden modes the
 * grader runs inside the sandbox and is linked with --as-needed, so it
 * loads only what those modes call. The grader uses it when it sits next to
 * the running parlab (grd__jail_exe); otherwise parlab re-executes itself,
 * which behaves the same, only slower to start.
 */
#include <stdio.h>
#include <string.h>

#include "grd.h"
#include "pl_err.h"

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "__jail")) return grd_jail_main(argc, argv);
  if (argc > 1 && !strcmp(argv[1], "__luacheck")) return grd_luacheck_main(argc, argv);
  if (argc > 1 && !strcmp(argv[1], "--version")) {
    printf("parlab-jail %s\n", PL_VERSION);
    return 0;
  }
  fputs("parlab-jail: the grader's sandboxed helper; it is started by parlab, not by hand\n",
        stderr);
  return 2;
}
