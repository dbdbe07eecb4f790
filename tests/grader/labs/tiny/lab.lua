-- A small lab for the grader's own tests: short time limits, two exports,
-- so a hang in one check can be seen not to stop the next.
return lab {
  id = "tiny",
  title = "Grader test lab",
  submission = { file = "tiny.c", lang = "c", cflags = { "-O1" } },
  exports = {
    lab_sum = "double(const double*, long)",
    lab_answer = "int(void)",
    lab_scale = "void(double*, long, double)",
  },
  checks = {
    check "sums" { points = 1, timeout = 2, function(t)
      local x = engine.array.from("f64", { 1, 2, 3.5 })
      t:near(t.sub.lab_sum(x, 3), 6.5, 1e-12, "sum of {1, 2, 3.5}")
    end },
    check "answers" { points = 1, timeout = 2, function(t)
      t:eq(t.sub.lab_answer(), 42, "lab_answer()")
    end },
    check "scales in place" { points = 1, timeout = 2, function(t)
      local y = engine.array.from("f64", { 1, 2, 3 })
      t.sub.lab_scale(y, 3, 2.0)
      t:eq(y[3], 6.0, "y[3] after scaling by 2")
    end },
    check "input stays intact" { points = 1, timeout = 2, function(t)
      -- The expected value is computed after the call, from the same
      -- memory: only a jail that keeps const inputs read-only passes.
      local x = engine.array.random("f64", 100000, { seed = 5 })
      local before = x:sum()
      local got = t.sub.lab_sum(x, #x)
      t:near(x:sum(), before, 0, "the input array after the call")
      t:near(got, before, 1e-9 * math.abs(before), "lab_sum of 100000 values")
    end },
    check "secret" { points = 1, hidden = true, timeout = 2, function(t)
      t:eq(t.sub.lab_answer(), 42, "the hidden input 12345")
    end },
  },
}
