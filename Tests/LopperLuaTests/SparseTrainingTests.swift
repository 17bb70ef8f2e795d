import XCTest
@testable import LopperLua
import LopperCore

/// `lp.sparse.updater` and `lp.penalty`: each updater on a tiny network — exact counts,
/// what is dropped and grown, its schedule's formula — and the penalties' gradients against
/// finite differences.
final class SparseTrainingTests: LuaTestCase {
    let data = """
    local ys = {}
    for i = 1, 48 do ys[i] = i % 4 + 1 end
    local data = lp.data.tensors{x = lp.randn(48, 1, 8, 8), y = lp.from(ys)}
    local function mlp() return lp.nn.Sequential{{"flat", lp.nn.Flatten()}, {"fc1", lp.nn.Linear(64, 32)}, {"relu", lp.nn.ReLU()},
                                                 {"fc2", lp.nn.Linear(32, 4)}} end
    local function counts(net)
      local out = {}
      for _, l in ipairs(lp.prune.masks(net):layers()) do out[#out + 1] = l.kept end
      return table.concat(out, " ")
    end

    """

    func testRigLDropsTheSmallestWeightsAndGrowsTheLargestGradients() {
        check("""
        local net = lp.nn.Sequential{{"fc", lp.nn.Linear(4, 2, {bias = false})}}
        lp.masks{["fc.weight"] = lp.from{{1, 1, 1, 1}, {0, 0, 0, 0}}}:apply(net)
        local opt = lp.optim.SGD(net, {lr = 0.1, momentum = 0.9})
        net(lp.ones(1, 4)):sum():backward()
        opt:step()                                       -- momentum on the active weights
        lp.no_grad(function() net.fc.weight:copy_(lp.from{{0.1, -0.2, 0.3, -0.4}, {0, 0, 0, 0}}) end)
        opt:zero_grad()
        -- the gradient is C: small on the active weights, 0.4 and 0.3 largest among the others
        local C = lp.from{{0.01, 0.02, 0.03, 0.04}, {0.1, 0.4, 0.3, 0.2}}
        local loss = (net.fc.weight * C):sum()
        loss:backward()
        local u = lp.sparse.updater{method = "rigl", density = 0.5, init = "keep", every = 1, fraction = 0.5, decay = "constant", log = false}
        u:start(net, opt, {total = 10})
        u:step(net, opt, opt:iteration() + 1)
        local w, m = net.fc.weight, net.fc.weight.mask
        local momentum = opt:state("fc.weight").momentum_buffer
        return m:equal(lp.from{{0, 0, 1, 1}, {0, 1, 1, 0}}) and w:equal(lp.from{{0, 0, 0.3, -0.4}, {0, 0, 0, 0}})
          and momentum[1][1] == 0 and momentum[1][2] == 0 and momentum[1][3] ~= 0 and momentum[2][2] == 0
          and u.last.dropped == 2 and u.last.grown == 2 and u.last.overlap == 0.5 and u.last.ever_active == 0.75
        """)
    }

    func testALuaWrittenDropScoreWorksLikeABuiltIn() {
        check(data + """
        -- dropping the largest |w| instead (a score written here) with no regrowth: the updater
        -- removes exactly the active weights that score lowest, i.e. the largest ones
        lp.manual_seed(8)
        local net = mlp()
        local opt = lp.optim.SGD(net, {lr = 0.05})
        local inverse = function(n, names)
          local out = {}
          for _, p in ipairs(n:parameters()) do
            for _, name in ipairs(names) do if p.name == name then out[name] = -p.tensor:abs() end end
          end
          return out
        end
        local first
        local u = lp.sparse.updater{method = "set", density = 0.5, fraction = 0.25, every = 1, drop = inverse,
                                    grow = function() return {["fc1.weight"] = 1 - first} end, log = false, only = {"fc1.weight"}}
        u:start(net, opt, {total = 4})
        first = net.fc1.weight.mask                      -- grow where the first mask was 0
        local w = net.fc1.weight:clone()
        local largest = (w:abs() * net.fc1.weight.mask):max():item()
        net(lp.randn(2, 1, 8, 8)):sum():backward()
        u:step(net, opt, 1)
        local after = net.fc1.weight.mask
        -- the largest active weight was dropped, and grown back only where the first mask was 0
        local at = (w:abs():eq(largest) * after):sum():item()
        return u.last.dropped == 256 and u.last.grown == 256 and after:sum():item() == 1024 and at == 0
          and (after * first):sum():item() == 768
        """)
    }

