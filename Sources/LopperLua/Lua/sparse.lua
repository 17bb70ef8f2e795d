-- Sparse training (lp.sparse) and penalties (lp.penalty), run after cells.lua with (lp).
-- A mask updater is a drop score, a grow score and a schedule, as JaxPruner splits them:
-- lp.train calls u:start(net, opt, info) once, u:step(net, opt, t) after each backward —
-- the dense gradient still in w.grad, before the optimizer masks it — and u:finish(net,
-- opt) at the end. Each update is built from lp.prune.drop, lp.prune.grow and
-- lp.prune.prune, which a recipe can call the same way.
local lp = ...

local sparse, penalty = {}, {}
lp.sparse, lp.penalty = sparse, penalty

local selection_keys = { "include_bias", "include_norm", "exclude_first", "exclude_last", "exclude", "only" }

-- The prunable tensors of `net` as {name, tensor}, in network order.
local function prunable(net, selection)
  local by = {}
  for _, p in ipairs(net:parameters()) do by[p.name] = p.tensor end
  local out = {}
  for i, name in ipairs(lp.prune.prunable(net, selection)) do out[i] = { name = name, tensor = by[name] } end
  return out
end

-- `base` with the selection options of `self` added.
local function with_selection(self, base)
  for _, k in ipairs(selection_keys) do base[k] = self.selection[k] end
  return base
end

local function total(counts)
  local n = 0
  for _, v in pairs(counts) do n = n + v end
  return n
end

-- Steps from a setting: an integer is a step count, a float a fraction of training.
local function steps(v, all, what)
  if math.type(v) == "integer" or type(v) == "number" and v > 1 and v == math.floor(v) then return math.floor(v) end
  if type(v) ~= "number" or v < 0 or v > 1 then
    error(string.format("sparse.updater: %s must be a step (integer) or a fraction of training in [0, 1], got %s", what, tostring(v)), 0)
  end
  return math.floor(v * all + 0.5)
end

local decays = {
  constant = function(alpha) return alpha end,
  cosine = function(alpha, t, t0, t1) return alpha / 2 * (1 + math.cos(math.pi * (t - t0) / math.max(t1 - t0, 1))) end,
}

local defaults = {
  static = { init = "random", allocation = "erk" },
  set = { init = "random", allocation = "er", fraction = 0.3, drop = "magnitude", grow = "random", decay = "constant",
          every = "epoch" },
  rigl = { init = "random", allocation = "erk", fraction = 0.3, drop = "magnitude", grow = "gradient", decay = "cosine",
           every = 100, stop = 0.75 },
  gradual = { init = "dense", drop = "magnitude", every = 100, start = 0, stop = 0.75, initial = 0 },
  ste = { init = "magnitude", every = 1, decay_weight = 0 },
  soft_filter = { init = "dense", every = "epoch", exclude_last = true },
}
local known = { "method", "density", "epsilon", "init", "allocation", "fraction", "drop", "grow", "decay", "every", "start",
                "stop", "initial", "decay_weight", "log" }

