import XCTest
@testable import LopperLua
import LopperCore

/// The index ops and the drop/grow primitives that sparse training is written with.
final class MaskEditSurfaceTests: LuaTestCase {
    func testIndexOpsReadAndWriteTheNamedPositions() {
        check("""
        local t = lp.tensor{{0, 2, 0}, {3, 0, 4}}
        local coords, flat = t:nonzero(), t:nonzero{flat = true}
        local z = lp.zeros(2, 3)
        z:index_put_(coords, lp.from{1, 2, 3})
        local a = z:equal(lp.tensor{{0, 1, 0}, {2, 0, 3}})
        z:index_put_(lp.from{1, 6}, 9)
        z:index_put_(lp.from{1, 1}, 1, true)                       -- accumulate, twice at one place
        local b = z:equal(lp.tensor{{11, 1, 0}, {2, 0, 9}})
        local s = lp.zeros(3, 3)
        s:scatter_(1, lp.tensor{{3, 1, 2}}, lp.tensor{{5, 6, 7}})  -- s[index[1][j]][j] = src[1][j]
        local c = s:equal(lp.tensor{{0, 6, 0}, {0, 0, 7}, {5, 0, 0}})
        s:scatter_(2, lp.tensor{{1}, {1}, {1}}, -1)
        s:index_fill_(1, lp.from{2}, 8)
        local d = s:equal(lp.tensor{{-1, 6, 0}, {8, 8, 8}, {-1, 0, 0}})
        local picked = t:masked_select(t:ne(0))
        -- a strided view: writes land in the storage under the view
        local big = lp.zeros(3, 4)
        big:t():index_put_(lp.tensor{{4, 3}}, 5)
        return coords:equal(lp.tensor{{1, 2}, {2, 1}, {2, 3}}) and flat:equal(lp.from{2, 4, 6}) and a and b and c and d
          and picked:equal(lp.from{2, 3, 4}) and big[3][4] == 5 and big:sum():item() == 5
        """)
    }

    func testMaskedSelectDifferentiatesTwice() {
        check("""
        local x = lp.from{1, -2, 3}:requires_grad()
        local y = x:pow(2):masked_select(lp.from{1, 0, 1}):sum()      -- x1² + x3²
        local g = lp.grad(y, {x}, {create_graph = true})[1]
        local h = lp.grad(g:sum(), {x})[1]
        return g:equal(lp.from{2, 0, 6}) and h:equal(lp.from{2, 0, 2})
        """)
    }

    func testTopkAmongChoosesOnlyEligiblePositionsAndBreaksTiesByPosition() {
        check("""
        local s, m = lp.from{5, 1, 4, 3, 4}, lp.from{1, 1, 0, 1, 1}
        return lp.prune.topk_among(s, m, 2):equal(lp.from{1, 5})
          and lp.prune.topk_among(s, m, 2, {largest = false}):equal(lp.from{2, 4})
          and lp.prune.topk_among(lp.ones(4), lp.ones(4), 2):equal(lp.from{1, 2})
        """)
    }

