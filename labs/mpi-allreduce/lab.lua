-- mpi-allreduce: ring allreduce by hand. The lab's harness (harness.c)
-- calls the student's ring_allreduce() on every rank; the expected sums
-- are recomputed here, and the bandwidth is compared with MPI_Allreduce
-- measured in the same run.

local SIZES = { 1, 7, 1000, 100003 }
local BENCH_N = 1 << 22  -- 32 MiB of doubles per rank
local BENCH_REPS = 7

-- The harness's data: value(r, i) = ((r + 1) * 7919 + i * 31) % 1000 / 8.
-- The checksum sum_i result[i] * (i % 7 + 1) is computed in integers
-- (eighths), so it is exact.
local function checksum(n, p)
  local total = 0
  for i = 0, n - 1 do
    local s = 0
    for r = 0, p - 1 do s = s + ((r + 1) * 7919 + i * 31) % 1000 end
    total = total + s * (i % 7 + 1)
  end
  return string.format("%.3f", total / 8)
end

-- Run the harness's check mode on p ranks; returns { [rank] = { [n] = { sum, collectives } } }.
local function check_run(t, p)
  local args = { "check" }
  for _, n in ipairs(SIZES) do args[#args + 1] = n end
  local r = t:mpirun { ranks = p, args = args, timeout = 30 }
  local on = p == 1 and "1 rank" or p .. " ranks"
  t:ok(r.failure ~= "time limit", on .. ": no answer within 30 s (a deadlock?)")
  t:eq(r.status, 0, string.format("exit status with %s; output:\n%s", on, r.output))
  local res = {}
  for rank = 0, p - 1 do
    res[rank] = {}
    for line in (r.ranks[rank] or ""):gmatch("[^\n]+") do
      local n, sum, k = line:match("^n (%d+) checksum ([%d%.%-]+) collectives (%d+)$")
      if n then res[rank][tonumber(n)] = { sum = sum, collectives = tonumber(k) } end
    end
  end
  return res
end

local function median(xs)
  table.sort(xs)
  local k = #xs
  return k % 2 == 1 and xs[(k + 1) // 2] or (xs[k // 2] + xs[k // 2 + 1]) / 2
end

return lab {
  id = "mpi-allreduce",
  title = "Ring allreduce by hand",
  lecture = "l17-mapreduce-spark-mpi",
  submission = {
    file = "allreduce.c", lang = "mpi", cflags = { "-O2" },
    support = { "harness.c" },
  },
  hints = {
    "Split the vector into P chunks, chunk c covering [c*n/P, (c+1)*n/P). The allreduce is " ..
    "two phases of P-1 steps each. In the first (reduce-scatter) every rank sends one chunk " ..
    "to its right neighbour and adds the chunk it receives from its left neighbour into its " ..
    "own copy; afterwards each rank holds the complete sum of one chunk.",
    "In the second phase (allgather) the completed chunks travel around the ring once more, " ..
    "and this time a rank copies what it receives instead of adding it. Use MPI_Sendrecv for " ..
    "each step so that no rank waits for a receive nobody has posted (see mpi-ring).",
    "Reduce-scatter step s (0 .. P-2): send chunk (r - s) mod P, receive chunk (r - s - 1) " ..
    "mod P into a temporary buffer and add it. Allgather step s: send chunk (r + 1 - s) mod " ..
    "P, receive chunk (r - s) mod P straight into data. In C, write ((x % P) + P) % P for a " ..
    "modulus that is never negative.",
  },
  checks = {
    check "equals MPI_Allreduce" { points = 5, timeout = 150, function(t)
      for _, p in ipairs { 1, 2, 3, 4 } do
        local res = check_run(t, p)
        for _, n in ipairs(SIZES) do
          local want = checksum(n, p)
          for rank = 0, p - 1 do
            local got = res[rank][n]
            local on = p == 1 and "1 rank" or p .. " ranks"
            t:ok(got ~= nil, string.format("%s, n = %d: rank %d printed no result", on, n, rank))
            t:eq(got.sum, want, string.format(
              "%s, n = %d: rank %d's result differs from the sum over ranks (checksum)", on, n, rank))
          end
        end
      end
    end },

    check "point-to-point messages only" { points = 1, timeout = 60, function(t)
      local res = check_run(t, 3)
      for rank = 0, 2 do
        for _, n in ipairs(SIZES) do
          local got = res[rank][n]
          t:ok(got ~= nil, string.format("rank %d printed no result for n = %d", rank, n))
          t:eq(got.collectives, 0, string.format(
            "rank %d, n = %d: calls to MPI collectives (MPI_Allreduce, MPI_Reduce, MPI_Bcast, ...) " ..
            "inside ring_allreduce", rank, n))
        end
      end
    end },

    check "bandwidth vs MPI_Allreduce" { points = 4, timed = true, timeout = 240, function(t)
      local cores = engine.cores()
      local p = math.max(2, math.min(4, cores))
      local r = t:mpirun { ranks = p, args = { "bench", BENCH_N, BENCH_REPS }, timeout = 180 }
      t:ok(r.failure ~= "time limit", "the benchmark did not finish within 180 s")
      t:eq(r.status, 0, "exit status; output:\n" .. r.output)
      local out = r.ranks[0] or ""
      local function times(which)
        local xs = {}
        local line = out:match("bench " .. which .. " ([^\n]*)") or ""
        for x in line:gmatch("[%d%.]+") do xs[#xs + 1] = tonumber(x) end
        return xs
      end
      local ring, mpi = times("ring"), times("mpi")
      t:eq(#ring, BENCH_REPS, "ring timings printed by the harness")
      t:eq(#mpi, BENCH_REPS, "MPI_Allreduce timings printed by the harness")
      local mism, coll = out:match("bench mismatches (%d+) collectives (%d+)")
      t:eq(tonumber(mism), 0, "rounds whose result differed from MPI_Allreduce's")
      t:eq(tonumber(coll), 0, "calls to MPI collectives inside ring_allreduce")
      -- The harness's clock must agree with the grader's: the timed calls
      -- cannot add up to more than the whole run.
      local sum = 0
      for i = 1, BENCH_REPS do sum = sum + ring[i] + mpi[i] end
      t:at_most(sum, r.seconds, "timed calls (s) against the grader's wall clock for the whole run")
      local mr, mm = median(ring), median(mpi)
      local gbs = function(s) return BENCH_N * 8 / s / 1e9 end
      local ratio = mm / mr
      t:log("%d ranks, %d doubles: ring %.1f ms (%.2f GB/s), MPI_Allreduce %.1f ms (%.2f GB/s): %.2fx",
        p, BENCH_N, mr * 1e3, gbs(mr), mm * 1e3, gbs(mm), ratio)
      t:at_least(ratio, 0.5, "ring bandwidth as a fraction of MPI_Allreduce's (needs 0.5)")
    end },
  },
}
