-- A grader test lab: long outputs from several ranks come back through
-- t:mpirun line for line (mpirun tags chunks that end mid-line).
return lab {
  id = "mpilines", title = "MPI output, line for line",
  submission = { file = "lines.c", lang = "mpi", cflags = { "-O2" } },
  checks = {
    check "every line of every rank" { points = 1, timeout = 60, function(t)
      local r = t:mpirun { ranks = 3 }
      t:eq(r.status, 0, "exit status")
      for rank = 0, 2 do
        local k = 0
        for line in ((r.ranks[rank] or "") .. "\n"):gmatch("([^\n]*)\n") do
          t:eq(line, string.format("count w%d_%d %d", rank, k, k * 7), "rank " .. rank .. ", line " .. k)
          k = k + 1
        end
        t:eq(k, 6000, "lines from rank " .. rank)
      end
    end },
  },
}
