/* Includes the reference solution by its path. */
// lab: tiny
// compile: failed No such file
#include "/work/main/labs/amdahl-sum/solution.c"
#include "../../../work/main/tests/grader/labs/tiny/solution.c"
