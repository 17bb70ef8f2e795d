-- Filter pruning: Li, Kadav, Durdanovic, Samet & Graf, "Pruning Filters for Efficient
-- ConvNets", ICLR 2017.
-- Train; rank each conv layer's filters by the L1 norm of their weights; remove the
-- smallest (here by mask: the filter, its bias and its BatchNorm channel output zero, as
-- if cut out); fine-tune. Compared with removing the same number of random filters.
local cfg = lp.config{
  data = "fashion_mnist", root = "",  -- or cifar10 / cifar100 (root: its folder; "" = $LOPPER_DATA)
  model = "lenet5", lr = 1e-3, batch = 60,
  steps = 3000,        -- dense training
  rate = 0.5,          -- fraction of each conv layer's filters removed
  finetune = 1000,     -- fine-tuning steps, at the same rate
  seed = 1,
}
local train = lp.data.named(cfg.data, {root = cfg.root})
local test = lp.data.named(cfg.data, {root = cfg.root, split = "test"})
local function accuracy(net) return 100 * lp.evaluate(net, test).accuracy end

lp.manual_seed(cfg.seed)
local net = lp.models.build(cfg.model, {data = train})
lp.train{net = net, data = train, optimizer = lp.optim.Adam(net, {lr = cfg.lr}), batch_size = cfg.batch, iterations = cfg.steps}
local trained = lp.prune.snapshot(net)
local dense = lp.prune.stats(net)
local rows = {{"dense", "-", 100, dense.macs, accuracy(net)}}

local convs = {}                                   -- conv weights: rank 4
for _, p in ipairs(net:parameters()) do
  if p.tensor:dim() == 4 then convs[#convs + 1] = p.name end
end
for _, score in ipairs{"l1", "random"} do
  lp.prune.clear(net)
  lp.prune.rewind(net, trained)
  lp.prune.prune(net, {score = score, structure = "channel", scope = "layer", amount = cfg.rate, only = convs})
  local pruned = accuracy(net)
  lp.train{net = net, data = train, optimizer = lp.optim.Adam(net, {lr = cfg.lr}), batch_size = cfg.batch, iterations = cfg.finetune}
  local stats = lp.prune.stats(net)
  rows[#rows + 1] = {score .. " filters", string.format("%.2f", pruned), 100 * stats.macs_kept / stats.macs, stats.macs_kept, accuracy(net)}
  lp.log{score = score, macs_kept = rows[#rows][3], accuracy = rows[#rows][5], before_finetuning = pruned}
end
lp.table{title = string.format("%s: %d%% of each conv layer's filters removed, %d fine-tuning steps", cfg.model,
                               math.floor(100 * cfg.rate + 0.5), cfg.finetune),
         columns = {"network", "acc before fine-tuning %", "MACs kept %", "MACs", "test acc %"}, format = "%.2f", rows = rows}
