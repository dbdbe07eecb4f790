-- fetch.lua — fetch a batch of documents and count their words, with an
-- executor and futures. Each document is a table
--   { id = "d01", ms = 40, text = "..." }.
--
-- fetch(doc) is one task, and it stays as it is: it waits doc.ms
-- milliseconds (standing in for a download: waiting, not computing),
-- counts the words of doc.text, and returns the count and the time it
-- finished (engine.time(), in seconds). A document without a single word
-- is an error: fetch raises it.
--
-- run(docs) submits one task per document to a pool of WORKERS worker
-- processes and returns the log of the results, in the order it consumed
-- them: one entry per document,
--   { id = doc.id, words = count, finished = time, consumed = time }
-- or, for a document whose task failed,
--   { id = doc.id, error = "the task's error message", consumed = time }
-- where `consumed` is engine.time() at the moment run() took the result.
--
-- As given, run() waits for the futures in the order it submitted them,
-- so a slow first document holds up every result behind it, and one
-- failing task ends the whole batch. Fix both; keep the pool as it is.

local WORKERS = 4

local function fetch(doc)
  engine.threads.sleep(doc.ms / 1000)          -- the "download"
  local words = 0
  for _ in doc.text:gmatch("%S+") do words = words + 1 end
  if words == 0 then error("empty document " .. doc.id) end
  return words, engine.time()
end

local function run(docs)
  local pool = engine.procs.pool{ workers = WORKERS }
  local futures = {}
  for i, doc in ipairs(docs) do
    futures[i] = pool:submit(fetch, doc)       -- starts on a free worker at once
  end
  local log = {}
  for i, f in ipairs(futures) do               -- in submission order
    local words, finished = f:wait()
    log[#log + 1] = { id = docs[i].id, words = words, finished = finished,
                      consumed = engine.time() }
  end
  pool:close()
  return log
end

return { run = run }
