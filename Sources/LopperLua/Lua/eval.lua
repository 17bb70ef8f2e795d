-- Evaluation beyond test accuracy (lp.eval), after Liebenwein, Baykal, Carter, Gifford &
-- Rus, "Lost in Pruning: The Effects of Pruning Neural Networks beyond Test Accuracy",
-- MLSys 2021: accuracy and agreement under input noise, and the prune potential. Run after
-- sparse.lua with (lp).
local lp = ...

local eval = {}
lp.eval = eval

local function check_keys(options, keys, what)
  for k in pairs(options) do
    local ok = false
    for _, name in ipairs(keys) do ok = ok or k == name end
    if not ok then
      local sorted = { table.unpack(keys) }
      table.sort(sorted)
      error(string.format("%s: unknown option '%s' (known: %s)", what, tostring(k), table.concat(sorted, ", ")), 3)
    end
  end
end

-- The inputs and labels of `data`, the first `samples` of them when given.
local function inputs(data, samples, what)
  if type(data) ~= "userdata" and type(data) ~= "table" or type(data.all) ~= "function" then
    error(string.format("%s: expected a data set, got %s", what, type(data)), 3)
  end
  local x, y = data:all()
  if samples then
    if math.type(samples) ~= "integer" or samples < 1 then error(what .. ": samples must be a positive integer", 3) end
    local n = math.min(samples, x:size(1))
    x, y = x:narrow(1, 1, n), y:narrow(1, 1, n)
  end
  return x, y
end

-- Top-1 accuracy of outputs against labels, and agreement of two outputs.
local function top1(out) return out:argmax(2) end
local function accuracy(out, y) return top1(out):eq(y:reshape(top1(out):shape())):sum():item() / y:size(1) end

--- @area train
--- lp.eval.agreement(a, b, data [, options]) -> table
-- How alike two networks' predictions are on `data` (Liebenwein et al. 2021's functional
-- distance): `{top1, l2, linf, accuracy_a, accuracy_b}` — the fraction of samples where
-- their top-1 classes agree, the mean ℓ₂ and ℓ∞ distances between their softmax outputs,
-- and each one's accuracy. Both run in eval mode without gradients.
--
-- - `samples` (integer): only the first this many samples.
-- - `batch_size` (integer, default `1000`): samples per forward pass.
-- - `transform` (function): `function(x) return x end`, applied to the inputs first (the same
--   corrupted inputs go to both).
--
-- ```lua
-- lp.manual_seed(1)
-- local data = lp.data.tensors{x = lp.randn(20, 4), y = lp.from{1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2}}
-- local a = lp.nn.Linear(4, 2)
-- local same = lp.eval.agreement(a, a, data)
-- assert(same.top1 == 1 and same.l2 == 0 and same.linf == 0)
-- ```
function eval.agreement(a, b, data, options)
  options = options or {}
  check_keys(options, { "samples", "batch_size", "transform" }, "eval.agreement")
  local x, y = inputs(data, options.samples, "eval.agreement")
  if options.transform then x = options.transform(x) end
  local batch = { batch_size = options.batch_size or 1000 }
  local pa, pb = lp.predict(a, x, batch), lp.predict(b, x, batch)
  local sa, sb = pa:softmax(2), pb:softmax(2)
  local diff = sa - sb
  return {
    top1 = top1(pa):eq(top1(pb)):sum():item() / x:size(1),
    l2 = (diff * diff):sum(2):sqrt():mean():item(),
    linf = diff:abs():max(2):mean():item(),
    accuracy_a = accuracy(pa, y), accuracy_b = accuracy(pb, y),
  }
end

