-- Fuzzing the Lua surface and the file readers (issue 12). Run through Scripts/fuzz, which
-- starts this script sandboxed (so random paths cannot touch the machine) in batches and
-- counts signal deaths and hangs from outside; this script counts what it can see inside:
-- every call must return or raise a Lua error, and a file damaged in a way that makes it
-- invalid must be refused.
--   calls  random calls of lp functions and of methods of the values they return
--   files  mutated files (safetensors, .npy, checkpoints, IDX) handed to the readers
--   seed   the generator's seed: a batch is repeatable
--   quick  skip the few calls that take seconds in a debug build (models of VGG size, data sets)
local cfg = lp.config{calls = 2000, files = 300, seed = 1, quick = false}
local rng = { state = cfg.seed * 2654435761 % 4294967296 + 1 }
-- A generator of its own (xorshift32): lp.manual_seed is one of the calls being fuzzed.
local function rand(n)
  local x = rng.state
  x = x ~ ((x << 13) & 0xffffffff); x = x ~ (x >> 17); x = x ~ ((x << 5) & 0xffffffff)
  rng.state = x
  return n and (x % n) + 1 or x / 4294967296
end
local function pick(list) return list[rand(#list)] end

local dir = lp.run and lp.run.dir or error("fuzz: run it with a run folder (Scripts/fuzz does)")
local log = assert(io.open(dir .. "/calls.log", "w"))
local function note(text) log:write(text, "\n"); log:flush() end

-- Values the calls draw their arguments from; results join the pool (bounded).
local numbers = { 0, 1, 2, 3, -1, -2, 0.5, -0.5, 1e-8, 7, 64, 1e9, 1e300, -1e300, 1/0, -1/0, 0/0,
  math.maxinteger, math.mininteger, 1 << 31, 1 << 32, 1 << 62, (1 << 62) + 2, 3037000500, 2^53 }
local strings = { "", "x", "magnitude", "l1", "snip", "synflow", "grasp", "random", "global", "layer", "erk",
  "sum", "mean", "max", "train", "test", "/etc/passwd", "../x", dir .. "/f.safetensors", dir .. "/f.npy",
  "resnet20", "lenet5", "lenet_300_100", "vgg11", "resnet6000002", "weight", "fc1.weight", "group", "channel",
  "2:4", "rigl", "set", "ste", "soft_filter", "gradual", "static", "cosine", "epoch", "coreset", "fc2", string.rep("a", 300) }
local function small_tensor()
  local shapes = { {}, {0}, {3}, {2, 3}, {1, 1, 4, 4}, {2, 1, 5, 5}, {4, 0}, {2, 2, 2}, {60, 784}, {1, 3, 8, 8} }
  local s = pick(shapes)
  local ok, t = pcall(lp.randn, s)
  if not ok then return 0 end
  local k = rand(8)
  if k == 1 then return t:requires_grad() end
  if k == 2 and t:dim() == 2 then return t:t() end
  if k == 3 and t:dim() >= 1 and t:size(1) == 1 then return t:expand(3, table.unpack(t:shape(), 2)) end
  if k == 4 then t = t:clone(); t:fill_(0/0); return t end
  return t
end
local pool = {}
local function add(v) if #pool < 64 then pool[#pool + 1] = v else pool[rand(#pool)] = v end end
for _ = 1, 12 do add(small_tensor()) end
add(lp.nn.Linear(4, 3)); add(lp.nn.Sequential{lp.nn.Linear(4, 3), lp.nn.ReLU(), lp.nn.Linear(3, 2)})
add(lp.models.lenet_300_100()); add(lp.nn.Conv2d(1, 2, 3))
add(lp.data.tensors{x = lp.randn(6, 4), y = lp.from{1, 2, 1, 2, 3, 1}}); add(lp.data.tensors{x = lp.randn(5, 2), y = lp.randn(5, 3)})

local limit0 = lp.memory_limit()
local depth = 0
local surface   -- the callables, filled below
local function value()
  local k = rand(20)
  if k <= 5 then return pick(numbers) end
  if k <= 7 then return pick(strings) end
  if k == 8 then return rand(2) == 1 end
  if k == 9 then return nil end
  if k == 10 then return small_tensor() end
  if k == 11 then local t = {}; t[1] = t; return t end
  if k == 12 then return { rand(4), rand(4) } end
  if k == 13 then
    -- An option table with keys the functions know, and values of any kind.
    local keys = { "lr", "momentum", "amount", "density", "score", "scope", "rounds", "epochs", "iterations", "batch_size",
      "net", "data", "optimizer", "padding", "stride", "classes", "width", "size", "channels", "shuffle", "allocation",
      "steps", "total", "milestones", "gamma", "weight_decay", "structure", "seed", "samples_per_class",
      "prefetch", "root", "validation", "augment", "split", "mean", "std", "a", "b", "value", "gain",
      "flat", "largest", "count", "fraction", "beta", "gradients", "keep", "bias_init", "sparse", "input",
      "repeats", "warmup", "mode", "batch", "group_reduce", "input_shape",
      "regularizer", "sparsity", "method", "every", "init", "decay", "drop", "grow", "stop", "start",
      "deterministic", "tolerance" }
    local t = {}
    for _ = 1, rand(3) do t[pick(keys)] = rand(3) == 1 and pick(pool) or pick(numbers) end
    return t
  end
  if k == 14 then
    -- Callbacks: return something, raise, yield, or re-enter the surface.
    local kind = rand(4)
    return function(...)
      if kind == 1 then return pick(pool) end
      if kind == 2 then error("callback error") end
      if kind == 3 then coroutine.yield() end
      if depth < 2 then depth = depth + 1; pcall(surface[rand(#surface)].fn, ...); depth = depth - 1 end
      return pick(numbers)
    end
  end
  return pick(pool)
end

-- Every function of lp (and its sub-tables), and the methods of tensors, modules, optimizers,
-- masks and schedules reached through the pool.
local skip = { ["lp.data.fashion_mnist"] = cfg.quick, ["lp.models.vgg16"] = cfg.quick, ["lp.models.vgg19"] = cfg.quick,
  ["lp.models.vgg11"] = cfg.quick, ["lp._finish_run"] = true, ["lp._start_run"] = true }
surface = {}
local function collect(t, prefix, seen)
  for k, v in pairs(t) do
    local name = prefix .. tostring(k)
    if type(v) == "function" and not skip[name] then surface[#surface + 1] = { name = name, fn = v }
    elseif type(v) == "table" and not seen[v] then seen[v] = true; collect(v, name .. ".", seen) end
  end
end
collect(lp, "lp.", {})
table.sort(surface, function(a, b) return a.name < b.name end)

local function method_of(obj)
  local mt = getmetatable(obj)
  if type(mt) ~= "table" then return nil end
  local names = {}
  -- Methods are found by name through __index; try the names seen on the surface.
  for _, f in ipairs(surface) do
    local short = f.name:match("([%w_]+)$")
    local ok, m = pcall(function() return obj[short] end)
    if ok and type(m) == "function" then names[#names + 1] = short end
  end
  for _, extra in ipairs({ "forward", "parameters", "named_parameters", "state_dict", "train", "eval", "zero_grad", "step",
      "lr", "set_lr", "set_schedule", "density", "union", "intersection", "invert", "count", "at", "children", "modules",
      "split", "per_class", "batches", "all", "size", "classes", "sample_shape", "on_forward", "on_backward", "remove" }) do
    local ok, m = pcall(function() return obj[extra] end)
    if ok and type(m) == "function" then names[#names + 1] = extra end
  end
  if #names == 0 then return nil end
  local name = pick(names)
  return name, function(...) return obj[name](obj, ...) end
end

local outcomes = { returned = 0, raised = 0, unnamed = 0 }
local function describe(v)
  local t = type(v)
  if t == "string" then return string.format("%q", #v > 20 and v:sub(1, 20) .. "…" or v) end
  if t == "number" or t == "boolean" or t == "nil" then return tostring(v) end
  return t == "userdata" and (getmetatable(v) and getmetatable(v).__name or "userdata") or t
end
for i = 1, cfg.calls do
  local name, fn
  if rand(3) == 1 then
    local obj = pick(pool)
    name, fn = method_of(obj)
    if name then name = describe(obj) .. ":" .. name end
  end
  if not fn then local f = surface[rand(#surface)]; name, fn = f.name, f.fn end
  local args, n = {}, rand(5) - 1
  if rand(2) == 1 then
    -- Plausible arguments (values of the pool, small sizes), to reach past the argument
    -- checks into the operations themselves.
    for k = 1, n do args[k] = rand(3) == 1 and rand(4) or pick(pool) end
  else
    for k = 1, n do args[k] = value() end
  end
  local shown = {}
  for k = 1, n do shown[k] = describe(args[k]) end
  note(string.format("%d %s(%s)", i, name, table.concat(shown, ", ")))
  local inside = rand(10) == 1
  local results
  if inside then
    -- Inside a coroutine: a callback that yields meets the C boundary of a binding.
    local co = coroutine.create(function() return fn(table.unpack(args, 1, n)) end)
    results = table.pack(coroutine.resume(co))
    if results[1] and coroutine.status(co) ~= "dead" then coroutine.close(co) end
  else
    results = table.pack(pcall(fn, table.unpack(args, 1, n)))
  end
  if results[1] then
    outcomes.returned = outcomes.returned + 1
    for k = 2, math.min(results.n, 3) do if type(results[k]) == "userdata" then add(results[k]) end end
  else
    outcomes.raised = outcomes.raised + 1
    local msg = tostring(results[2])
    -- A binding's error names a function ("name: ..."); Lua's own errors name what failed.
    if not (msg:find("%w+: ") or msg:find("attempt to") or msg:find("callback error") or msg:find("yield")) then
      outcomes.unnamed = outcomes.unnamed + 1
      note("  unnamed error: " .. msg:sub(1, 200))
    end
  end
  -- What a call may have changed for the calls after it, put back.
  lp.set_grad_enabled(true)
  lp.set_memory_limit(limit0)
  if i % 200 == 0 then collectgarbage() end
end

-- Files: valid ones written here, then damaged. Damage that leaves a file invalid by its
-- format (cut short, bytes appended, a wrong header length) must be refused; other flips
-- may still be a valid file and only must not crash.
local function read(path) local f = assert(io.open(path, "rb")); local s = f:read("a"); f:close(); return s end
local function write(path, s) local f = assert(io.open(path, "wb")); f:write(s); f:close() end
lp.save(dir .. "/good.safetensors", { w = lp.randn(3, 4), b = lp.zeros(4), s = lp.ones(1):sum() })
lp.save_npy(dir .. "/good.npy", lp.randn(2, 3, 4))
lp.checkpoint.save(dir .. "/good.ckpt", { net = lp.nn.Sequential{lp.nn.Linear(4, 3)} })
local idx = string.pack(">I4I4I4I4", 0x00000803, 2, 3, 3) .. string.rep("\7", 18)
write(dir .. "/good.idx", idx)
local kinds = {
  { file = "good.safetensors", load = function(p) return lp.load(p) end },
  { file = "good.npy", load = function(p) return lp.load_npy(p) end },
  { file = "good.ckpt", load = function(p) return lp.checkpoint.load(p, { net = lp.nn.Sequential{lp.nn.Linear(4, 3)} }) end },
  { file = "good.idx", load = function(p)
      write(dir .. "/idx/train-images-idx3-ubyte", read(p))
      write(dir .. "/idx/train-labels-idx1-ubyte", string.pack(">I4I4", 0x00000801, 2) .. "\1\2")
      return lp.data.fashion_mnist{ root = dir .. "/idx", split = "train" }
    end },
}
lp._mkdir(dir .. "/idx")
local files = { total = 0, refused = 0, accepted = 0, must_refuse_accepted = 0 }
for i = 1, cfg.files do
  local kind = pick(kinds)
  local bytes = read(dir .. "/" .. kind.file)
  local how = rand(6)
  local must = false
  if how == 1 then                       -- cut short
    bytes = bytes:sub(1, rand(#bytes) - 1); must = true
  elseif how == 2 then                   -- bytes appended
    bytes = bytes .. string.rep(string.char(rand(256) - 1), rand(16)); must = true
  elseif how == 3 and kind.file ~= "good.idx" then   -- a wrong header length
    local fmt = kind.file == "good.npy" and "<I2" or "<I8"
    local at = kind.file == "good.npy" and 9 or 1
    local len = string.unpack(fmt, bytes, at)
    local new = len + (rand(2) == 1 and 8 or -8) * rand(4)
    if new >= 0 and new < 65536 then bytes = bytes:sub(1, at - 1) .. string.pack(fmt, new) .. bytes:sub(at + (fmt == "<I2" and 2 or 8)); must = true end
  else                                   -- flips, often in the header
    local span = rand(2) == 1 and math.min(#bytes, 120) or #bytes
    for _ = 1, rand(8) do
      local at = rand(span)
      bytes = bytes:sub(1, at - 1) .. string.char(rand(256) - 1) .. bytes:sub(at + 1)
    end
  end
  local path = dir .. "/mutant-" .. kind.file
  write(path, bytes)
  note(string.format("file %d %s (%s)", i, kind.file, must and "invalid" or "flipped"))
  files.total = files.total + 1
  local ok = pcall(kind.load, path)
  if ok then
    files.accepted = files.accepted + 1
    if must then files.must_refuse_accepted = files.must_refuse_accepted + 1; note("  accepted an invalid file") end
  else
    files.refused = files.refused + 1
  end
end
log:close()
print(string.format("fuzz seed %d: %d calls (%d returned, %d raised, %d errors naming nothing); %d files (%d refused, %d accepted, %d invalid accepted)",
  cfg.seed, cfg.calls, outcomes.returned, outcomes.raised, outcomes.unnamed, files.total, files.refused, files.accepted, files.must_refuse_accepted))
if outcomes.unnamed > 0 or files.must_refuse_accepted > 0 then os.exit = nil; error("fuzz: failures above (see calls.log)") end -- luacheck: ignore 122
