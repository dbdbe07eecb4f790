/* The Lua host's sandbox and the lab API's validation. */
#include <lauxlib.h>
#include <stdlib.h>

#include "lx.h"
#include "lx_course.h"
#include "pl_test.h"

static lua_State *open_state(size_t mem, double secs) {
  lua_State *L = NULL;
  lx_limits lim = {.mem_bytes = mem, .seconds = secs};
  PT_EQ_INT(lx_open(&lim, &L), 0);
  PT_TRUE(L != NULL);
  return L;
}

static char *run(lua_State *L, const char *code) {
  char *err = NULL;
  int rc = lx_dostring(L, code, "@snippet.lua", 0, &err);
  if (rc == 0) PT_TRUE(err == NULL);
  return err;
}

static void test_only_safe_libraries(void) {
  lua_State *L = open_state(0, 5);
  const char *absent[] = {"io", "os", "debug", "package", "require", "dofile", "loadfile", NULL};
  for (int i = 0; absent[i]; i++) {
    lua_getglobal(L, absent[i]);
    if (!lua_isnil(L, -1)) PT_FAIL_("global %s should be absent", absent[i]);
    lua_pop(L, 1);
  }
  const char *present[] = {"string", "table", "math", "utf8", "coroutine", "engine", "lab", "check", NULL};
  for (int i = 0; present[i]; i++) {
    lua_getglobal(L, present[i]);
    if (lua_isnil(L, -1)) PT_FAIL_("global %s should be present", present[i]);
    lua_pop(L, 1);
  }
  char *err = run(L, "x = io.open('/etc/passwd')");
  PT_CONTAINS(err, "snippet.lua:1:");
  PT_CONTAINS(err, "io");
  free(err);
  lx_close(L);
}

static void test_binary_chunks_refused(void) {
  lua_State *L = open_state(0, 5);
  char *err = run(L, "local f = load(string.dump(function() return 1 end))\n"
                     "assert(f == nil, 'binary chunk was loaded')");
  PT_TRUE(err == NULL);
  err = run(L, "local f, msg = load(string.dump(function() return 1 end))\nerror(msg)");
  PT_CONTAINS(err, "binary");
  free(err);
  /* Text chunks still load. */
  PT_TRUE(run(L, "assert(load('return 1 + 1')() == 2)") == NULL);
  lx_close(L);
}

static void test_infinite_loop_is_stopped(void) {
  lua_State *L = open_state(0, 0.3);
  char *err = run(L, "local i = 0\nwhile true do\n  i = i + 1\nend");
  PT_CONTAINS(err, "time limit");
  PT_CONTAINS(err, "snippet.lua:");
  free(err);
  lx_close(L);
}

static void test_pcall_cannot_swallow_the_deadline(void) {
  lua_State *L = open_state(0, 0.3);
  char *err = run(L, "while true do pcall(function() while true do end end) end");
  PT_CONTAINS(err, "time limit");
  free(err);
  lx_close(L);
}

static void test_memory_cap(void) {
  lua_State *L = open_state((size_t)8 << 20, 10);
  char *err = run(L, "local t = {}\nfor i = 1, 1e8 do\n  t[i] = {i}\nend");
  PT_CONTAINS(err, "memory limit of 8 MiB");
  PT_CONTAINS(err, "snippet.lua:");
  free(err);
  /* One huge allocation is refused outright, still with a clear message. */
  err = run(L, "local s = string.rep('x', 64 * 1024 * 1024)");
  PT_CONTAINS(err, "memory limit");
  free(err);
  /* The state is still usable afterwards. */
  PT_TRUE(run(L, "assert(1 + 1 == 2)") == NULL);
  lx_close(L);
}

static void test_errors_name_file_and_line(void) {
  lua_State *L = open_state(0, 5);
  char *err = run(L, "local a = 1\nlocal b = nil\nreturn a + b");
  PT_CONTAINS(err, "snippet.lua:3:");
  free(err);
  char *e2 = NULL;
  PT_EQ_INT(lx_dostring(L, "x = = 1", "@broken.lua", 0, &e2), -9);
  PT_CONTAINS(e2, "broken.lua:1:");
  free(e2);
  lx_close(L);
}

