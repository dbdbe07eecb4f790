-- futures: submit independent tasks (documents that take known, uneven
-- times to "download", a sleep standing in for the network) and consume
-- their results as they complete. The starter waits for the futures in
-- submission order, with the slowest document first, and lets one failed
-- task end the batch; the reference uses engine.procs.as_completed and
-- pcall around f:wait().
--
-- The pool is engine.procs (worker processes) because the lab needs an
-- executor with a worker count of its own: the documents wait rather than
-- compute, and WORKERS = 4 of them overlap on any machine. engine.threads
-- would report completions in order just as well (its caller only waits),
-- but its one pool has engine.threads.size() threads, the number of cores:
-- on one core its tasks run inline at submit time and nothing overlaps.
--
-- The grader makes the documents and counts their words itself. For the
-- order it relies on two kinds of evidence: times it knows (a task that
-- waits ms cannot finish sooner than ms after the call began; both sides
-- read CLOCK_MONOTONIC through engine.time) and the finish times the
-- tasks report, which must agree with the order of consumption.

local LONG_MS = 600                             -- the slow first document
local SHORT_MS = { 40, 80, 120, 200, 240, 160 } -- the others: on 3 or more free workers
                                                -- they finish at least 40 ms apart
local TOL = 0.020                               -- seconds: tasks that finish together
local EPS = 0.002                               -- seconds: clock reads, rounding

local VOCAB = { "the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog",
  "parallel", "future", "task", "worker", "lock", "result", "a", "of" }
local SPACES = { " ", " ", " ", "  ", "\t", "\n", " \n " }

