-- Pruning beyond test accuracy: Liebenwein, Baykal, Carter, Gifford & Rus, "Lost in
-- Pruning: The Effects of Pruning Neural Networks beyond Test Accuracy", MLSys 2021.
-- Iterative pruning with retraining, by weights (global magnitude, WT) and by filters (L1
-- per layer, FT), 20% of what remains a round; at every round the test error on clean and
-- on noisy inputs (uniform noise of strength ε) and the top-1 agreement with the unpruned
-- network. The prune potential — the largest prune ratio whose error stays within the
-- unpruned error + δ (δ = 0.5%) — over 3 seeds, per distribution: the paper finds it
-- drops, sometimes to nothing, once the test distribution shifts.
-- Paper scale: --set data=cifar10 --set model=resnet20 --set rounds=15.
local cfg = lp.config{
  data = "fashion_mnist", root = "",  -- or cifar10 / cifar100 (root: its folder; "" = $LOPPER_DATA)
  model = "lenet5", lr = 1e-3, batch = 60,
  steps = 1000,          -- dense training (Adam)
  retrain = 300,         -- retraining steps after each round
  rounds = 5, rate = 0.2,
  noise = 1.0,           -- ε of the noisy test distribution (at 0.3 nothing changes here)
  delta = 0.005,
  samples = 2000,        -- test samples evaluated
  seeds = {1, 2, 3},
  methods = {"weights", "filters"},
}
local train = lp.data.named(cfg.data, {root = cfg.root})
local test = lp.data.named(cfg.data, {root = cfg.root, split = "test"})

-- Test error on clean and noisy inputs, and agreement with `dense` on the noisy ones.
local function errors(net, dense)
  lp.manual_seed(99)                -- the same noise for every network
  local curve = lp.eval.noise(net, test, {epsilons = {0, cfg.noise}, reference = dense, samples = cfg.samples})
  return 1 - curve[1].accuracy, 1 - curve[2].accuracy, curve[2].agreement
end

local function prune_round(net, method, convs)
  if method == "weights" then
    lp.prune.prune(net, {score = "magnitude", amount = cfg.rate})
  else
    lp.prune.prune(net, {score = "l1", structure = "group", group_reduce = "producers", scope = "layer",
                         amount = cfg.rate, only = convs})
  end
end

local curves, finals, denses = {}, {}, {}
for _, method in ipairs(cfg.methods) do
  curves[method] = {clean = {dense = {}, points = {}}, noisy = {dense = {}, points = {}}}
end
for s, seed in ipairs(cfg.seeds) do
  lp.manual_seed(seed)
  local dense = lp.models.build(cfg.model, {data = train})
  lp.train{net = dense, data = train, optimizer = lp.optim.Adam(dense, {lr = cfg.lr}), batch_size = cfg.batch,
           iterations = cfg.steps}
  local trained = lp.prune.snapshot(dense)
  local clean, noisy = errors(dense, dense)
  local convs = {}
  for _, p in ipairs(dense:parameters()) do if p.tensor:dim() == 4 then convs[#convs + 1] = p.name end end
  for _, method in ipairs(cfg.methods) do
    local c = curves[method]
    c.clean.dense[s], c.noisy.dense[s] = clean, noisy
    local net = dense:clone()
    lp.prune.rewind(net, trained)
    for r = 1, cfg.rounds do
      prune_round(net, method, convs)
      lp.train{net = net, data = train, optimizer = lp.optim.Adam(net, {lr = cfg.lr}), batch_size = cfg.batch,
               iterations = cfg.retrain}
      local ratio = 1 - lp.prune.stats(net).density
      local e_clean, e_noisy, agree = errors(net, dense)
      c.clean.points[r] = c.clean.points[r] or {ratio = 0, errors = {}}
      c.noisy.points[r] = c.noisy.points[r] or {ratio = 0, errors = {}}
      -- the ratio of a round is the mean over seeds (it differs only by rounding)
      c.clean.points[r].ratio = c.clean.points[r].ratio + ratio / #cfg.seeds
      c.noisy.points[r].ratio = c.clean.points[r].ratio
      c.clean.points[r].errors[s], c.noisy.points[r].errors[s] = e_clean, e_noisy
      lp.log{method = method, seed = seed, round = r, ratio = ratio, error = e_clean, noisy_error = e_noisy, agreement = agree}
    end
    if s == 1 then finals[method] = net end
  end
  if s == 1 then denses[1] = dense end
end

local rows = {}
for _, method in ipairs(cfg.methods) do
  for _, dist in ipairs{"clean", "noisy"} do
    local p = lp.eval.prune_potential(curves[method][dist], {delta = cfg.delta})
    rows[#rows + 1] = {method, dist == "clean" and "clean" or string.format("noise %.2f", cfg.noise), 100 * p.mean, 100 * p.std}
  end
end
lp.table{title = string.format("%s: prune potential (δ = %.1f%%), %d rounds of %d%%, %d seeds", cfg.model, 100 * cfg.delta,
                               cfg.rounds, math.floor(100 * cfg.rate + 0.5), #cfg.seeds),
         columns = {"pruning", "test data", "potential %", "± std"}, format = "%.2f", rows = rows}

-- The agreement curve of the most pruned networks (seed 1) with the unpruned one.
local epsilons = {0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7}
local agreement = {}
for _, method in ipairs(cfg.methods) do
  lp.manual_seed(99)
  agreement[method] = lp.eval.noise(finals[method], test, {epsilons = epsilons, reference = denses[1], samples = cfg.samples})
end
local arows = {}
for i, e in ipairs(epsilons) do
  local row = {e}
  for _, method in ipairs(cfg.methods) do row[#row + 1] = 100 * agreement[method][i].agreement end
  arows[i] = row
end
local columns = {"noise ε"}
for _, method in ipairs(cfg.methods) do columns[#columns + 1] = method .. " agreement %" end
lp.table{title = "Top-1 agreement with the unpruned network under noise, after the last round (seed 1)",
         columns = columns, format = "%.2f", rows = arows}
