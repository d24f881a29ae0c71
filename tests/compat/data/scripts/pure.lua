-- Lua language and standard library without any file: runs from stdin too.
local function fib(n)
  local a, b = 0, 1
  for _ = 1, n do a, b = b, a + b end
  return a
end
print("fib", fib(10), fib(50), fib(90))
print("int/float", 7 // 2, 7 / 2, 7 % 3, -7 // 2, 2^10, math.maxinteger, 1e300 * 1e10)
print("format", string.format("%5.2f|%-6s|%x|%q", math.pi, "ab", 255, "a\nb"))

local words = {}
for w in ("the quick brown fox jumps over the lazy dog the end"):gmatch("%a+") do
  words[w] = (words[w] or 0) + 1
end
local keys = {}
for k in pairs(words) do keys[#keys + 1] = k end
table.sort(keys, function(x, y)
  if words[x] ~= words[y] then return words[x] > words[y] end
  return x < y
end)
for i = 1, 4 do io.write(keys[i], "=", words[keys[i]], i < 4 and " " or "\n") end

local gen = coroutine.wrap(function()
  for i = 1, 3 do coroutine.yield(i * i) end
end)
print("coroutine", gen(), gen(), gen())

local ok, err = pcall(function() error({code = 42}) end)
print("pcall", ok, type(err), err.code)
print("gsub", ("hello world"):gsub("o", "0"), ("abc"):rep(3, "-"), ("x=1, y=2"):match("y=(%d)"))
print("utf8", utf8.char(72, 228, 8364), utf8.len("häé"), #utf8.char(8364))
print("concat", table.concat({1, 2, 3}, ","), select("#", 1, nil, 3), tostring(nil))
local t = setmetatable({}, {__index = function(_, k) return k * 2 end})
print("metatable", t[21], rawget(t, 21))
