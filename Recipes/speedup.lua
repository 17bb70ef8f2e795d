-- What speeds up what: for one model, each kind of pruning at each sparsity, its true
-- parameter and MAC counts and its measured speed-up over the dense network at batch 1 and
-- 64 (random inputs, inference). Masks alone change no arithmetic; channels cut out with
-- lp.compact do; sparse rows (lp.compact{sparse = true}) pay for very sparse Linear layers.
local cfg = lp.config{
  model = "vgg11", width = 0.5, channels = 3, size = 32,   -- CIFAR shapes
  sparsities = {0.5, 0.75, 0.9},
  batches = {1, 64},
  repeats = 10,
  seed = 1,
}
local function build()
  lp.manual_seed(cfg.seed)
  return lp.models.build(cfg.model, {width = cfg.width, channels = cfg.channels, size = cfg.size})
end
local dense = build()
local base = lp.prune.stats(dense)
local function latency(net, batch)
  return lp.benchmark(net, {batch = batch, repeats = cfg.repeats, warmup = 2}).median_ms
end
local dense_ms = {}
for _, b in ipairs(cfg.batches) do dense_ms[b] = latency(dense, b) end

-- Each kind: how to prune `net` to `sparsity`, and the network to time at `batch`.
local kinds = {
  {"unstructured, masks", function(net, s) lp.prune.prune(net, {score = "magnitude", density = 1 - s, scope = "layer"}) end,
   function(net) return net end},
  {"unstructured, sparse rows", function(net, s) lp.prune.prune(net, {score = "magnitude", density = 1 - s, scope = "layer"}) end,
   function(net, batch) return (lp.compact(net, {sparse = true, batch = batch})) end},
  {"channels, compacted", function(net, s)   -- dependency groups: a ResNet's tied channels too
     lp.prune.prune(net, {score = "l1", structure = "group", scope = "layer", amount = s}) end,
   function(net) return (lp.compact(net)) end},
}
local rows = {{"dense", 0, 100, 100, 1, 1}}
local line = lp.progress("speed-up", #kinds * #cfg.sparsities)
for k, kind in ipairs(kinds) do
  for j, s in ipairs(cfg.sparsities) do
    local net = build()
    kind[2](net, s)
    local timed = {}
    for _, b in ipairs(cfg.batches) do timed[b] = kind[3](net, b) end
    local counted = kind[1]:find("compacted") and timed[cfg.batches[1]] or net
    local st = lp.prune.stats(counted)
    -- Nonzero parameters and the MACs of nonzero weights (what a perfect sparse kernel would do)
    local row = {kind[1], 100 * s, 100 * st.total_nonzero / base.total_params, 100 * st.macs_kept / base.macs}
    for _, b in ipairs(cfg.batches) do row[#row + 1] = dense_ms[b] / latency(timed[b], b) end
    rows[#rows + 1] = row
    lp.log{kind = kind[1], sparsity = 100 * s, params = row[3], macs = row[4], speedup_b1 = row[5], speedup_b64 = row[6]}
    line:update((k - 1) * #cfg.sparsities + j)
  end
end
line:finish()
local columns = {"pruning", "sparsity %", "nonzero params %", "MACs %"}
for _, b in ipairs(cfg.batches) do columns[#columns + 1] = "speed-up b" .. b end
lp.table{title = string.format("%s (width %g, %dx%dx%d): measured inference speed-up over dense", cfg.model, cfg.width,
                               cfg.channels, cfg.size, cfg.size),
         columns = columns, format = "%.2f", rows = rows}
