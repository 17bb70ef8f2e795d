-- Robust pruning at initialisation: Hayou, Ton, Doucet & Teh, "Robust Pruning at
-- Initialization", ICLR 2021.
-- Pruning at initialisation pushes a deep network off the Edge of Chaos (EOC) and it stops
-- training. Their remedies, each a step here:
--   1. start on the EOC: W ~ N(0, σ_w²/fan_in), b ~ N(0, σ_b²); for tanh σ_b = 0.2 gives
--      σ_w ≈ 1.2981 (from σ_w²·E[φ′(√q* z)²] = 1);
--   2. prune at init (layer-wise magnitude, here to 5%);
--   3. rescale each neuron's kept incoming weights so that its input variance is what it
--      was: ρᵢ = √(Σⱼ Wᵢⱼ² / Σⱼ Wᵢⱼ² δᵢⱼ), δ the mask;
--   4. for ResNets, Stable ResNet: each residual branch scaled by 1/√L.
-- A deep tanh MLP and a Stable ResNet, pruned at init and trained with and without step 3.
local cfg = lp.config{
  data = "fashion_mnist", root = "",  -- or cifar10 / cifar100 (root: its folder; "" = $LOPPER_DATA)
  depth = 40, width = 300,            -- the MLP: depth tanh layers of width units
  sigma_w = 1.2981, sigma_b = 0.2,    -- tanh on the EOC
  density = 0.05, score = "magnitude",
  steps = 400, lr = 1e-3, momentum = 0.9, batch = 100,
  resnet = true, resnet_width = 0.25, -- the Stable ResNet-20 (residual_scale = 1/√9 blocks)
  resnet_lr = 0.05,
  seed = 1,
}
local train = lp.data.named(cfg.data, {root = cfg.root})
local test = lp.data.named(cfg.data, {root = cfg.root, split = "test"})
local sample = train:sample_shape()
local inputs = 1
for _, n in ipairs(sample) do inputs = inputs * n end

-- A deep tanh MLP initialised on the Edge of Chaos.
local function eoc_mlp()
  local layers, fan_in = {lp.nn.Flatten()}, inputs
  for l = 1, cfg.depth do
    layers[#layers + 1] = {"fc" .. l, lp.nn.Linear(fan_in, cfg.width)}
    layers[#layers + 1] = {"tanh" .. l, lp.nn.Tanh()}
    fan_in = cfg.width
  end
  layers[#layers + 1] = {"out", lp.nn.Linear(fan_in, train:classes())}
  return lp.nn.init_net(lp.nn.Sequential(layers), function(name)
    if name:match("bias$") then return "normal", {std = cfg.sigma_b} end
    return "kaiming_normal", {gain = cfg.sigma_w}              -- std = σ_w/√fan_in
  end)
end

local function stable_resnet()
  return lp.models.resnet20{data = train, width = cfg.resnet_width, residual_scale = 1 / math.sqrt(9)}
end

-- Step 3: ρᵢ = √(Σⱼ Wᵢⱼ² / Σⱼ Wᵢⱼ² δᵢⱼ) per output row, from the weights before pruning.
local function rescale(net, before)
  lp.no_grad(function()
    for _, name in ipairs(lp.prune.prunable(net)) do
      local w, w0 = net:get(name), before:get(name)
      local rows = w:size(1)
      local full = w0:view(rows, -1):pow(2):sum(2)
      local kept = w:view(rows, -1):pow(2):sum(2)
      w:view(rows, -1):mul_((full / kept:clamp(1e-30)):sqrt():view(rows, 1))
    end
  end)
end

local rows = {}
local function run(label, build, prune, rescaled, lr)
  lp.manual_seed(cfg.seed)
  local net = build()
  local density = 1
  if prune then
    local before = net:clone()
    density = lp.prune.prune(net, {score = cfg.score, density = cfg.density, scope = "layer"}).density
    if rescaled then rescale(net, before) end
  end
  local opt = lp.optim.SGD(net, {lr = lr or cfg.lr, momentum = cfg.momentum})
  local r = lp.train{net = net, data = train, optimizer = opt, batch_size = cfg.batch, iterations = cfg.steps}
  local acc = 100 * lp.evaluate(net, test).accuracy
  rows[#rows + 1] = {label, prune and (rescaled and "pruned + rescaled" or "pruned") or "dense", 100 * density, r.loss, acc}
  lp.log{network = label, variant = rows[#rows][2], density = 100 * density, loss = r.loss, accuracy = acc}
end

local mlp = string.format("tanh MLP %dx%d (EOC)", cfg.depth, cfg.width)
run(mlp, eoc_mlp, false, false)
run(mlp, eoc_mlp, true, false)
run(mlp, eoc_mlp, true, true)
if cfg.resnet then
  run("Stable ResNet-20", stable_resnet, false, false, cfg.resnet_lr)
  run("Stable ResNet-20", stable_resnet, true, false, cfg.resnet_lr)
  run("Stable ResNet-20", stable_resnet, true, true, cfg.resnet_lr)
end
lp.table{title = string.format("Pruned at init to %g%% (%s, layer-wise), then %d SGD steps", 100 * cfg.density, cfg.score, cfg.steps),
         columns = {"network", "variant", "density %", "final loss", "test acc %"}, format = "%.2f", rows = rows}
