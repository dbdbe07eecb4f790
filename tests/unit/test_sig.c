/* Export signatures: what the grader accepts, and the messages for what
 * it refuses. */
#include <stdlib.h>

#include "grd_int.h"
#include "pl_test.h"

static void test_parses_lab_sum(void) {
  grd_sig s;
  char *err = NULL;
  PT_EQ_INT(grd__sig_parse("double(const double*, long)", &s, &err), 0);
  PT_EQ_INT(s.ret, GRD_T_DOUBLE);
  PT_EQ_INT(s.nargs, 2);
  PT_EQ_INT(s.args[0], GRD_T_PTR_F64);
  PT_EQ_INT(s.is_const[0], 1);
  PT_EQ_INT(s.args[1], GRD_T_LONG);
}

static void test_variants(void) {
  grd_sig s;
  char *err = NULL;
  PT_EQ_INT(grd__sig_parse("void ( float *y , const float * x, int64_t n, float a )", &s, &err), 0);
  PT_EQ_INT(s.nargs, 4);
  PT_EQ_INT(s.args[0], GRD_T_PTR_F32);
  PT_EQ_INT(s.is_const[0], 0);
  PT_EQ_INT(s.args[2], GRD_T_I64);
  PT_EQ_INT(grd__sig_parse("int(void)", &s, &err), 0);
  PT_EQ_INT(s.nargs, 0);
  PT_EQ_INT(grd__sig_parse("int()", &s, &err), 0);
  PT_EQ_INT(s.nargs, 0);
  PT_EQ_INT(grd__sig_parse("long(const char*)", &s, &err), 0);
  PT_EQ_INT(s.args[0], GRD_T_STR);
}

static void test_refusals(void) {
  grd_sig s;
  char *err = NULL;
  PT_NE_INT(grd__sig_parse("double(const double** x)", &s, &err), 0);
  PT_CONTAINS(err, "pointers to pointers");
  free(err);
  /* Parameter names are allowed, as in a C prototype. */
  PT_EQ_INT(grd__sig_parse("double(const double *x, long n)", &s, &err), 0);
  PT_EQ_INT(s.args[0], GRD_T_PTR_F64);
  PT_EQ_INT(s.args[1], GRD_T_LONG);
  PT_EQ_INT(grd__sig_parse("long(long long count)", &s, &err), 0);
  PT_EQ_INT(s.args[0], GRD_T_I64);
  PT_NE_INT(grd__sig_parse("double*(long)", &s, &err), 0);
  PT_CONTAINS(err, "may not return pointers");
  free(err);
  PT_NE_INT(grd__sig_parse("quad(long)", &s, &err), 0);
  PT_CONTAINS(err, "unknown type 'quad'");
  free(err);
  PT_NE_INT(grd__sig_parse("double", &s, &err), 0);
  PT_CONTAINS(err, "expected RETURN(ARG");
  free(err);
}

int main(int argc, char **argv) {
  static const pt_case cases[] = {PT_CASE(test_parses_lab_sum), PT_CASE(test_variants),
                                  PT_CASE(test_refusals), {0}};
  return pt_main(argc, argv, cases);
}
