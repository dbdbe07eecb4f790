local function square_all(t) while true do end end
local function total(x) local s = 0 for i = 1, #x do s = s + x[i] end return s end
return { square_all = square_all, total = total }
