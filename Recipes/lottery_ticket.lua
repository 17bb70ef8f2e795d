-- Lottery tickets: Frankle & Carbin, "The Lottery Ticket Hypothesis", ICLR 2019.
--   1. Initialise θ₀, train; 2. prune the smallest weights of each layer (fc 20% a round,
--   the output layer 10%); 3. rewind the survivors to θ₀ (or to step k: Frankle et al.
--   2019, "Stabilizing the LTH"); repeat. Control: the same masks, weights drawn afresh.
-- Paper, LeNet-300-100: Adam 1.2e-3, batch 60, Glorot-normal init, 50K iterations a round.
-- Defaults finish in under a minute; the reference protocol of the README (12 rounds of
-- 6,000 iterations, down to 6.9% remaining, 3 seeds) is:
--   lopper run Recipes/lottery_ticket.lua --set rounds=12 --set iterations=6000 --set seeds=3
local cfg = lp.config{
  model = "lenet_300_100", init = "xavier_normal", lr = 1.2e-3, batch = 60,
  iterations = 2000,   -- training steps per round
  rounds = 8,          -- pruning rounds after the dense run
  rate = 0.2,          -- fraction of each layer's remaining weights pruned a round
  output_rate = 0.1,   -- the output layer's rate (half, as in the paper)
  rewind_to = 0,       -- rewind to step k (0: initialisation)
  reinit = true,       -- also train the random re-initialisation control
  reinit_init = "",    -- initialiser of the control ("": the same as init)
  seed = 1, seeds = 1,  -- seeds seed, seed + 1, …, seed + seeds - 1 (a sweep: --grid seed=1,2,3)
  data = "fashion_mnist", root = "",  -- or cifar10 / cifar100 (root: its folder; "" = $LOPPER_DATA)
  validation = 0,      -- hold out N training images (paper: 5000) and report test accuracy at
  eval_every = 100,    --   the checked step of lowest validation loss (the paper's early stopping)
  normalize = false,   -- pixels in [0, 1] (torchvision's ToTensor() alone); true: standardised
}
local train, val = lp.data.named(cfg.data, {root = cfg.root, validation = cfg.validation, normalize = cfg.normalize})
local test = lp.data.named(cfg.data, {root = cfg.root, split = "test", normalize = cfg.normalize})

-- Trains `net` for `steps` from wherever its optimizer stands; returns test accuracy (at
-- the lowest validation loss when validating).
local function fit(net, opt, steps)
  local best, acc = math.huge, nil
  local function check()
    local loss = val and lp.evaluate(net, val).loss or 0
    if loss < best then best, acc = loss, 100 * lp.evaluate(net, test).accuracy end
  end
  if steps > 0 then
    lp.train{net = net, data = train, optimizer = opt, batch_size = cfg.batch, iterations = steps,
             on_step = val and function(s) if s.iteration % cfg.eval_every == 0 then check() end end}
  end
  check()
  return acc
end

-- Each round is a cell: re-running with more rounds or seeds re-uses the rounds already
-- trained, and a stopped run resumes from its last finished round (lopper run --resume).
local rows, t0 = {}, os.time()
for seed = cfg.seed, cfg.seed + cfg.seeds - 1 do
  -- The weights every round rewinds to: θ₀, or θ_k after k steps (a fresh optimizer
  -- each round, as in OpenLTH).
  local theta = lp.cell("seed " .. seed .. " rewind point", function()
    lp.manual_seed(seed)
    local net = lp.models.build(cfg.model, {init = cfg.init, data = train})
    fit(net, lp.optim.Adam(net, {lr = cfg.lr}), cfg.rewind_to)
    return net
  end)
  local masks                                         -- none: the dense first round
  for round = 0, cfg.rounds do
    local last = round == cfg.rounds                  -- read out here: more rounds re-use earlier cells
    local r = lp.cell(string.format("seed %d round %d", seed, round), function()
      local net = lp.models.build(cfg.model, {init = cfg.init, data = train})
      net:load_state_dict(theta:state_dict())
      if masks then lp.prune.apply(net, masks) end
      local density = lp.prune.masks(net):density()
      lp.manual_seed(100 * seed + round)              -- batch order: the same with or without the control
      local acc = fit(net, lp.optim.Adam(net, {lr = cfg.lr}), cfg.iterations - cfg.rewind_to)
      lp.log{seed = seed, round = round, remaining = 100 * density, accuracy = acc, arm = "rewind"}
      local control
      if cfg.reinit and round > 0 then                -- same masks, fresh random weights
        lp.manual_seed(1000 * seed + round)
        local fresh = lp.models.build(cfg.model, {init = cfg.reinit_init ~= "" and cfg.reinit_init or cfg.init, data = train})
        lp.prune.apply(fresh, masks)
        control = fit(fresh, lp.optim.Adam(fresh, {lr = cfg.lr}), cfg.iterations)
        lp.log{seed = seed, round = round, remaining = 100 * density, accuracy = control, arm = "reinit"}
      end
      print(string.format("seed %d round %2d  %6.2f%% remaining  ticket %.2f%%%s", seed, round, 100 * density, acc,
        control and string.format("  reinit %.2f%%", control) or ""))
      if not last then
        local names = lp.prune.prunable(net)
        lp.prune.prune(net, {score = "magnitude", amount = cfg.rate, scope = "layer",
                             overrides = {[names[#names]] = cfg.output_rate}})
      end
      return {density = density, acc = acc, control = control, masks = lp.prune.masks(net)}
    end)
    masks = r.masks
    local row = rows[round + 1] or {100 * r.density, 0, r.control and 0 or nil}   -- means over seeds
    row[2] = row[2] + r.acc / cfg.seeds
    if r.control then row[3] = row[3] + r.control / cfg.seeds end
    rows[round + 1] = row
  end
end

lp.table{title = string.format("%s, %d steps a round, rewind to step %d, mean of %d seed(s), %d s:",
                               cfg.model, cfg.iterations, cfg.rewind_to, cfg.seeds, os.time() - t0),
         columns = {"remaining %", "ticket acc %", "reinit acc %"}, format = "%.2f", rows = rows}
