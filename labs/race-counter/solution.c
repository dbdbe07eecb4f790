/* counter.c — reference solution for Lab race-counter.
 *
 * Each thread counts its block into a local variable (a register, in
 * practice) and stores the total once, into its own task slot, when it is
 * done. lab_count adds the slots after pthread_join: join makes the
 * thread's writes visible to the caller, so no lock and no atomic is
 * needed anywhere. The threads share nothing they write while they run.
 */
#include <pthread.h>

#define MAX_THREADS 64

struct task {
  const double *x;
  double limit;
  long lo, hi;    /* this thread's block: x[lo..hi-1] */
  long partial;   /* written once, by this thread, at the end */
};

static void *worker(void *arg) {
  struct task *t = arg;
  long mine = 0;
  for (long i = t->lo; i < t->hi; i++)
    if (t->x[i] < t->limit)
      mine++;
  t->partial = mine;
  return NULL;
}

long lab_count(const double *x, long n, double limit, int threads) {
  if (threads < 1) threads = 1;
  if (threads > MAX_THREADS) threads = MAX_THREADS;
  struct task tasks[MAX_THREADS];
  pthread_t tid[MAX_THREADS];
  int made[MAX_THREADS];
  for (int t = 0; t < threads; t++) {
    tasks[t] = (struct task){ x, limit, n * t / threads, n * (t + 1) / threads, 0 };
    made[t] = pthread_create(&tid[t], NULL, worker, &tasks[t]) == 0;
    if (!made[t])
      worker(&tasks[t]);
  }
  long count = 0;
  for (int t = 0; t < threads; t++) {
    if (made[t])
      pthread_join(tid[t], NULL);
    count += tasks[t].partial;
  }
  return count;
}
