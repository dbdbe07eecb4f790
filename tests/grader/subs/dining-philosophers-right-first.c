/* dining-philosophers, still deadlocks: everyone takes the RIGHT fork
 * first. The circle of waits runs the other way round the table. */
void take_fork(int fork);
void put_fork(int fork);
void eat(void);
void think(void);

void philosopher(int id, int n, int meals) {
  int left = id, right = (id + 1) % n;
  for (int m = 0; m < meals; m++) {
    think();
    take_fork(right);
    take_fork(left);
    eat();
    put_fork(left);
    put_fork(right);
  }
}
