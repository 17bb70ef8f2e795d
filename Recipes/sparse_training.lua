-- Sparse training from scratch, at one training budget: a static random mask; SET (Mocanu
-- et al., "Scalable training of artificial neural networks with adaptive sparse
-- connectivity", 2018: Erdős–Rényi, every epoch drop ζ = 0.3 of each layer's smallest
-- weights and regrow at random); RigL (Evci et al., "Rigging the Lottery", 2020: ERK, every
-- ΔT = 100 steps drop α = 0.3 (cosine decay, none after 75% of training) and grow where the
-- dense gradient is largest, new weights at 0); and gradual magnitude pruning from dense
-- (Zhu & Gupta 2017), which pays for dense steps first. Evci et al.'s claim: RigL ≥ SET ≥
-- static at equal density and budget.
-- Paper scale: --set data=cifar10 --set model=resnet20 --set lr=0.1 --set epochs=160.
local cfg = lp.config{
  data = "fashion_mnist", root = "",  -- or cifar10 / cifar100 (root: its folder; "" = $LOPPER_DATA)
  model = "lenet_300_100", lr = 0.05, momentum = 0.9, batch = 100,
  epochs = 3, steps = 0,              -- steps > 0: that many steps instead of epochs
  densities = {0.1, 0.05},
  methods = {"static", "set", "rigl", "gradual"},
  seeds = {1, 2, 3},
  every = 100,                        -- RigL's and gradual's ΔT (SET updates every epoch)
}
local train = lp.data.named(cfg.data, {root = cfg.root})
local test = lp.data.named(cfg.data, {root = cfg.root, split = "test"})

local function run(method, density, seed)
  lp.manual_seed(seed)
  local net = lp.models.build(cfg.model, {data = train})
  local u = lp.sparse.updater{method = method, density = density, every = method == "set" and "epoch" or cfg.every}
  lp.train{net = net, data = train, optimizer = lp.optim.SGD(net, {lr = cfg.lr, momentum = cfg.momentum}),
           batch_size = cfg.batch, epochs = cfg.steps > 0 and nil or cfg.epochs, iterations = cfg.steps > 0 and cfg.steps or nil,
           sparsity = u}
  local acc = 100 * lp.evaluate(net, test).accuracy
  lp.log{method = method, density = density, seed = seed, accuracy = acc, ever_active = u.last and u.last.ever_active}
  return acc, u.last and u.last.ever_active or density, lp.prune.masks(net):density()
end

local rows = {}
for _, density in ipairs(cfg.densities) do
  for _, method in ipairs(cfg.methods) do
    local accs, ever, reached = {}, 0, 0
    for k, seed in ipairs(cfg.seeds) do
      local a, e, r = run(method, density, seed)
      accs[k], ever, reached = a, ever + e / #cfg.seeds, r
    end
    local m, s = lp.eval.mean_std(accs)
    rows[#rows + 1] = {method, 100 * reached, m, s, 100 * ever}
    print(string.format("%-8s density %5.2f%%  %.2f ± %.2f%%", method, 100 * density, m, s))
  end
end
lp.table{title = string.format("%s: sparse training at %s, %d seeds", cfg.model,
                               cfg.steps > 0 and cfg.steps .. " steps" or cfg.epochs .. " epochs", #cfg.seeds),
         columns = {"method", "density %", "test acc %", "± std", "ever active %"}, format = "%.2f", rows = rows}
