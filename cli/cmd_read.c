/*
 * cmd_read.c — `parlab read LECTURE`: a lecture rendered to stdout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cmd.h"
#include "tui.h"

int cmd_read(cmd_ctx *c, int argc, char **argv) {
  if (argc != 2) { fprintf(stderr, "usage: parlab read LECTURE\n"); return EXIT_USAGE; }
  int rc = cmd_course(c);
  if (rc) return rc;
  const lx_item *it = lx_course_find(c->course, argv[1], LX_ITEM_LECTURE);
  if (!it) {
    fprintf(stderr, "parlab: no lecture named '%s' (see `parlab list`)\n", argv[1]);
    return EXIT_USAGE;
  }
  FILE *f = fopen(it->path, "rb");
  if (!f) { fprintf(stderr, "parlab: cannot read %s\n", it->path); return EXIT_USAGE; }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
    fclose(f);
    free(buf);
    fprintf(stderr, "parlab: cannot read %s\n", it->path);
    return EXIT_USAGE;
  }
  fclose(f);
  struct winsize ws;
  int width = ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40 ? ws.ws_col : 80;
  if (width > 100) width = 100;
  rc = tui_md_print(stdout, buf, (size_t)n, width, cmd_use_color(c));
  free(buf);
  if (rc) { fprintf(stderr, "parlab: %s: cannot render Markdown\n", it->path); return EXIT_USAGE; }
  db *d = NULL;
  if (cmd_open_db(c, &d) == 0) {
    db_lecture_seen(d, it->id, 0);
    db_close(d);
  }
  return 0;
}
