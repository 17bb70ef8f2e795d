import XCTest
@testable import LopperLua

/// `lp.prune` and mask sets from Lua: what a recipe writer touches, and the errors.
final class PruneSurfaceTests: LuaTestCase {
    let mlp = """
    lp.manual_seed(1)
    local net = lp.nn.Sequential{ {"fc1", lp.nn.Linear(8, 6)}, lp.nn.ReLU(), {"fc2", lp.nn.Linear(6, 3)} }
    """

    func testPruneReportsMasksAndStatistics() {
        check(mlp + """
        local r = lp.prune.prune(net, {score = "magnitude", amount = 0.5, scope = "layer"})
        local m = lp.prune.masks(net)
        local kept, total = m:count()
        local s = lp.prune.stats(net)
        return kept == 33 and total == 66 and r.density == 0.5 and #r.layers == 2 and r.layers[1].kept == 24
          and (net.fc1.weight * (1 - m["fc1.weight"])):abs():sum():item() == 0
          and s.nonzero == 33 and s.macs == 66 and s.macs_kept == 33 and s.text:find("fc2.weight") ~= nil
          and tostring(m):find("33 of 66") ~= nil
        """)
    }

    func testLuaScoresWorkLikeBuiltInOnes() {
        check(mlp + """
        local calls = 0
        local function by_magnitude(n, names)
          calls = calls + 1
          local s = {}
          for _, name in ipairs(names) do s[name] = n:get(name):abs() end
          return s
        end
        local a = lp.prune.score(net, "magnitude")
        lp.prune.prune(net, {score = by_magnitude, density = 0.25, iterations = 3})
        local mine = lp.prune.masks(net)
        lp.prune.clear(net)
        lp.manual_seed(1)
        local twin = lp.nn.Sequential{ {"fc1", lp.nn.Linear(8, 6)}, lp.nn.ReLU(), {"fc2", lp.nn.Linear(6, 3)} }
        lp.prune.prune(twin, {score = "magnitude", density = 0.25, iterations = 3})
        return calls == 3 and mine:jaccard(lp.prune.masks(twin)) == 1 and a["fc1.weight"]:size(1) == 6
        """)
    }

    func testMaskAlgebraAndShuffle() {
        check(mlp + """
        lp.prune.prune(net, {score = "magnitude", amount = 0.5})
        local a = lp.prune.masks(net)
        local b = a:shuffle(3)
        local u, i = a:union(b), a:intersection(b)
        local overall, per = a:jaccard(b)
        return u:count() + i:count() == 2 * a:count() and b:count() == a:count()
          and b:layers()[1].kept == a:layers()[1].kept and overall < 1 and per["fc1.weight"] ~= nil
          and a:invert():count() == 33 and a:difference(a):count() == 0 and #a == 2
        """)
    }

    func testRewindingKeepsMasksAndRestoresTheSchedule() {
        check(mlp + """
        local opt = lp.optim.SGD(net, {lr = 0.1, momentum = 0.9, schedule = lp.schedule.step{every = 2, gamma = 0.5}})
        local x, y = lp.randn(16, 8), lp.tensor({1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1})
        local function step() opt:zero_grad(); net(x):cross_entropy(y):backward(); opt:step() end
        step()
        local snap = lp.prune.snapshot(net, opt)
        for _ = 1, 4 do step() end
        lp.prune.prune(net, {score = "magnitude", amount = 0.7})
        local m = lp.prune.masks(net)["fc1.weight"]
        lp.prune.rewind_lr(opt, snap)
        local lr_rewound = opt:iteration() == 1
        lp.prune.rewind(net, snap, opt)
        for _ = 1, 3 do step() end
        local momentum = opt:state("fc1.weight").momentum_buffer
        return lr_rewound and opt:iteration() == 4 and (net.fc1.weight * (1 - m)):abs():sum():item() == 0
          and (momentum * (1 - m)):abs():sum():item() == 0
        """)
    }

    func testCheckpointsCarryMasks() {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("masks-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        check(mlp + """
        lp.prune.prune(net, {score = "random", density = 0.3})
        lp.checkpoint.save("\(path)", {net = net})
        local other = lp.nn.Sequential{ {"fc1", lp.nn.Linear(8, 6)}, lp.nn.ReLU(), {"fc2", lp.nn.Linear(6, 3)} }
        lp.checkpoint.load("\(path)", {net = other, rng = false})
        local t = lp.load("\(path)")
        return lp.prune.masks(other):jaccard(lp.prune.masks(net)) == 1 and t["fc1.weight_mask"] ~= nil
        """)
    }

    func testBadOptionsNameWhatWasExpected() {
        let mlp = "local net = lp.nn.Sequential{ {'fc1', lp.nn.Linear(8, 6)}, lp.nn.ReLU(), {'fc2', lp.nn.Linear(6, 3)} }; "
        expectError(mlp + "lp.prune.prune(net, {score = 'magnitude'})", "prune: expected option amount")
        expectError(mlp + "lp.prune.prune(net, {score = 'magnitude', amount = 1.5})", "amount must be in [0, 1], got 1.5")
        expectError(mlp + "lp.prune.prune(net, {score = 'nope', amount = 0.1})", "unknown score 'nope'")
        expectError(mlp + "lp.prune.prune(net, {score = 'magnitude', amount = 0.1, scope = 'world'})", "unknown scope 'world'")
        expectError(mlp + "lp.prune.prune(net, {score = 'snip', amount = 0.1})", "score snip: needs data")
        expectError(mlp + "lp.prune.prune(net, {score = 'magnitude', amount = 0.1, overrides = {fc9 = 0.1}})", "override for fc9, which is not prunable")
        expectError(mlp + "lp.prune.prune(net, {score = function() return {} end, amount = 0.1})", "gave no tensor for fc1.weight")
        expectError(mlp + "lp.prune.prune(net, {score = function(n) return {['fc1.weight'] = lp.zeros(2), ['fc2.weight'] = lp.zeros(3, 6)} end, amount = 0.1})",
                    "the score of fc1.weight has shape [2], the tensor [6,8]")
        expectError(mlp + "lp.prune.prune(net, {score = 'synflow', amount = 0.1})", "input shape is unknown")
        expectError(mlp + "lp.masks{w = lp.tensor({0.5})}", "holds 0.5")
        expectError(mlp + "lp.prune.apply(net, {['fc1.weight'] = lp.ones(2, 2)})", "fc1.weight is [6,8] in the network but the mask is [2,2]")
    }
}
