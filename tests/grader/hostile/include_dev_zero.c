/* Includes /dev/zero. */
// lab: tiny
// compile: failed 
#include "/dev/zero"
