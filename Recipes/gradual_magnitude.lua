-- Gradual magnitude pruning: Zhu & Gupta, "To prune, or not to prune", 2017.
-- During training, every Δt steps from t₀ for n steps of Δt, set each layer's sparsity to
--   s_t = s_f + (s_i − s_f)(1 − (t − t₀)/(nΔt))³
-- by magnitude; training continues after t₀ + nΔt at the final sparsity. The paper finds
-- Δt between 100 and 1000 steps matters little. Compared with a dense run of equal length.
local cfg = lp.config{
  data = "fashion_mnist", root = "",  -- or cifar10 / cifar100 (root: its folder; "" = $LOPPER_DATA)
  model = "lenet_300_100", lr = 1.2e-3, batch = 60,
  steps = 6000,                -- total training steps
  initial = 0.0, final = 0.9,  -- s_i and s_f
  start = 1000, every = 200, count = 15,   -- t₀, Δt, n
  seed = 1,
}
local train = lp.data.named(cfg.data, {root = cfg.root})
local test = lp.data.named(cfg.data, {root = cfg.root, split = "test"})

local rows = {}
for _, pruned in ipairs{false, true} do
  lp.manual_seed(cfg.seed)
  local net = lp.models.build(cfg.model, {data = train})
  -- The schedule is one mask updater: magnitude, layer by layer, from t₀ to t₀ + nΔt.
  local u = pruned and lp.sparse.updater{method = "gradual", density = 1 - cfg.final, initial = cfg.initial,
                                         start = cfg.start, stop = cfg.start + cfg.count * cfg.every, every = cfg.every}
  local shown = 0
  lp.train{net = net, data = train, optimizer = lp.optim.Adam(net, {lr = cfg.lr}), batch_size = cfg.batch,
    iterations = cfg.steps, sparsity = u or nil,
    on_step = function(s)
      if u and u.updates > shown and (u.updates - 1) % 5 == 0 then
        print(string.format("step %5d  sparsity %.3f  loss %.4f", s.iteration, 1 - u.last.density, s.loss))
      end
      shown = u and u.updates or 0
    end}
  local stats = lp.prune.stats(net)
  rows[#rows + 1] = {pruned and "gradual" or "dense", 100 * (1 - stats.density), 100 * lp.evaluate(net, test).accuracy}
end
lp.table{title = string.format("%s, %d steps; pruning from step %d every %d steps, %d times", cfg.model, cfg.steps,
                               cfg.start, cfg.every, cfg.count),
         columns = {"run", "sparsity %", "test acc %"}, format = "%.2f", rows = rows}
