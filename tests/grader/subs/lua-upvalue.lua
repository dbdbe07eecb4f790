-- Returns a closure, which cannot be copied out of the jail.
local secret = 42
local function square_all(t) return function() return secret end end
local function total(x) x[1] = 100; return 0 end
return { square_all = square_all, total = total }
