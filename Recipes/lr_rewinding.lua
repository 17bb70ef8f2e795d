-- Rewinding vs fine-tuning: Renda, Frankle & Carbin, "Comparing Rewinding and
-- Fine-tuning in Neural Network Pruning", ICLR 2020.
-- Train T steps; then, for a retraining budget of t steps after each pruning round
-- (magnitude, 20% of the remaining weights, global):
--   fine-tuning:        keep the final weights, train t steps at the final learning rate;
--   weight rewinding:   weights, optimizer and schedule back to step T − t, train t steps;
--   LR rewinding:       keep the final weights, only the schedule back to T − t.
-- Claim: both rewinding methods beat fine-tuning; LR rewinding matches or beats weight
-- rewinding. Paper scale: --set steps=30000 --set budget=10000 --set rounds=10
local cfg = lp.config{
  data = "fashion_mnist", root = "",  -- or cifar10 / cifar100 (root: its folder; "" = $LOPPER_DATA)
  model = "lenet_300_100", lr = 0.05, momentum = 0.9, batch = 60,
  steps = 3000,      -- T: the dense schedule (lr ÷10 at 50% and 75% of T)
  budget = 1000,     -- t: retraining steps after each pruning round
  rounds = 4, rate = 0.2, seed = 1,
}
local train = lp.data.named(cfg.data, {root = cfg.root})
local test = lp.data.named(cfg.data, {root = cfg.root, split = "test"})
local function accuracy(net) return 100 * lp.evaluate(net, test).accuracy end
local function fit(net, opt, n) lp.train{net = net, data = train, optimizer = opt, batch_size = cfg.batch, iterations = n} end

lp.manual_seed(cfg.seed)
local net = lp.models.build(cfg.model, {data = train})
local opt = lp.optim.SGD(net, {lr = cfg.lr, momentum = cfg.momentum,
  schedule = lp.schedule.multistep{milestones = {cfg.steps // 2, cfg.steps * 3 // 4}, gamma = 0.1}})
fit(net, opt, cfg.steps - cfg.budget)
local at_rewind = lp.prune.snapshot(net, opt)          -- step T − t
fit(net, opt, cfg.budget)
local trained = lp.prune.snapshot(net, opt)            -- step T
local dense = accuracy(net)

local methods = {
  {"fine-tuning", function() end},                     -- the schedule past T stays at its last rate
  {"weight rewinding", function() lp.prune.rewind(net, at_rewind, opt) end},
  {"LR rewinding", function() lp.prune.rewind_lr(opt, at_rewind) end},
}
local rows = {}
for m, method in ipairs(methods) do
  lp.prune.clear(net)
  lp.prune.rewind(net, trained, opt)                   -- every method starts from the trained net
  for round = 1, cfg.rounds do
    lp.prune.prune(net, {score = "magnitude", amount = cfg.rate})
    method[2]()
    fit(net, opt, cfg.budget)
    rows[round] = rows[round] or {100 * lp.prune.masks(net):density()}
    rows[round][m + 1] = accuracy(net)
    lp.log{method = method[1], round = round, remaining = rows[round][1], accuracy = rows[round][m + 1]}
    print(string.format("%-16s round %d: %.2f%%", method[1], round, rows[round][m + 1]))
  end
end
lp.table{title = string.format("%s: dense %.2f%% after %d steps; retraining budget %d steps a round",
                               cfg.model, dense, cfg.steps, cfg.budget),
         columns = {"remaining %", "fine-tuning", "weight rewinding", "LR rewinding"}, format = "%.2f", rows = rows}
