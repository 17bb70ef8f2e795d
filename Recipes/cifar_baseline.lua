-- Dense CIFAR baselines: the networks the pruning papers start from, trained as they train
-- them. He et al. 2016 (CIFAR ResNets) and OpenLTH's cifar_resnet_20 / cifar_vgg_16:
-- SGD 0.1, momentum 0.9, weight decay 1e-4, batch 128, random 32x32 crops of the image
-- padded by 4 and horizontal flips, 160 epochs with the rate ÷10 at epochs 80 and 120
-- (or cosine annealing). Reference: ResNet-20 ≈ 91.7% on CIFAR-10 (He et al.).
-- CIFAR is not in Debian: copy the binary distribution (cifar-10-batches-bin/) to a disk.
--   lopper run Recipes/cifar_baseline.lua --set root=/data/cifar-10-batches-bin
--   lopper run Recipes/cifar_baseline.lua --set "models=[resnet20,vgg16]" --set schedule=cosine
--   lopper run Recipes/cifar_baseline.lua --set data=cifar100 --set root=/data/cifar-100-binary
local cfg = lp.config{
  data = "cifar10", root = "",  -- cifar10 | cifar100 (root "": $LOPPER_DATA/<the distribution's folder>)
  models = {"resnet20"},        -- any zoo names: resnet20, resnet56, vgg11, vgg16, conv6 …
  width = 1.0,                  -- multiplies every layer's channels (0.25 for a quick look)
  epochs = 160, batch = 128,
  lr = 0.1, momentum = 0.9, weight_decay = 1e-4,
  schedule = "multistep",       -- multistep (÷10 at 50% and 75% of training) | cosine
  augment = true,               -- the standard crops and flips
  eval_every = 1,               -- epochs between test evaluations
  seed = 1,
}
local train = lp.data.named(cfg.data, {root = cfg.root, augment = cfg.augment and "cifar" or nil})
local test = lp.data.named(cfg.data, {root = cfg.root, split = "test"})
local steps = cfg.epochs * math.ceil(#train / cfg.batch)

local function schedule()
  if cfg.schedule == "cosine" then return lp.schedule.cosine{total = steps} end
  if cfg.schedule ~= "multistep" then error("schedule must be multistep or cosine, got " .. cfg.schedule) end
  return lp.schedule.multistep{milestones = {steps // 2, steps * 3 // 4}, gamma = 0.1}
end

local rows = {}
for _, model in ipairs(cfg.models) do
  -- A cell per model: adding a model to the list re-uses those already trained.
  local r = lp.cell("dense " .. model, function()
    lp.manual_seed(cfg.seed)
    local net = lp.models.build(model, {data = train, width = cfg.width})
    local opt = lp.optim.SGD(net, {lr = cfg.lr, momentum = cfg.momentum, weight_decay = cfg.weight_decay,
                                   schedule = schedule()})
    local acc, seconds = 0, 0
    lp.train{net = net, data = train, optimizer = opt, batch_size = cfg.batch, epochs = cfg.epochs,
      on_epoch = function(e)
        seconds = seconds + e.seconds
        if e.epoch % cfg.eval_every == 0 or e.epoch == cfg.epochs then
          acc = 100 * lp.evaluate(net, test).accuracy
          lp.log{model = model, epoch = e.epoch, loss = e.mean_loss, accuracy = acc, seconds = e.seconds}
          print(string.format("%s epoch %3d  loss %.4f  test %.2f%%  %.1f s", model, e.epoch, e.mean_loss, acc, e.seconds))
        end
      end}
    return {params = net:parameter_count(), acc = acc, per_epoch = seconds / cfg.epochs}
  end)
  rows[#rows + 1] = {model, r.params, r.acc, r.per_epoch}
end

lp.table{title = string.format("%s, %d epochs, batch %d, SGD %g (%s):", cfg.data, cfg.epochs, cfg.batch, cfg.lr, cfg.schedule),
         columns = {"model", "parameters", "test acc %", "s / epoch"}, format = "%.2f", rows = rows}
