-- Returns a function with no upvalues: the jail can dump it, but the
-- grader must never load bytecode that came from a submission.
local function square_all(t) return function() return 1 end end
local function total(x) local s = 0 for i = 1, #x do s = s + x[i] end return s end
return { square_all = square_all, total = total }
