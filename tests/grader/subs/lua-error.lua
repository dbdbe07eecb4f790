local function square_all(t)
  return t.missing.field
end
local function total(x)
  local f = io.open("/etc/passwd")
  return 0
end
return { square_all = square_all, total = total }
