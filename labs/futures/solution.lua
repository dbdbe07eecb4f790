-- fetch.lua — reference solution. Every document is submitted at once;
-- engine.procs.as_completed hands back each future as soon as its task
-- finishes, so results are consumed while slower tasks still run,
-- whatever the order of submission. A table from future to document says
-- which document a finished future belongs to (Python's
-- { pool.submit(fetch, doc): doc } idiom), and pcall around f:wait()
-- turns a failed task into an entry of the log instead of the end of the
-- batch.

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
  local futures, doc_of = {}, {}
  for i, doc in ipairs(docs) do
    local f = pool:submit(fetch, doc)
    futures[i], doc_of[f] = f, doc
  end
  local log = {}
  for f in engine.procs.as_completed(futures) do   -- in the order they finish
    local ok, words, finished = pcall(f.wait, f)   -- wait() raises the task's error
    local entry = { id = doc_of[f].id, consumed = engine.time() }
    if ok then
      entry.words, entry.finished = words, finished
    else
      entry.error = tostring(words)
    end
    log[#log + 1] = entry
  end
  pool:close()
  return log
end

return { run = run }
