/*
 * cmd_list.c — `parlab list [--json]` and `parlab progress [--reset]`:
 * the course map with the local user's progress.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"

/* One pass over the course with progress, as JSON; both commands print
 * from it, so they always agree. */
static cJSON *course_json(cmd_ctx *c, db *d) {
  cJSON *doc = cJSON_CreateObject();
  cJSON_AddStringToObject(doc, "course", c->course->title ? c->course->title : "");
  cJSON *mods = cJSON_AddArrayToObject(doc, "modules");
  for (int m = 0; m < c->course->nmodules; m++) {
    const lx_module *mod = &c->course->modules[m];
    cJSON *jm = cJSON_CreateObject();
    cJSON_AddStringToObject(jm, "id", mod->id);
    cJSON_AddStringToObject(jm, "title", mod->title);
    cJSON *items = cJSON_AddArrayToObject(jm, "items");
    for (int i = 0; i < mod->nitems; i++) {
      const lx_item *it = &mod->items[i];
      cJSON *ji = cJSON_CreateObject();
      cJSON_AddStringToObject(ji, "kind", it->kind == LX_ITEM_LAB ? "lab" : "lecture");
      cJSON_AddStringToObject(ji, "id", it->id);
      cJSON_AddStringToObject(ji, "title", it->title);
      if (it->kind == LX_ITEM_LECTURE) {
        int seen = 0, pos = 0;
        db_lecture_get(d, it->id, &seen, &pos);
        cJSON_AddBoolToObject(ji, "read", seen);
      } else {
        db_lab_progress p;
        db_lab_progress_get(d, it->id, &p);
        cJSON_AddNumberToObject(ji, "attempts", p.attempts);
        if (p.attempts) {
          cJSON_AddNumberToObject(ji, "best_score", p.best_score);
          cJSON_AddNumberToObject(ji, "max_score", p.max_score);
          cJSON_AddNumberToObject(ji, "last_score", p.last_score);
          cJSON_AddNumberToObject(ji, "last_at", (double)p.last_at);
        }
      }
      cJSON_AddItemToArray(items, ji);
    }
    cJSON_AddItemToArray(mods, jm);
  }
  return doc;
}

static int print_course(cmd_ctx *c, int json, int detail) {
  db *d = NULL;
  int rc = cmd_course(c);
  if (rc || (rc = cmd_open_db(c, &d))) return rc;
  cJSON *doc = course_json(c, d);
  db_close(d);
  if (json) {
    char *s = cJSON_Print(doc);
    puts(s);
    free(s);
    cJSON_Delete(doc);
    return 0;
  }
  printf("%s\n", cJSON_GetObjectItem(doc, "course")->valuestring);
  cJSON *m;
  cJSON_ArrayForEach(m, cJSON_GetObjectItem(doc, "modules")) {
    printf("\n%s  %s\n", cJSON_GetObjectItem(m, "id")->valuestring,
           cJSON_GetObjectItem(m, "title")->valuestring);
    cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(m, "items")) {
      const char *kind = cJSON_GetObjectItem(it, "kind")->valuestring;
      char status[96] = "";
      if (!strcmp(kind, "lecture")) {
        snprintf(status, sizeof status, "%s", cJSON_IsTrue(cJSON_GetObjectItem(it, "read")) ? "read" : "");
      } else if (cJSON_GetObjectItem(it, "best_score")) {
        double best = cJSON_GetObjectItem(it, "best_score")->valuedouble;
        double max = cJSON_GetObjectItem(it, "max_score")->valuedouble;
        int n = cJSON_GetObjectItem(it, "attempts")->valueint;
        if (detail) {
          time_t at = (time_t)cJSON_GetObjectItem(it, "last_at")->valuedouble;
          char when[32];
          strftime(when, sizeof when, "%Y-%m-%d %H:%M", localtime(&at));
          snprintf(status, sizeof status, "best %g/%g, %d attempt%s, last %s%s", best, max, n,
                   n == 1 ? "" : "s", when, best >= max ? "  ✓" : "");
        } else {
          snprintf(status, sizeof status, "%g/%g%s", best, max, best >= max ? " ✓" : "");
        }
      }
      printf("  %-8s %-22s %-36s %s\n", kind, cJSON_GetObjectItem(it, "id")->valuestring,
             cJSON_GetObjectItem(it, "title")->valuestring, status);
    }
  }
  cJSON_Delete(doc);
  return 0;
}

int cmd_list(cmd_ctx *c, int argc, char **argv) {
  int json = cmd_take_flag(&argc, argv, "--json");
  if (argc != 1) { fprintf(stderr, "usage: parlab list [--json]\n"); return EXIT_USAGE; }
  return print_course(c, json, 0);
}

int cmd_progress(cmd_ctx *c, int argc, char **argv) {
  int reset = cmd_take_flag(&argc, argv, "--reset");
  int json = cmd_take_flag(&argc, argv, "--json");
  if (argc != 1) { fprintf(stderr, "usage: parlab progress [--reset] [--json]\n"); return EXIT_USAGE; }
  if (reset) {
    db *d = NULL;
    int rc = cmd_open_db(c, &d);
    if (rc) return rc;
    rc = db_reset(d);
    db_close(d);
    if (rc) { fprintf(stderr, "parlab: could not reset progress\n"); return EXIT_ENV; }
    printf("progress reset: lecture reads and lab attempts erased from %s/parlab.db\n", c->home);
    return 0;
  }
  return print_course(c, json, 1);
}
