-- Quiz for lecture l03-processes-and-ipc (content/lectures/l03-processes-and-ipc.md).
return quiz {
  question "why-processes" {
    kind = "choice",
    text = "A CPU-bound Python function is run on 4 inputs, on a 4-core machine. Why does a " ..
           "pool of 4 processes speed it up when 4 threads do not?",
    choices = {
      "Processes are scheduled with a higher priority than threads",
      "Each process has its own interpreter and its own GIL, so their bytecode runs in parallel",
      "Processes share memory more efficiently than threads",
    },
    answer = 2,
    explain = "Threads of one CPython process take turns holding one interpreter lock. " ..
              "Processes share nothing, each runs its own interpreter on its own core; the " ..
              "price is that their inputs and results must be copied between them.",
  },

  question "chunksize-default" {
    kind = "numeric",
    text = "Pool.map is called without a chunk size on 10,000 items with a pool of 4 workers. " ..
           "It uses ceil(n / (4 * workers)). How many items go in each chunk?",
    answer = 625,
    tolerance = 0,
    explain = "10,000 / (4 * 4) = 625: four chunks per worker. Fine when every task costs the " ..
              "same; when the costs grow along the list, the last chunk alone can hold a large " ..
              "share of the work.",
  },

  question "bathtub" {
    kind = "choice",
    text = "Run time against chunk size, on a log scale, looks like a bathtub. What makes the " ..
           "right-hand wall (very large chunks) slow?",
    choices = {
      "The cost of pickling and sending each message",
      "Imbalance: few chunks, so at the end some workers idle while others finish a large one",
      "The workers run out of memory",
    },
    answer = 2,
    explain = "Large chunks pay the message cost rarely (that is the left wall's problem), but " ..
              "with few chunks per worker the work cannot be evened out at the end.",
  },

  question "sentinels" {
    kind = "numeric",
    text = "One producer feeds 5 consumer processes through one queue, and each consumer " ..
           "stops at the first None it takes. How many None sentinels must the producer put?",
    answer = 5,
    tolerance = 0,
    explain = "A sentinel taken by one consumer is gone for the others: one per consumer. With " ..
              "fewer, some consumers wait for ever and joining them hangs.",
  },

  question "main-guard" {
    kind = "exact",
    text = "With the spawn start method, each child imports the main module. Which start " ..
           "method, the default on Windows and macOS, makes the `if __name__ == '__main__':` " ..
           "guard around the pool creation necessary?",
    answer = { "spawn", "the spawn method" },
    explain = "spawn starts a fresh interpreter that imports your script to find the task " ..
              "functions, so unguarded top-level code (such as creating a pool) runs again in " ..
              "every child. fork copies the parent instead and does not re-run it.",
  },

  question "dead-worker" {
    kind = "choice",
    text = "A worker of a concurrent.futures.ProcessPoolExecutor is killed by the OOM killer " ..
           "in the middle of a task. What happens?",
    choices = {
      "The task is retried on another worker",
      "The pool is marked broken and the pending futures fail with BrokenProcessPool",
      "The call waits forever for the lost result",
    },
    answer = 2,
    explain = "ProcessPoolExecutor gives up on the whole pool. multiprocessing.Pool replaces " ..
              "the worker but loses its task, so a map waits forever. engine.procs retries the " ..
              "task up to a bound, then reports it failed with the cause.",
  },

  question "memmap" {
    kind = "choice",
    text = "Why does joblib send a large NumPy array to its workers as a memory-mapped file?",
    choices = {
      "Files compress better than pickles",
      "The workers map the same file: only its name travels, and pages are loaded on demand, " ..
      "so the array may even be larger than memory",
      "Memory maps are the only way to share read-only data",
    },
    answer = 2,
    explain = "Pickling a 100 MB array copies 100 MB each way. A memmap is pickled as a file " ..
              "name, offset and shape; the kernel's page cache does the rest.",
  },
}
