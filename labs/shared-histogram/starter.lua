-- hist.lua — a histogram of values in [0, 1), counted by a pool of worker
-- processes. locked() shares one histogram between the workers; partials()
-- is yours to write: make it correct, then faster than locked().
local P = engine.procs

-- The ranges { first, last } that split 1..n into `parts` pieces.
local function ranges(n, parts)
  local out, size = {}, (n + parts - 1) // parts
  for b = 1, n, size do out[#out + 1] = { b, math.min(n, b + size - 1) } end
  return out
end

-- Counts data[r[1] .. r[2]] into the shared array hist (nbins bins; bin k
-- holds the values in [(k-1)/nbins, k/nbins)).
local function count_shared(r, data, hist, nbins)
  for i = r[1], r[2] do
    local k = math.floor(data[i] * nbins) + 1
    hist[k] = hist[k] + 1
  end
end

-- locked(data, nbins, workers) -> { count of bin 1, ..., count of bin nbins }
-- Every worker adds into one histogram in shared memory.
local function locked(data, nbins, workers)
  local hist = engine.array.zeros("i64", nbins)   -- shared memory: every worker sees it
  local pool = P.pool{ workers = workers }
  pool:map(count_shared, ranges(#data, 8 * workers), { chunksize = 1 }, data, hist, nbins)
  pool:close()
  local out = {}
  for k = 1, nbins do out[k] = hist[k] end
  return out
end

-- partials(data, nbins, workers) -> the same histogram, faster than locked().
local function partials(data, nbins, workers)
  return locked(data, nbins, workers)
end

return { locked = locked, partials = partials }
