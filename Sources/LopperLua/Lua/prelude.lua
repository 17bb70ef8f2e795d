-- The parts of the `lopper` module written in Lua, run once per state with (lp, overrides):
-- lp.config, run records and reports, tables, plots, lp.no_grad, the result printer of
-- `eval`. Returns the printer, the config state the host inspects, and the internals the
-- cells prelude shares. Loaded by LuaHost from this target's resources.
local lp, overrides = ...
-- Kept before a sandbox replaces the globals: the run folder's own files are written with them.
local io_open, os_rename = io.open, os.rename
local state = { read = false }
-- Shared with the cells prelude: `capture` collects what a running cell prints and
-- records (replayed when the cell is next a cache hit); `reads` the settings it reads.
local internal = { capture = nil, reads = nil }
local function note(kind, data)
  if internal.capture then internal.capture[#internal.capture + 1] = { kind, data } end
end

-- A 1-d tensor indexed by a number gives a Lua number, so `t[k]:item()` indexes a number:
-- say so, instead of Lua's bare "attempt to index a number value".
if debug and debug.setmetatable and getmetatable(0) == nil then
  debug.setmetatable(0, { __index = function(n, key)
    error(string.format("attempt to index a number value (%s, field '%s'): t[k] of a 1-d tensor is a Lua " ..
      "number already, with no methods; use it as is, or keep a tensor with t:narrow(1, k, 1)",
      tostring(n), tostring(key)), 2)
  end })
end

-- Text chunks only: a crafted binary chunk can crash the VM, so load, loadfile, dofile
-- and require refuse them as the host does for scripts.
local raw_load, raw_loadfile = load, loadfile
-- An env passed as nil is a nil env; one not passed at all is the globals. The mode asked
-- for is ignored: only text chunks load.
function load(chunk, name, _mode, ...)
  if select("#", ...) > 0 then return raw_load(chunk, name, "t", ...) end
  return raw_load(chunk, name, "t")
end
function loadfile(file, _mode, ...)
  if select("#", ...) > 0 then return raw_loadfile(file, "t", ...) end
  return raw_loadfile(file, "t")
end
function dofile(file)
  local f = assert(loadfile(file))
  return f()
end
package.searchers[2] = function(name)
  local path, why = package.searchpath(name, package.path)
  if not path then return "\n\t" .. why end
  local f, err = loadfile(path)
  if not f then error(string.format("error loading module '%s' from file '%s':\n\t%s", name, path, err), 2) end
  return f, path
end

-- Sorted keys of a table, for messages.
local function keys_of(t)
  local names = {}
  for name in pairs(t) do names[#names + 1] = tostring(name) end
  table.sort(names)
  return table.concat(names, ", ")
end

-- JSON text of a Lua value: tables with 1..n keys are arrays, others objects (keys sorted).
local function json(v, open)
  local t = type(v)
  if t == "nil" then return "null" end
  if t == "boolean" then return tostring(v) end
  if t == "number" then
    if v ~= v or v == math.huge or v == -math.huge then return "null" end
    if math.type(v) == "integer" then return tostring(v) end
    local short = string.format("%.15g", v)
    return tonumber(short) == v and short or string.format("%.17g", v)
  end
  if t == "string" then
    return '"' .. v:gsub('[%c"\\]', function(c)
      local named = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\t"] = "\\t", ["\r"] = "\\r" }
      return named[c] or string.format("\\u%04x", c:byte())
    end) .. '"'
  end
  if t == "table" then
    open = open or {}
    if open[v] then error("json: a table that contains itself cannot be written as JSON", 0) end
    open[v] = true
    local n = #v
    local count = 0
    for _ in pairs(v) do count = count + 1 end
    local out = {}
    if count == n then
      for i = 1, n do out[i] = json(v[i], open) end
      open[v] = nil
      return "[" .. table.concat(out, ",") .. "]"
    end
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = tostring(k) end
    table.sort(keys)
    for i, k in ipairs(keys) do
      local value = v[k]
      if value == nil then value = v[tonumber(k)] end
      out[i] = json(k) .. ":" .. json(value, open)
    end
    open[v] = nil
    return "{" .. table.concat(out, ",") .. "}"
  end
  return json(tostring(v))
end
--- @area runs
--- lp.json(value) -> string
-- `value` as JSON text: tables with keys 1…n become arrays, other tables objects with
-- sorted keys; tensors become nested arrays. A cycle is an error.
-- ```lua
-- assert(lp.json({a = 1, b = {true, "x"}}) == '{"a":1,"b":[true,"x"]}')
-- ```
function lp.json(v)
  local ok, text = pcall(json, v)
  if not ok then error(text, 2) end
  return text
end

-- Writes a whole file through a temporary name and a rename, so a reader never sees half;
-- the name is this process's own, as concurrent runs (a sweep's points) share the cell cache.
local function write_atomically(path, text)
  local tmp = path .. ".tmp." .. lp._unique()
  local f = assert(io_open(tmp, "w"))
  f:write(text)
  f:close()
  assert(os_rename(tmp, path))
end

-- Recorded runs (`lopper run` makes a folder and calls lp._start_run): print also goes to
-- output.log, lp.log records to metrics.jsonl, lp.table tables to report.md.
local raw_print = print
local logged, output, metrics = 0, nil, nil
local clock0 = os.time()

-- A printed line: to the terminal, and to output.log in a run.
local function emit(line)
  raw_print(line)
  if output then
    output:write(line, "\n")
    output:flush()
  end
end

function print(...)
  local parts = table.pack(...)
  for i = 1, parts.n do parts[i] = tostring(parts[i]) end
  local line = table.concat(parts, "\t", 1, parts.n)
  note("print", line)
  emit(line)
end

-- The run folder, as the host gave it: a script may change lp.run.dir, but not where
-- Lopper's own files go.
local run_dir

-- Appends one JSON line to a file of the run folder (tables.jsonl, plots.jsonl).
local function append_line(name, value)
  local f = assert(io_open(run_dir .. "/" .. name, "a"))
  f:write(json(value), "\n")
  f:close()
end

-- The reports (report.html and report.md, rendered natively from the folder's files),
-- after the run's state in status.json.
local last_render = 0
local function write_report(status)
  if not lp.run then return end
  if status then
    lp.run.status = status
    write_atomically(run_dir .. "/status.json", json({ status = status, updated = os.date("!%Y-%m-%dT%H:%M:%SZ") }) .. "\n")
  end
  lp._render_report(run_dir)
  last_render = os.time()
end

function lp._start_run(info)
  if run_dir then error("_start_run: the run has started already", 2) end
  info.started = os.date("!%Y-%m-%dT%H:%M:%SZ")
  run_dir = info.dir
  lp.run = info
  output = assert(io_open(info.dir .. "/output.log", "a"))
  metrics = assert(io_open(info.dir .. "/metrics.jsonl", "a"))
  write_atomically(info.dir .. "/config.json", json({
    recipe = info.script:match("([^/]+)%.lua$") or info.script, script = info.script,
    script_hash = info.script_hash, lopper_version = info.lopper_version,
    started = info.started, settings = {}, set = info.set, seed = info.seed }) .. "\n")
  write_report("running")
  if internal.on_start then internal.on_start(info) end
end

function lp._finish_run(err)
  if not lp.run then return end
  if err and output then output:write(err, "\n") end
  write_report(err and (err:find("interrupted", 1, true) and "stopped" or "failed") or "finished")
  if output then output:close(); output = nil end
  if metrics then metrics:close(); metrics = nil end
end

--- lp.plot(options)
-- A plot in the run's report. `x` and `y` name keys of the `lp.log` records (`y` may list
-- several; `series` names the key that splits records into lines), or hold the points
-- themselves (lists of numbers; plots with the same title then share one chart, `series`
-- naming each line). Outside a run folder it does nothing but check its options.
-- - `title` (string): the chart's title.
-- - `x` (string or list of numbers): a logged key, or the points' x.
-- - `y` (string, list of keys or list of numbers): logged keys, or the points' y.
-- - `series` (string): the key whose values split records into lines, or this line's name.
-- - `logx` (boolean, default `false`): a log x axis.
-- - `logy` (boolean, default `false`): a log y axis.
-- - `xlabel` (string): the x axis label.
-- - `ylabel` (string): the y axis label.
-- ```lua
-- lp.plot{title = "accuracy by round", x = "round", y = {"accuracy"}, series = "arm"}
-- lp.plot{title = "curve", x = {1, 2, 3}, y = {0.9, 0.8, 0.6}, series = "mine", logx = true}
-- ```
local plot_keys = { title = "string", x = "string|table", y = "string|table", series = "string",
                    logx = "boolean", logy = "boolean", xlabel = "string", ylabel = "string" }
function lp.plot(spec)
  if type(spec) ~= "table" then error("plot: expected a table {x =, y =, …}, got " .. type(spec), 2) end
  for k, v in pairs(spec) do
    local want = plot_keys[k]
    if not want then error(string.format("plot: unknown option '%s' (known: %s; see help(lp.plot))", tostring(k), keys_of(plot_keys)), 2) end
    if not want:find(type(v), 1, true) then error(string.format("plot: %s must be a %s, got %s", k, want, type(v)), 2) end
  end
  if spec.x == nil or spec.y == nil then error("plot: expected both x and y", 2) end
  if type(spec.x) == "table" then
    if type(spec.y) ~= "table" or #spec.x ~= #spec.y then
      error(string.format("plot: x and y must be lists of the same length, got %d and %s", #spec.x,
        type(spec.y) == "table" and tostring(#spec.y) or type(spec.y)), 2)
    end
    for i = 1, #spec.x do
      if type(spec.x[i]) ~= "number" or type(spec.y[i]) ~= "number" then
        error(string.format("plot: point %d is not a pair of numbers", i), 2)
      end
    end
  end
  note("plot", spec)
  if lp.run then
    append_line("plots.jsonl", spec)
    write_report()
  end
end

-- The density per layer of a pruned network's masks, for the report's bar chart.
local function write_layers(layers)
  note("layers", layers)
  if not lp.run then return end
  write_atomically(run_dir .. "/layers.json", json(layers) .. "\n")
  if os.time() - last_render >= 10 then write_report() end   -- pruning may run every few steps
end
local function note_masks(net)
  if not lp.run and not internal.capture then return end
  local ok, stats = pcall(lp.prune.stats, net)
  if not ok then return end
  local layers = {}
  for i, l in ipairs(stats.layers) do
    layers[i] = { name = l.name, params = l.params, nonzero = l.nonzero, density = l.density }
  end
  write_layers(layers)
end
local raw_prune, raw_apply = lp.prune.prune, lp.prune.apply
lp.prune.prune = function(net, ...)
  local results = table.pack(raw_prune(net, ...))
  note_masks(net)
  return table.unpack(results, 1, results.n)
end
lp.prune.apply = function(net, ...)
  local results = table.pack(raw_apply(net, ...))
  note_masks(net)
  return table.unpack(results, 1, results.n)
end

--- lp.log(record) -> record
-- One metrics record `{key = value, …}`, stamped with `step` (the record number, unless
-- given) and `time` (seconds since the start); in a run it is appended to `metrics.jsonl`
-- and flushed at once, and the report plots it. With `--verbose` it also goes to standard
-- error. Records with a `remaining`, `density` or `sparsity` key and an accuracy key make
-- the report's accuracy-against-weights plot.
-- ```lua
-- local r = lp.log{round = 1, remaining = 80, accuracy = 0.91, arm = "rewind"}
-- assert(r.step >= 1 and r.arm == "rewind")
-- ```
function lp.log(record)
  if type(record) ~= "table" then error("log: expected a table of values, got " .. type(record), 2) end
  logged = logged + 1
  local r = {}
  for k, v in pairs(record) do r[k] = v end
  if r.step == nil then r.step = logged end
  r.time = os.time() - clock0
  note("log", r)
  if lp._verbose() then io.stderr:write(json(r), "\n") end
  if metrics then
    metrics:write(json(r), "\n")
    metrics:flush()
    if os.time() - last_render >= 10 then write_report() end
  end
  return r
end

-- Plays back what a cached cell printed and recorded, as if it had run.
function internal.replay(events)
  for _, e in ipairs(events) do
    local kind, data = e[1], e[2]
    if kind == "print" then emit(data)
    elseif kind == "log" then
      logged = logged + 1
      if metrics then metrics:write(json(data), "\n"); metrics:flush() end
    elseif kind == "table" then if lp.run then append_line("tables.jsonl", data) end
    elseif kind == "plot" then if lp.run then append_line("plots.jsonl", data) end
    elseif kind == "layers" then write_layers(data)
    end
    note(kind, data)
  end
  if lp.run then write_report() end
end

--- lp.config(defaults) -> table
-- The script's settings: `defaults` with the `lopper run --set key=value` values applied.
-- An unknown key or a value of the wrong type is an error, so a typo never goes
-- unnoticed; the resolved settings go into the run's `config.json`, and `lopper run R.lua
-- --help` lists them with the comment on their line. Cells that read a setting are keyed
-- by its value.
-- ```lua
-- local cfg = lp.config{rounds = 12, lr = 1.2e-3, arch = "lenet_300_100"}
-- assert(cfg.rounds == 12)
-- ```
function lp.config(defaults)
  state.read = true
  if defaults == nil then defaults = {} end
  if type(defaults) ~= "table" then
    error("config: expected a table of defaults, got " .. type(defaults), 2)
  end
  local cfg = {}
  for k, v in pairs(defaults) do cfg[k] = v end
  for k, v in pairs(overrides) do
    local d = defaults[k]
    if d == nil then
      error(string.format("config: unknown key '%s' (known keys: %s)", k, keys_of(defaults)), 2)
    end
    if type(d) == "table" and type(v) ~= "table" then v = { v } end
    if type(d) ~= type(v) then
      error(string.format("config: %s expects a %s, got %s %s", k, type(d), type(v), tostring(v)), 2)
    end
    -- An integer setting takes integral numbers that fit 64 bits (tointeger is nil past them).
    local function integral(x, what)
      local i = math.type(x) == "integer" and x or (type(x) == "number" and math.tointeger(x))
      if not i then
        local got = type(x) == "number" and tostring(x) or (type(x) .. " " .. tostring(x))
        error(string.format("config: %s expects an integer, got %s", what, got), 3)
      end
      return i
    end
    if math.type(d) == "integer" then v = integral(v, k) end
    -- A list setting takes a list of the same kind as its default's first entry.
    if type(d) == "table" and d[1] ~= nil then
      local copy = {}
      for i, x in ipairs(v) do
        local what = string.format("%s[%d]", k, i)
        if math.type(d[1]) == "integer" then x = integral(x, what)
        elseif type(x) ~= type(d[1]) then
          error(string.format("config: %s expects a %s, got %s %s", what, type(d[1]), type(x), tostring(x)), 2)
        end
        copy[i] = x
      end
      v = copy
    end
    cfg[k] = v
  end
  state.config = cfg
  -- Reads go through a proxy so that a cell's cache key covers the settings it reads.
  local proxy = setmetatable({}, {
    __index = function(_, k)
      if internal.reads then internal.reads[k] = true end
      return cfg[k]
    end,
    __newindex = function(_, k, v) cfg[k] = v end,
    __pairs = function()
      if internal.reads then for k in pairs(cfg) do internal.reads[k] = true end end
      return next, cfg, nil
    end,
    __len = function() return #cfg end,
  })
  internal.config = cfg
  if lp.run then
    lp.run.config = cfg
    write_atomically(run_dir .. "/config.json", json({
      recipe = lp.run.script:match("([^/]+)%.lua$") or lp.run.script, script = lp.run.script,
      script_hash = lp.run.script_hash, lopper_version = lp.run.lopper_version,
      started = lp.run.started, settings = cfg, set = lp.run.set, seed = lp.run.seed }) .. "\n")
  end
  return proxy
end

-- Calls fn(...) like pcall, in a coroutine of its own so that a yield inside it is an
-- error, not an exit that skips the caller's clean-up (grad mode left off, a cell left open).
function internal.pcall_unyielding(what, fn, ...)
  local co = coroutine.create(fn)
  local results = table.pack(coroutine.resume(co, ...))
  if results[1] and coroutine.status(co) ~= "dead" then
    coroutine.close(co)
    return { false, what .. ": the function yielded (coroutine.yield inside " .. what .. " is not supported)", n = 2 }
  end
  return results
end

--- @area autograd
--- lp.no_grad(fn, ...) -> ...
-- Calls `fn(...)` with gradient recording off and returns its results; the previous
-- setting comes back even when `fn` fails. In-place changes of tensors that require grad
-- (a hand-written optimizer step) go inside it.
-- ```lua
-- local w = lp.ones(2):requires_grad()
-- lp.no_grad(function() w:mul_(0.5) end)
-- assert(w[1] == 0.5)
-- ```
function lp.no_grad(fn, ...)
  if type(fn) ~= "function" then error("no_grad: expected a function, got " .. type(fn), 2) end
  local previous = lp.set_grad_enabled(false)
  local results = internal.pcall_unyielding("no_grad", fn, ...)
  lp.set_grad_enabled(previous)
  if not results[1] then error(results[2], 0) end
  return table.unpack(results, 2, results.n)
end

--- @area runs
--- lp.table(options) -> string
-- Prints an aligned table (and a blank line) and returns its text; in a run it also goes
-- into `tables.jsonl` and the reports. Rows are lists in column order or tables keyed by
-- column name; numbers that are not integers print with 4 significant digits.
-- - `title` (string): printed above the table.
-- - `columns` (list of strings): the header (default the keys of the first row, sorted).
-- - `rows` (list of tables): the rows (required).
-- - `format` (string, default `"%.4g"`): the format of non-integer numbers.
-- - `print` (boolean, default `true`): false returns the text without printing it.
-- ```lua
-- local text = lp.table{title = "results", columns = {"remaining %", "acc %"},
--                       rows = {{100, 98.1}, {51.2, 98.4}}, print = false}
-- assert(text:find("98.4", 1, true))
-- ```
local table_keys = { title = true, columns = true, rows = true, format = true, print = true }
function lp.table(spec)
  if type(spec) ~= "table" or type(spec.rows) ~= "table" then
    error("table: expected {columns = {…}, rows = {…}}, got " .. type(spec), 2)
  end
  for k in pairs(spec) do
    if not table_keys[k] then
      error(string.format("table: unknown option '%s' (known: %s; see help(lp.table))", tostring(k), keys_of(table_keys)), 2)
    end
  end
  local columns = spec.columns
  if columns == nil then
    columns = {}
    local first = spec.rows[1]
    if type(first) == "table" and first[1] == nil then
      for k in pairs(first) do columns[#columns + 1] = k end
      table.sort(columns)
    end
  end
  local function cell(v)
    if math.type(v) == "float" then return string.format(spec.format or "%.4g", v) end
    return v == nil and "" or tostring(v)
  end
  local grid = { {} }
  for i, c in ipairs(columns) do grid[1][i] = tostring(c) end
  for _, row in ipairs(spec.rows) do
    if type(row) ~= "table" then error("table: each row must be a table, got " .. type(row), 2) end
    local line = {}
    local n = math.max(#columns, #row)
    for i = 1, n do
      local v = row[i]
      if v == nil and columns[i] ~= nil then v = row[columns[i]] end
      line[i] = cell(v)
    end
    grid[#grid + 1] = line
  end
  local widths = {}
  for _, line in ipairs(grid) do
    for i, v in ipairs(line) do widths[i] = math.max(widths[i] or 0, utf8.len(v) or #v) end
  end
  local out = {}
  if spec.title then out[#out + 1] = spec.title end
  for r, line in ipairs(grid) do
    local cells = {}
    for i = 1, #widths do
      local v = line[i] or ""
      local pad = string.rep(" ", widths[i] - (utf8.len(v) or #v))
      cells[i] = (r > 1 and tonumber(v) ~= nil or v:match("^[%d.]+%%$")) and pad .. v or v .. pad
    end
    out[#out + 1] = (table.concat(cells, "  "):gsub("%s+$", ""))
    if r == 1 then
      local rule = {}
      for i = 1, #widths do rule[i] = string.rep("-", widths[i]) end
      out[#out + 1] = table.concat(rule, "  ")
    end
  end
  local text = table.concat(out, "\n")
  if spec.print ~= false then print(text .. "\n") end
  local record = { title = spec.title or "", columns = grid[1], rows = { table.unpack(grid, 2) } }
  note("table", record)
  if lp.run then
    append_line("tables.jsonl", record)
    write_report()
  end
  return text
end

--- @area nn
--- lp.nn.init_net(net, fn) -> net
-- Initialises a network parameter by parameter: `fn(name, tensor)` is called for each, in
-- registration order, without recording gradients. It fills the tensor itself, or returns
-- an initialiser's name and options, which `lp.nn.init` then applies (nothing returned:
-- the tensor is left as it is).
-- ```lua
-- local net = lp.models.lenet_300_100()
-- lp.nn.init_net(net, function(name, t)               -- an Edge of Chaos start for ReLU
--   if name:match("bias$") then return "zeros" end
--   return "kaiming_normal", {gain = math.sqrt(2)}
-- end)
-- assert(net:get("fc1.bias"):abs():max():item() == 0)
-- ```
function lp.nn.init_net(net, fn)
  local ok, params = pcall(function() return net:parameters() end)
  if not ok or type(params) ~= "table" or type(fn) ~= "function" then
    error("init_net: expected a module and a function(name, tensor), got " .. type(net) .. " and " .. type(fn), 2)
  end
  local bad
  lp.no_grad(function()
    for _, p in ipairs(params) do
      local how, options = fn(p.name, p.tensor)
      if how ~= nil and type(how) ~= "string" then
        bad = string.format("init_net: the function returned %s for %s; expected nothing or an initialiser's name", type(how), p.name)
        return
      end
      if how ~= nil then lp.nn.init(p.tensor, how, options) end
    end
  end)
  if bad then error(bad, 2) end
  return net
end

--- @area train
--- lp.benchmark(net [, options]) -> table
-- Times `net` on a batch of random inputs: `repeats` timed passes after `warmup` untimed
-- ones, in `"inference"` mode (evaluation mode, no graph) or `"train"` (forward and
-- backward, no optimizer step). Returns `{median_ms, min_ms, max_ms, per_sample_ms,
-- samples_per_s, batch, mode}`, logged with `lp.log` so it lands in the run's report. Given
-- a table of named networks (`{dense = a, compacted = b}`, or a list of `{name, net}`), it
-- times each in turn and prints a table with each one's speed-up over the first.
-- - `input` (list of integers): one sample's shape (zoo models know it).
-- - `batch` (integer, default `1`): samples a pass.
-- - `mode` (string, default `"inference"`): `"inference"` or `"train"`.
-- - `repeats` (integer, default `20`): timed passes; the median is quoted.
-- - `warmup` (integer, default `3`): untimed passes first.
-- ```lua
-- local net = lp.models.lenet_300_100()
-- local r = lp.benchmark(net, {batch = 64, repeats = 5})
-- assert(r.median_ms > 0 and r.min_ms <= r.median_ms and r.samples_per_s > 0)
-- local rows = lp.benchmark({{"dense", net}, {"copy", net:clone()}}, {batch = 8, repeats = 3, warmup = 1})
-- assert(rows.copy.speedup > 0)
-- ```
function lp.benchmark(net, options)
  local known = {input = true, batch = true, mode = true, repeats = true, warmup = true}
  for k in pairs(options or {}) do
    if not known[k] then
      error("benchmark: unknown option '" .. tostring(k) .. "' (known: batch, input, mode, repeats, warmup)", 2)
    end
  end
  local function one(name, m)
    local ok, seconds = pcall(lp._time, m, options or {})
    if not ok then error((tostring(seconds):gsub("^.-_time: ", "benchmark: ")), 3) end
    table.sort(seconds)
    local n = #seconds
    local median = n % 2 == 1 and seconds[(n + 1) // 2] or (seconds[n // 2] + seconds[n // 2 + 1]) / 2
    local batch = (options and options.batch) or 1
    local r = {median_ms = 1e3 * median, min_ms = 1e3 * seconds[1], max_ms = 1e3 * seconds[n],
               per_sample_ms = 1e3 * median / batch, samples_per_s = batch / median, batch = batch,
               mode = (options and options.mode) or "inference"}
    lp.log{benchmark = name, mode = r.mode, batch = batch, latency_ms = r.median_ms, min_ms = r.min_ms,
           max_ms = r.max_ms, samples_per_s = r.samples_per_s}
    return r
  end
  local ok, is_module = pcall(function() return net.parameters ~= nil and (getmetatable(net) or {}).__call ~= nil end)
  if ok and is_module then return one("net", net) end
  if type(net) ~= "table" then error("benchmark: expected a module or a table of named modules, got " .. type(net), 2) end
  local list = {}
  if #net > 0 then
    for _, e in ipairs(net) do list[#list + 1] = {e[1], e[2]} end
  else
    for k, v in pairs(net) do list[#list + 1] = {k, v} end
    table.sort(list, function(a, b) return tostring(a[1]) < tostring(b[1]) end)
  end
  local out, rows, base = {}, {}, nil
  for _, e in ipairs(list) do
    local r = one(tostring(e[1]), e[2])
    base = base or r.median_ms
    r.speedup = base / r.median_ms
    out[e[1]] = r
    rows[#rows + 1] = {tostring(e[1]), r.median_ms, r.min_ms, r.max_ms, r.samples_per_s, r.speedup}
  end
  lp.table{title = string.format("%s, batch %d, median of %d", out[list[1][1]].mode, out[list[1][1]].batch,
                                 (options and options.repeats) or 20),
           columns = {"network", "median ms", "min ms", "max ms", "samples/s", "speed-up"}, format = "%.3f", rows = rows}
  return out
end

--- @area data
--- lp.data.named(name [, options]) -> Dataset [, Dataset]
-- A data set Lopper reads, by name — `"fashion_mnist"`, `"cifar10"` or `"cifar100"` — so a
-- recipe takes it as a setting: `lopper run R.lua --set data=cifar10 --set
-- root=/data/cifar-10-batches-bin`. The options are the readers' (`lp.data.cifar10`);
-- `root = ""` is the reader's default, and `augment` changes the training samples only
-- (of Fashion-MNIST too). Build the model with `{data = train}` to fit it to the images.
-- - `split` (string, default `"train"`): `"train"` or `"test"`.
-- - `root` (string, default `""`): the reader's folder; `""` for its default.
-- - `validation` (integer, default `0`): samples held out from the end, returned second.
-- - `normalize` (boolean, default `true`): per-channel standardisation; false leaves x/255.
-- - `augment` (string or table): as `lp.data.augment` takes (`"cifar"`), training part only.
-- ```lua
-- local train, val = lp.data.named("fashion_mnist", {validation = 1000, root = ""})
-- assert(#train == 59000 and #val == 1000)
-- ```
local named_data = { fashion_mnist = true, cifar10 = true, cifar100 = true }
local named_keys = { split = "string", root = "string", validation = "number", normalize = "boolean",
                     augment = "string|table" }
function lp.data.named(name, options)
  if type(name) ~= "string" or not named_data[name] then
    error(string.format("data.named: expected a data set name (%s), got %s", keys_of(named_data),
      type(name) == "string" and "'" .. name .. "'" or type(name)), 2)
  end
  options = options or {}
  if type(options) ~= "table" then error("data.named: expected a table of options, got " .. type(options), 2) end
  local o = {}
  for k, v in pairs(options) do
    local want = named_keys[k]
    if not want then error(string.format("data.named: unknown option '%s' (known: %s; see help(lp.data.named))", tostring(k), keys_of(named_keys)), 2) end
    if not want:find(type(v), 1, true) then error(string.format("data.named: %s must be a %s, got %s", k, want, type(v)), 2) end
    o[k] = v
  end
  if o.root == "" then o.root = nil end
  local augment = o.augment
  if name == "fashion_mnist" then o.augment = nil end
  local train, val = lp.data[name](o)
  if augment ~= nil and name == "fashion_mnist" and (o.split or "train") == "train" then
    train = lp.data.augment(train, augment)
  end
  return train, val
end

-- The results of a chunk as strings, for `lopper eval`.
local function show(chunk)
  local results = table.pack(chunk())
  local out = {}
  for i = 1, results.n do out[i] = tostring(results[i]) end
  return out
end

internal.json, internal.write_atomically, internal.keys_of = json, write_atomically, keys_of
return show, state, internal