static void test_engine_arrays(void) {
  lua_State *L = open_state(0, 5);
  char *err = run(L,
    "local x = engine.array.random('f64', 1000, { seed = 3 })\n"
    "assert(#x == 1000 and x:dtype() == 'f64')\n"
    "local s = 0 for i = 1, #x do s = s + x[i] end\n"
    "assert(math.abs(s - x:sum()) < 1e-9, 'sum')\n"
    "local y = engine.array.random('f64', 1000, { seed = 3 })\n"
    "assert(y[17] == x[17], 'same seed, same values')\n"
    "local z = engine.array.from('i64', { 1, 2, 3 })\n"
    "assert(z:sum() == 6 and z[2] == 2)\n"
    "assert(engine.cores() >= 1)\n"
    "local st = engine.stats { 5, 1, 3 }\n"
    "assert(st.median == 3 and st.min == 1 and st.max == 5)\n"
    "assert(engine.time() > 0)\n");
  if (err) PT_FAIL_("%s", err);
  err = run(L, "local x = engine.array.zeros('f64', 3)\nlocal v = x[4]");
  PT_CONTAINS(err, "snippet.lua:2:");
  PT_CONTAINS(err, "out of range");
  free(err);
  err = run(L, "engine.array.zeros('f16', 3)");
  PT_CONTAINS(err, "unknown array type");
  free(err);
  lx_close(L);
}

static void test_lab_api_validation(void) {
  lua_State *L = open_state(0, 5);
  char *err = run(L, "return lab {\n  id = 'x', title = 'X', submission = { file = 'a.c' },\n"
                     "  checks = { check 'c' { points = 0, function() end } } }");
  PT_CONTAINS(err, "points must be a positive number");
  PT_CONTAINS(err, "snippet.lua:3:");
  free(err);
  err = run(L, "return lab { id = 'x', title = 'X', submission = { file = 'a.c' }, checks = {},\n"
               "  colour = 'red' }");
  PT_CONTAINS(err, "unknown field 'colour'");
  free(err);
  err = run(L, "return lab { id = 'x', title = 'X', submission = { file = 'a.c' }, checks = {} }");
  PT_CONTAINS(err, "at least one check");
  free(err);
  lx_close(L);
}

static void test_course_loads(void) {
  lx_course *c = NULL;
  char *err = NULL;
  int rc = lx_course_load(PARLAB_SOURCE_DIR, &c, &err);
  if (rc) PT_FAIL_("course: %s", err);
  PT_TRUE(c->nmodules >= 1);
  PT_EQ_STR(c->modules[0].title, "Foundations");
  const lx_item *l = lx_course_find(c, "l01", LX_ITEM_LECTURE);
  PT_TRUE(l != NULL);
  PT_EQ_STR(l->id, "l01-why-parallel");
  const lx_item *lab = lx_course_find(c, "amdahl-sum", LX_ITEM_LAB);
  PT_TRUE(lab != NULL);
  PT_EQ_STR(lab->title, "Parallel sum and Amdahl's law");
  lx_course_free(c);
}

static void test_lab_metadata(void) {
  lx_lab *lab = NULL;
  char *err = NULL;
  if (lx_lab_load(PARLAB_SOURCE_DIR "/labs/amdahl-sum", &lab, &err)) PT_FAIL_("%s", err);
  PT_EQ_STR(lab->id, "amdahl-sum");
  PT_EQ_STR(lab->sub_file, "sum.c");
  PT_EQ_INT(lab->nexports, 1);
  PT_EQ_STR(lab->exports[0].sig, "double(const double*, long)");
  PT_EQ_INT(lab->nchecks, 2);
  PT_NEAR(lab->max_score, 10, 0);
  PT_TRUE(lab->checks[1].timed);
  PT_TRUE(lab->nhints >= 2);
  PT_TRUE(lab->baseline != NULL);
  lx_lab_free(lab);
}

int main(int argc, char **argv) {
  static const pt_case cases[] = {
    PT_CASE(test_only_safe_libraries), PT_CASE(test_binary_chunks_refused),
    PT_CASE_T(test_infinite_loop_is_stopped, 10), PT_CASE_T(test_pcall_cannot_swallow_the_deadline, 10),
    PT_CASE(test_memory_cap), PT_CASE(test_errors_name_file_and_line), PT_CASE(test_engine_arrays),
    PT_CASE(test_lab_api_validation), PT_CASE(test_course_loads), PT_CASE(test_lab_metadata),
    {0}};
  return pt_main(argc, argv, cases);
}
