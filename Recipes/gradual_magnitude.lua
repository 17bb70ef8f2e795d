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

local function sparsity(t)
  if t < cfg.start then return nil end
  local k = (t - cfg.start) / cfg.every
  if k ~= math.floor(k) or k > cfg.count then return nil end
  return cfg.final + (cfg.initial - cfg.final) * (1 - k / cfg.count) ^ 3
end

local rows = {}
for _, pruned in ipairs{false, true} do
  lp.manual_seed(cfg.seed)
  local net = lp.models.build(cfg.model, {data = train})
  lp.train{net = net, data = train, optimizer = lp.optim.Adam(net, {lr = cfg.lr}), batch_size = cfg.batch,
    iterations = cfg.steps,
    on_step = function(s)
      local target = pruned and sparsity(s.iteration)
      if target then
        lp.prune.prune(net, {score = "magnitude", scope = "layer", density = 1 - target})
        if (s.iteration - cfg.start) % cfg.every == 0 then lp.log{sparsity = 100 * target, loss = s.loss} end
        if (s.iteration - cfg.start) % (5 * cfg.every) == 0 then
          print(string.format("step %5d  sparsity %.3f  loss %.4f", s.iteration, target, s.loss))
        end
      end
    end}
  local stats = lp.prune.stats(net)
  rows[#rows + 1] = {pruned and "gradual" or "dense", 100 * (1 - stats.density), 100 * lp.evaluate(net, test).accuracy}
end
lp.table{title = string.format("%s, %d steps; pruning from step %d every %d steps, %d times", cfg.model, cfg.steps,
                               cfg.start, cfg.every, cfg.count),
         columns = {"run", "sparsity %", "test acc %"}, format = "%.2f", rows = rows}
