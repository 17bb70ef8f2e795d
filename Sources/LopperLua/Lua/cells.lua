-- Cached cells (lp.cell), run after prelude.lua with (lp, internal).
local lp, internal = ...
-- Kept before a sandbox replaces the globals: cells read and write only the cache.
local debug_getupvalue, io_open, os_rename = debug.getupvalue, io.open, os.rename
local json, write_atomically = internal.json, internal.write_atomically

-- How each module was built (its constructor call as Lua text), so that a cached module
-- can be built again and its state loaded into it.
local built = setmetatable({}, { __mode = "k" })

local function kind_of(v)
  local mt = getmetatable(v)
  return type(mt) == "table" and rawget(mt, "__name") or type(v)
end

-- Lua text for a value; tensors and modules go to `out` and appear as T(i) and N(i, …).
-- `out` = nil encodes a constructor's arguments, where modules appear as their own call.
local function encode(v, out, seen)
  local t = type(v)
  if t == "nil" or t == "boolean" then return tostring(v) end
  if t == "number" then
    if math.type(v) == "integer" then
      return v == math.mininteger and "math.mininteger" or string.format("%d", v)
    end
    if v ~= v then return "(0/0)" elseif v == math.huge then return "(1/0)" elseif v == -math.huge then return "(-1/0)" end
    return string.format("%a", v)
  end
  if t == "string" then return string.format("%q", v) end
  local kind = kind_of(v)
  if kind == "lopper.Module" then
    local call = built[v]
    if not call then error("a module that lp.nn or lp.models did not build (a part of one?)", 0) end
    if not out then return call end
    out.modules[#out.modules + 1] = v
    return string.format("N(%d, %s, %s)", #out.modules, call, tostring(v:is_training()))
  end
  if kind == "lopper.Tensor" and out then
    out.tensors[#out.tensors + 1] = v
    return "T(" .. #out.tensors .. ")"
  end
  if kind == "lopper.Masks" and out then
    local parts = {}
    for name, m in pairs(v:to_table()) do
      out.tensors[#out.tensors + 1] = m
      parts[#parts + 1] = string.format("[%q] = T(%d)", name, #out.tensors)
    end
    return "M{" .. table.concat(parts, ", ") .. "}"
  end
  if t == "table" and getmetatable(v) == nil then
    seen = seen or {}
    if seen[v] then error("a table that contains itself", 0) end
    seen[v] = true
    local parts = {}
    for k, x in pairs(v) do
      if type(k) ~= "string" and type(k) ~= "number" then error("a table with a " .. type(k) .. " key", 0) end
      parts[#parts + 1] = "[" .. encode(k, out, seen) .. "] = " .. encode(x, out, seen)
    end
    seen[v] = nil
    return "{" .. table.concat(parts, ", ") .. "}"
  end
  error("a " .. kind, 0)
end

-- lp.models' `data` option as the numbers it stands for (channels, size, classes), so
-- the call can be recorded; the constructor has already checked it.
local function without_data(o)
  if type(o) ~= "table" or o.data == nil then return o end
  local copy, shape, classes = {}, o.data:sample_shape(), o.data:classes()
  for k, v in pairs(o) do copy[k] = v end
  copy.data = nil
  copy.channels, copy.size = copy.channels or shape[1], copy.size or shape[2]
  if classes > 0 then copy.classes = copy.classes or classes end
  return copy
end

-- Constructors of lp.nn and lp.models remember their calls.
for _, lib in ipairs({ "nn", "models" }) do
  for name, construct in pairs(lp[lib]) do
    if type(construct) == "function" and name ~= "module" and name ~= "init_net" then
      lp[lib][name] = function(...)
        local results = table.pack(construct(...))
        local m = results[1]
        if kind_of(m) == "lopper.Module" then
          local args = table.pack(...)
          if lib == "models" then for i = 1, args.n do args[i] = without_data(args[i]) end end
          local ok, text = pcall(function()
            local parts = {}
            for i = 1, args.n do parts[i] = encode(args[i]) end
            return string.format("C(%q, %q%s)", lib, name, args.n > 0 and ", " .. table.concat(parts, ", ") or "")
          end)
          if ok then built[m] = text end
        end
        return table.unpack(results, 1, results.n)
      end
    end
  end
end

-- The run's cache: <runs-dir>/.cache/<key>/ (cell.lua, tensors, modules, random state).
local cache, fresh, log_file = nil, false, nil
local chain, names, running = "lopper " .. lp.version, {}, nil

function internal.on_start(info)
  cache, fresh = info.cache, info.fresh
  log_file = info.dir .. "/cells.jsonl"
end

-- What a cell's code is: the bytecode of its function and of the Lua functions it calls
-- through upvalues, and the values of its number, string and boolean upvalues. Modules
-- and tensors it reaches through upvalues go to `touched`: the cell may change them, so
-- their state after it is cached too and restored on a hit.
local function code_of(fn, parts, seen, touched)
  if seen[fn] then return end
  seen[fn] = true
  local ok, dump = pcall(string.dump, fn, true)
  if ok then parts[#parts + 1] = dump end
  for i = 1, 255 do
    local name, v = debug_getupvalue(fn, i)
    if not name then break end
    local t = type(v)
    if t == "number" or t == "string" or t == "boolean" then
      parts[#parts + 1] = name .. "=" .. encode(v)
    elseif t == "function" then
      code_of(v, parts, seen, touched)
    elseif not seen[v] and (kind_of(v) == "lopper.Module" or kind_of(v) == "lopper.Tensor") then
      seen[v] = true
      touched[#touched + 1] = v
    elseif not seen[v] and (kind_of(v) == "lopper.Optimizer" or kind_of(v) == "lopper.Snapshot") then
      -- Their state (momentum, Adam moments, the schedule's step) is not cached: a cache
      -- hit would go on from a state the uninterrupted run never had. Refused, not guessed.
      seen[v] = true
      touched.refused = touched.refused or {}
      touched.refused[#touched.refused + 1] = string.format("%s '%s'", kind_of(v):sub(8), name)
    end
  end
end

-- The key of a cell once its settings are known: the code key and each setting's value.
local function full_key(base, keys)
  local parts = { base }
  for _, k in ipairs(keys) do parts[#parts + 1] = k .. "=" .. json(internal.config and internal.config[k]) end
  return lp._hash(table.concat(parts, "\n"))
end

local function read_file(path)
  local f = io_open(path, "rb")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return text
end

-- Restores a cache entry into `touched` (their state after the cell); returns the entry
-- (results, packed, and events).
local function restore(dir, touched)
  -- Every file is checked against the checksums written with it before any is used.
  local sums = read_file(dir .. "/checksums")
  if not sums then error("its file checksums is missing", 0) end
  for file, sum in sums:gmatch("([^\n]+) (%x+)\n") do
    local bytes = read_file(dir .. "/" .. file)
    if not bytes then error("its file " .. file .. " is missing", 0) end
    if lp._hash(bytes) ~= sum then error("its file " .. file .. " does not match its checksum (damaged)", 0) end
  end
  if not sums:find("cell.lua ", 1, true) then error("its checksums do not cover cell.lua", 0) end
  local text = read_file(dir .. "/cell.lua")
  if not text then error("its file cell.lua is missing", 0) end
  local tensors = lp._exists(dir .. "/tensors.safetensors") and lp.load(dir .. "/tensors.safetensors") or {}
  local env = {
    math = math,
    T = function(i) return assert(tensors["t" .. i], "tensor " .. i .. " is missing") end,
    M = function(t) return lp.masks(t) end,
    C = function(lib, name, ...) return lp[lib][name](...) end,
    N = function(i, net, training)
      lp.checkpoint.load(dir .. "/module" .. i .. ".safetensors", { net = net, rng = false })
      if training then net:train() else net:eval() end
      return net
    end,
  }
  local chunk, err = load(text, "=cache", "t", env)
  if not chunk then error("cell.lua does not load: " .. err, 0) end
  local entry = chunk()
  if #entry.touched ~= #touched then error("it holds " .. #entry.touched .. " changed objects, the cell reaches " .. #touched, 0) end
  for i, v in ipairs(touched) do
    local saved = entry.touched[i]
    if kind_of(v) == "lopper.Module" then
      lp.checkpoint.load(dir .. "/touched" .. i .. ".safetensors", { net = v, rng = false })
      if saved.training then v:train() else v:eval() end
    else
      lp.no_grad(function() v[{}] = assert(tensors["u" .. i], "tensor u" .. i .. " is missing") end)
    end
  end
  lp.checkpoint.load(dir .. "/rng.safetensors", { rng = true })
  return entry
end

-- A cache entry's text (Lua) and the tensors and modules it refers to. Results that
-- cannot be cached are an error even without a cache, so a recipe behaves the same
-- with and without a run folder.
local function serialise(name, results, events, seconds, touched)
  local out = { tensors = {}, modules = {}, named = {} }
  local changed = {}
  for i, v in ipairs(touched) do
    if kind_of(v) == "lopper.Module" then changed[i] = { training = v:is_training() }
    else changed[i] = {}; out.named["u" .. i] = v end
  end
  local ok, text = pcall(encode, { results = results, events = events, name = name, seconds = seconds, touched = changed }, out)
  if not ok then
    error(string.format("cell '%s': cannot cache %s among its results: a cell returns numbers, strings, booleans, " ..
      "tensors, masks, modules built by lp.nn or lp.models, and tables of these", name, text), 0)
  end
  return text, out
end

-- Writes a cache entry through a temporary folder and a rename: never half an entry.
local function store(dir, text, out, touched)
  local named = out.named
  local tmp = dir .. ".tmp." .. lp._unique()
  lp._mkdir(tmp)
  for i, t in ipairs(out.tensors) do named["t" .. i] = t end
  if next(named) then lp.save(tmp .. "/tensors.safetensors", named) end
  for i, m in ipairs(out.modules) do lp.checkpoint.save(tmp .. "/module" .. i .. ".safetensors", { net = m, rng = false }) end
  for i, v in ipairs(touched) do
    if kind_of(v) == "lopper.Module" then lp.checkpoint.save(tmp .. "/touched" .. i .. ".safetensors", { net = v, rng = false }) end
  end
  lp.checkpoint.save(tmp .. "/rng.safetensors", { rng = true })
  write_atomically(tmp .. "/cell.lua", "return " .. text .. "\n")
  -- Checksums of every file, written last: restore refuses an entry that differs.
  local files = { "cell.lua", "rng.safetensors" }
  if next(named) then files[#files + 1] = "tensors.safetensors" end
  for i in ipairs(out.modules) do files[#files + 1] = "module" .. i .. ".safetensors" end
  for i, v in ipairs(touched) do
    if kind_of(v) == "lopper.Module" then files[#files + 1] = "touched" .. i .. ".safetensors" end
  end
  local lines = {}
  for _, file in ipairs(files) do lines[#lines + 1] = file .. " " .. lp._hash(read_file(tmp .. "/" .. file) or "") .. "\n" end
  write_atomically(tmp .. "/checksums", table.concat(lines))
  if not os_rename(tmp, dir) then lp._remove_tree(tmp) end   -- another run stored it first
end

-- One line per finished cell in the run folder (what --resume checks).
local function note_cell(name, key, hit, seconds)
  if not log_file then return end
  local f = assert(io_open(log_file, "a"))
  f:write(json({ name = name, key = key, cached = hit, seconds = seconds }), "\n")
  f:close()
end

--- @area runs
--- lp.cell(name, fn) -> ...
-- Runs `fn()` and returns its results, or takes them from the cache (`<runs-dir>/.cache/`)
-- when a cell of the same name, code, settings read and preceding cells ran before. A hit
-- also restores the modules and tensors the cell reaches through upvalues and the random
-- state, and replays what the cell printed and logged, so the rest of the run goes exactly
-- as before. Results may be numbers, strings, booleans, tensors, mask sets, modules built
-- by `lp.nn` or `lp.models`, and tables of these. Cells do not nest and names are unique in
-- a run; `--fresh` runs every cell again; with `--no-run-folder` cells simply run.
-- ```lua
-- local r = lp.cell("seed 1 round 1", function()
--   return {acc = 0.9, masks = lp.masks{w = lp.ones(2)}}
-- end)
-- assert(r.acc == 0.9)
-- ```
function lp.cell(name, fn)
  if type(name) ~= "string" then error("cell: expected a name (string) first, got " .. type(name), 2) end
  if type(fn) ~= "function" then error("cell: expected a function after the name, got " .. type(fn), 2) end
  if running then error(string.format("cell: '%s' starts inside cell '%s'; cells do not nest", name, running), 2) end
  if names[name] then error(string.format("cell: the name '%s' is used twice; give each cell its own (add the round or seed)", name), 2) end
  names[name] = true
  local parts, touched = { chain, name }, {}
  code_of(fn, parts, {}, touched)
  if touched.refused then
    error(string.format("cell '%s': it reaches %s through an upvalue, whose state a cache hit cannot restore " ..
      "(a resumed run would differ from an uninterrupted one); create it inside the cell, or leave this code outside cells",
      name, table.concat(touched.refused, " and ")), 2)
  end
  local base = lp._hash(table.concat(parts, "\n"))
  local index = cache and cache .. "/" .. base .. ".reads"
  if cache and not fresh then
    local keys = read_file(index)
    if keys then
      local list = {}
      for k in keys:gmatch("[^\n]+") do list[#list + 1] = k end
      local key = full_key(base, list)
      local dir = cache .. "/" .. key
      if lp._exists(dir) then
        local ok, entry = pcall(restore, dir, touched)
        if not ok then
          error(string.format("cell '%s': the cache entry %s is unreadable (%s); run again with --fresh", name, dir, tostring(entry)), 2)
        end
        internal.replay(entry.events)
        io.stderr:write(string.format("cell '%s': cached (%.1f s saved)\n", name, entry.seconds))
        chain = key
        note_cell(name, key, true, 0)
        return table.unpack(entry.results, 1, entry.results.n)
      end
    end
  end
  running, internal.reads, internal.capture = name, {}, {}
  local started = lp._now()
  local results = internal.pcall_unyielding("cell", fn)
  local reads, events = internal.reads, internal.capture
  running, internal.reads, internal.capture = nil, nil, nil
  if not results[1] then error(results[2], 0) end
  local seconds = lp._now() - started
  local keys = {}
  for k in pairs(reads) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  local key = full_key(base, keys)
  local packed = table.pack(table.unpack(results, 2, results.n))
  local text, out = serialise(name, packed, events, seconds, touched)
  if cache then
    store(cache .. "/" .. key, text, out, touched)
    write_atomically(index, table.concat(keys, "\n") .. "\n")
  end
  chain = key
  note_cell(name, key, false, seconds)
  return table.unpack(packed, 1, packed.n)
end
