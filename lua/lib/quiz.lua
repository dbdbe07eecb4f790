-- quiz.lua — the quiz API. A lecture's quiz is content/quizzes/<id>.lua:
--
--   return quiz {
--     question "q1" { kind = "choice", text = "...", choices = { "a", "b" }, answer = 2, explain = "..." },
--     question "q2" { kind = "numeric", text = "...", answer = 1.9, tolerance = 0.01, explain = "..." },
--     question "q3" { kind = "exact", text = "...", answer = "reduction", explain = "..." },
--   }
--
-- The loader (lua/lx_quiz.c) runs the file in a sandboxed state and reads
-- the table quiz() returns. Every mistake is raised with the file and line
-- of the question it is about; `return quiz { ... }` is a tail call, so
-- quiz-level mistakes find their line in the source text the loader left in
-- __parlab.loading, like the lab API does.

local function where(level)
  -- "file:line: " of the content file that called the API, built by
  -- error() itself so that it works without the debug library.
  local ok, e = pcall(error, "", level + 3)
  return (not ok and e) or ""
end

local function quiz_line()
  local src = __parlab and __parlab.loading
  if not (src and src.text) then return "" end
  local n = 0
  for line in (src.text .. "\n"):gmatch("([^\n]*)\n") do
    n = n + 1
    if line:match("quiz%s*{") or line:match("quiz%s*%(") then return src.path .. ":" .. n .. ": " end
  end
  return src.path .. ": "
end

local QUESTION = {}

local FIELDS = {
  kind = "string", text = "string", choices = "table", answer = true,
  tolerance = "number", explain = "string",
}

--- question "id" { kind = "choice" | "numeric" | "exact", text = ..., answer = ..., explain = ... }
function question(id)
  if type(id) ~= "string" or not id:match("^[%w][%w%-_%.]*$") then
    error(where(1) .. "question: expected an id such as question \"q1\" { ... }", 0)
  end
  return function(spec)
    local at = where(1)
    local function bad(msg) error(at .. "question \"" .. id .. "\": " .. msg, 0) end
    if type(spec) ~= "table" then bad("expected a table { kind = ..., text = ..., answer = ... }") end
    for k, v in pairs(spec) do
      local want = FIELDS[k]
      if not want then bad("unknown field '" .. tostring(k) .. "'") end
      if want ~= true and type(v) ~= want then
        bad("field '" .. k .. "' must be a " .. want .. ", got " .. type(v))
      end
    end
    if type(spec.text) ~= "string" or spec.text:match("^%s*$") then bad("needs its text") end
    if type(spec.explain) ~= "string" or spec.explain:match("^%s*$") then
      bad("needs an explanation (explain = \"...\"), shown after every answer")
    end
    local q = { id = id, kind = spec.kind, text = spec.text, explain = spec.explain,
                line = tonumber(at:match(":(%d+): $")) or 0 }
    if spec.kind == "choice" then
      local ch = spec.choices
      if type(ch) ~= "table" or #ch < 2 then bad("a choice question needs choices = { ... } (at least 2)") end
      for i, c in ipairs(ch) do
        if type(c) ~= "string" or c == "" then bad("choices[" .. i .. "] must be a non-empty string") end
      end
      if math.type(spec.answer) ~= "integer" or spec.answer < 1 or spec.answer > #ch then
        bad("answer must be the number of the right choice, 1 to " .. #ch)
      end
      if spec.tolerance ~= nil then bad("tolerance is only for numeric questions") end
      q.choices, q.answer = ch, spec.answer
    elseif spec.kind == "numeric" then
      if type(spec.answer) ~= "number" or spec.answer ~= spec.answer then bad("answer must be a number") end
      local tol = spec.tolerance or 0
      if tol < 0 then bad("tolerance must be >= 0") end
      if spec.choices ~= nil then bad("choices are only for choice questions") end
      q.answer, q.tolerance = spec.answer + 0.0, tol + 0.0
    elseif spec.kind == "exact" then
      local a = spec.answer
      if type(a) == "string" then a = { a } end
      if type(a) ~= "table" or #a == 0 then
        bad("answer must be a string, or a list of accepted strings")
      end
      for i, s in ipairs(a) do
        if type(s) ~= "string" or s:match("^%s*$") then bad("answer[" .. i .. "] must be a non-empty string") end
      end
      if spec.choices ~= nil or spec.tolerance ~= nil then
        bad("choices and tolerance do not apply to exact questions")
      end
      q.answers = a
    else
      bad("kind must be \"choice\", \"numeric\" or \"exact\", got " .. tostring(spec.kind))
    end
    return setmetatable(q, QUESTION)
  end
end

--- quiz { question "q1" { ... }, question "q2" { ... }, ... }
function quiz(def)
  if type(def) ~= "table" then
    error(quiz_line() .. "quiz: expected quiz { question \"q1\" { ... }, ... }", 0)
  end
  local seen, list = {}, {}
  for k, q in pairs(def) do
    if math.type(k) ~= "integer" then
      error(quiz_line() .. "quiz: unknown field '" .. tostring(k) .. "' (a quiz holds only questions)", 0)
    end
  end
  for i, q in ipairs(def) do
    if getmetatable(q) ~= QUESTION then
      error(quiz_line() .. "quiz: entry " .. i .. " must be made with question \"id\" { ... }", 0)
    end
    if seen[q.id] then
      error((__parlab and __parlab.loading and (__parlab.loading.path .. ":" .. q.line .. ": ") or "") ..
            "quiz: two questions are named '" .. q.id .. "'", 0)
    end
    seen[q.id] = true
    list[#list + 1] = q
  end
  if #list == 0 then error(quiz_line() .. "quiz: has no questions", 0) end
  return { kind = "quiz", questions = list }
end
