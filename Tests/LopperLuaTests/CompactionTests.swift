import XCTest
@testable import LopperLua
import LopperCore

/// `lp.compact`: the thinner network computes what the masked one does, counts what is
/// left, and training carries on from the optimizer's state.
final class CompactionTests: LuaTestCase {
    let close = "local function close(a, b) return (a - b):abs():max():item() < 1e-5 end\n"

    func testLeNet5ChannelsGoWithTheirBiasesAndTheNextLayersColumns() {
        check(close + """
        lp.manual_seed(3)
        local net = lp.models.lenet5()
        lp.prune.prune(net, {score = "l1", structure = "channel", scope = "layer", amount = 0.5, only = {"conv1.weight", "conv2.weight"}})
        local small, report = lp.compact(net)
        local x = lp.randn(4, 1, 28, 28)
        net:eval(); small:eval()
        -- by hand: conv1 3×1×5×5 + 3, conv2 8×3×5×5 + 8, fc1 (8·5·5)×120 + 120, fc2 120×84 + 84, fc3 84×10 + 10
        local hand = 78 + 608 + 24120 + 10164 + 850
        return close(net(x), small(x)) and report.params_after == hand and small:parameter_count() == hand
          and report.params_before == 61706 and small.conv2.weight:size(2) == 3 and small.fc1.weight:size(2) == 200
          and lp.prune.stats(small).macs == 3 * 25 * 784 + 8 * 75 * 100 + 200 * 120 + 120 * 84 + 84 * 10
        """)
    }

    func testAVGGWithBatchNormKeepsItsOutputs() {
        check(close + """
        lp.manual_seed(4)
        local net = lp.models.vgg11{channels = 3, size = 32, width = 0.25}
        lp.prune.prune(net, {score = "l1", structure = "channel", scope = "layer", amount = 0.5, exclude_last = true})
        -- some training so that the batch norms' statistics are not their defaults
        local ys = {}
        for i = 1, 16 do ys[i] = i % 10 + 1 end
        local ds = lp.data.tensors{x = lp.randn(16, 3, 32, 32), y = lp.from(ys)}
        lp.train{net = net, data = ds, optimizer = lp.optim.SGD(net, {lr = 0.01}), batch_size = 8, epochs = 1}
        local small = lp.compact(net)
        local x = lp.randn(3, 3, 32, 32)
        net:eval(); small:eval()
        local bn = small:get("features.1")
        return close(net(x), small(x)) and small:parameter_count() < net:parameter_count() / 3
          and bn:kind() == "BatchNorm2d" and bn.running_mean:size(1) == small:get("features.0").weight:size(1)
        """)
    }

    func testDeadAndUnreadNeuronsOfUnstructuredPruningGo() {
        check(close + """
        lp.manual_seed(5)
        local net = lp.models.lenet_300_100()
        lp.prune.prune(net, {score = "magnitude", density = 0.01, scope = "layer"})
        local small, report = lp.compact(net)
        local x = lp.randn(5, 1, 28, 28)
        return close(net(x), small(x)) and report.layers[1].after < 300 and report.layers[2].after < 100
          and report.layers[3].after == 10
        """)
    }

    func testTrainingCarriesOnFromTheOptimizersState() {
        check(close + """
        lp.manual_seed(6)
        local net = lp.models.lenet5()
        lp.prune.prune(net, {score = "l1", structure = "channel", scope = "layer", amount = 0.5, only = {"conv1.weight", "conv2.weight"}})
        local opt = lp.optim.SGD(net, {lr = 0.05, momentum = 0.9, weight_decay = 1e-4})
        local x, y = lp.randn(8, 1, 28, 28), lp.from{1, 2, 3, 4, 5, 6, 7, 8}
        local function step(n, o) o:zero_grad(); lp.cross_entropy(n(x), y):backward(); o:step() end
        step(net, opt); step(net, opt)                   -- momentum builds up
        local small, _, opt2 = lp.compact(net, {optimizer = opt})
        for _ = 1, 3 do step(net, opt); step(small, opt2) end
        local momentum = opt2:state("conv2.weight").momentum_buffer
        return close(net(x), small(x)) and opt2:iteration() == opt:iteration()
          and momentum:size(1) == small.conv2.weight:size(1) and momentum:size(2) == small.conv2.weight:size(2)
        """)
    }

    func testWhatCannotBeCompactedIsNamed() {
        check(close + """
        lp.manual_seed(7)
        -- rotates the channels: narrow and cat, which Lopper cannot follow
        local Odd = lp.nn.module{forward = function(self, x) return lp.cat({x:narrow(2, 3, 2), x:narrow(2, 1, 2)}, 2) end}
        local net = lp.nn.Sequential{{"conv1", lp.nn.Conv2d(1, 4, 3)}, {"odd", Odd}, {"conv2", lp.nn.Conv2d(4, 4, 3)},
                                     {"relu", lp.nn.ReLU()}, {"flat", lp.nn.Flatten()}, {"fc", lp.nn.Linear(4 * 4 * 4, 2)}}
        lp.prune.prune(net, {score = "l1", structure = "channel", scope = "layer", amount = 0.5, only = {"conv1.weight", "conv2.weight"}})
        local small, report = lp.compact(net, {input = {1, 8, 8}})
        local x = lp.randn(2, 1, 8, 8)
        local dense = lp.compact(lp.models.lenet_300_100())
        local _, plain = lp.compact(lp.models.lenet_300_100())
        return close(net(x), small(x)) and report.notes[1]:find("conv1: 2 removable channels left whole: `narrow`", 1, true) ~= nil
          and small.conv1.weight:size(1) == 4 and small.conv2.weight:size(1) == 2
          and dense:parameter_count() == 266610 and plain.notes[1]:find("no parameter has a mask") ~= nil
        """)
        expectError("lp.compact(lp.nn.Sequential{lp.nn.Linear(2, 2)})", "does not know its input shape")
        expectError("lp.compact(lp.models.lenet5(), {optimizer = 3})", "expected a Optimizer, got number")
    }

