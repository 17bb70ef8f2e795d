-- Structured sparsity by group lasso: Wen, Wu, Wang, Chen & Li, "Learning Structured
-- Sparsity in Deep Neural Networks", NIPS 2016. Train with λ·Σ‖w_g‖₂ over every conv
-- filter (lp.penalty.group_lasso as lp.train's regularizer), so whole filters shrink;
-- then remove the filters of smallest norm (a fraction of each conv layer), compact and
-- fine-tune. Against the same pruning after training without the penalty.
-- Paper scale (Wen et al.: ResNet-20 on CIFAR-10): --set data=cifar10 --set model=resnet20 --set steps=64000.
local cfg = lp.config{
  data = "fashion_mnist", root = "",  -- or cifar10 / cifar100 (root: its folder; "" = $LOPPER_DATA)
  model = "lenet5", lr = 0.05, momentum = 0.9, batch = 100,
  steps = 2000, finetune = 300,
  lambda = 1e-3,                  -- the group lasso's strength
  rate = 0.5,                     -- fraction of each conv layer's filters removed
  seed = 1,
}
local train = lp.data.named(cfg.data, {root = cfg.root})
local test = lp.data.named(cfg.data, {root = cfg.root, split = "test"})

local rows = {}
for _, lambda in ipairs{0, cfg.lambda} do
  lp.manual_seed(cfg.seed)
  local net = lp.models.build(cfg.model, {data = train})
  local convs = {}
  for _, p in ipairs(net:parameters()) do if p.tensor:dim() == 4 then convs[#convs + 1] = p.name end end
  local opt = lp.optim.SGD(net, {lr = cfg.lr, momentum = cfg.momentum})
  lp.train{net = net, data = train, optimizer = opt, batch_size = cfg.batch, iterations = cfg.steps,
           regularizer = lambda > 0 and function(n) return lp.penalty.group_lasso(n, {only = convs}, lambda) end or nil}
  local dense = 100 * lp.evaluate(net, test).accuracy
  lp.prune.prune(net, {score = "l2", structure = "group", group_reduce = "producers", scope = "layer", amount = cfg.rate, only = convs})
  local pruned = 100 * lp.evaluate(net, test).accuracy
  local small = lp.compact(net)
  lp.train{net = small, data = train, optimizer = lp.optim.SGD(small, {lr = cfg.lr / 10, momentum = cfg.momentum}),
           batch_size = cfg.batch, iterations = cfg.finetune}
  rows[#rows + 1] = {lambda > 0 and string.format("group lasso %g", lambda) or "no penalty", dense, pruned,
                     100 * lp.evaluate(small, test).accuracy, string.format("%d", small:parameter_count())}
end
lp.table{title = string.format("%s: %d%% of each conv layer's filters removed after training, %d fine-tuning steps", cfg.model,
                               math.floor(100 * cfg.rate + 0.5), cfg.finetune),
         columns = {"training", "trained acc %", "pruned acc %", "fine-tuned acc %", "parameters"}, format = "%.2f", rows = rows}
