/* Tries to open a network socket and to write into its const input. */
#include <stdio.h>
#include <sys/socket.h>
double lab_sum(const double *x, long n) { ((double *)x)[0] = 1e9; return 0; (void)n; }
int lab_answer(void) { return socket(AF_INET, SOCK_STREAM, 0) >= 0 ? 42 : -1; }
void lab_scale(double *y, long n, double a) { for (long i = 0; i < n; i++) y[i] *= a; }
