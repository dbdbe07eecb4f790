/* counter.c — Lab race-counter: make this counter correct, then fast.
 *
 * lab_count returns how many of x[0..n-1] are below `limit`, counted by
 * `threads` POSIX threads: thread t looks at its own block of the array,
 * from n*t/threads up to n*(t+1)/threads. The file is compiled with
 * gcc -O2 -pthread.
 *
 * The bug: every thread adds into the same `count` with count++, which is
 * a read, an add and a write. Two threads can read the same old value and
 * both write back old + 1, so one of the two increments is lost. Run it
 * twice and you get two different wrong answers.
 */
#include <pthread.h>

#define MAX_THREADS 64

struct shared {
  const double *x;
  double limit;
  long count;          /* every thread writes here: the race */
};

struct task {
  struct shared *s;
  long lo, hi;         /* this thread's block: x[lo..hi-1] */
};

static void *worker(void *arg) {
  struct task *t = arg;
  struct shared *s = t->s;
  for (long i = t->lo; i < t->hi; i++)
    if (s->x[i] < s->limit)
      s->count++;
  return NULL;
}

long lab_count(const double *x, long n, double limit, int threads) {
  if (threads < 1) threads = 1;
  if (threads > MAX_THREADS) threads = MAX_THREADS;
  struct shared s = { x, limit, 0 };
  struct task tasks[MAX_THREADS];
  pthread_t tid[MAX_THREADS];
  int made[MAX_THREADS];
  for (int t = 0; t < threads; t++) {
    tasks[t] = (struct task){ &s, n * t / threads, n * (t + 1) / threads };
    made[t] = pthread_create(&tid[t], NULL, worker, &tasks[t]) == 0;
    if (!made[t])
      worker(&tasks[t]);   /* no thread to be had: count this block here */
  }
  for (int t = 0; t < threads; t++)
    if (made[t])
      pthread_join(tid[t], NULL);
  return s.count;
}
