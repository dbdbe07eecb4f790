/* dining-philosophers, no deadlock but no parallelism: one lock around the
 * whole meal lets a single philosopher eat at a time. */
#include <pthread.h>

void take_fork(int fork);
void put_fork(int fork);
void eat(void);
void think(void);

static pthread_mutex_t table = PTHREAD_MUTEX_INITIALIZER;

void philosopher(int id, int n, int meals) {
  int left = id, right = (id + 1) % n;
  for (int m = 0; m < meals; m++) {
    think();
    pthread_mutex_lock(&table);
    take_fork(left);
    take_fork(right);
    eat();
    put_fork(right);
    put_fork(left);
    pthread_mutex_unlock(&table);
  }
}