--- lp.eval.noise(net, data [, options]) -> table
-- Accuracy under input noise of growing strength, and the top-1 agreement with a reference
-- network on the same noisy inputs (Liebenwein et al.'s robustness curves): one row
-- `{epsilon, accuracy, agreement}` per strength, noise drawn from `lp.manual_seed`'s
-- generator (`lp.data.corrupt`), the same noisy inputs for both networks.
--
-- - `epsilons` (list of numbers, default 15 values from 0 to 0.7): the noise strengths.
-- - `kind` (string, default `"uniform"`): `"uniform"`, U(−ε, ε), or `"gaussian"`, N(0, ε²).
-- - `reference` (Module): the network to agree with (the unpruned one).
-- - `min` (number): clamp noisy inputs from below (0 for pixels in [0, 1]).
-- - `max` (number): clamp from above.
-- - `samples` (integer): only the first this many samples.
-- - `batch_size` (integer, default `1000`): samples per forward pass.
--
-- ```lua
-- lp.manual_seed(2)
-- local ys = {}
-- for i = 1, 40 do ys[i] = i % 2 + 1 end
-- local data = lp.data.tensors{x = lp.randn(40, 4), y = lp.from(ys)}
-- local net = lp.nn.Linear(4, 2)
-- local curve = lp.eval.noise(net, data, {epsilons = {0, 0.5}, kind = "gaussian", reference = net})
-- assert(#curve == 2 and curve[1].agreement == 1 and curve[2].agreement == 1)
-- ```
function eval.noise(net, data, options)
  options = options or {}
  check_keys(options, { "epsilons", "kind", "reference", "min", "max", "samples", "batch_size" }, "eval.noise")
  local kind = options.kind or "uniform"
  if kind ~= "uniform" and kind ~= "gaussian" then
    error("eval.noise: unknown kind '" .. tostring(kind) .. "' (known: uniform, gaussian)", 2)
  end
  local epsilons = options.epsilons
  if not epsilons then
    epsilons = {}
    for i = 0, 14 do epsilons[i + 1] = 0.7 * i / 14 end
  end
  local x, y = inputs(data, options.samples, "eval.noise")
  local batch = { batch_size = options.batch_size or 1000 }
  local out = {}
  for i, e in ipairs(epsilons) do
    if type(e) ~= "number" or e < 0 then error(string.format("eval.noise: epsilons[%d] must be a non-negative number", i), 2) end
    local noisy = x
    if e > 0 or options.min or options.max then
      noisy = lp.data.corrupt(x, { noise = kind, strength = e, min = options.min, max = options.max })
    end
    local p = lp.predict(net, noisy, batch)
    local row = { epsilon = e, accuracy = accuracy(p, y) }
    if options.reference then
      row.agreement = top1(p):eq(top1(lp.predict(options.reference, noisy, batch))):sum():item() / x:size(1)
    end
    out[i] = row
  end
  return out
end

--- lp.eval.mean_std(values) -> mean, std
-- The mean of a list of numbers and their sample standard deviation (n − 1; 0 for one
-- value): the spread over seeds that recipes report.
--
-- ```lua
-- local m, s = lp.eval.mean_std{1, 2, 3}
-- assert(m == 2 and s == 1)
-- ```
function eval.mean_std(xs)
  if type(xs) ~= "table" or #xs == 0 then error("eval.mean_std: expected a non-empty list of numbers", 2) end
  local m, v = 0, 0
  for i, x in ipairs(xs) do
    if type(x) ~= "number" then error(string.format("eval.mean_std: values[%d] is a %s, expected a number", i, type(x)), 2) end
    m = m + x / #xs
  end
  for _, x in ipairs(xs) do v = v + (x - m) ^ 2 / math.max(#xs - 1, 1) end
  return m, math.sqrt(v)
end
local mean_std = eval.mean_std

--- lp.eval.prune_potential(curve [, options]) -> table
-- The prune potential (Liebenwein et al. 2021): the largest prune ratio whose error stays
-- within the unpruned network's error plus δ. `curve` is `{dense = {e₁, …}, points = {{ratio
-- = r, errors = {e₁, …}}, …}}` with one error per seed (errors as fractions, in the same
-- seed order); the potential is found per seed and returned as `{mean, std, per_seed}`
-- (a seed whose every point misses the bound has potential 0).
--
-- - `delta` (number, default `0.005`): the error margin δ.
--
-- ```lua
-- local curve = {dense = {0.10, 0.12}, points = {{ratio = 0.5, errors = {0.101, 0.121}},
--   {ratio = 0.8, errors = {0.104, 0.130}}, {ratio = 0.9, errors = {0.2, 0.3}}}}
-- local p = lp.eval.prune_potential(curve, {delta = 0.005})
-- assert(p.per_seed[1] == 0.8 and p.per_seed[2] == 0.5 and math.abs(p.mean - 0.65) < 1e-12)
-- ```
function eval.prune_potential(curve, options)
  options = options or {}
  check_keys(options, { "delta" }, "eval.prune_potential")
  local delta = options.delta or 0.005
  if type(curve) ~= "table" or type(curve.dense) ~= "table" or type(curve.points) ~= "table" then
    error("eval.prune_potential: expected {dense = {errors}, points = {{ratio =, errors = {…}}, …}}", 2)
  end
  if #curve.dense == 0 then error("eval.prune_potential: curve.dense needs the unpruned error of at least one seed", 2) end
  local per = {}
  for s, dense in ipairs(curve.dense) do
    local best = 0
    for i, p in ipairs(curve.points) do
      if type(p.ratio) ~= "number" or type(p.errors) ~= "table" or type(p.errors[s]) ~= "number" then
        error(string.format("eval.prune_potential: points[%d] needs a ratio and an error for seed %d", i, s), 2)
      end
      if p.errors[s] <= dense + delta and p.ratio > best then best = p.ratio end
    end
    per[s] = best
  end
  local m, sd = mean_std(per)
  return { mean = m, std = sd, per_seed = per }
end

--- lp.eval.excess_error(pruned, dense) -> table
-- How much more pruning costs under a distribution shift than on clean data: for each
-- strength i, (e_pruned(i) − e_dense(i)) − (e_pruned(1) − e_dense(1)), from two lists of
-- errors (or two `lp.eval.noise` curves, read as 1 − accuracy) whose first entry is the
-- clean one. Lopper's reading of Liebenwein et al.'s excess error.
--
-- ```lua
-- local e = lp.eval.excess_error({0.10, 0.20, 0.40}, {0.08, 0.15, 0.25})
-- assert(e[1] == 0 and math.abs(e[2] - 0.03) < 1e-12 and math.abs(e[3] - 0.13) < 1e-12)
-- ```
function eval.excess_error(pruned, dense)
  local function errors(c, what)
    if type(c) ~= "table" then error("eval.excess_error: expected " .. what .. " as a list, got " .. type(c), 3) end
    local out = {}
    for i, v in ipairs(c) do out[i] = type(v) == "table" and 1 - v.accuracy or v end
    return out
  end
  local p, d = errors(pruned, "pruned"), errors(dense, "dense")
  if #p ~= #d or #p == 0 then error("eval.excess_error: the two lists must have the same length, at least 1", 2) end
  local out = {}
  for i = 1, #p do out[i] = (p[i] - d[i]) - (p[1] - d[1]) end
  return out
end

-- Errors from inside these functions name the function the script called (sparse.lua's helper).
for _, name in ipairs{ "agreement", "noise", "prune_potential", "excess_error", "mean_std" } do
  eval[name] = lp._naming("eval." .. name, eval[name])
end