-- Raises, listing the known keys, when `options` has another.
local function check_keys(options, keys, what)
  local all = {}
  for _, k in ipairs(keys) do all[#all + 1] = k end
  for _, k in ipairs(selection_keys) do all[#all + 1] = k end
  for k in pairs(options) do
    local ok = false
    for _, name in ipairs(all) do ok = ok or k == name end
    if not ok then
      table.sort(all)
      error(string.format("%s: unknown option '%s' (known: %s)", what, tostring(k), table.concat(all, ", ")), 3)
    end
  end
end

local Updater = {}
Updater.__index = Updater
function Updater:__tostring() return string.format("Updater(%s, density %g)", self.method, self.density) end

--- @area prune
--- lp.sparse.updater(options) -> Updater
-- A mask updater for sparse training, passed to `lp.train{…, sparsity = u}` (or called in
-- a loop of your own: `u:start(net, opt, {total = T, per_epoch = E})` once, then
-- after each `backward` and before `opt:step()` the call `u:step(net, opt, t)`, with `t`
-- the steps done, and `u:finish(net, opt)` at the end). Methods:
--
-- - static: a fixed random mask at `density`, ERK by default.
-- - set (Mocanu et al. 2018): every epoch drop the `fraction` ζ = 0.3 of each layer's
--   active weights with the smallest |w| and regrow as many at random; Erdős–Rényi.
-- - rigl (Evci et al. 2020): every 100 steps drop the smallest |θ| and grow the largest
--   dense |∇L| among the inactive, new weights 0 with their optimizer state zeroed;
--   α = 0.3 with cosine decay, no updates after 75% of training; ERK.
-- - gradual (Zhu & Gupta 2017): dense at first, then magnitude pruning every 100 steps to
--   sparsity s_f + (s_i − s_f)(1 − (t − t₀)/(t₁ − t₀))³, layer by layer, reaching
--   `density` at `stop`.
-- - ste (straight-through): dense weights are kept and trained — the pruned ones by plain
--   SGD on the straight-through gradient, plus SR-STE's `decay_weight` λ (Zhou et al.
--   2021: 2e-4) pulling them to 0 — and each layer's mask is its top |w| again every
--   `every` steps.
-- - soft_filter (He et al. 2018): every epoch zero the smallest-L2 filters of each layer
--   (1 − `density` of them) but keep training them; the mask is taken at the end.
--
-- Every update logs `{updater, step, dropped, grown, fraction, density, overlap,
-- ever_active}` with `lp.log` (overlap: the share of the initial mask still kept;
-- ever_active: the share of weights active at some point), so reports plot them.
--
-- - `method` (string, default `"rigl"`): one of the above.
-- - `density` (number): the fraction of prunable weights kept (required).
-- - `allocation` (string): `"uniform"`, `"er"` or `"erk"`, per-layer densities.
-- - `epsilon` (number): SET's ε instead: layer density ε(n_in + n_out)/(n_in·n_out).
-- - `init` (string): the initial mask's score (`"random"`, `"magnitude"`), `"keep"` for the
--   network's own masks, or `"dense"`.
-- - `fraction` (number): the share α of each layer's active weights an update drops.
-- - `decay` (string or function): `"cosine"`, `"constant"` or `function(alpha, t, start,
--   stop) return fraction end`.
-- - `drop` (string, function or table): the drop score, as `lp.prune.drop` takes it
--   (a Lua-written score works).
-- - `grow` (string, function or table): the grow score, as `lp.prune.grow` takes it.
-- - `every` (integer or `"epoch"`): steps between updates.
-- - `start` (integer step or fraction of training, default `0`): the first update.
-- - `stop` (integer step or fraction of training): no updates from there on.
-- - `initial` (number, default `0`): the gradual schedule's first sparsity.
-- - `decay_weight` (number, default `0`): SR-STE's λ on pruned weights.
-- - `log` (boolean, default `true`): log each update.
--
-- An updater starts once: a second `start` (lp.train's, after one by hand) does nothing, so
-- make a new updater for a new run.
-- - the options of `lp.prune.prunable`
--
-- ```lua
-- lp.manual_seed(1)
-- local net = lp.models.lenet_300_100()
-- local ys = {}
-- for i = 1, 64 do ys[i] = i % 8 + 1 end
-- local data = lp.data.tensors{x = lp.randn(64, 1, 28, 28), y = lp.from(ys)}
-- local u = lp.sparse.updater{method = "rigl", density = 0.1, every = 2, log = false}
-- lp.train{net = net, data = data, optimizer = lp.optim.SGD(net, {lr = 0.05, momentum = 0.9}),
--          batch_size = 16, iterations = 8, sparsity = u}
-- assert(math.abs(lp.prune.masks(net):density() - 0.1) < 1e-3 and u.updates >= 2)
-- ```
function sparse.updater(options)
  if type(options) ~= "table" then error("sparse.updater: expected a table of options, got " .. type(options), 2) end
  local method = options.method or "rigl"
  local d = defaults[method]
  if not d then
    error(string.format("sparse.updater: unknown method '%s' (known: static, set, rigl, gradual, ste, soft_filter)", tostring(method)), 2)
  end
  check_keys(options, known, "sparse.updater")
  local density = options.density
  if type(density) ~= "number" or density <= 0 or density > 1 then
    error("sparse.updater: expected density in (0, 1], got " .. tostring(density), 2)
  end
  local self = setmetatable({ method = method, density = density, selection = {}, settings = {}, updates = 0,
                              log = options.log ~= false }, Updater)
  for k, v in pairs(d) do self.settings[k] = v end
  for k, v in pairs(options) do self.settings[k] = v end
  for _, k in ipairs(selection_keys) do self.selection[k] = options[k] ~= nil and options[k] or d[k] end
  if type(self.settings.decay) == "string" then
    self.decay_fn = decays[self.settings.decay]
    if not self.decay_fn then error("sparse.updater: unknown decay '" .. self.settings.decay .. "' (known: cosine, constant, or a function)", 2) end
  elseif type(self.settings.decay) == "function" then
    self.decay_fn = self.settings.decay
  end
  if self.settings.fraction ~= nil and (type(self.settings.fraction) ~= "number" or self.settings.fraction < 0 or self.settings.fraction > 1) then
    error("sparse.updater: expected fraction in [0, 1], got " .. tostring(self.settings.fraction), 2)
  end
  return self
end

-- Per-layer densities of SET's ε: ε(n_in + n_out)/(n_in·n_out), at most 1.
local function epsilon_overrides(targets, epsilon)
  local out = {}
  for _, t in ipairs(targets) do
    local n_out, n_in = t.tensor:size(1), t.tensor:numel() // t.tensor:size(1)
    out[t.name] = math.min(1, epsilon * (n_in + n_out) / (n_in * n_out))
  end
  return out
end

function Updater:start(net, opt, info)
  if self.t0 then return self end                   -- started already (by hand, before lp.train)
  info = info or {}
  local all = info.total or 0
  self.t0 = opt:iteration()
  self.every_steps = self.settings.every == "epoch" and math.max(info.per_epoch or 1, 1) or self.settings.every
  if math.type(self.every_steps) ~= "integer" or self.every_steps < 1 then
    error("sparse.updater: every must be a positive integer or \"epoch\", got " .. tostring(self.settings.every), 0)
  end
  self.from = steps(self.settings.start or 0, all, "start")
  self.to = self.settings.stop and steps(self.settings.stop, all, "stop") or math.max(all, 1)
  self.targets = prunable(net, self.selection)
  if self.settings.init ~= "dense" and self.settings.init ~= "keep" then
    local o = with_selection(self, { score = self.settings.init, density = self.density })
    if self.settings.epsilon then o.overrides, o.density = epsilon_overrides(self.targets, self.settings.epsilon), 1
    elseif self.settings.allocation then o.allocation = self.settings.allocation end
    lp.prune.prune(net, o)
  end
  if self.method == "ste" then
    self.dense = {}
    for i, t in ipairs(self.targets) do self.dense[i] = t.tensor:detach():clone() end
  end
  self.first_mask = lp.prune.masks(net, self.selection)
  self.ever = self.first_mask
  return self
end

-- One record of what the update changed.
function Updater:record(net, t, dropped, grown, fraction)
  self.updates = self.updates + 1
  local m = lp.prune.masks(net, self.selection)
  self.ever = self.ever:union(m)
  local kept0 = self.first_mask:count()
  local ever, all = self.ever:count()
  local r = { updater = self.method, step = t, dropped = dropped, grown = grown, fraction = fraction, density = m:density(),
              overlap = kept0 > 0 and self.first_mask:intersection(m):count() / kept0 or 0, ever_active = ever / all }
  self.last = r
  if self.log then lp.log(r) end
  return r
end

-- Whether step t (steps since start) updates.
function Updater:due(t)
  return t > 0 and t >= self.from and t < self.to and (t - self.from) % self.every_steps == 0
end

local steppers = {}

function steppers.static() end

-- SET and RigL: drop the lowest-scored active weights, regrow as many.
local function drop_and_grow(self, net, opt, t)
  if not self:due(t) then return end
  local alpha = self.decay_fn(self.settings.fraction, t, self.from, self.to)
  local dropped = lp.prune.drop(net, with_selection(self, { fraction = alpha, score = self.settings.drop, optimizer = opt }))
  local grown = lp.prune.grow(net, with_selection(self, { count = dropped, score = self.settings.grow, optimizer = opt }))
  self:record(net, t, total(dropped), total(grown), alpha)
end
steppers.set, steppers.rigl = drop_and_grow, drop_and_grow

-- Zhu & Gupta's cubic schedule, layer by layer.
function steppers.gradual(self, net, _, t)
  if t < self.from or t > self.to or (t - self.from) % self.every_steps ~= 0 and t ~= self.to then return end
  local final = 1 - self.density
  local s = final + ((self.settings.initial or 0) - final) * (1 - (t - self.from) / math.max(self.to - self.from, 1)) ^ 3
  local before = lp.prune.masks(net, self.selection):count()
  lp.prune.prune(net, with_selection(self, { score = self.settings.drop, density = 1 - s, scope = "layer" }))
  self:record(net, t, before - lp.prune.masks(net, self.selection):count(), 0, s)
end

-- Straight-through: kept weights follow the optimizer, pruned ones SGD on their dense
-- gradient; the mask is the top |w| of the dense weights.
function steppers.ste(self, net, opt, t)
  local lr = opt:lr()
  local changed, fresh, masks = 0, t > 0 and t % self.every_steps == 0, {}
  lp.no_grad(function()
    for i, target in ipairs(self.targets) do
      local w, dense = target.tensor, self.dense[i]
      local m = w.mask or lp.ones(w:shape())
      local off = 1 - m
      dense:copy_(dense * off + w * m)
      if w.grad then dense:sub_((w.grad + dense * self.settings.decay_weight) * off * lr) end
      if fresh then
        local k = math.floor(self.density * w:numel() + 0.5)
        local keep = lp.zeros(w:numel())
        if k > 0 then keep:index_fill_(1, lp.prune.topk_among(dense:abs(), lp.ones(dense:shape()), k), 1) end
        keep = keep:reshape(w:shape())
        changed = changed + (keep - m):abs():sum():item()
        w:copy_(dense * keep)
        masks[target.name] = keep
      end
    end
  end)
  if fresh then lp.masks(masks):apply(net) end
  if fresh then self:record(net, t, changed / 2, changed / 2, self.density) end
end

-- Soft filter pruning: each epoch the smallest-L2 filters of each layer go to zero, unmasked.
function steppers.soft_filter(self, net, _, t)
  if not self:due(t) then return end
  local zeroed = 0
  lp.no_grad(function()
    for _, target in ipairs(self.targets) do
      local w = target.tensor
      local rows = w:size(1)
      local k = rows - math.floor(self.density * rows + 0.5)
      if k > 0 then
        local norms = (w * w):reshape{ rows, -1 }:sum(2):reshape{ rows }
        local low = lp.prune.topk_among(norms, lp.ones(rows), k, { largest = false })
        for j = 1, k do w[low[j]]:fill_(0) end
        zeroed = zeroed + k
      end
    end
  end)
  self:record(net, t, zeroed, 0, 1 - self.density)
end

function Updater:step(net, opt, t)
  if not self.t0 then self:start(net, opt, {}) end
  steppers[self.method](self, net, opt, t - self.t0)
end

function Updater:finish(net)
  if self.method == "soft_filter" then
    lp.prune.prune(net, with_selection(self, { score = "l2", structure = "channel", scope = "layer", amount = 1 - self.density }))
  end
end

-- Whether `v` is a module: native, or Lua-written (a table with its own forward).
local function is_module(v)
  local mt = getmetatable(v)
  return type(mt) == "table" and rawget(mt, "__name") == "lopper.Module"
    or type(v) == "table" and type(rawget(v, "forward")) == "function"
end

-- The tensors a penalty covers: a module's prunable weights, or a list of tensors.
local function tensors_of(params, selection, what)
  if lp.is_tensor(params) then params = { params } end
  if is_module(params) then
    local out, chosen = {}, {}
    for _, k in ipairs(selection_keys) do chosen[k] = selection and selection[k] end
    for i, t in ipairs(prunable(params, chosen)) do out[i] = t.tensor end
    return out
  end
  if type(params) ~= "table" then error(string.format("penalty.%s: expected a module or a list of tensors, got %s", what, type(params)), 3) end
  for i, t in ipairs(params) do
    if not lp.is_tensor(t) then error(string.format("penalty.%s: entry %d is a %s, expected a tensor", what, i, type(t)), 3) end
    if t:dim() == 0 then error(string.format("penalty.%s: entry %d is a 0-d tensor, expected one with at least one dimension", what, i), 3) end
  end
  return params
end

local function strength(v, what)
  if type(v) ~= "number" or v < 0 or v ~= v then
    error(string.format("penalty.%s: expected a non-negative strength, got %s", what, tostring(v)), 3)
  end
  return v
end

-- Each row (output channel) of `w` as one group: the L2 norm of each, [rows].
local function row_norms(w)
  return ((w * w):reshape{ w:size(1), -1 }:sum(2) + 1e-12):sqrt():reshape{ w:size(1) }
end

--- @area train
--- lp.penalty.l1(params, strength) -> Tensor
-- Also: lp.penalty.group_lasso, lp.penalty.bn_l1
-- Penalties as differentiable loss terms (0-d tensors): `l1` is λ·Σ|w| over `params` (a
-- module's prunable weights, or a list of tensors); `group_lasso(net, options, λ)` is
-- λ·Σ‖w_g‖₂ over every output channel (row, filter) of the prunable weights, which drives
-- whole channels to zero (Wen et al. 2016); `bn_l1(net, λ)` is λ·Σ|γ| over the batch norms'
-- scales, network slimming's sparsity term (Liu et al. 2017: λ = 1e-4). Add one to a loss
-- by hand, or pass `regularizer = function(net) return … end` to `lp.train`. For exact
-- zeros, use the proximal steps `lp.penalty.prox_l1` and `prox_group_lasso` after each
-- optimizer step instead.
--
-- - `structure` (string, default `"channel"`): `group_lasso`'s groups, one per output
--   channel (the only kind).
-- - the options of `lp.prune.prunable`
--
-- ```lua
-- local net = lp.models.vgg11{channels = 3, size = 32, width = 0.125}
-- local term = lp.penalty.bn_l1(net, 1e-4) + lp.penalty.group_lasso(net, {structure = "channel"}, 1e-5)
-- assert(term:dim() == 0 and term:item() > 0)
-- ```
function penalty.l1(params, lambda)
  lambda = strength(lambda, "l1")
  local sum = lp.zeros(1):sum()
  for _, w in ipairs(tensors_of(params, nil, "l1")) do sum = sum + w:abs():sum() end
  return sum * lambda
end

function penalty.group_lasso(net, options, lambda)
  if type(options) == "number" and lambda == nil then options, lambda = {}, options end
  options = options or {}
  if type(options) ~= "table" then error("penalty.group_lasso: expected options as a table, got " .. type(options), 2) end
  check_keys(options, { "structure" }, "penalty.group_lasso")
  lambda = strength(lambda, "group_lasso")
  if options.structure ~= nil and options.structure ~= "channel" then
    error("penalty.group_lasso: unknown structure '" .. tostring(options.structure) .. "' (known: channel)", 2)
  end
  local sum = lp.zeros(1):sum()
  for _, w in ipairs(tensors_of(net, options, "group_lasso")) do
    if w:dim() < 2 then error("penalty.group_lasso: channel groups need weights of rank 2 or more", 2) end
    sum = sum + row_norms(w):sum()
  end
  return sum * lambda
end

-- The scales of a network's batch norms.
local function bn_scales(net)
  local out = {}
  for _, entry in ipairs(net:modules()) do
    if entry.module:kind():match("^BatchNorm") then out[#out + 1] = entry.module.weight end
  end
  return out
end

function penalty.bn_l1(net, lambda)
  lambda = strength(lambda, "bn_l1")
  local sum = lp.zeros(1):sum()
  for _, g in ipairs(bn_scales(net)) do sum = sum + g:abs():sum() end
  return sum * lambda
end

--- lp.penalty.prox_l1(params, threshold) -> number
-- Also: lp.penalty.prox_group_lasso
-- Proximal steps, in place: `prox_l1` soft-thresholds every weight, w ← sign(w)·max(|w| − t,
-- 0); `prox_group_lasso(net, t [, options])` shrinks each output channel, w_g ← w_g·max(0,
-- 1 − t/‖w_g‖₂). Called after each optimizer step with t = λ·lr, they minimise the loss plus
-- the penalty with weights and channels that reach exactly zero. `params` is a module (its
-- prunable weights, or its batch norms' scales with `{bn = true}` as the third argument) or
-- a list of tensors. Returns how many weights (channels) are zero after the step.
--
-- ```lua
-- local w = lp.from{0.5, -0.05, -2}
-- assert(lp.penalty.prox_l1({w}, 0.1) == 1 and w:allclose(lp.from{0.4, 0, -1.9}))
-- ```
function penalty.prox_l1(params, threshold, options)
  threshold = strength(threshold, "prox_l1")
  local list = options and options.bn and bn_scales(params) or tensors_of(params, options, "prox_l1")
  local zero = 0
  lp.no_grad(function()
    for _, w in ipairs(list) do
      w:copy_(lp.where(w:abs():gt(threshold), w - (w:gt(0) * 2 - 1) * threshold, lp.zeros(w:shape())))
      zero = zero + w:numel() - w:count_nonzero():item()
    end
  end)
  return zero
end

function penalty.prox_group_lasso(net, threshold, options)
  threshold = strength(threshold, "prox_group_lasso")
  local zero = 0
  lp.no_grad(function()
    for _, w in ipairs(tensors_of(net, options, "prox_group_lasso")) do
      local norms = row_norms(w)
      local shrink = (1 - threshold / norms):clamp(0)
      local shape = { w:size(1) }
      for _ = 2, w:dim() do shape[#shape + 1] = 1 end
      w:mul_(shrink:reshape(shape))
      zero = zero + w:size(1) - shrink:count_nonzero():item()
    end
  end)
  return zero
end

-- Errors from inside these functions name the function the script called, whatever op
-- raised them underneath (a copy_ into an expanded tensor, say), at the script's line.
local function naming(what, fn)
  return function(...)
    local results = table.pack(pcall(fn, ...))
    if results[1] then return table.unpack(results, 2, results.n) end
    local message = results[2]
    if type(message) ~= "string" then error(message, 0) end
    message = message:gsub("^lopper/[%w_]+%.lua:%d+: ", "")
    error(message:find(what, 1, true) and message or what .. ": " .. message, 2)
  end
end
lp._naming = naming
for _, name in ipairs{ "l1", "group_lasso", "bn_l1", "prox_l1", "prox_group_lasso" } do
  penalty[name] = naming("penalty." .. name, penalty[name])
end
sparse.updater = naming("sparse.updater", sparse.updater)
for _, name in ipairs{ "start", "step", "finish" } do Updater[name] = naming("updater:" .. name, Updater[name]) end
