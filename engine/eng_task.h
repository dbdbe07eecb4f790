/*
 * eng_task.h — tasks on the pool's workers: futures and task groups.
 *
 * eng_submit() runs fn(arg) on some worker and returns a future to wait on
 * (wait, wait-any, and therefore as-completed). A task group is the
 * fork-join form: spawn any number of tasks, including from inside tasks
 * (recursive divide and conquer), then wait for all of them.
 *
 * Scheduling is work stealing: every worker slot has a deque; a task
 * spawned by a worker goes to the bottom of its own deque and is usually
 * run by that worker (newest first, which keeps recursion depth-first and
 * cache-warm); idle workers steal the oldest task of another worker. A
 * thread outside the pool puts its tasks into a shared queue.
 *
 * Waiting helps: a worker that waits (for a group or a future) runs other
 * tasks meanwhile, so nested waits cannot starve the pool. A thread outside
 * the pool that waits for a task group becomes worker 0 when slot 0 is free
 * (the same slot a region's caller takes) and helps too. A thread outside
 * the pool that waits for futures only waits (spins briefly, then sleeps),
 * as with Python's ThreadPoolExecutor: it is told of each completion at
 * once, so wait-any returns futures in the order they finish. Slot 0 is
 * then served by the pool's stand-in thread, started by the first
 * eng_submit, so a pool of n runs futures on n threads. A pool of size 1,
 * or one inherited through fork(), runs a task at once, inside
 * eng_submit/eng_taskgroup_spawn.
 *
 * Thread-safety: everything may be called from any thread, including from
 * inside tasks and region bodies. A group is waited on by one thread at a
 * time. A task must not wait for a task that waits for it (that is a
 * deadlock, as in any fork-join system).
 */
#ifndef ENG_TASK_H
#define ENG_TASK_H

typedef struct eng_pool eng_pool;
typedef struct eng_future eng_future;
typedef struct eng_taskgroup eng_taskgroup;

typedef void (*eng_task_fn)(void *arg);

/* OUT: *out, caller frees with eng_future_free() — at any time: the task
 * keeps its own reference until it has run. `arg` must stay valid until
 * then. PL_EINVAL for a NULL p, fn or out. */
int eng_submit(eng_pool *p, eng_task_fn fn, void *arg, eng_future **out);
int eng_future_done(eng_future *f);
/* Block until the task has run (helping meanwhile only when called from
 * inside the pool). 0, or PL_EINVAL. */
int eng_future_wait(eng_future *f);
/* Index of a finished future in futs[0..n) (the lowest such), blocking up
 * to timeout_s seconds (< 0: no limit). PL_ETIMEOUT when none finished in
 * time, PL_EINVAL for n < 1 or a NULL entry. */
int eng_future_wait_any(eng_future *const *futs, int n, double timeout_s);
void eng_future_free(eng_future *f);

/* OUT: *out, caller frees with eng_taskgroup_free(), which waits first. */
int eng_taskgroup_new(eng_pool *p, eng_taskgroup **out);
/* Run fn(arg) as part of g. 0, or PL_EINVAL. */
int eng_taskgroup_spawn(eng_taskgroup *g, eng_task_fn fn, void *arg);
/* Block until every task spawned into g so far has run (helping). */
int eng_taskgroup_wait(eng_taskgroup *g);
void eng_taskgroup_free(eng_taskgroup *g);

#endif