    func testDropAndGrowKeepCountsAndZeroTheRightMoments() {
        check("""
        lp.manual_seed(7)
        local net = lp.models.lenet_300_100()
        lp.prune.prune(net, {score = "magnitude", density = 0.5, scope = "layer"})
        local opt = lp.optim.SGD(net, {lr = 0.1, momentum = 0.9})
        local x, y = lp.randn(16, 1, 28, 28), lp.from{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1, 2, 3, 4, 5, 6}
        for _ = 1, 2 do opt:zero_grad(); lp.cross_entropy(net(x), y):backward(); opt:step() end
        local w = net.fc2.weight
        local before = select(1, lp.prune.masks(net):count())
        local smallest = lp.prune.topk_among(w:abs(), w.mask, 10, {largest = false})
        -- drop: 30% of each layer's active weights, the smallest |w|
        local dropped, where = lp.prune.drop(net, {fraction = 0.3, optimizer = opt})
        local mask_after_drop = w.mask:clone()
        local momentum = opt:state("fc2.weight").momentum_buffer
        local drop_ok = dropped["fc2.weight"] == 4500   -- 30% of the 15,000 left at density 0.5
          and mask_after_drop:view(-1):gather(1, smallest):sum():item() == 0                -- the smallest went
          and w:masked_select(mask_after_drop:eq(0)):abs():max():item() == 0
          and momentum:masked_select(mask_after_drop:eq(0)):abs():max():item() == 0
        -- grow back as many in each layer, by the gradient of a fresh batch
        opt:zero_grad(); lp.cross_entropy(net(x), y):backward()
        local inactive = w.mask:eq(0)
        local best = lp.prune.topk_among(w.grad:abs(), inactive, dropped["fc2.weight"])
        local grown, at = lp.prune.grow(net, {count = dropped, optimizer = opt})
        local grown_ok = grown["fc2.weight"] == dropped["fc2.weight"] and at["fc2.weight"]:equal(best)
          and w.mask:view(-1):gather(1, best):sum():item() == best:numel()
          and w:view(-1):gather(1, best):abs():max():item() == 0
          and momentum:view(-1):gather(1, best):abs():max():item() == 0
        opt:step()
        return drop_ok and grown_ok and select(1, lp.prune.masks(net):count()) == before
          and w:masked_select(w.mask:eq(0)):abs():max():item() == 0
        """)
    }

    func testCountChoosesAcrossLayers() {
        check("""
        lp.manual_seed(3)
        local net = lp.models.lenet_300_100()
        local all = {}
        for _, name in ipairs(lp.prune.prunable(net)) do all[#all + 1] = net:get(name):abs():view(-1) end
        local threshold = lp.cat(all):sort():narrow(1, 1000, 1):item()
        local dropped = lp.prune.drop(net, {count = 1000})
        local total = 0
        for _, n in pairs(dropped) do total = total + n end
        local gone = 0
        for _, name in ipairs(lp.prune.prunable(net)) do
          local w = net:get(name)
          if w.mask then   -- a layer that lost nothing keeps no mask
            gone = gone + w.mask:eq(0):sum():item()
            assert(w:abs():masked_select(w.mask:ne(0)):min():item() >= threshold)
          end
        end
        return total == 1000 and gone == 1000
        """)
    }

    func testMaskEditMistakesSayWhatIsWrong() {
        let net = "local net = lp.models.lenet_300_100(); "
        expectError(net + "lp.prune.grow(net, {count = 5})", "score 'gradient' reads fc1.weight.grad, which is empty")
        expectError(net + "lp.prune.grow(net, {count = 5, score = 'random'})", "cannot choose 5 of 0 eligible weights")
        expectError(net + "lp.prune.drop(net, {count = {['fc9.weight'] = 2}})", "count names fc9.weight")
        expectError(net + "lp.prune.drop(net, {fraction = 1.5})", "fraction must be in [0, 1]")
        expectError(net + "lp.prune.drop(net, {})", "expected option count")
        expectError("lp.prune.topk_among(lp.ones(3), lp.ones(2), 1)", "does not match scores")
        expectError("lp.prune.topk_among(lp.from{1, 0/0, 2}, lp.ones(3), 1)", "scores hold NaN at element 2")
        expectError("lp.zeros(3):index_put_(lp.from{4}, 1)", "index 4 is outside 1…3")
        expectError("lp.zeros(3):index_put_(lp.from{1.5}, 1)", "index 1.5 is not a whole number")
        expectError("lp.zeros(2, 2):index_put_(lp.ones(1, 3), 1)", "expected indices [K] into the flattened tensor or coordinates [K, 2]")
        expectError("lp.zeros(2, 2):scatter_(1, lp.ones(2, 3), 1)", "no larger sizes outside dimension 1")
        expectError("lp.zeros(2):masked_select(lp.ones(3))", "mask [3] does not match [2]")
    }
}
