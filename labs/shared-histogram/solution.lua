-- hist.lua — reference solution. locked(): one histogram in shared memory,
-- each increment under a lock shared by the workers. partials(): each task
-- counts into a table of its own and returns it; the caller adds the
-- partial histograms together. No sharing while counting, so no lock.
local P = engine.procs

local function ranges(n, parts)
  local out, size = {}, (n + parts - 1) // parts
  for b = 1, n, size do out[#out + 1] = { b, math.min(n, b + size - 1) } end
  return out
end

-- The increment is a read, an add and a write: another process can write
-- the same bin in between, and one of the two updates is lost. The lock
-- makes the three steps one.
local function count_locked(r, data, hist, nbins, lock)
  for i = r[1], r[2] do
    local k = math.floor(data[i] * nbins) + 1
    lock:acquire()
    hist[k] = hist[k] + 1
    lock:release()
  end
end

local function locked(data, nbins, workers)
  local hist = engine.array.zeros("i64", nbins)
  local lock = P.lock()
  local pool = P.pool{ workers = workers }
  pool:map(count_locked, ranges(#data, 8 * workers), { chunksize = 1 }, data, hist, nbins, lock)
  pool:close()
  local out = {}
  for k = 1, nbins do out[k] = hist[k] end
  return out
end

-- A private histogram per task: nothing shared until the merge.
local function count_private(r, data, nbins)
  local h = {}
  for k = 1, nbins do h[k] = 0 end
  for i = r[1], r[2] do
    local k = math.floor(data[i] * nbins) + 1
    h[k] = h[k] + 1
  end
  return h
end

local function partials(data, nbins, workers)
  local pool = P.pool{ workers = workers }
  local parts = pool:map(count_private, ranges(#data, 4 * workers), { chunksize = 1 }, data, nbins)
  pool:close()
  local out = {}
  for k = 1, nbins do out[k] = 0 end
  for _, h in ipairs(parts) do
    for k = 1, nbins do out[k] = out[k] + h[k] end
  end
  return out
end

return { locked = locked, partials = partials }
