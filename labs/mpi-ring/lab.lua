-- mpi-ring: point-to-point messages around a ring of ranks, without
-- deadlock. The student's whole program runs under mpirun in the sandbox;
-- every value it prints is recomputed here from the ring's definition.

-- What rank r prints after `rounds` rounds of blocks of n values on p
-- ranks: its block is then rank (r - rounds)'s, and acc holds the sum of
-- the blocks of ranks r, r-1, ..., r-rounds.
local function expected(r, p, n, rounds)
  local q, rem = n // 1000, n % 1000
  local base = q * 499500 + rem * (rem - 1) // 2 -- sum of i % 1000 for i < n
  local acc = 0
  for j = 0, rounds do
    local s = (r - j) % p
    acc = acc + n * s * 1000 + base
  end
  local s = (r - rounds) % p
  return string.format("rank %d: first %d last %d acc %d", r, s * 1000, s * 1000 + (n - 1) % 1000, acc)
end

local function ring(t, p, n, rounds, limit)
  local r = t:mpirun { ranks = p, args = { n, rounds }, timeout = limit }
  if r.failure == "time limit" then
    t:ok(false, string.format(
      "%s, %d values per message: the ring did not finish within %d s. This is a deadlock: " ..
      "every rank is blocked in a send that waits for its neighbour to post the matching receive, " ..
      "and that neighbour is itself blocked in a send (see the brief)", p == 1 and "1 rank" or p .. " ranks",
      n, limit))
  end
  t:eq(r.status, 0, string.format("exit status with %s; output:\n%s", p == 1 and "1 rank" or p .. " ranks",
    r.output))
  for rank = 0, p - 1 do
    t:eq(r.ranks[rank], expected(rank, p, n, rounds),
      string.format("rank %d of %d, %d values, %d rounds", rank, p, n, rounds))
  end
  return r
end

return lab {
  id = "mpi-ring",
  title = "Messages around a ring (MPI point-to-point)",
  lecture = "l17-mapreduce-spark-mpi",
  submission = { file = "ring.c", lang = "mpi", cflags = { "-O2" } },
  hints = {
    "For large messages MPI_Send does not return until the receiving rank has posted the " ..
    "matching receive (Open MPI switches from buffering the message to a rendezvous above a " ..
    "few kilobytes). If every rank sends first, every rank waits for a receive that nobody " ..
    "has posted: a cycle of waits, which is a deadlock. Small messages hide the bug.",
    "Break the cycle. Either let MPI pair each send with its receive (MPI_Sendrecv), or " ..
    "post the receive first without blocking (MPI_Irecv, then MPI_Send, then MPI_Wait), or " ..
    "order the calls: even ranks send then receive, odd ranks receive then send.",
    "MPI_Sendrecv(block, n, MPI_DOUBLE, right, 0, next, n, MPI_DOUBLE, left, 0, " ..
    "MPI_COMM_WORLD, MPI_STATUS_IGNORE) does one round. Receive into a second buffer, then " ..
    "swap the two pointers: a buffer being sent must not be overwritten.",
  },
  checks = {
    check "passes the ring (small messages)" { points = 3, timeout = 90, function(t)
      for _, p in ipairs { 2, 3, 4 } do ring(t, p, 8, p + 1, 10) end
    end },
    check "one rank (a ring of one)" { points = 1, timeout = 40, function(t)
      ring(t, 1, 8, 3, 10)
      ring(t, 1, 1 << 20, 2, 10)
    end },
    check "large messages, no deadlock" { points = 6, timeout = 120, function(t)
      -- 8 MiB per message: far above any eager limit.
      for _, p in ipairs { 2, 3, 4 } do ring(t, p, 1 << 20, 2, 10) end
    end },
  },
}
