-- A broken quiz: the TUI must show the file and line, not crash.
return quiz {
  question "q1" {
    kind = "choise",
    text = "A typo in the kind.",
    answer = 1,
    explain = "...",
  },
  question "q2" { kind = "exact", text = "x", answer = "x", explain = "x" },
  question "q3" { kind = "exact", text = "y", answer = "y", explain = "y" },
}
