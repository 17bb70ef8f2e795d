-- Pruning at initialization: random, magnitude, SNIP (Lee et al. 2019), GraSP (Wang et
-- al. 2020) and SynFlow (Tanaka et al., "Pruning neural networks without any data by
-- iteratively conserving synaptic flow", NeurIPS 2020), over a compression sweep 10^α.
-- Each method prunes the same initial network globally (weights of conv and fc layers),
-- then the pruned network is trained. SynFlow iterates 100 rounds with the exponential
-- schedule and reads no data; GraSP uses 10 samples a class at temperature 200.
-- Layer collapse (a layer with no weight left, or no path from input to output) is
-- reported per method: SynFlow should reach the highest compression without it.
-- Paper: α = 0, 0.25, …, 3 (--set step=0.25); longer training with --set iterations=….
-- One point of a sweep: --set method=snip --set compression=100 --set seed=2, e.g.
--   lopper sweep Recipes/pruning_at_init.lua --grid method=snip,grasp,synflow \
--     --grid compression=1,10,100,1000 --grid seed=1,2,3
local cfg = lp.config{
  data = "fashion_mnist", root = "",  -- or cifar10 / cifar100 (root: its folder; "" = $LOPPER_DATA)
  model = "conv6", width = 0.25,   -- Conv-6 with a quarter of the channels: 9 prunable layers
  methods = {"random", "magnitude", "snip", "grasp", "synflow"},
  method = "",                     -- one method only ("": every one of methods)
  max_alpha = 3, step = 0.5,       -- compression 10^α for α = 0, step, …, max_alpha
  compression = 0.0,               -- one compression only, e.g. 100 or 3.16 (0: the ladder above)
  synflow_rounds = 100,
  iterations = 100,                -- training steps for each pruned network (0: collapse only)
  lr = 1e-3, batch = 60, seed = 1,
}
local train = lp.data.named(cfg.data, {root = cfg.root})
local test = lp.data.named(cfg.data, {root = cfg.root, split = "test"})

local methods = cfg.method ~= "" and {cfg.method} or cfg.methods
local alphas = {}
if cfg.compression ~= 0 then
  if cfg.compression < 1 then error("compression must be at least 1 (10^α; density 1/compression), got " .. cfg.compression) end
  alphas[1] = math.log(cfg.compression, 10)
else
  for a = 0, math.floor(cfg.max_alpha / cfg.step + 0.5) do alphas[#alphas + 1] = a * cfg.step end
end

local rows, critical = {}, {}
local sweep = lp.progress("sweep", #alphas * #methods)
for a, alpha in ipairs(alphas) do
  local row = {string.format("10^%.2f", alpha)}
  for m, method in ipairs(methods) do
    -- A cell per method and compression: a re-run with more methods or α re-uses the rest.
    local r = lp.cell(string.format("%s at 10^%.2f", method, alpha), function()
      lp.manual_seed(cfg.seed)                     -- the same initial weights for every method
      local net = lp.models.build(cfg.model, {width = cfg.width, data = train})
      local report = lp.prune.prune(net, {score = method, density = 10 ^ -alpha, data = train,
        iterations = method == "synflow" and cfg.synflow_rounds or 1})
      local r = {collapsed = #report.collapsed > 0 or report.connected == false, density = report.density,
                 why = #report.collapsed > 0 and table.concat(report.collapsed, ", ") or "no path"}
      if not r.collapsed and cfg.iterations > 0 then
        lp.train{net = net, data = train, optimizer = lp.optim.Adam(net, {lr = cfg.lr}), batch_size = cfg.batch,
                 iterations = cfg.iterations}
        r.acc = 100 * lp.evaluate(net, test).accuracy
      end
      lp.log{method = method, remaining = 100 * report.density, accuracy = r.acc, collapsed = r.collapsed and 1 or 0}
      print(string.format("α = %.2f  %-9s density %.5f  %s%s", alpha, method, r.density,
        r.collapsed and "collapsed" or r.acc and string.format("%.2f", r.acc) or "ok", r.collapsed and "  (" .. r.why .. ")" or ""))
      return r
    end)
    sweep:update((a - 1) * #methods + m, method .. " at 10^" .. alpha)
    if not r.collapsed then critical[method] = alpha end
    row[m + 1] = r.collapsed and "collapsed" or r.acc and string.format("%.2f", r.acc) or "ok"
  end
  rows[#rows + 1] = row
end
sweep:finish()
local columns = {"compression"}
for _, m in ipairs(methods) do columns[#columns + 1] = m end
lp.table{title = string.format("%s (width %g): test accuracy after %d steps, by compression", cfg.model, cfg.width, cfg.iterations),
         columns = columns, rows = rows}
local last = {}
for _, m in ipairs(methods) do
  last[#last + 1] = {m, critical[m] and string.format("10^%.2f", critical[m]) or "none"}
end
lp.table{title = "Highest compression reached without layer collapse:", columns = {"method", "compression"}, rows = last}
