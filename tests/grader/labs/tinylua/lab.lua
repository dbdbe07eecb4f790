-- A small Lua-submission lab for the grader's own tests.
return lab {
  id = "tinylua",
  title = "Grader test lab (Lua submission)",
  submission = { file = "job.lua", lang = "lua" },
  exports = { square_all = "lua", total = "lua" },
  checks = {
    check "squares a table" { points = 1, timeout = 5, function(t)
      local out = t.sub.square_all({ 1, 2, 3 })
      t:eq(type(out), "table", "square_all returns a table")
      t:eq(out[3], 9, "square_all({1, 2, 3})[3]")
    end },
    check "sums an engine array" { points = 1, timeout = 5, function(t)
      local x = engine.array.from("f64", { 1, 2, 3.5 })
      t:near(t.sub.total(x), 6.5, 1e-12, "total of {1, 2, 3.5}")
    end },
  },
}
