-- Quiz for lecture l17-mapreduce-spark-mpi (content/lectures/l17-mapreduce-spark-mpi.md).
return quiz {
  question "lazy" {
    kind = "choice",
    text = "In PySpark, rdd.flatMap(f).map(g).reduceByKey(h) is called. What has been " ..
           "computed when these calls return?",
    choices = {
      "nothing: they are transformations, recorded until an action runs the job",
      "the flatMap and map, but not the reduceByKey",
      "everything, and the result is cached on the driver",
    },
    answer = 1,
    explain = "Transformations are lazy: they only extend the lineage. An action such as " ..
              "count(), take() or saveAsTextFile() makes the driver plan stages and run tasks.",
  },

  question "lineage" {
    kind = "exact",
    text = "An executor dies and one partition of an RDD is lost. Spark recomputes it from " ..
           "its parents, using the record of how each RDD was derived. What is that record " ..
           "called? (one word)",
    answer = "lineage",
    explain = "Each RDD remembers its parents and the transformation that produced it, so a " ..
              "lost partition is recomputed rather than restored from a replica. Long " ..
              "lineages are cut by checkpointing.",
  },

  question "combiner" {
    kind = "choice",
    text = "A word count reduce emits the number of values it receives instead of their " ..
           "sum. The job uses the same function as combiner. What happens?",
    choices = {
      "the counts are right: counting and adding ones are the same",
      "the counts are wrong: after combining, the values are partial sums, not ones",
      "the job fails to run",
    },
    answer = 2,
    explain = "A combiner's outputs are the reducer's inputs. Counting them gives the number " ..
              "of partial sums (e.g. one per rank), not the number of words. A reduce must be " ..
              "associative and commutative to double as a combiner, as Spark's reduceByKey " ..
              "guarantees by taking a function of two values.",
  },

  question "rendezvous" {
    kind = "choice",
    text = "Every rank of a ring calls MPI_Send to its right neighbour, then MPI_Recv from " ..
           "its left. It works with 8 doubles per message and hangs with a million. Why?",
    choices = {
      "large messages are lost by the network",
      "above the eager limit MPI_Send waits for the matching receive, and every rank is " ..
        "still sending: a cycle of waits",
      "MPI_Recv cannot receive more than 64 KB",
    },
    answer = 2,
    explain = "Small messages are buffered (eager protocol) so MPI_Send returns at once. " ..
              "Large ones use a rendezvous: the sender waits for the receiver. MPI_Sendrecv, " ..
              "non-blocking calls or even/odd ordering break the cycle.",
  },

  question "allreduce-vs-reduce" {
    kind = "choice",
    text = "Which collective leaves the element-wise sum of every rank's buffer on every rank?",
    choices = { "MPI_Reduce", "MPI_Allreduce", "MPI_Gather", "MPI_Bcast" },
    answer = 2,
    explain = "MPI_Reduce leaves the sum on the root only; MPI_Allreduce on every rank (it " ..
              "is a reduce followed by a broadcast, or a reduce-scatter followed by an " ..
              "allgather).",
  },

  question "shuffle-cost" {
    kind = "numeric",
    text = "A job hash-partitions its keys over 4 ranks, and each rank's map output is " ..
           "spread evenly over the keys. What fraction of the pairs leaves the rank that " ..
           "produced it during the shuffle? (two decimals)",
    answer = 0.75,
    tolerance = 0.01,
    explain = "Each key belongs to one of 4 ranks, so on average 1/4 of a rank's pairs stay " ..
              "and 3/4 = 0.75 go to the other ranks; with P ranks, (P - 1) / P. Combiners " ..
              "shrink what is left to send, not this fraction.",
  },
}
