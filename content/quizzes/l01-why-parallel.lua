-- Quiz for lecture l01-why-parallel (content/lectures/l01-why-parallel.md).
return quiz {
  question "pipeline" {
    kind = "choice",
    text = "An image tool reads a file, decodes it, resizes it and encodes the result, " ..
           "with each of the four steps running on its own worker while the next image " ..
           "is already being read. Which shape of parallelism is this?",
    choices = { "Data parallelism", "Task parallelism", "Pipeline parallelism" },
    answer = 3,
    explain = "Work flows through a sequence of stages, each on its own worker, like an " ..
              "assembly line. A full pipeline raises throughput (one image per stage time) " ..
              "but not the latency of a single image, and it runs only as fast as its " ..
              "slowest stage.",
  },

  question "amdahl-4" {
    kind = "numeric",
    text = "A program spends 10% of its one-core run time in a part that cannot be " ..
           "parallelized. By Amdahl's law, what speedup can it reach on 4 cores? " ..
           "(two decimals)",
    answer = 1 / (0.1 + 0.9 / 4),
    tolerance = 0.01,
    explain = "S(p) = 1 / (s + (1 - s)/p) = 1 / (0.1 + 0.9/4) = 1 / 0.325 = 3.08. " ..
              "The serial tenth already costs almost a whole core's worth of speedup.",
  },

  question "amdahl-limit" {
    kind = "numeric",
    text = "With the same 10% serial fraction, what is the largest speedup any number " ..
           "of cores could ever give?",
    answer = 10,
    tolerance = 0.01,
    explain = "As p grows, (1 - s)/p vanishes and S(p) approaches 1/s = 1/0.1 = 10. " ..
              "Only shrinking the serial part raises this ceiling.",
  },

  question "reduction" {
    kind = "exact",
    text = "Which OpenMP clause gives each thread its own private copy of an " ..
           "accumulator and combines the copies when the loop ends? (one word)",
    answer = { "reduction", "reduction(+:s)" },
    explain = "reduction(+:s) makes a private s per thread, starting at 0, and adds the " ..
              "copies together at the end. Without it the threads race on one shared " ..
              "variable and lose updates.",
  },

  question "karp-flatt" {
    kind = "numeric",
    text = "A program reaches a speedup of 5.6 on 8 cores. What serial fraction does the " ..
           "Karp-Flatt metric e = (1/S - 1/p) / (1 - 1/p) give? (three decimals)",
    answer = (1 / 5.6 - 1 / 8) / (1 - 1 / 8),
    tolerance = 0.002,
    explain = "e = (1/5.6 - 1/8) / (1 - 1/8) = (0.1786 - 0.125) / 0.875 = 0.061: the " ..
              "program behaves as if about 6.1% of it were serial. If e grows with p, " ..
              "the cause is overhead that increases with the number of workers.",
  },

  question "concurrency" {
    kind = "choice",
    text = "A single-threaded event loop serves ten thousand open connections, switching " ..
           "to another request whenever one waits for the disk. This program is:",
    choices = {
      "parallel but not concurrent",
      "concurrent but not parallel",
      "both concurrent and parallel",
    },
    answer = 2,
    explain = "Many activities are in progress with overlapping lifetimes (concurrency), " ..
              "but at any instant exactly one instruction stream executes, so nothing runs " ..
              "in parallel.",
  },
}
