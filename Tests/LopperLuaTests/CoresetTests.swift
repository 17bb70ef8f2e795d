import XCTest
@testable import LopperLua
import LopperCore

/// Neuron coresets: the ellipsoid against known ones, sensitivities as the theory sums
/// them, and pruning that keeps exactly m neurons from their whole group.
final class CoresetTests: LuaTestCase {
    func testTheEllipsoidOfABoxAndOfItsLinearImage() {
        check("""
        -- a 3-d box's vertices (one of each ± pair) and points inside: the MVEE is
        -- {x : xᵀ diag(a², b², c²)⁻¹ x ≤ 3}, weight 1/4 on each vertex, none inside
        local a, b, c = 2, 1, 0.5
        local box = lp.from{{a, b, c}, {a, -b, c}, {a, b, -c}, {a, -b, -c}, {0.5, 0.2, 0.1}, {-1, 0.5, 0}, {0, 0, 0.4}}
        local e = lp.prune.mvee(box, {tolerance = 1e-6})
        local w = e.weights
        -- its image under A is the MVEE of the image: G = A diag(1, 1) Aᵀ
        local A = lp.from{{2, 1}, {0, 1}}
        local square = lp.from{{1, 1}, {1, -1}, {0.2, 0.3}}
        local f = lp.prune.mvee(square:matmul(A:transpose(1, 2)), {tolerance = 1e-6})
        local weighted = (e.weights * e.leverages):sum():item()
        return e.converged and math.abs(w[1] - 0.25) < 1e-5 and math.abs(w[4] - 0.25) < 1e-5 and w[5] < 1e-6 and w[7] < 1e-6
          and e.shape:allclose(lp.from{{4, 0, 0}, {0, 1, 0}, {0, 0, 0.25}}, 1e-4, 1e-5)
          and math.abs(weighted - 3) < 1e-4 and e.leverages:max():item() <= 3 * (1 + 1e-6) + 1e-5
          and f.shape:allclose(lp.from{{5, 1}, {1, 1}}, 1e-4, 1e-5)
        """)
        expectError("lp.prune.mvee(lp.zeros(3, 2))", "the points are all zero")
        expectError("lp.prune.mvee(lp.ones(3))", "expected points as a [N, d] tensor")
        expectError("lp.prune.mvee(lp.ones(3, 2), {tolerance = 0})", "tolerance must be positive, got 0.0")
    }

    func testACoresetKeepsMNeuronsFromTheirWholeGroup() {
        check("""
        lp.manual_seed(41)
        local net = lp.models.lenet_300_100()
        lp.manual_seed(41)
        local top = lp.models.lenet_300_100()
        -- fc2's neurons are fc3's columns: the same leverages as the ellipsoid of those columns
        local direct = lp.prune.mvee(net.fc3.weight:transpose(1, 2):contiguous())
        local fixed = lp.prune.coreset(top, "fc2", 30, {deterministic = true})
        local before = net.fc3.weight:clone()
        local r = lp.prune.coreset(net, "fc2.weight", 30)
        local rows = net.fc2.weight:abs():sum(2):reshape{100}:gt(0):sum():item()
        local cols = net.fc3.weight:abs():sum(1):reshape{100}:gt(0):sum():item()
        local j = r.kept[1]
        local scaled = net.fc3.weight:select(2, j):allclose(before:select(2, j) * r.scales[1], 1e-5, 1e-6)
        -- deterministic: the 30 largest sensitivities, unscaled
        local s = fixed.sensitivities
        local order = {}
        for i = 1, 100 do order[i] = i end
        table.sort(order, function(x, y) return s[x] > s[y] or s[x] == s[y] and x < y end)
        local top30 = {}
        for i = 1, 30 do top30[i] = order[i] end
        table.sort(top30)
        return #r.kept == 30 and rows == 30 and cols == 30 and r.draws >= 30 and scaled
          and r.sensitivities:allclose(direct.leverages, 1e-3, 1e-4) and table.concat(fixed.kept, " ") == table.concat(top30, " ")
          and fixed.scales[1] == 1 and top.fc2.bias:ne(0):sum():item() == 30
        """)
        expectError("lp.prune.coreset(lp.models.lenet_300_100(), 'fc3', 5)", "the neurons of fc3.weight cannot be pruned: the network's output")
        expectError("lp.prune.coreset(lp.models.lenet_300_100(), 'fc2', 0)", "keep must be between 1 and 100")
        expectError("lp.prune.coreset(lp.models.lenet_300_100(), 'fc9', 3)", "the network has no layer fc9")
    }

    func testTheCoresetScoreRanksChannelsByTheirSensitivity() {
        check("""
        lp.manual_seed(42)
        local net = lp.models.lenet_300_100()
        local s = lp.prune.score(net, "coreset", {exclude_last = true})
        local fc2 = s["fc2.weight"]
        lp.prune.prune(net, {score = "coreset", structure = "neuron", count = 10, only = {"fc2.weight"}})
        local kept = net.fc2.weight:abs():sum(2):reshape{100}:gt(0)
        local _, lowest = fc2:select(2, 1):topk(10, 1, false)
        local ok = true
        for i = 1, 10 do ok = ok and kept[lowest[i]] == 0 end
        return ok and kept:sum():item() == 90 and fc2:select(2, 1):equal(fc2:select(2, 7))
        """)
        expectError("lp.prune.prune(lp.models.lenet_300_100(), {score = 'coreset', amount = 0.5})", "ranks channels by their outputs")
    }
}
