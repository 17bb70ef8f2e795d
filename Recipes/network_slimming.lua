-- Network slimming: Liu, Li, Shen, Huang, Yan & Zhang, "Learning Efficient Convolutional
-- Networks through Network Slimming", ICCV 2017.
-- Train with an L1 penalty λ·Σ|γ| on every BatchNorm scale, so that unneeded channels'
-- scales go to zero; remove the channels with the smallest |γ| across the whole network
-- (`rate` of them, never a whole layer); cut them out (lp.compact); fine-tune. Against the
-- same schedule trained without the penalty. Paper: λ = 1e-4 (VGG on CIFAR), 70% of the
-- channels of VGG-19 removed.
local cfg = lp.config{
  data = "fashion_mnist", root = "",  -- or cifar10 / cifar100 (root: its folder; "" = $LOPPER_DATA)
  model = "vgg11", width = 0.25,      -- a VGG with batch norm after every conv
  lambda = 1e-4,                      -- the L1 penalty on the BatchNorm scales
  rate = 0.5,                         -- fraction of all conv channels removed
  steps = 1000, finetune = 300, lr = 0.05, momentum = 0.9, batch = 64,
  seed = 1,
}
local train = lp.data.named(cfg.data, {root = cfg.root})
local test = lp.data.named(cfg.data, {root = cfg.root, split = "test"})
local function accuracy(net) return 100 * lp.evaluate(net, test).accuracy end

local function fit(net, steps, lambda)
  local scales = {}
  for _, m in ipairs(net:modules()) do
    if m.module:kind() == "BatchNorm2d" then scales[#scales + 1] = m.module.weight end
  end
  local function loss(out, y)
    local l = lp.cross_entropy(out, y)
    if lambda > 0 then
      for _, g in ipairs(scales) do l = l + g:abs():sum() * lambda end
    end
    return l
  end
  lp.train{net = net, data = train, batch_size = cfg.batch, iterations = steps, loss = loss,
           optimizer = lp.optim.SGD(net, {lr = cfg.lr, momentum = cfg.momentum})}
end

local rows = {}
for _, lambda in ipairs{0, cfg.lambda} do
  lp.manual_seed(cfg.seed)
  local net = lp.models.build(cfg.model, {data = train, width = cfg.width})
  fit(net, cfg.steps, lambda)
  local trained = accuracy(net)
  local convs = {}
  for _, p in ipairs(net:parameters()) do
    if p.tensor:dim() == 4 then convs[#convs + 1] = p.name end
  end
  lp.prune.prune(net, {score = "bn_scale", structure = "channel", amount = cfg.rate, only = convs, min_per_layer = 1})
  local small = lp.compact(net)
  local pruned = accuracy(small)
  fit(small, cfg.finetune, lambda)
  local s, dense = lp.prune.stats(small), lp.prune.stats(lp.models.build(cfg.model, {data = train, width = cfg.width}))
  rows[#rows + 1] = {lambda == 0 and "no penalty" or string.format("λ = %g", lambda), trained, pruned, accuracy(small),
                     100 * small:parameter_count() / net:parameter_count(), 100 * s.macs / dense.macs}
  lp.log{lambda = lambda, accuracy = rows[#rows][4], params_kept = rows[#rows][5], macs_kept = rows[#rows][6]}
end
lp.table{title = string.format("%s (width %g): %d%% of the conv channels removed by |γ|, compacted, %d fine-tuning steps",
                               cfg.model, cfg.width, math.floor(100 * cfg.rate + 0.5), cfg.finetune),
         columns = {"training", "trained acc %", "pruned acc %", "fine-tuned acc %", "params kept %", "MACs kept %"},
         format = "%.2f", rows = rows}
