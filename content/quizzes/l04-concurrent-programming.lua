-- Quiz for lecture l04-concurrent-programming (content/lectures/l04-concurrent-programming.md).
return quiz {
  question "lost-update" {
    kind = "choice",
    text = "Two threads each run counter++ 1,000 times on a shared counter that starts at " ..
           "0, with no synchronization. Which final values are possible?",
    choices = {
      "Only 2000",
      "2000, or less than 2000, but never more than 2000",
      "Only 1000 or 2000",
    },
    answer = 2,
    explain = "Each increment is a load, an add and a store. When the threads interleave " ..
              "those steps, one thread's store can overwrite the other's, so increments are " ..
              "lost and the result can be less than 2000. No increment is ever counted twice.",
  },

  question "cond-while" {
    kind = "choice",
    text = "Why does a consumer test `while (count == 0) pthread_cond_wait(&cv, &mu);` " ..
           "instead of using `if`?",
    choices = {
      "A while loop is faster than an if",
      "After waking up the condition may be false again: wake-ups can be spurious, and " ..
      "another thread may have taken the item first",
      "pthread_cond_wait returns without the mutex held",
    },
    answer = 2,
    explain = "pthread_cond_wait returns with the mutex held, but it only means the " ..
              "condition may have changed. Re-testing in a loop is always correct.",
  },

  question "coffman" {
    kind = "choice",
    text = "Every thread takes its locks in one global order (lock 1 before lock 2 before " ..
           "lock 3). Which deadlock condition does that rule out?",
    choices = { "Mutual exclusion", "Hold and wait", "No preemption", "Circular wait" },
    answer = 4,
    explain = "With a global order nobody can hold a later lock while waiting for an " ..
              "earlier one, so the waits can never close into a cycle.",
  },

  question "semaphore" {
    kind = "numeric",
    text = "Twelve threads share a semaphore created with 3 permits; each takes a permit, " ..
           "downloads a file for exactly 1 second, then returns the permit. Ignoring " ..
           "overheads, how many seconds does it take until all twelve downloads are done?",
    answer = 4,
    tolerance = 0.01,
    explain = "At most 3 downloads run at once, so 12 downloads need 12 / 3 = 4 rounds of " ..
              "1 second each.",
  },

  question "asyncio-block" {
    kind = "choice",
    text = "Three asyncio coroutines each call time.sleep(1) (not asyncio.sleep) and are " ..
           "run with asyncio.gather. About how long does that take?",
    choices = { "About 1 s", "About 3 s", "About 0 s" },
    answer = 2,
    explain = "time.sleep blocks the event loop's only thread, so the coroutines cannot " ..
              "overlap their waits: 3 x 1 s. With await asyncio.sleep(1) they would wait " ..
              "together and finish in about 1 s.",
  },

  question "future" {
    kind = "exact",
    text = "In Python's concurrent.futures, what kind of object does executor.submit(fn, x) " ..
           "return? (one word)",
    answer = { "Future", "a Future" },
    explain = "A Future stands for a result that is not known yet. Its result() method waits " ..
              "for the task and returns its value, or raises the exception the task raised.",
  },
}