-- A deterministic generator of our own (the checks must not depend on
-- math.random's state).
local function rng(seed)
  local x = seed & 0x7fffffff
  return function(n)
    x = (1103515245 * x + 12345) & 0x7fffffff
    return (x >> 8) % n + 1
  end
end

-- A text of `words` words with varied blanks around and between them.
local function text_of(r, words)
  local parts = { words > 0 and SPACES[r(#SPACES)] or "" }
  for i = 1, words do
    parts[#parts + 1] = VOCAB[r(#VOCAB)]
    parts[#parts + 1] = i < words and SPACES[r(#SPACES)] or ""
  end
  return table.concat(parts)
end

local function count_words(s)
  local n = 0
  for _ in s:gmatch("%S+") do n = n + 1 end
  return n
end

-- docs with the given latencies; `empty` lists positions with no words.
local function make_docs(seed, latencies, empty)
  local r, docs = rng(seed), {}
  local blank = {}
  for _, i in ipairs(empty or {}) do blank[i] = true end
  for i, ms in ipairs(latencies) do
    local text = blank[i] and (i % 2 == 0 and "" or " \t\n ") or text_of(r, r(200))
    docs[i] = { id = string.format("d%02d", i), ms = ms, text = text }
  end
  return docs
end

local function ms_since(t0, t) return string.format("%.0f ms", (t - t0) * 1e3) end

-- Checks the log of run(docs), called between t0 and t1 (grader clock),
-- and returns the documents' entries by id.
local function check_log(t, docs, log, t0, t1, what)
  t:ok(type(log) == "table", what .. " must return a list of entries, got " .. type(log))
  t:eq(#log, #docs, what .. ": entries in the log (one per document)")
  local doc_by_id, entry_by_id = {}, {}
  for _, d in ipairs(docs) do doc_by_id[d.id] = d end
  local last_consumed = t0
  for i, e in ipairs(log) do
    local at = string.format("%s: entry %d", what, i)
    t:ok(type(e) == "table", at .. " must be a table { id = ..., consumed = ..., ... }")
    local d = doc_by_id[e.id]
    t:ok(d ~= nil, at .. ": unknown document id " .. tostring(e.id))
    t:ok(entry_by_id[e.id] == nil, at .. ": document " .. e.id .. " appears twice")
    entry_by_id[e.id] = e
    t:ok(type(e.consumed) == "number" and e.consumed >= t0 - EPS and e.consumed <= t1 + EPS,
      at .. " (" .. e.id .. "): consumed must be engine.time() when run() took the result")
    t:ok(e.consumed >= last_consumed - EPS, at .. " (" .. e.id .. "): consumed earlier than " ..
      "the entry before it: the log must be in the order the results were taken")
    last_consumed = e.consumed
    local want = count_words(d.text)
    if want == 0 then
      t:ok(type(e.error) == "string" and e.error:find("empty document", 1, true),
        at .. " (" .. e.id .. ", no words): expected the task's error \"empty document " ..
        e.id .. "\" in the entry's error field, got " .. tostring(e.error))
    else
      t:ok(e.error == nil, at .. " (" .. e.id .. "): unexpected error: " .. tostring(e.error))
      t:eq(e.words, want, at .. " (" .. e.id .. "): words")
      t:ok(type(e.finished) == "number", at .. " (" .. e.id .. "): finished must be the time " ..
        "fetch returned")
      t:ok(e.finished >= t0 + d.ms / 1000 - EPS and e.finished <= e.consumed + EPS,
        at .. " (" .. e.id .. "): finished at " .. ms_since(t0, e.finished) ..
        ", consumed at " .. ms_since(t0, e.consumed) .. ": a task cannot finish before its " ..
        d.ms .. " ms wait, nor be consumed before it finishes")
    end
  end
  return entry_by_id
end

local function call_run(t, docs)
  local t0 = engine.time()
  local log = t.sub.run(docs)
  return log, t0, engine.time()
end

return lab {
  id = "futures",
  title = "Futures: results as they complete",
  lecture = "l04-concurrent-programming",
  submission = { file = "fetch.lua", lang = "lua" },
  exports = { run = "lua" },
  hints = {
    "f:wait() waits for that one future. Waiting for the futures in the order you submitted " ..
    "them means the first, slow document holds back results that finished long ago. " ..
    "engine.procs.as_completed(futures) is an iterator over the futures in the order they " ..
    "finish: for f in engine.procs.as_completed(futures) do ... end.",
    "as_completed gives you futures, not positions: keep a table from each future to its " ..
    "document when you submit (futures can be table keys), like Python's " ..
    "{ pool.submit(fetch, doc): doc } idiom.",
    "A task's error is raised again by f:wait(), in your code. pcall(f.wait, f) returns false " ..
    "and the message instead of stopping run(): put the message in the entry's error field " ..
    "and go on with the next future.",
  },
  checks = {
    check "every document counted" { points = 3, timeout = 60, function(t)
      for round = 1, 3 do
        local r, lat = rng(round), {}
        for i = 1, 10 + 2 * round do lat[i] = r(16) - 1 end
        local docs = make_docs(round, lat)
        local log, t0, t1 = call_run(t, docs)
        check_log(t, docs, log, t0, t1, string.format("round %d: run(%d documents)", round, #docs))
      end
      t:log("3 rounds, every count right")
    end },

    check "a failed task does not stop the others" { points = 2, timeout = 60, function(t)
      local lat = { 30, 5, 10, 0, 20, 15, 5, 25 }
      local docs = make_docs(77, lat, { 2, 5 })
      local log, t0, t1 = call_run(t, docs)
      check_log(t, docs, log, t0, t1, "run(8 documents, 2 of them empty)")
    end },

    check "consumes results as they complete" { points = 5, timed = true, timeout = 60, function(t)
      local lat = { LONG_MS }
      for i, ms in ipairs(SHORT_MS) do lat[i + 1] = ms end
      local docs = make_docs(2024, lat)
      local log, t0, t1 = call_run(t, docs)
      check_log(t, docs, log, t0, t1, "run(7 documents)")
      local ms_of, parts = {}, {}
      for _, d in ipairs(docs) do ms_of[d.id] = d.ms end
      for _, e in ipairs(log) do
        parts[#parts + 1] = string.format("%s (%d ms) finished %s, consumed %s", e.id,
          ms_of[e.id], ms_since(t0, e.finished), ms_since(t0, e.consumed))
      end
      t:log("order of consumption: %s", table.concat(parts, "; "))
      -- Evidence the grader knows itself: the slow document sleeps LONG_MS
      -- after the call began, so anything consumed before that was
      -- consumed while it was still running.
      local first = log[1].consumed - t0
      t:ok(first < LONG_MS / 1000, string.format("the first result was consumed %.0f ms after " ..
        "run() began, but %s needs %d ms: consume each result as soon as its task finishes, " ..
        "while the slow one is still running", first * 1e3, docs[1].id, LONG_MS))
      -- The finish times the tasks reported must follow the order of
      -- consumption (up to TOL for tasks that finish together).
      for i = 2, #log do
        for j = 1, i - 1 do
          local a, b = log[j], log[i]
          t:ok(b.finished >= a.finished - TOL, string.format("%s (finished at %s) was consumed " ..
            "after %s (finished at %s): results must be taken in the order they complete, " ..
            "not the order they were submitted", b.id, ms_since(t0, b.finished), a.id,
            ms_since(t0, a.finished)))
        end
      end
    end },
  },
}
