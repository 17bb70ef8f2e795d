-- Train, prune, fine-tune: Han, Pool, Tran & Dally, "Learning both Weights and
-- Connections for Efficient Neural Networks", NeurIPS 2015.
-- Train dense; then repeatedly prune each layer's smallest weights and fine-tune at a
-- tenth of the learning rate. The paper's LeNet-300-100 ends at 12× compression with
-- fc1 8%, fc2 9%, fc3 26% of the weights; each round here moves every layer the same
-- geometric step towards those densities.
local cfg = lp.config{
  data = "fashion_mnist", root = "",  -- or cifar10 / cifar100 (root: its folder; "" = $LOPPER_DATA)
  model = "lenet_300_100", lr = 1.2e-3, batch = 60,
  steps = 3000,            -- dense training
  rounds = 5,              -- prune / fine-tune rounds
  finetune = 1000,         -- fine-tuning steps a round, at lr / 10
  densities = {0.08, 0.09, 0.26},   -- final density of each prunable layer, in order
  seed = 1,
}
local train = lp.data.named(cfg.data, {root = cfg.root})
local test = lp.data.named(cfg.data, {root = cfg.root, split = "test"})
local function accuracy(net) return 100 * lp.evaluate(net, test).accuracy end

lp.manual_seed(cfg.seed)
local net = lp.models.build(cfg.model, {data = train})
local names = lp.prune.prunable(net)
assert(#names == #cfg.densities, "densities: give one per prunable layer: " .. table.concat(names, ", "))
lp.train{net = net, data = train, optimizer = lp.optim.Adam(net, {lr = cfg.lr}), batch_size = cfg.batch, iterations = cfg.steps}
local rows = {{0, 100, accuracy(net)}}

for round = 1, cfg.rounds do
  local per_layer = {}
  for i, name in ipairs(names) do per_layer[name] = cfg.densities[i] ^ (round / cfg.rounds) end
  lp.prune.prune(net, {score = "magnitude", scope = "layer", density = 1, overrides = per_layer})
  local opt = lp.optim.Adam(net, {lr = cfg.lr / 10})
  lp.train{net = net, data = train, optimizer = opt, batch_size = cfg.batch, iterations = cfg.finetune}
  local stats = lp.prune.stats(net)
  rows[#rows + 1] = {round, 100 * stats.density, accuracy(net)}
  lp.log{round = round, remaining = rows[#rows][2], accuracy = rows[#rows][3]}
  for _, l in ipairs(stats.layers) do rows[#rows][#rows[#rows] + 1] = 100 * l.density end
end
local columns = {"round", "remaining %", "test acc %"}
for _, n in ipairs(names) do columns[#columns + 1] = n .. " %" end
lp.table{title = cfg.model .. ": train, prune, fine-tune (Han et al. 2015)", columns = columns, format = "%.2f", rows = rows}
print(lp.prune.stats(net).text)
