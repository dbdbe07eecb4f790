-- A small course for the TUI tests (tests/tui/*.sh): fast to grade, with
-- every kind of content the screens show.
return course {
  title = "TUI test course",

  module { id = "m1", title = "Basics",
    lecture "t01-basics",
    lab "quick-sum",
  },
  module { id = "m2", title = "Broken things",
    lecture "t02-broken",
  },
}
