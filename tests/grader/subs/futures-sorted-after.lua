-- A wrong submission for futures: it waits for the futures in submission
-- order, then sorts the log by the tasks' finish times so that it looks
-- as if the results were taken as they completed. The consumption times
-- give it away: nothing was consumed before the slow first document.
local function fetch(doc)
  engine.threads.sleep(doc.ms / 1000)
  local words = 0
  for _ in doc.text:gmatch("%S+") do words = words + 1 end
  if words == 0 then error("empty document " .. doc.id) end
  return words, engine.time()
end

local function run(docs)
  local pool = engine.procs.pool{ workers = 4 }
  local futures = {}
  for i, doc in ipairs(docs) do futures[i] = pool:submit(fetch, doc) end
  local log = {}
  for i, f in ipairs(futures) do
    local ok, words, finished = pcall(f.wait, f)
    local entry = { id = docs[i].id, consumed = engine.time() }
    if ok then entry.words, entry.finished = words, finished else entry.error = words end
    log[#log + 1] = entry
  end
  pool:close()
  -- "completion order", and consumption times to match it
  table.sort(log, function(a, b) return (a.finished or 0) < (b.finished or 0) end)
  local now = engine.time()
  for _, e in ipairs(log) do e.consumed = now end
  return log
end

return { run = run }
