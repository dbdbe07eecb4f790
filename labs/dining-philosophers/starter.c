/* philo.c — Lab dining-philosophers: remove the deadlock.
 *
 * n philosophers sit at a round table with one fork between each pair of
 * neighbours. Philosopher `id` needs both forks next to them to eat: fork
 * `id` on the left and fork `(id + 1) % n` on the right. The lab runs
 * philosopher(id, n, meals) on its own thread for every id at once.
 *
 * The bug: everyone picks up the left fork first. If all of them do so at
 * the same moment, each holds one fork and waits for the neighbour's:
 * nobody ever eats again. Change the order in which forks are taken (or
 * add another rule) so that this can never happen, without stopping
 * philosophers who do not share a fork from eating at the same time.
 */

/* Provided by the lab (philo_support.c); do not define them here.
 * take_fork waits until the fork is free and takes it; put_fork puts down
 * a fork you hold; eat needs both of your forks; think takes a moment. */
void take_fork(int fork);
void put_fork(int fork);
void eat(void);
void think(void);

void philosopher(int id, int n, int meals) {
  int left = id;
  int right = (id + 1) % n;
  for (int m = 0; m < meals; m++) {
    think();
    take_fork(left);
    take_fork(right);
    eat();
    put_fork(right);
    put_fork(left);
  }
}
