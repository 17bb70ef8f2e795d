-- Neuron coresets: Tukan, Mualem, Baykal, Rus & Feldman, "Pruning Neural Networks via
-- Coresets and Convex Geometry: Towards No Assumptions", NeurIPS 2022 (Lopper's reading:
-- lp.prune.coreset). Data-independent: each neuron is the vector of its outgoing weights;
-- its sensitivity is its leverage in the minimum volume enclosing ellipsoid of their ±
-- set; neurons are sampled ∝ sensitivity and the kept ones' outgoing weights rescaled.
-- Against the top neurons by sensitivity, the L1 norm of the outgoing weights, and random
-- neurons, at the same number of neurons kept in every hidden layer; accuracy before and
-- after fine-tuning. The paper reports coresets ahead at high compression.
-- Paper scale (Tukan et al.: VGG-16 on CIFAR-10): --set data=cifar10 --set models=[vgg16] --set width=1.
local cfg = lp.config{
  data = "fashion_mnist", root = "",  -- or cifar10 / cifar100 (root: its folder; "" = $LOPPER_DATA)
  models = {"lenet_300_100", "vgg11"}, width = 0.125,   -- width: the VGG's
  lr = 1e-3, batch = 60,
  steps = 2000,            -- dense training (Adam)
  finetune = 300,          -- fine-tuning steps after pruning
  keep = {0.3, 0.1},       -- fraction of each hidden layer's neurons kept
  methods = {"coreset", "sensitivity top", "outgoing L1", "random"},
  seed = 1,
}
local train = lp.data.named(cfg.data, {root = cfg.root})
local test = lp.data.named(cfg.data, {root = cfg.root, split = "test"})
local function accuracy(net) return 100 * lp.evaluate(net, test).accuracy end

-- The producing layers of every prunable neuron group, in network order, with the layer
-- that reads them.
local function hidden(net)
  local out = {}
  for _, g in ipairs(lp.prune.groups(net)) do
    if g.prunable and #g.producers == 1 and #g.consumers == 1 then
      out[#out + 1] = {name = g.producers[1], reader = g.consumers[1], channels = g.channels}
    end
  end
  return out
end

local function weight(net, name)
  for _, p in ipairs(net:parameters()) do if p.name == name then return p.tensor end end
end

-- Each neuron's score: the L1 norm of its outgoing weights (its columns in the reader).
local function outgoing(net, layer)
  local w, producer = weight(net, layer.reader), weight(net, layer.name)
  local per = w:abs():reshape{w:size(1), layer.channels, -1}:sum(3):sum(1):reshape{layer.channels}
  local shape = {layer.channels}
  for _ = 2, producer:dim() do shape[#shape + 1] = 1 end
  return {[layer.name] = per:reshape(shape):expand(producer:shape()):clone()}
end

-- Hidden neurons left: rows of the producers with a weight.
local function neurons(net, layers)
  local n = 0
  for _, layer in ipairs(layers) do
    n = n + weight(net, layer.name):abs():reshape{layer.channels, -1}:sum(2):gt(0):sum():item()
  end
  return n
end

local function prune(net, method, fraction)
  for _, layer in ipairs(hidden(net)) do
    local k = math.max(1, math.floor(fraction * layer.channels + 0.5))
    if method == "coreset" or method == "sensitivity top" then
      lp.prune.coreset(net, layer.name, k, {deterministic = method == "sensitivity top"})
    else
      lp.prune.prune(net, {score = method == "random" and "random" or function(n) return outgoing(n, layer) end,
                           structure = "channel", only = {layer.name}, density = k / layer.channels})
    end
  end
end

for _, model in ipairs(cfg.models) do
  lp.manual_seed(cfg.seed)
  local net = lp.models.build(model, {data = train, width = model:match("^vgg") and cfg.width or 1})
  lp.train{net = net, data = train, optimizer = lp.optim.Adam(net, {lr = cfg.lr}), batch_size = cfg.batch, iterations = cfg.steps}
  local trained = lp.prune.snapshot(net)
  local layers = hidden(net)
  local rows = {{"dense", string.format("%d", neurons(net, layers)), accuracy(net), "-"}}
  for _, fraction in ipairs(cfg.keep) do
    for _, method in ipairs(cfg.methods) do
      lp.prune.clear(net)
      lp.prune.rewind(net, trained)
      lp.manual_seed(cfg.seed)
      prune(net, method, fraction)
      local left, before = neurons(net, layers), accuracy(net)
      lp.train{net = net, data = train, optimizer = lp.optim.Adam(net, {lr = cfg.lr}), batch_size = cfg.batch,
               iterations = cfg.finetune}
      local after = accuracy(net)
      rows[#rows + 1] = {method, string.format("%d", left), before, after}
      lp.log{model = model, method = method, keep = fraction, before = before, after = after}
    end
  end
  lp.table{title = string.format("%s: %s of each hidden layer's neurons kept, %d fine-tuning steps", model,
                                 table.concat(cfg.keep, " or "), cfg.finetune),
           columns = {"method", "hidden neurons", "acc before fine-tuning %", "after %"}, format = "%.2f", rows = rows}
end
