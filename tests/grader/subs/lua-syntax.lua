local function square_all(t)
  return t +
end
return { square_all = square_all }
