-- Fisher pruning: Theis, Korshunova, Tejani & Huszár, "Faster gaze prediction with dense
-- networks and Fisher pruning", 2018; the schedule of Crowley, Gray & Storkey, "A closer
-- look at structured pruning for neural network compression", 2018.
-- Train; then, until `channels` are gone: fine-tune `every` steps, estimate for every conv
-- channel the loss increase of removing it, Δ = 1/(2N) Σₙ (Σ_hw a·∂L/∂a)² − β·(MACs it
-- saves), over `batches` batches, and remove the one lowest across layers. Against L1
-- filter pruning on the same schedule, stopped at the MACs Fisher pruning reached.
local cfg = lp.config{
  data = "fashion_mnist", root = "",  -- or cifar10 / cifar100 (root: its folder; "" = $LOPPER_DATA)
  model = "lenet5", lr = 1e-3, batch = 60,
  steps = 3000,       -- dense training
  channels = 8,       -- channels removed, one at a time
  every = 100,        -- fine-tuning steps before each removal (Crowley et al.: 100)
  batches = 4,        -- batches the Fisher estimate reads
  beta = 0,           -- Theis et al.'s penalty per MAC saved (0: rank by Δ alone)
  finetune = 500,     -- fine-tuning after the last removal
  seed = 1,
}
local train = lp.data.named(cfg.data, {root = cfg.root})
local test = lp.data.named(cfg.data, {root = cfg.root, split = "test"})
local function accuracy(net) return 100 * lp.evaluate(net, test).accuracy end
local function finetune(net, steps)
  if steps > 0 then
    lp.train{net = net, data = train, optimizer = lp.optim.Adam(net, {lr = cfg.lr}), batch_size = cfg.batch, iterations = steps}
  end
end

lp.manual_seed(cfg.seed)
local net = lp.models.build(cfg.model, {data = train})
finetune(net, cfg.steps)
local trained = lp.prune.snapshot(net)
local dense = lp.prune.stats(net)
local rows = {{"dense", 0, 100, dense.macs, accuracy(net)}}

local convs, removable = {}, 0                     -- conv weights (rank 4); channels that may go
for _, p in ipairs(net:parameters()) do
  if p.tensor:dim() == 4 then convs[#convs + 1] = p.name; removable = removable + p.tensor:size(1) - 1 end
end
local function prune_one(score)
  lp.prune.prune(net, {score = score, structure = "channel", count = 1, only = convs, min_per_layer = 1,
                       data = train, batch_size = cfg.batch, batches = cfg.batches, beta = cfg.beta})
end
local function record(name, removed)
  finetune(net, cfg.finetune)
  local s = lp.prune.stats(net)
  rows[#rows + 1] = {name, removed, 100 * s.macs_kept / s.macs, s.macs_kept, accuracy(net)}
  lp.log{method = name, channels_removed = removed, macs_kept = rows[#rows][3], accuracy = rows[#rows][5]}
  return s.macs_kept
end

-- Fisher: one channel every `every` steps.
local line = lp.progress("fisher", cfg.channels, "channels")
for k = 1, cfg.channels do
  finetune(net, cfg.every)
  prune_one("fisher")
  line:update(k)
end
line:finish()
local target = record("fisher", cfg.channels)

-- L1 filters (Li et al. 2017) on the same schedule, until their MACs are no more than Fisher's.
lp.prune.clear(net)
lp.prune.rewind(net, trained)
local removed = 0
repeat
  finetune(net, cfg.every)
  prune_one("l1")
  removed = removed + 1
until lp.prune.stats(net).macs_kept <= target or removed >= removable
record("l1 filters", removed)

lp.table{title = string.format("%s: channels removed one at a time, %d fine-tuning steps apart (β = %g)",
                               cfg.model, cfg.every, cfg.beta),
         columns = {"method", "channels removed", "MACs kept %", "MACs", "test acc %"}, format = "%.2f", rows = rows}
