-- The quiz the TUI tests answer.
return quiz {
  question "animal" {
    kind = "choice",
    text = "Which animal does the block quote mention?",
    choices = { "lions", "zebras", "otters" },
    answer = 2,
    explain = "The quote is about zebras.",
  },
  question "speedup" {
    kind = "numeric",
    text = "What speedup does the table give for 2 threads?",
    answer = 1.9,
    tolerance = 0.01,
    explain = "The table says 1.90 for 2 threads.",
  },
  question "word" {
    kind = "exact",
    text = "Which OpenMP clause combines private partial sums?",
    answer = "reduction",
    explain = "reduction(+:s) gives each thread a private s and adds them up.",
  },
}
