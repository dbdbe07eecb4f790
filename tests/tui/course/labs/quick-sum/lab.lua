-- quick-sum: a lab that grades in about a second, for the TUI tests.
return lab {
  id = "quick-sum",
  title = "Quick sum",
  lecture = "t01-basics",
  submission = { file = "sum.c", lang = "c", cflags = { "-O2", "-fopenmp" } },
  exports = { lab_sum = "double(const double*, long)" },
  hints = {
    "First hint: split the loop among threads.",
    "Second hint: use reduction(+:s).",
  },
  checks = {
    check "sums correctly" { points = 4, timeout = 20, function(t)
      for _, n in ipairs { 0, 1, 1000 } do
        local x = engine.array.random("f64", n, { seed = n + 1 })
        t:near(t.sub.lab_sum(x, n), x:sum(), 1e-9 * (n + 1), "n = " .. n)
      end
    end },
    check "scales with threads" { points = 2, timeout = 30, function(t)
      local x = engine.array.random("f64", 200000, { seed = 3 })
      local r = t:scaling(function(impl, rep) impl.lab_sum(x, #x - rep) end,
                          { reps = 5, threads = { 1, 2 } })
      t:at_least(r.speedup, 0.0, "speedup")
    end },
  },
}
