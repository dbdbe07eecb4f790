return lab {
  id = "mpismoke", title = "MPI smoke test",
  submission = { file = "hello.c", lang = "mpi", cflags = { "-O2" } },
  checks = {
    check "every rank reports" { points = 1, timeout = 60, function(t)
      local r = t:mpirun { ranks = 3, args = { "7" } }
      t:eq(r.status, 0, "exit status; output:\n" .. r.output)
      for rank = 0, 2 do t:eq(r.ranks[rank], "rank " .. rank .. " of 3 got 7", "rank " .. rank) end
      t:log("mpirun took %.3f s", r.seconds)
    end },
  },
}
