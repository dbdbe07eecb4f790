/*
 * lx_course.h — the course manifest (content/course.lua) and lab metadata
 * (labs/<id>/lab.lua) as plain C data, for the CLI and the TUI.
 *
 * Both are loaded in a fresh sandboxed state that is closed before
 * returning, so the structs own all their strings. Errors name the file and
 * line. Thread-safety: the structs are immutable after loading.
 */
#ifndef LX_COURSE_H
#define LX_COURSE_H

typedef enum { LX_ITEM_LECTURE = 0, LX_ITEM_LAB = 1 } lx_item_kind;

typedef struct lx_item {
  lx_item_kind kind;
  char *id;    /* "l01-why-parallel", "amdahl-sum" */
  char *title;
  char *path;  /* lecture: the .md file; lab: the lab folder */
  int needs_gpu; /* lab: lx_lab.needs_gpu (the TUI says "needs a GPU") */
} lx_item;

typedef struct lx_module {
  char *id;    /* "m1" */
  char *title; /* "Foundations" */
  lx_item *items;
  int nitems;
} lx_module;

typedef struct lx_course {
  char *title;
  char *root;     /* course folder (holds content/ and labs/) */
  lx_module *modules;
  int nmodules;
} lx_course;

/* root: the course folder. OUT: *out, caller frees with lx_course_free();
 * on failure *err (caller frees) names file and line. */
int lx_course_load(const char *root, lx_course **out, char **err);
void lx_course_free(lx_course *c);
/* Find an item by id; "l01" matches "l01-why-parallel" (prefix up to '-').
 * kind < 0 matches any kind. */
const lx_item *lx_course_find(const lx_course *c, const char *id, int kind);

typedef struct lx_check_info {
  char *name;
  double points;
  int hidden;
  int timed;    /* a performance check (retried before failing) */
  int gpu;      /* needs a CUDA device: skipped with the reason without one */
  double timeout_s;
} lx_check_info;

typedef struct lx_export {
  char *name; /* "lab_sum" */
  char *sig;  /* "double(const double*, long)" */
} lx_export;

typedef struct lx_lab {
  char *id, *title, *lecture, *dir;
  char *brief;      /* path of brief.md */
  char *sub_file;   /* file name the student edits: "sum.c" */
  char *lang;       /* "c" */
  char *starter, *solution, *baseline; /* paths; baseline may be NULL */
  char **cflags; int ncflags;
  char **ldflags; int nldflags;
  char **support; int nsupport;  /* lab-provided C files, full paths */
  lx_export *exports; int nexports;
  char **hints; int nhints;
  lx_check_info *checks; int nchecks;
  double max_score;
  int needs_gpu;    /* lang "cuda" or any gpu check: the TUI says "needs a GPU" */
} lx_lab;

/* dir: the lab folder. OUT: *out, caller frees with lx_lab_free(). */
int lx_lab_load(const char *dir, lx_lab **out, char **err);
void lx_lab_free(lx_lab *lab);

#endif
