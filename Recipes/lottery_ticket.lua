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
  seeds = 1,
}
local train = lp.data.fashion_mnist{}
local test = lp.data.fashion_mnist{split = "test"}

-- Trains `net` for `steps` from wherever its optimizer stands; returns test accuracy.
local function fit(net, opt, steps)
  if steps > 0 then lp.train{net = net, data = train, optimizer = opt, batch_size = cfg.batch, iterations = steps} end
  return 100 * lp.evaluate(net, test).accuracy
end

local rows, t0 = {}, os.time()
for seed = 1, cfg.seeds do
  lp.manual_seed(seed)
  local net = lp.models.build(cfg.model, {init = cfg.init})
  local names = lp.prune.prunable(net)
  local opt = lp.optim.Adam(net, {lr = cfg.lr})
  fit(net, opt, cfg.rewind_to)                        -- reach step k (nothing when k = 0)
  local rewind_point = lp.prune.snapshot(net, opt)
  for round = 0, cfg.rounds do
    local density = lp.prune.masks(net):density()
    lp.manual_seed(100 * seed + round)                -- batch order: the same with or without the control
    local acc = fit(net, opt, cfg.iterations - cfg.rewind_to)
    local control
    if cfg.reinit and round > 0 then                  -- same masks, fresh random weights
      lp.manual_seed(1000 * seed + round)
      local fresh = lp.models.build(cfg.model, {init = cfg.reinit_init ~= "" and cfg.reinit_init or cfg.init})
      lp.prune.masks(net):apply(fresh)
      control = fit(fresh, lp.optim.Adam(fresh, {lr = cfg.lr}), cfg.iterations)
    end
    local row = rows[round + 1] or {remaining = 100 * density, ticket = 0, reinit = control and 0 or nil}
    row.ticket = row.ticket + acc / cfg.seeds
    if control then row.reinit = row.reinit + control / cfg.seeds end
    rows[round + 1] = row
    print(string.format("seed %d round %2d  %6.2f%% remaining  ticket %.2f%%%s", seed, round, 100 * density, acc,
      control and string.format("  reinit %.2f%%", control) or ""))
    if round < cfg.rounds then
      lp.prune.prune(net, {score = "magnitude", amount = cfg.rate, scope = "layer",
                           overrides = {[names[#names]] = cfg.output_rate}})
      lp.prune.rewind(net, rewind_point, opt)         -- weights and optimizer back; masks stay
    end
  end
end

lp.table{title = string.format("%s, %d steps a round, rewind to step %d, mean of %d seed(s), %d s:",
                               cfg.model, cfg.iterations, cfg.rewind_to, cfg.seeds, os.time() - t0),
         columns = {"remaining %", "ticket acc %", "reinit acc %"}, format = "%.2f",
         rows = (function()
           local out = {}
           for i, r in ipairs(rows) do out[i] = {r.remaining, r.ticket, r.reinit} end
           return out
         end)()}