    func testSETKeepsEveryLayersCountAndItsRandomGrowFollowsTheSeed() {
        check(data + """
        local function run(seed)
          lp.manual_seed(seed)
          local net = mlp()
          local u = lp.sparse.updater{method = "set", density = 0.2, log = false}
          lp.train{net = net, data = data, optimizer = lp.optim.SGD(net, {lr = 0.05, momentum = 0.9}), batch_size = 12,
                   epochs = 3, sparsity = u}
          return net, u
        end
        local a, ua = run(1)
        local b = run(1)
        local c = run(2)
        local start = lp.prune.masks(mlp())  -- (unmasked: all kept)
        lp.manual_seed(1)
        local fresh = mlp()
        lp.prune.prune(fresh, {score = "random", density = 0.2, allocation = "er"})
        return lp.prune.masks(a):jaccard(lp.prune.masks(b)) == 1 and lp.prune.masks(a):jaccard(lp.prune.masks(c)) < 1
          and counts(a) == counts(fresh) and ua.updates == 2 and ua.last.fraction == 0.3 and ua.last.overlap < 1
          and ua.last.ever_active > lp.prune.masks(a):density() and start:density() == 1
        """)
    }

    func testRigLAndGradualSchedulesFollowTheirFormulas() {
        check(data + """
        lp.manual_seed(3)
        local net = mlp()
        local fractions = {}
        local u = lp.sparse.updater{method = "rigl", density = 0.3, every = 2, log = false}
        lp.train{net = net, data = data, optimizer = lp.optim.SGD(net, {lr = 0.05}), batch_size = 12, iterations = 20, sparsity = u,
                 on_step = function(s) if u.last then fractions[u.last.step] = u.last.fraction end end}
        local ok = u.updates == 7                            -- steps 2, 4, …, 14: stop = 0.75 · 20 = 15
        for t = 2, 14, 2 do ok = ok and math.abs(fractions[t] - 0.3 / 2 * (1 + math.cos(math.pi * t / 15))) < 1e-12 end
        local g = mlp()
        local densities = {}
        local v = lp.sparse.updater{method = "gradual", density = 0.2, every = 2, stop = 10, log = false}
        lp.train{net = g, data = data, optimizer = lp.optim.SGD(g, {lr = 0.05}), batch_size = 12, iterations = 14, sparsity = v,
                 on_step = function() if v.last then densities[v.last.step] = v.last.density end end}
        for t = 0, 10, 2 do
          local s = 0.8 + (0 - 0.8) * (1 - t / 10) ^ 3
          ok = ok and math.abs(densities[t] - (1 - s)) < 2e-3
        end
        return ok and v.updates == 6 and math.abs(lp.prune.masks(g):density() - 0.2) < 1e-3
        """)
    }

    func testSTEKeepsTrainingThePrunedWeightsAndMovesTheMask() {
        check(data + """
        lp.manual_seed(4)
        local net = mlp()
        local u = lp.sparse.updater{method = "ste", density = 0.25, every = 3, decay_weight = 2e-4, log = false}
        local opt = lp.optim.SGD(net, {lr = 0.1})
        u:start(net, opt, {total = 12})                 -- lp.train's start then does nothing
        local before, pruned = u.dense[1]:clone(), 1 - net.fc1.weight.mask
        lp.train{net = net, data = data, optimizer = opt, batch_size = 12, iterations = 12, sparsity = u}
        local w, m = net.fc1.weight, net.fc1.weight.mask
        return ((u.dense[1] - before) * pruned):abs():sum():item() > 0 and m:sum():item() == math.floor(0.25 * 64 * 32 + 0.5)
          and u.updates == 3 and u.last.ever_active > 0.25 and (w * (1 - m)):abs():sum():item() == 0
          and (u.dense[1] * (1 - m)):abs():sum():item() > 0
        """)
    }

