-- A tour of Lopper's tensors, ending in one round of magnitude pruning by hand:
-- the kind of step every recipe in this folder builds on.
--   lopper run Recipes/tensor_tour.lua --set density=0.2 --set seed=7
local cfg = lp.config{ rows = 300, cols = 784, density = 0.2, seed = 1 }
lp.manual_seed(cfg.seed)

-- A weight matrix with Glorot-normal scale, as in LeNet-300-100's first layer.
local std = math.sqrt(2 / (cfg.rows + cfg.cols))
local w = lp.randn(cfg.rows, cfg.cols) * std
print(string.format("weights %s, mean %.4f, std %.4f", table.concat(w:shape(), "x"), w:mean():item(), w:std():item()))

-- Magnitude pruning: keep the largest |w|, zero the rest.
local scores = w:abs()
local keep = math.floor(cfg.density * w:numel() + 0.5)
local threshold = scores:kthvalue(w:numel() - keep)    -- the largest score that is removed
local mask = scores:gt(threshold)
w:mul_(mask)

print(string.format("kept %d of %d weights (%.1f%%), threshold |w| > %.5f",
  w:count_nonzero():item(), w:numel(), 100 * mask:mean():item(), threshold:item()))

-- Per-output-neuron view of what survived: rows with most and fewest weights left.
local per_row = mask:sum(2)
local most, i = per_row:max(1)
local fewest, j = per_row:min(1)
print(string.format("row %d keeps %d weights, row %d keeps %d", i:item(), most:item(), j:item(), fewest:item()))

-- A forward pass through the pruned layer on a batch of 60 random inputs.
local x = lp.rand(60, cfg.cols)
local h = x:matmul(w:t()):relu()
print(string.format("hidden activations %s, %.1f%% active", table.concat(h:shape(), "x"), 100 * h:gt(0):mean():item()))
