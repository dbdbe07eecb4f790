-- Quiz for lecture l16-distributed-ml (content/lectures/l16-distributed-ml.md).
return quiz {
  question "bsp-staleness" {
    kind = "numeric",
    text = "Under Bulk Synchronous Parallel, how many updates can the server have applied " ..
           "between the moment a worker reads the parameters and the moment its gradient " ..
           "is applied?",
    answer = 0,
    tolerance = 0,
    explain = "BSP serves the pulls of step c only after the update of step c - 1, and " ..
              "applies the next update only when every worker's gradient for step c has " ..
              "arrived: every gradient is computed on the current parameters. The price " ..
              "is that each step waits for the slowest worker.",
  },

  question "ssp-bound" {
    kind = "choice",
    text = "Under Stale Synchronous Parallel with bound s = 3, the slowest worker has " ..
           "finished 10 steps. Which is the highest step a fast worker may start?",
    choices = { "step 10", "step 13", "step 30", "any step: SSP never makes a worker wait" },
    answer = 2,
    explain = "A worker about to start step c may proceed only if the slowest worker has " ..
              "finished step c - s - 1, i.e. c - (slowest's finished steps) <= s. With 10 " ..
              "steps finished (steps 0 to 9), c can be at most 13 (steps are numbered from 0).",
  },

  question "ring-traffic" {
    kind = "numeric",
    text = "With the ring allreduce, how many megabytes does each of 4 workers send to " ..
           "average a 100 MB gradient?",
    answer = 150,
    tolerance = 0.5,
    explain = "Each worker sends 2 (P - 1) / P of the vector: (P - 1) chunks of N / P in the " ..
              "reduce-scatter and as many in the allgather. 2 x 3/4 x 100 MB = 150 MB, and " ..
              "it never exceeds 2 x 100 MB however many workers join.",
  },

  question "ps-bottleneck" {
    kind = "choice",
    text = "A dense model of N bytes is trained by W workers with a single parameter " ..
           "server. What limits it as W grows?",
    choices = {
      "each worker's memory, which must hold W copies of the model",
      "the server's network link, which receives about W x N bytes per step",
      "the number of partitions of the data set",
    },
    answer = 2,
    explain = "Every worker pushes a full gradient and pulls full parameters each step, so " ..
              "the server's traffic grows with W. Sharding the parameters over several " ..
              "servers divides it; allreduce spreads it evenly over all workers instead.",
  },

  question "tree-or-ring" {
    kind = "choice",
    text = "By the alpha-beta model, which allreduce algorithm suits a 4 KB message on " ..
           "many workers best?",
    choices = { "a ring: it moves the fewest bytes", "a tree: it sends the fewest messages",
                "a star: one root is simplest" },
    answer = 2,
    explain = "For small messages the latency term alpha dominates. A tree needs about " ..
              "2 log2(P) messages per worker against the ring's 2 (P - 1), so the tree wins; " ..
              "for large messages the ring's bandwidth term (2 (P - 1) / P of N) wins.",
  },

  question "recovery" {
    kind = "exact",
    text = "Synchronous allreduce training is fail-stop: when one process dies, the job " ..
           "ends. What does the job restart from? (one word)",
    answer = { "checkpoint", "a checkpoint", "checkpoints" },
    explain = "The parameters, optimizer state, data position and random states saved every " ..
              "few minutes. Elastic frameworks also re-form the ring without the dead worker " ..
              "and restore that state.",
  },
}