    func testSoftFilterZeroesFiltersThatTrainAgainUntilTheEnd() {
        check(data + """
        lp.manual_seed(5)
        local net = lp.nn.Sequential{{"conv", lp.nn.Conv2d(1, 8, 3)}, {"relu", lp.nn.ReLU()}, {"flat", lp.nn.Flatten()},
                                     {"fc", lp.nn.Linear(8 * 36, 4)}}
        local function zero_rows()
          local z = 0
          for _, r in ipairs(net.conv.weight:abs():reshape{8, -1}:sum(2):reshape{8}:totable()) do if r == 0 then z = z + 1 end end
          return z
        end
        local u = lp.sparse.updater{method = "soft_filter", density = 0.75, log = false}
        local opt = lp.optim.SGD(net, {lr = 0.05})
        u:start(net, opt, {total = 8, per_epoch = 4})
        local x, y = lp.randn(12, 1, 8, 8), lp.from{1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4}
        local seen = {}
        for t = 0, 7 do
          opt:zero_grad()
          lp.cross_entropy(net(x), y):backward()
          u:step(net, opt, t)
          local zeroed = zero_rows()
          opt:step()
          seen[#seen + 1] = zeroed .. "/" .. zero_rows()
        end
        u:finish(net)
        return table.concat(seen, " ") == "0/0 0/0 0/0 0/0 2/0 0/0 0/0 0/0" and u.updates == 1 and net.conv.weight.mask ~= nil
          and zero_rows() == 2 and net.fc.weight.mask == nil
        """)
    }

    func testPenaltiesMatchFiniteDifferencesAndProximalStepsShrinkByHand() {
        check("""
        local net = lp.nn.Sequential{{"fc", lp.nn.Linear(3, 2)}, {"bn", lp.nn.BatchNorm1d(2)}, {"out", lp.nn.Linear(2, 2)}}
        lp.no_grad(function()
          net.fc.weight:copy_(lp.from{{0.5, -1, 2}, {-0.3, 0.7, 1.1}})
          net.bn.weight:copy_(lp.from{0.8, -0.6})
        end)
        -- Central differences of f at every entry of the flattened t, against t.grad.
        local function agrees(f, t)
          net:zero_grad()
          f():backward()
          local flat, g = t:reshape{-1}, t.grad:reshape{-1}
          for i = 1, t:numel() do
            local saved, up, down = flat[i]
            lp.no_grad(function()
              flat[i] = saved + 1e-3; up = f():item()
              flat[i] = saved - 1e-3; down = f():item()
              flat[i] = saved
            end)
            if math.abs((up - down) / 2e-3 - g[i]) > 2e-3 then return false end
          end
          return true
        end
        local l1 = function() return lp.penalty.l1(net, 0.3) end
        local lasso = function() return lp.penalty.group_lasso(net, {structure = "channel"}, 0.7) end
        local bn = function() return lp.penalty.bn_l1(net, 0.5) end
        -- by hand: ‖(0.5, −1, 2)‖ = 2.2913, so row 1 shrinks by 1 − 1.5/2.2913; row 2's norm 1.3379 goes
        local w = lp.from{{0.5, -1, 2}, {-0.3, 0.7, 1.1}}
        local zero = lp.penalty.prox_group_lasso({w}, 1.5)
        local s = 1 - 1.5 / math.sqrt(0.25 + 1 + 4)
        local v = lp.from{0.5, -0.05, -2}
        return agrees(l1, net.fc.weight) and agrees(l1, net.out.weight) and agrees(lasso, net.fc.weight)
          and agrees(lasso, net.out.weight) and agrees(bn, net.bn.weight)
          and math.abs(l1():item() - 0.3 * (3.5 + 2.1 + net.out.weight:abs():sum():item())) < 1e-5
          and math.abs(bn():item() - 0.5 * 1.4) < 1e-6
          and zero == 1 and w:allclose(lp.from{{0.5 * s, -s, 2 * s}, {0, 0, 0}}, 1e-5, 1e-6)
          and lp.penalty.prox_l1({v}, 0.1) == 1 and v:allclose(lp.from{0.4, 0, -1.9})
          and lp.penalty.prox_l1(net, 10, {bn = true}) == 2 and net.bn.weight:abs():sum():item() == 0
        """)
    }

