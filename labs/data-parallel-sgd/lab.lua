-- data-parallel-sgd: linear regression by full-batch gradient descent on
-- MPI ranks, gradients summed with an allreduce. The serial run it must
-- match is computed here, in the grader, from the harness's formulas.

local SMALL = { n = 4000, d = 8, epochs = 25, lr = 0.5, seed = 3 }
local BIG = { n = 600000, d = 16, epochs = 60, lr = 0.5, seed = 5 }

local function mix(x)
  local z = x + 0x9E3779B97F4A7C15
  z = (z ~ (z >> 30)) * 0xBF58476D1CE4E5B9
  z = (z ~ (z >> 27)) * 0x94D049BB133111EB
  return z ~ (z >> 31)
end

local function unit(k) return (mix(k) >> 11) * 0x1p-53 * 2.0 - 1.0 end

-- The serial run: full-batch gradient descent on all rows, in row order.
local function serial(c)
  local d, X, y = c.d, {}, {}
  for i = 0, c.n - 1 do
    local s, row = 0.0, {}
    for j = 0, d - 1 do
      local x = unit(((2 * c.seed) << 40) | (i * d + j))
      row[j + 1] = x
      s = s + x * ((j % 2 == 1 and -1.0 or 1.0) * (1.0 + j) / d)
    end
    X[i + 1] = row
    y[i + 1] = s + 0.1 * unit(((2 * c.seed + 1) << 40) | i)
  end
  local w = {}
  for j = 1, d do w[j] = 0.0 end
  for _ = 1, c.epochs do
    local g = {}
    for j = 1, d do g[j] = 0.0 end
    for i = 1, c.n do
      local x = X[i]
      local err = -y[i]
      for j = 1, d do err = err + x[j] * w[j] end
      for j = 1, d do g[j] = g[j] + err * x[j] end
    end
    for j = 1, d do w[j] = w[j] - c.lr * g[j] / c.n end
  end
  return w
end

local function ranks_word(p) return p == 1 and "1 rank" or p .. " ranks" end

-- Run the harness; returns every rank's weights and rank 0's time.
local function train(t, p, c)
  local r = t:mpirun { ranks = p, args = { c.n, c.d, c.epochs, c.lr, c.seed }, timeout = 90 }
  t:ok(r.failure ~= "time limit", ranks_word(p) .. ": training did not finish within 90 s")
  t:eq(r.status, 0, string.format("exit status with %s; output:\n%s", ranks_word(p), r.output))
  local ws = {}
  for rank = 0, p - 1 do
    local line = (r.ranks[rank] or ""):match("w ([^\n]*)")
    t:ok(line ~= nil, string.format("%s: rank %d printed no weights", ranks_word(p), rank))
    local w = {}
    for v in line:gmatch("%S+") do w[#w + 1] = tonumber(v) end
    t:eq(#w, c.d, string.format("%s: rank %d's number of weights", ranks_word(p), rank))
    ws[rank] = w
  end
  local secs = tonumber((r.ranks[0] or ""):match("time ([%d%.]+)"))
  t:ok(secs ~= nil, ranks_word(p) .. ": no time printed")
  return ws, secs, r.seconds
end

local function close_to(t, got, want, what)
  for j = 1, #want do
    t:near(got[j], want[j], 1e-9 * (1 + math.abs(want[j])), string.format("%s, w[%d]", what, j - 1))
  end
end

local function median(xs)
  local s = {}
  for i, x in ipairs(xs) do s[i] = x end
  table.sort(s)
  local k = #s
  return k % 2 == 1 and s[(k + 1) // 2] or (s[k // 2] + s[k // 2 + 1]) / 2
end

return lab {
  id = "data-parallel-sgd",
  title = "Data-parallel gradient descent with allreduce",
  lecture = "l16-distributed-ml",
  submission = {
    file = "sgd.c", lang = "mpi", cflags = { "-O2" },
    support = { "harness.c" },
  },
  hints = {
    "A rank sees only its own rows, so its gradient sum is only part of the full-batch " ..
    "gradient. The full gradient is the sum of every rank's partial sum: add them up across " ..
    "ranks before updating w, and divide by n_total, not n_local.",
    "MPI_Allreduce adds the partial sums and gives the total to every rank, so every rank " ..
    "applies exactly the same update and the copies of w stay identical. It moves only d " ..
    "numbers per epoch, whatever the number of rows.",
    "After the loop over your rows: MPI_Allreduce(MPI_IN_PLACE, g, d, MPI_DOUBLE, MPI_SUM, " ..
    "comm); then w[j] -= lr * g[j] / n_total for every j.",
  },
  checks = {
    check "matches the serial run" { points = 6, timeout = 180, function(t)
      local want = serial(SMALL)
      for _, p in ipairs { 1, 2, 3, 4 } do
        local ws = train(t, p, SMALL)
        for rank = 0, p - 1 do
          close_to(t, ws[rank], want, string.format("%s, rank %d, after %d epochs", ranks_word(p), rank,
            SMALL.epochs))
        end
      end
    end },

    check "N ranks beat one" { points = 4, timed = true, timeout = 300, function(t)
      local cores = engine.cores()
      local p = math.max(2, math.min(4, cores))
      -- Wrong weights fail here, cheaply, before anything is timed.
      local want = serial(SMALL)
      local ws = train(t, p, SMALL)
      for rank = 0, p - 1 do close_to(t, ws[rank], want, string.format("%s, rank %d", ranks_word(p), rank)) end
      local ref = train(t, 1, BIG)[0] -- warm-up; also the one-rank weights to match
      local one, many, wall1, wallp = {}, {}, {}, {}
      for rep = 1, 5 do
        local w1, s1, r1 = train(t, 1, BIG)
        local wp, sp, rp = train(t, p, BIG)
        close_to(t, w1[0], ref, "1 rank, run " .. rep)
        for rank = 0, p - 1 do
          close_to(t, wp[rank], ref, string.format("%s against 1 rank, rank %d", ranks_word(p), rank))
        end
        one[rep], many[rep], wall1[rep], wallp[rep] = s1, sp, r1, rp
      end
      local speedup = median(one) / median(many)
      local need = 0.6 * math.min(p, cores)
      t:log("%d rows x %d features, %d epochs: 1 rank %.3f s, %s %.3f s: speedup %.2fx on %d core%s",
        BIG.n, BIG.d, BIG.epochs, median(one), ranks_word(p), median(many), speedup, cores,
        cores == 1 and "" or "s")
      t:ok(median(wallp) < median(wall1), string.format(
        "the grader's wall clock: %s took %.2f s, 1 rank %.2f s: more ranks must finish sooner",
        ranks_word(p), median(wallp), median(wall1)))
      t:at_least(speedup, need, string.format("speedup on %s (needs 0.6 x %d)", ranks_word(p),
        math.min(p, cores)))
    end },
  },
}
