-- mapreduce-wordcount: the student writes the map and reduce functions of
-- a word count; the lab's harness runs them in parlab's MapReduce library
-- on every rank, over a text the harness generates (eng_corpus.h). The
-- expected counts are computed here from the same generator.

local VOCAB = 5000
local SMALL, BIG = 120000, 12000000
local SEED = 11

-- eng_corpus.h in Lua: 64-bit integers wrap and shift logically, as in C.
local function mix(x)
  local z = x + 0x9E3779B97F4A7C15
  z = (z ~ (z >> 30)) * 0xBF58476D1CE4E5B9
  z = (z ~ (z >> 27)) * 0x94D049BB133111EB
  return z ~ (z >> 31)
end

-- C's unsigned h % m for a value Lua holds as a signed integer.
local function umod(h, m) return (((h >> 1) % m) * 2 + (h & 1)) % m end

local function word(k)
  local h = mix(0x5EED * 1000003 + k)
  local len = 2 + umod(h, 8)
  local cs = {}
  for i = 1, len do
    h = mix(h)
    cs[i] = string.char(97 + umod(h, 26))
  end
  return table.concat(cs)
end

-- word -> count for a text of `words` words (two indexes may spell the
-- same word: their counts add up, as they do in the job).
local function counts(words, seed, vocab)
  local by_index = {}
  local base = seed << 32
  for j = 0, words - 1 do
    local r = mix(base | j)
    local k = ((r >> 16) % vocab) * ((r >> 40) % vocab) // vocab
    by_index[k] = (by_index[k] or 0) + 1
  end
  local c, keys = {}, 0
  for k, n in pairs(by_index) do
    local w = word(k)
    if not c[w] then keys = keys + 1 end
    c[w] = (c[w] or 0) + n
  end
  return c, keys
end

local function ranks_word(p) return p == 1 and "1 rank" or p .. " ranks" end

-- Run the job on p ranks and compare every count with `want`.
local function job(t, p, words, want, nkeys, mode)
  local r = t:mpirun { ranks = p, args = { mode or "print", words, SEED, VOCAB }, timeout = 60 }
  local on = ranks_word(p)
  t:ok(r.failure ~= "time limit", on .. ": the job did not finish within 60 s")
  t:eq(r.status, 0, string.format("exit status with %s; output:\n%s", on, r.output:sub(1, 2000)))
  local out = r.ranks[0] or ""
  local secs, keys, total = out:match("time ([%d%.]+) keys (%d+) total (%d+)")
  t:ok(secs ~= nil, on .. ": rank 0 printed no summary line")
  t:eq(tonumber(total), words, on .. ": the counts add up to")
  t:eq(tonumber(keys), nkeys, on .. ": distinct words")
  if (mode or "print") == "print" then
    local seen = 0
    for w, n in out:gmatch("count (%l+) (%-?%d+)") do
      seen = seen + 1
      t:eq(tonumber(n), want[w] or 0, string.format("%s: the count of '%s'", on, w))
    end
    t:eq(seen, nkeys, on .. ": words printed")
  end
  return tonumber(secs), r.seconds
end

local function median(xs)
  local s = {}
  for i, x in ipairs(xs) do s[i] = x end
  table.sort(s)
  local k = #s
  return k % 2 == 1 and s[(k + 1) // 2] or (s[k // 2] + s[k // 2 + 1]) / 2
end

return lab {
  id = "mapreduce-wordcount",
  title = "Word count with MapReduce",
  lecture = "l17-mapreduce-spark-mpi",
  submission = {
    file = "wordcount.c", lang = "mpi", cflags = { "-O2" },
    support = {
      "harness.c",
      "../../engine/cluster/eng_mapreduce.c",
      "../../engine/cluster/eng_mapreduce.h",
      "../../engine/cluster/eng_corpus.h",
      "../../engine/pl_err.h",
    },
  },
  hints = {
    "map: walk the line, find each word (a run of characters other than ' '), and emit the " ..
    "pair (word, 1) with eng_mr_emit_i64(out, line + start, length, 1). The line is not " ..
    "NUL-terminated: stop at len.",
    "The harness uses your wc_reduce twice: as the combiner, on each rank before the shuffle, " ..
    "and as the reducer afterwards. A combiner's outputs become the reducer's inputs, so the " ..
    "values a reduce sees are partial counts, not ones. Counting the values is therefore " ..
    "wrong; adding them up is right.",
    "In wc_reduce: int64_t c, sum = 0; while (eng_mr_next_i64(counts, &c)) sum += c; then " ..
    "return eng_mr_emit_i64(out, word, wlen, sum);",
  },
  checks = {
    check "exact counts" { points = 6, timeout = 120, function(t)
      local want, nkeys = counts(SMALL, SEED, VOCAB)
      for _, p in ipairs { 1, 2, 3 } do job(t, p, SMALL, want, nkeys) end
    end },

    check "scales with ranks" { points = 4, timed = true, timeout = 300, function(t)
      local cores = engine.cores()
      local p = math.max(2, math.min(4, cores))
      -- A wrong count fails here, cheaply, before anything is timed.
      local small, nsmall = counts(SMALL, SEED, VOCAB)
      job(t, p, SMALL, small, nsmall)
      local want, nkeys = counts(BIG, SEED, VOCAB)
      job(t, 1, BIG, want, nkeys, "time") -- warm-up
      local one, many, wall1, wallp = {}, {}, {}, {}
      for rep = 1, 5 do
        one[rep], wall1[rep] = job(t, 1, BIG, want, nkeys, rep == 1 and "print" or "time")
        many[rep], wallp[rep] = job(t, p, BIG, want, nkeys, rep == 1 and "print" or "time")
      end
      local m1, mp = median(one), median(many)
      local speedup = m1 / mp
      local need = 0.6 * math.min(p, cores)
      t:log("%d words: 1 rank %.3f s, %s %.3f s (the harness's clock): speedup %.2fx on %d core%s",
        BIG, m1, ranks_word(p), mp, speedup, cores, cores == 1 and "" or "s")
      -- The grader's own clock must see the gain too (whole runs, start-up included).
      t:ok(median(wallp) < median(wall1), string.format(
        "the grader's wall clock: %s took %.2f s, 1 rank %.2f s: more ranks must finish sooner",
        ranks_word(p), median(wallp), median(wall1)))
      t:at_least(speedup, need, string.format("speedup on %s (needs 0.6 x %d)", ranks_word(p),
        math.min(p, cores)))
    end },
  },
}