    func testSparseLayersComputeWhatDenseOnesDoAndAreChosenByMeasurement() {
        check(close + """
        lp.manual_seed(8)
        local net = lp.nn.Sequential{{"wide", lp.nn.Linear(2000, 2000)}, {"relu", lp.nn.ReLU()}, {"thick", lp.nn.Linear(2000, 512)},
                                     {"out", lp.nn.Linear(512, 10)}}
        lp.prune.prune(net, {score = "magnitude", scope = "layer", overrides = {["wide.weight"] = 0.001, ["thick.weight"] = 0.9,
                                                                               ["out.weight"] = 1}, density = 1})
        local one, report = lp.compact(net, {sparse = true, input = {2000}})
        local by = {}
        for _, s in ipairs(report.sparse) do by[s.name] = s end
        local x = lp.randn(3, 2000)
        local y = lp.no_grad(function() return one(x) end)
        local many = lp.compact(net, {sparse = true, batch = 64, input = {2000}})
        local y64 = lp.no_grad(function() return many(lp.randn(64, 2000)) end)
        -- Each layer's form is the one that timed faster here (at 0.1% of 4M weights, sparse by
        -- far); a dense layer (out) is not timed at all.
        local followed = true
        for _, name in ipairs{"wide", "thick"} do
          followed = followed and by[name].sparse == (by[name].sparse_us < by[name].dense_us)
            and one[name]:kind() == (by[name].sparse and "SparseLinear" or "Linear")
        end
        return close(net(x), y) and by["wide"].sparse and by["out"] == nil and followed and y64:size(1) == 64
          and math.abs(by["wide"].density - 0.001) < 1e-4
        """)
        expectError("local n = lp.nn.Sequential{lp.nn.Linear(4, 4)}; lp.prune.prune(n, {score = 'magnitude', density = 0.01}); " +
                    "local s = lp.compact(n, {sparse = true, input = {4}}); s(lp.ones(1, 4):requires_grad())",
                    "a sparse layer is inference-only")
        expectError("lp.compact(lp.models.lenet5(), {sparse = true, optimizer = lp.optim.SGD(lp.models.lenet5(), {lr = 1})})",
                    "sparse layers are inference-only")
    }

    func testSparseConvolutionsComputeWhatDenseOnesDoAndAreChosenByMeasurement() {
        check(close + """
        lp.manual_seed(10)
        local net = lp.nn.Sequential{{"conv", lp.nn.Conv2d(8, 16, 3, {padding = 1, stride = 2})}, {"relu", lp.nn.ReLU()},
                                     {"flat", lp.nn.Flatten()}, {"fc", lp.nn.Linear(16 * 16 * 16, 4)}}
        lp.prune.prune(net, {score = "magnitude", scope = "layer", overrides = {["conv.weight"] = 0.02, ["fc.weight"] = 1}, density = 1})
        local one, report = lp.compact(net, {sparse = true, input = {8, 32, 32}})
        local by = {}
        for _, s in ipairs(report.sparse) do by[s.name] = s end
        local x = lp.randn(3, 8, 32, 32)
        local y = lp.no_grad(function() return one(x) end)
        return close(net(x), y) and by.conv ~= nil and by.conv.sparse == (by.conv.sparse_us < by.conv.dense_us)
          and one.conv:kind() == (by.conv.sparse and "SparseConv2d" or "Conv2d") and by.fc == nil
          and math.abs(by.conv.density - 0.02) < 2e-3
        """)
        expectError("local c = lp.nn.Conv2d(2, 2, 3); lp.prune.prune(c, {score = 'magnitude', density = 0.1}); " +
                    "local s = lp.compact(lp.nn.Sequential{{'c', c}}, {sparse = true, input = {2, 5, 5}}); s(lp.ones(1, 2, 5, 5):requires_grad())",
                    "inference-only")
    }

    func testResNetBlocksLoseTheirInnerChannelsAndKeepTheTiedOnes() {
        check(close + """
        lp.manual_seed(9)
        local net = lp.models.resnet20{channels = 3, size = 32, width = 0.5}
        -- Li et al.'s ResNet pruning: the first conv of every block, whose outputs only conv2 reads
        local firsts = {}
        for _, name in ipairs(lp.prune.prunable(net)) do
          if name:match("conv1.weight$") and name:match("^blocks") then firsts[#firsts + 1] = name end
        end
        lp.prune.prune(net, {score = "l1", structure = "channel", scope = "layer", amount = 0.5, only = firsts})
        local ys = {}
        for i = 1, 16 do ys[i] = i % 10 + 1 end
        lp.train{net = net, data = lp.data.tensors{x = lp.randn(16, 3, 32, 32), y = lp.from(ys)},
                 optimizer = lp.optim.SGD(net, {lr = 0.01}), batch_size = 8, epochs = 1}
        local small, report = lp.compact(net)
        local x = lp.randn(2, 3, 32, 32)
        net:eval(); small:eval()
        local b = small:get("blocks.3")
        return close(net(x), small(x)) and #firsts == 9 and b.conv1.weight:size(1) == 8 and b.bn1.running_var:size(1) == 8
          and b.conv2.weight:size(2) == 8 and b.conv2.weight:size(1) == 16 and report.params_after < report.params_before
          and #report.notes == 0
        """)
    }
}
