-- Reads a CSV file named by the first argument and prints per-column facts.
local path = arg[1] or "data/table.csv"
local rows, header = {}, nil
for line in io.lines(path) do
  local fields = {}
  for f in line:gmatch("[^,]+") do fields[#fields + 1] = f end
  if header then rows[#rows + 1] = fields else header = fields end
end
print(#header .. " columns, " .. #rows .. " rows: " .. table.concat(header, " "))
table.sort(rows, function(a, b) return tonumber(a[4]) > tonumber(b[4]) end)
local sum = 0
for i, r in ipairs(rows) do
  sum = sum + tonumber(r[4])
  print(string.format("%d. %-8s %-12s %3d", i, r[2], r[3], r[4]))
end
print(string.format("mean %.3f", sum / #rows))
local f = assert(io.open(path, "rb"))
local all = f:read("a")
print("bytes", #all, "seek", f:seek("set", 3), f:read(4), f:seek("end"))
f:close()
local missing, msg = io.open("data/no-such-file", "r")
print("missing", missing, msg)
os.exit(#rows == 6 and 0 or 3)
