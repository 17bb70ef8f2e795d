-- Soft filter pruning: He, Kang, Dong, Fu & Yang, "Soft Filter Pruning for Accelerating
-- Deep Convolutional Neural Networks", IJCAI 2018. Every epoch, the filters of smallest L2
-- norm in each layer (a fraction P) are set to zero but keep training, so a filter zeroed
-- early can come back; the mask is taken at the end. Against hard filter pruning — the
-- same L2 filters removed once after the first epoch and kept out — at the same budget.
-- Paper scale (He et al.: ResNets on CIFAR-10): --set data=cifar10 --set model=resnet20 --set epochs=200.
local cfg = lp.config{
  data = "fashion_mnist", root = "",  -- or cifar10 / cifar100 (root: its folder; "" = $LOPPER_DATA)
  model = "lenet5", lr = 0.05, momentum = 0.9, batch = 100,
  epochs = 4, steps = 0,         -- steps > 0: that many steps (epochs of `per_epoch` steps)
  per_epoch = 0,                 -- steps an epoch when steps > 0 (0: the data set's)
  rate = 0.3,                    -- P: fraction of each conv layer's filters pruned (He et al.: 30%)
  seed = 1,
}
local train = lp.data.named(cfg.data, {root = cfg.root})
local test = lp.data.named(cfg.data, {root = cfg.root, split = "test"})
local function options(net, u)
  return {net = net, data = train, optimizer = lp.optim.SGD(net, {lr = cfg.lr, momentum = cfg.momentum}), batch_size = cfg.batch,
          epochs = cfg.steps > 0 and nil or cfg.epochs, iterations = cfg.steps > 0 and cfg.steps or nil, sparsity = u}
end
local function convs(net)
  local out = {}
  for _, p in ipairs(net:parameters()) do if p.tensor:dim() == 4 then out[#out + 1] = p.name end end
  return out
end

local rows = {}
-- Soft: zeroed every epoch, trained on, masked at the end.
lp.manual_seed(cfg.seed)
local soft = lp.models.build(cfg.model, {data = train})
local u = lp.sparse.updater{method = "soft_filter", density = 1 - cfg.rate, only = convs(soft)}
local o = options(soft, u)
if cfg.steps > 0 and cfg.per_epoch > 0 then u.settings.every = cfg.per_epoch end
lp.train(o)
rows[#rows + 1] = {"soft (SFP)", 100 * (1 - lp.prune.stats(soft, {only = convs(soft)}).density), 100 * lp.evaluate(soft, test).accuracy,
                   string.format("%d", u.updates)}
-- Hard: one epoch dense, the same filters removed for good, the rest of the budget.
lp.manual_seed(cfg.seed)
local hard = lp.models.build(cfg.model, {data = train})
local first = options(hard)
if cfg.steps > 0 then first.iterations = math.max(1, cfg.per_epoch > 0 and cfg.per_epoch or cfg.steps // cfg.epochs) else first.epochs = 1 end
lp.train(first)
lp.prune.prune(hard, {score = "l2", structure = "channel", scope = "layer", amount = cfg.rate, only = convs(hard)})
local rest = options(hard)
if cfg.steps > 0 then rest.iterations = cfg.steps - first.iterations else rest.epochs = cfg.epochs - 1 end
lp.train(rest)
rows[#rows + 1] = {"hard", 100 * (1 - lp.prune.stats(hard, {only = convs(hard)}).density), 100 * lp.evaluate(hard, test).accuracy, "1"}
lp.table{title = string.format("%s: %d%% of each conv layer's filters", cfg.model, math.floor(100 * cfg.rate + 0.5)),
         columns = {"filter pruning", "conv sparsity %", "test acc %", "prunings"}, format = "%.2f", rows = rows}