    func testTrainAddsTheRegularizerAndRefusesWhatIsNotAnUpdater() {
        check(data + """
        local function once(reg)
          lp.manual_seed(6)
          local net = mlp()
          return lp.train{net = net, data = data, optimizer = lp.optim.SGD(net, {lr = 0}), batch_size = 12, iterations = 1,
                          shuffle = false, regularizer = reg}.loss
        end
        local plain = once(nil)
        local with = once(function(net) return lp.penalty.l1(net, 0) + 5 end)
        return math.abs(with - plain - 5) < 1e-5
        """)
        let setup = "local net = lp.nn.Sequential{lp.nn.Flatten(), lp.nn.Linear(64, 4)}; local d = lp.data.tensors{x = lp.randn(4, 1, 8, 8), y = lp.from{1, 2, 3, 4}}; "
        let train = "lp.train{net = net, data = d, optimizer = lp.optim.SGD(net, {lr = 0.1}), iterations = 1, "
        expectError(setup + train + "sparsity = 3}", "expected sparsity to be a mask updater")
        // a call that fails its own checks leaves the network unmasked
        check(setup + "local u = lp.sparse.updater{density = 0.1}; " +
              "local ok = pcall(lp.train, {net = net, data = d, optimizer = lp.optim.SGD(net, {lr = 0.1}), iterations = 1, batch_size = 0, sparsity = u}); " +
              "return not ok and u.updates == 0 and lp.prune.masks(net):density() == 1")
        expectError(setup + train + "sparsity = {}}", "sparsity: the updater has no step method")
        expectError(setup + train + "regularizer = function() return 1 end}", "the regularizer returned number, expected a tensor")
        expectError(setup + train + "regularizer = function() return lp.ones(2) end}", "the regularizer must give one number, got shape [2]")
        expectError("lp.sparse.updater{method = 'lottery', density = 0.1}", "unknown method 'lottery' (known: static, set, rigl, gradual, ste, soft_filter)")
        expectError("lp.sparse.updater{density = 1.5}", "expected density in (0, 1], got 1.5")
        expectError("lp.sparse.updater{density = 0.5, evry = 2}", "unknown option 'evry' (known:")
        expectError("lp.sparse.updater{density = 0.5, decay = 'linear'}", "unknown decay 'linear'")
        expectError("lp.penalty.l1(lp.nn.Linear(2, 2), -1)", "expected a non-negative strength, got -1")
        expectError("lp.penalty.group_lasso(lp.nn.Linear(2, 2), {structure = 'group'}, 1)", "unknown structure 'group'")
        expectError("lp.penalty.l1({3}, 1)", "entry 1 is a number, expected a tensor")
        expectError("lp.penalty.prox_group_lasso(lp.ones(1):sum(), 2)", "entry 1 is a 0-d tensor")
        // an op's error inside names the function the script called, at the script's line
        expectError("lp.penalty.prox_l1({lp.ones(1):expand(3)}, 0.1)", "snippet:1: penalty.prox_l1: copy_: in-place write to an expanded tensor")
    }
}
