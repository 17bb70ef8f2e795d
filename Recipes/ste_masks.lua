-- Learned masks with a straight-through estimator: the dense weights are kept and trained
-- (the pruned ones by the straight-through gradient) and each layer's mask is its top |w|
-- again every k steps; SR-STE (Zhou et al., "Learning N:M Fine-grained Structured Sparse
-- Neural Networks From Scratch", ICLR 2021) adds a decay λ_W = 2e-4 on the pruned weights,
-- which keeps the mask from flipping back and forth. Against a static random mask at the
-- same density (lp.sparse.updater{method = "ste"}).
-- Paper scale (CIFAR-10 in place of ImageNet): --set data=cifar10 --set model=resnet20 --set epochs=160.
local cfg = lp.config{
  data = "fashion_mnist", root = "",  -- or cifar10 / cifar100 (root: its folder; "" = $LOPPER_DATA)
  model = "lenet_300_100", lr = 0.05, momentum = 0.9, batch = 100,
  epochs = 3, steps = 0,       -- steps > 0: that many steps instead of epochs
  density = 0.1, every = 1,    -- the mask is recomputed every k steps
  decay = 2e-4,                -- SR-STE's λ_W
  seed = 1,
}
local train = lp.data.named(cfg.data, {root = cfg.root})
local test = lp.data.named(cfg.data, {root = cfg.root, split = "test"})

local rows = {}
for _, run in ipairs{{"static", "static", 0}, {"STE", "ste", 0}, {"SR-STE", "ste", cfg.decay}} do
  lp.manual_seed(cfg.seed)
  local net = lp.models.build(cfg.model, {data = train})
  local u = lp.sparse.updater{method = run[2], density = cfg.density, every = cfg.every, decay_weight = run[3]}
  lp.train{net = net, data = train, optimizer = lp.optim.SGD(net, {lr = cfg.lr, momentum = cfg.momentum}),
           batch_size = cfg.batch, epochs = cfg.steps > 0 and nil or cfg.epochs, iterations = cfg.steps > 0 and cfg.steps or nil,
           sparsity = u}
  local flips = u.last and u.last.dropped or 0
  rows[#rows + 1] = {run[1], 100 * lp.prune.masks(net):density(), 100 * lp.evaluate(net, test).accuracy,
                     string.format("%d", flips), 100 * (u.last and u.last.ever_active or cfg.density)}
end
lp.table{title = string.format("%s at %g%% density: straight-through masks", cfg.model, 100 * cfg.density),
         columns = {"masks", "density %", "test acc %", "last update's flips", "ever active %"}, format = "%.2f", rows = rows}
