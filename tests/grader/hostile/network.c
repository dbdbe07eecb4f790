/* Tries TCP and UDP sockets. */
// lab: tiny
// expect: 1 passed
#include <sys/socket.h>
int lab_answer(void) { return socket(AF_INET, SOCK_STREAM, 0) < 0 && socket(AF_INET6, SOCK_DGRAM, 0) < 0 ? 42 : 0; }
double lab_sum(const double *x, long n) { double s = 0; for (long i = 0; i < n; i++) s += x[i]; return s; }
void lab_scale(double *y, long n, double a) { for (long i = 0; i < n; i++) y[i] *= a; }
