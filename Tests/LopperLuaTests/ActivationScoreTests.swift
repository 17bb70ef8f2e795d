import XCTest
@testable import LopperLua
import LopperCore

/// The activation scores (fisher, apoz, activation_norm) and exact-count pruning.
final class ActivationScoreTests: LuaTestCase {
    let setup = """
    lp.manual_seed(21)
    local net = lp.nn.Sequential{ {"conv1", lp.nn.Conv2d(1, 4, 3, {padding = 1})}, {"bn1", lp.nn.BatchNorm2d(4)}, {"relu1", lp.nn.ReLU()},
      {"conv2", lp.nn.Conv2d(4, 6, 3)}, {"relu2", lp.nn.ReLU()}, {"flat", lp.nn.Flatten()}, {"fc", lp.nn.Linear(6 * 4 * 4, 3)} }
    local ys = {}
    for i = 1, 24 do ys[i] = i % 3 + 1 end
    local X, Y = lp.randn(24, 1, 6, 6), lp.from(ys)
    local ds = lp.data.tensors{x = X, y = Y}
    local only = {"conv1.weight", "conv2.weight"}

    """

    func testScoresAreTheCapturedStatisticsAtTheActivation() {
        check(setup + """
        net:eval()   -- batch statistics stay put, so every pass sees the same network
        -- one batch of all 24 samples: the order a shuffle gives changes no per-sample sum
        local opts = {data = ds, batch_size = 24, batches = 1, only = only}
        local fisher = lp.prune.score(net, "fisher", opts)
        local apoz = lp.prune.score(net, "apoz", opts)
        local norm = lp.prune.score(net, "activation_norm", opts)
        -- by hand: captured after bn1 (relu1 follows it) and after relu2
        local got = lp.nn.capture(net, {"relu1", "relu2"}, function() lp.cross_entropy(net(X), Y):backward() end)
        local function per_channel(t) return (t:view(t:size(1), -1):max(2)) end
        local function close(a, b) return (a - b):abs():max():item() <= 1e-5 * math.max(1, b:abs():max():item()) end
        local broadcast = fisher["conv2.weight"]:view(6, -1):min(2):equal(per_channel(fisher["conv2.weight"]))
        return close(per_channel(fisher["conv1.weight"]), got.relu1.fisher) and close(per_channel(fisher["conv2.weight"]), got.relu2.fisher)
          and close(per_channel(apoz["conv1.weight"]), 1 - got.relu1.nonpositive) and close(per_channel(apoz["conv2.weight"]), 1 - got.relu2.zeros)
          and close(per_channel(norm["conv2.weight"]), got.relu2.mean_sq:sqrt()) and broadcast
        """)
    }

    func testCountRemovesExactlyKChannelsAcrossLayers() {
        check(setup + """
        local r = lp.prune.prune(net, {score = "fisher", structure = "channel", count = 3, data = ds, batch_size = 8, only = only})
        local removed = 0
        for _, name in ipairs(only) do
          local m = net:get(name).mask
          if m then removed = removed + m:view(m:size(1), -1):max(2):eq(0):sum():item() end
        end
        r = lp.prune.prune(net, {score = "apoz", structure = "channel", count = 2, data = ds, batch_size = 8, only = only})
        local removed2 = 0
        for _, name in ipairs(only) do
          local m = net:get(name).mask
          if m then removed2 = removed2 + m:view(m:size(1), -1):max(2):eq(0):sum():item() end
        end
        -- unstructured counts are exact too
        local fc = lp.models.lenet_300_100()
        lp.prune.prune(fc, {score = "magnitude", count = 1234})
        local kept, total = lp.prune.masks(fc):count()
        return removed == 3 and removed2 == 5 and total - kept == 1234
        """)
    }

    func testTheFlopPenaltyShiftsFisherByTheChannelsCost() {
        check(setup + """
        net:eval()
        lp.manual_seed(4); local plain = lp.prune.score(net, "fisher", {data = ds, batch_size = 8, only = only})
        lp.manual_seed(4); local paid = lp.prune.score(net, "fisher", {data = ds, batch_size = 8, only = only, beta = 1e-3})
        -- conv1's channel: 9 MACs × 36 positions itself, and conv2's 6×9 × 16 positions
        local d1 = (plain["conv1.weight"] - paid["conv1.weight"]):max():item()
        -- conv2's channel: 36 × 16 itself, and fc's 3 × 16
        local d2 = (plain["conv2.weight"] - paid["conv2.weight"]):max():item()
        return math.abs(d1 - 1e-3 * (9 * 36 + 54 * 16)) < 1e-4 and math.abs(d2 - 1e-3 * (36 * 16 + 48)) < 1e-4
        """)
    }

    func testActivationScoreMistakes() {
        let s = setup.replacingOccurrences(of: "\n", with: " ")
        expectError(s + "lp.prune.prune(net, {score = 'fisher', amount = 0.5, data = ds})", "score 'fisher' ranks channels by their outputs: give structure = \"channel\"")
        expectError(s + "lp.prune.prune(net, {score = 'fisher', structure = 'channel', count = 99, data = ds, only = only})", "count 99 is more than the 10 channels left")
        expectError(s + "lp.prune.prune(net, {score = 'magnitude', count = 2, scope = 'layer'})", "count chooses across all layers")
        expectError(s + "lp.prune.score(net, 'apoz')", "needs data")
    }
}

/// N:M structured sparsity.
final class NofMTests: LuaTestCase {
    func testEachGroupOfMKeepsItsNLargest() {
        check("""
        lp.manual_seed(12)
        local net = lp.models.lenet_300_100()
        local w0 = net.fc2.weight:clone()
        local r = lp.prune.prune(net, {score = "magnitude", structure = "2:4"})
        local m = net.fc2.weight.mask:view(100, 75, 4)                 -- groups of 4 inputs
        local per_group = m:sum(3)
        -- the kept pair of each group is the pair of largest |w|
        local a = w0:abs():view(100, 75, 4)
        local kept_min = (a * m + (1 - m) * 1e9):min(3)               -- smallest kept
        local dropped_max = (a * (1 - m)):max(3)                      -- largest dropped
        return per_group:eq(2):sum():item() == 100 * 75 and (kept_min - dropped_max):min():item() >= 0
          and math.abs(r.density - 0.5) < 1e-9
        """)
        // Convolutions group input channels at each kernel position; masked weights stay out.
        check("""
        lp.manual_seed(13)
        local net = lp.nn.Sequential{{"conv", lp.nn.Conv2d(8, 4, 3)}}
        lp.prune.prune(net, {score = "magnitude", structure = "4:8"})
        local m = net.conv.weight.mask                                    -- [4, 8, 3, 3]
        local ok = m:sum(2):eq(4):sum():item() == 4 * 3 * 3
        lp.prune.prune(net, {score = "magnitude", structure = "2:8"})   -- of the 4 left, 2
        return ok and net.conv.weight.mask:sum(2):eq(2):sum():item() == 4 * 3 * 3
        """)
        expectError("lp.prune.prune(lp.models.lenet5(), {score = 'magnitude', structure = '2:4'})",
                    "2:4 groups 4 inputs at a time, but conv1.weight has 1 inputs")
        expectError("lp.prune.prune(lp.models.lenet_300_100(), {score = 'magnitude', structure = '2:4', density = 0.5})",
                    "2:4 sparsity keeps 2 of every 4: give no amount, density or count")
        expectError("lp.prune.prune(lp.models.lenet_300_100(), {score = 'magnitude', structure = '4:2'})", "expected N:M with 1 ≤ N < M ≤ 64")
    }
}
