-- Filter pruning: Li, Kadav, Durdanovic, Samet & Graf, "Pruning Filters for Efficient
-- ConvNets", ICLR 2017.
-- Train; rank each conv layer's filters by the L1 norm of their weights; remove the
-- smallest with their feature maps and the next layer's kernels (the filters' dependency
-- groups: batch norms and consumers' columns go too, so MACs count what goes downstream,
-- and a ResNet's tied filters go together); fine-tune. Compared with removing the same
-- number of random filters. The L1 network is then compacted (the filters physically cut
-- out) and its true parameters, MACs and speed are measured.
local cfg = lp.config{
  data = "fashion_mnist", root = "",  -- or cifar10 / cifar100 (root: its folder; "" = $LOPPER_DATA)
  model = "lenet5", lr = 1e-3, batch = 60,
  steps = 3000,        -- dense training
  rate = 0.5,          -- fraction of each conv layer's filters removed
  finetune = 1000,     -- fine-tuning steps, at the same rate
  bench_batch = 64, repeats = 20,  -- the speed measurement
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
local l1_net
for _, score in ipairs{"l1", "random"} do
  lp.prune.clear(net)
  lp.prune.rewind(net, trained)
  lp.prune.prune(net, {score = score, structure = "group", group_reduce = "producers", scope = "layer",
                       amount = cfg.rate, only = convs})
  local pruned = accuracy(net)
  lp.train{net = net, data = train, optimizer = lp.optim.Adam(net, {lr = cfg.lr}), batch_size = cfg.batch, iterations = cfg.finetune}
  local stats = lp.prune.stats(net)
  rows[#rows + 1] = {score .. " filters", string.format("%.2f", pruned), 100 * stats.macs_kept / stats.macs, stats.macs_kept, accuracy(net)}
  lp.log{score = score, macs_kept = rows[#rows][3], accuracy = rows[#rows][5], before_finetuning = pruned}
  if score == "l1" then l1_net = net:clone() end
end

-- The L1 network with its filters physically removed: same outputs, true counts, speed.
local small = lp.compact(l1_net)
local kept = lp.prune.stats(small)
rows[#rows + 1] = {"l1 compacted", "-", 100 * kept.macs / dense.macs, kept.macs, accuracy(small)}
lp.prune.clear(net)
lp.prune.rewind(net, trained)
local speed = lp.benchmark({{"dense", net}, {"l1 masked", l1_net}, {"l1 compacted", small}},
                           {batch = cfg.bench_batch, repeats = cfg.repeats})
print(string.format("compacted: %d parameters of %d, %d MACs of %d; %.2fx the dense speed at batch %d",
  small:parameter_count(), net:parameter_count(), kept.macs, dense.macs, speed["l1 compacted"].speedup, cfg.bench_batch))
lp.table{title = string.format("%s: %d%% of each conv layer's filters removed, %d fine-tuning steps", cfg.model,
                               math.floor(100 * cfg.rate + 0.5), cfg.finetune),
         columns = {"network", "acc before fine-tuning %", "MACs kept %", "MACs", "test acc %"}, format = "%.2f", rows = rows}
