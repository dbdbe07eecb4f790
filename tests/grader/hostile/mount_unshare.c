/* Tries to mount, unshare and chroot its way out. */
// lab: tiny
#define _GNU_SOURCE
// expect: 1 passed
#include <sys/mount.h>
#include <sched.h>
#include <unistd.h>
int lab_answer(void) { int bad = mount("proc", "/tmp", "proc", 0, 0) == 0;
  bad |= unshare(CLONE_NEWUSER) == 0; bad |= chroot("/tmp") == 0; return bad ? 0 : 42; }
double lab_sum(const double *x, long n) { double s = 0; for (long i = 0; i < n; i++) s += x[i]; return s; }
void lab_scale(double *y, long n, double a) { for (long i = 0; i < n; i++) y[i] *= a; }
