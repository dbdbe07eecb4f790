/* philo.c — reference solution for Lab dining-philosophers.
 *
 * Resource ordering: every philosopher takes the lower-numbered of their
 * two forks first. For philosophers 0 to n-2 that is still the left fork;
 * the last philosopher, whose right fork is fork 0, now reaches for fork 0
 * first. A circular wait would need a cycle of philosophers each holding
 * a lower fork and waiting for a higher one, all the way round the table
 * and back to the lowest: impossible, since fork numbers cannot rise for
 * ever around a cycle. So no deadlock, and neighbours that do not share a
 * fork still eat at the same time.
 */

void take_fork(int fork);
void put_fork(int fork);
void eat(void);
void think(void);

void philosopher(int id, int n, int meals) {
  int left = id;
  int right = (id + 1) % n;
  int first = left < right ? left : right;
  int second = left < right ? right : left;
  for (int m = 0; m < meals; m++) {
    think();
    take_fork(first);
    take_fork(second);
    eat();
    put_fork(second);
    put_fork(first);
  }
}
