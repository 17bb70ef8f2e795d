-- Dense baseline: train a zoo model on Fashion-MNIST and report test accuracy.
-- The reference settings of the learning issue (PyTorch on this machine kind, 10 epochs,
-- batch 60, Adam, no augmentation): LeNet-300-100 lr 1.2e-3 → 88.8%, LeNet-5 lr 1e-3 → 89.8%.
--
--   lopper run Recipes/dense.lua                                   -- LeNet-300-100, seed 1
--   lopper run Recipes/dense.lua --set model=lenet5 --set seeds=3  -- three seeds, mean
local cfg = lp.config{
  data = "fashion_mnist", root = "",  -- or cifar10 / cifar100 (root: its folder; "" = $LOPPER_DATA)
  model = "lenet_300_100",  -- any zoo name: lenet_300_100, lenet5, conv2, conv4, conv6, vgg11, resnet20 …
  optimizer = "adam",       -- adam | sgd
  lr = 0,                   -- 0: the reference rate for the model (1.2e-3, LeNet-5 1e-3; SGD 0.1)
  momentum = 0.0,           -- SGD only
  batch = 60,
  epochs = 10,
  iterations = 0,           -- if > 0, stop after this many steps (quick checks)
  seeds = 1,                -- runs seeds 1..seeds and reports their mean
  validation = 0,           -- hold out the last N training images (Frankle & Carbin: 5000)
}

local lr = cfg.lr
if lr == 0 then lr = cfg.optimizer == "sgd" and 0.1 or (cfg.model == "lenet_300_100" and 1.2e-3 or 1e-3) end

local train, val = lp.data.named(cfg.data, {root = cfg.root, validation = cfg.validation})
local test = lp.data.named(cfg.data, {root = cfg.root, split = "test"})

local results = {}
for seed = 1, cfg.seeds do
  -- One cell per seed: adding seeds re-uses the ones already trained.
  results[seed] = lp.cell("seed " .. seed, function()
    lp.manual_seed(seed)
    local net = lp.models.build(cfg.model, {data = train})
    local opt = cfg.optimizer == "sgd" and lp.optim.SGD(net, {lr = lr, momentum = cfg.momentum})
                                        or lp.optim.Adam(net, {lr = lr})
    local run = lp.train{net = net, data = train, optimizer = opt, batch_size = cfg.batch, epochs = cfg.epochs,
      iterations = cfg.iterations > 0 and cfg.iterations or nil,
      on_epoch = function(e)
        local v = val and 100 * lp.evaluate(net, val).accuracy
        lp.log{seed = seed, epoch = e.epoch, loss = e.mean_loss, val_accuracy = v}
        print(string.format("seed %d  epoch %2d  loss %.4f  %6.0f samples/s%s", seed, e.epoch, e.mean_loss,
          e.samples / e.seconds, v and string.format("  val %.2f%%", v) or ""))
      end}
    local score = lp.evaluate(net, test)
    print(string.format("seed %d: test accuracy %.2f%%, loss %.4f (%.1f s, %.0f samples/s)",
      seed, 100 * score.accuracy, score.loss, run.seconds, run.samples / run.seconds))
    return score.accuracy
  end)
end

local sum = 0
for _, a in ipairs(results) do sum = sum + a end
local length = cfg.iterations > 0 and (cfg.iterations .. " steps") or (cfg.epochs .. " epochs")
print(string.format("%s, %s lr %g, batch %d, %s: mean test accuracy %.2f%% over %d seed(s)",
  cfg.model, cfg.optimizer, lr, cfg.batch, length, 100 * sum / #results, #results))
