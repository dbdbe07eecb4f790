/* baseline.c — the trusted baseline for Lab race-counter: the counter
 * made correct with a mutex around every increment, run with the same
 * number of threads as the submission. Compiled with the lab's flags and
 * run by the grader in its own jail. It is the first fix most people
 * find, and the one the lab asks you to beat: every match takes the lock,
 * so the threads queue up on it instead of counting. */
#include <pthread.h>

#define MAX_THREADS 64

struct shared {
  const double *x;
  double limit;
  long count;
  pthread_mutex_t lock;
};

struct task {
  struct shared *s;
  long lo, hi;
};

static void *worker(void *arg) {
  struct task *t = arg;
  struct shared *s = t->s;
  for (long i = t->lo; i < t->hi; i++)
    if (s->x[i] < s->limit) {
      pthread_mutex_lock(&s->lock);
      s->count++;
      pthread_mutex_unlock(&s->lock);
    }
  return NULL;
}

long lab_count(const double *x, long n, double limit, int threads) {
  if (threads < 1) threads = 1;
  if (threads > MAX_THREADS) threads = MAX_THREADS;
  struct shared s = { x, limit, 0, PTHREAD_MUTEX_INITIALIZER };
  struct task tasks[MAX_THREADS];
  pthread_t tid[MAX_THREADS];
  int made[MAX_THREADS];
  for (int t = 0; t < threads; t++) {
    tasks[t] = (struct task){ &s, n * t / threads, n * (t + 1) / threads };
    made[t] = pthread_create(&tid[t], NULL, worker, &tasks[t]) == 0;
    if (!made[t])
      worker(&tasks[t]);
  }
  for (int t = 0; t < threads; t++)
    if (made[t])
      pthread_join(tid[t], NULL);
  return s.count;
}
