/* race-counter with sham threads: it starts the requested number of
 * threads, so the process has them, but they only spin for a while, and
 * the calling thread does all the counting. A check that counted threads
 * would be fooled; the page tracer is not. */
#include <pthread.h>

#define MAX_THREADS 64

static void *idle(void *arg) {
  volatile long spin = 0;
  for (long i = 0; i < 2000000; i++) spin += i;
  return arg;
}

long lab_count(const double *x, long n, double limit, int threads) {
  if (threads < 1) threads = 1;
  if (threads > MAX_THREADS) threads = MAX_THREADS;
  pthread_t tid[MAX_THREADS];
  int made[MAX_THREADS];
  for (int t = 0; t < threads; t++) made[t] = pthread_create(&tid[t], NULL, idle, NULL) == 0;
  long count = 0;
  for (long i = 0; i < n; i++)
    if (x[i] < limit)
      count++;
  for (int t = 0; t < threads; t++)
    if (made[t]) pthread_join(tid[t], NULL);
  return count;
}
