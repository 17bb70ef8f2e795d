-- LeNet-300-100 trained by hand on Fashion-MNIST: forward, loss, backward and an SGD step
-- written out in Lua with tensors and autograd (modules and optimizers come next).
--   lopper run Recipes/mlp_by_hand.lua --set epochs=1 --set lr=0.1
local cfg = lp.config{ epochs = 1, batch = 60, lr = 0.1, seed = 1, limit = 0 }
lp.manual_seed(cfg.seed)

-- Glorot-normal weights and zero biases, as Frankle & Carbin initialise LeNet-300-100.
local function layer(n_in, n_out)
  local w = (lp.randn(n_in, n_out) * math.sqrt(2 / (n_in + n_out))):requires_grad()
  return { w = w, b = lp.zeros(n_out):requires_grad() }
end
local layers = { layer(784, 300), layer(300, 100), layer(100, 10) }

local function forward(x)
  for i, l in ipairs(layers) do
    x = x:matmul(l.w) + l.b
    if i < #layers then x = x:relu() end
  end
  return x
end

local train = lp.data.fashion_mnist{ split = "train" }
local test = lp.data.fashion_mnist{ split = "test" }
local start, seen = lp.clock(), 0
for _ = 1, cfg.epochs do
  for x, y in train:batches(cfg.batch, { shuffle = true, flatten = true }) do
    local loss = forward(x):cross_entropy(y)
    loss:backward()
    lp.no_grad(function()
      for _, l in ipairs(layers) do
        l.w:add_(l.w.grad, -cfg.lr); l.w.grad = nil
        l.b:add_(l.b.grad, -cfg.lr); l.b.grad = nil
      end
    end)
    seen = seen + y:numel()
    if cfg.limit > 0 and seen >= cfg.limit then break end
  end
end
local elapsed = lp.clock() - start

local x, y = test:all{ flatten = true }
local accuracy = lp.no_grad(function() return forward(x):accuracy(y) end)
print(string.format("trained on %d samples in %.2f s (%.0f samples/s); test accuracy %.2f%%",
  seen, elapsed, seen / elapsed, 100 * accuracy))
