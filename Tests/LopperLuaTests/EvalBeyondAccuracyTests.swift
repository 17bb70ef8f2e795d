import XCTest
@testable import LopperLua
import LopperCore

/// `lp.eval`: agreement, noise curves, prune potential and excess error against hand
/// computations.
final class EvalBeyondAccuracyTests: LuaTestCase {
    func testAgreementAndNoiseAgainstHandComputations() {
        check("""
        -- two fixed linear maps on four samples: a predicts x's larger coordinate, b the first
        local data = lp.data.tensors{x = lp.from{{1, 0}, {0, 1}, {2, 1}, {0, 3}}, y = lp.from{1, 2, 1, 1}}
        local a, b = lp.nn.Linear(2, 2, {bias = false}), lp.nn.Linear(2, 2, {bias = false})
        lp.no_grad(function()
          a.weight:copy_(lp.from{{1, 0}, {0, 1}})
          b.weight:copy_(lp.from{{1, 0}, {0, 0}})
        end)
        local r = lp.eval.agreement(a, b, data)
        -- by hand: b gives class 1 everywhere except the tie (0, 1)·b = (0, 0) → class 1 too;
        -- a: classes 1, 2, 1, 2 → agreement 2/4; accuracy a 3/4, b 3/4
        local function soft(u, v) local eu, ev = math.exp(u), math.exp(v); return eu / (eu + ev), ev / (eu + ev) end
        local l2, linf = 0, 0
        for _, pair in ipairs{{{1, 0}, {1, 0}}, {{0, 1}, {0, 0}}, {{2, 1}, {2, 0}}, {{0, 3}, {0, 0}}} do
          local p1, p2 = soft(pair[1][1], pair[1][2])
          local q1, q2 = soft(pair[2][1], pair[2][2])
          l2 = l2 + math.sqrt((p1 - q1) ^ 2 + (p2 - q2) ^ 2) / 4
          linf = linf + math.max(math.abs(p1 - q1), math.abs(p2 - q2)) / 4
        end
        lp.manual_seed(3)
        local curve = lp.eval.noise(a, data, {epsilons = {0, 10}, reference = b, kind = "uniform"})
        lp.manual_seed(3)
        local noisy = lp.data.corrupt(select(1, data:all()), {noise = "uniform", strength = 10})
        local classes = lp.predict(a, noisy):argmax(2)
        local expected = classes:eq(lp.from{1, 2, 1, 1}:reshape(classes:shape())):sum():item() / 4
        local default = lp.eval.noise(a, data)
        return r.top1 == 0.5 and r.accuracy_a == 0.75 and r.accuracy_b == 0.75 and math.abs(r.l2 - l2) < 1e-6
          and math.abs(r.linf - linf) < 1e-6 and curve[1].accuracy == 0.75 and curve[1].agreement == 0.5
          and curve[2].epsilon == 10 and curve[2].accuracy == expected and #default == 15
          and math.abs(default[15].epsilon - 0.7) < 1e-12 and default[1].agreement == nil
        """)
        expectError("lp.eval.noise(lp.nn.ReLU(), 3)", "eval.noise: expected a data set, got number")
        expectError("lp.eval.noise(lp.nn.ReLU(), lp.data.tensors{x = lp.ones(2, 2), y = lp.from{1, 2}}, {kind = 'salt'})",
                    "unknown kind 'salt' (known: uniform, gaussian)")
        expectError("lp.eval.noise(lp.nn.ReLU(), lp.data.tensors{x = lp.ones(2, 2), y = lp.from{1, 2}}, {epsilons = {-1}})",
                    "epsilons[1] must be a non-negative number")
    }

    func testPrunePotentialAndExcessErrorByHand() {
        check("""
        local curve = {dense = {0.10, 0.12, 0.11}, points = {
          {ratio = 0.5, errors = {0.102, 0.121, 0.200}},
          {ratio = 0.7, errors = {0.104, 0.140, 0.200}},
          {ratio = 0.9, errors = {0.300, 0.300, 0.300}}}}
        local p = lp.eval.prune_potential(curve)
        local wide = lp.eval.prune_potential(curve, {delta = 0.5})
        local sd = math.sqrt(((0.7 - 0.4) ^ 2 + (0.5 - 0.4) ^ 2 + (0 - 0.4) ^ 2) / 2)
        local e = lp.eval.excess_error({{accuracy = 0.9}, {accuracy = 0.7}}, {{accuracy = 0.92}, {accuracy = 0.85}})
        return p.per_seed[1] == 0.7 and p.per_seed[2] == 0.5 and p.per_seed[3] == 0 and math.abs(p.mean - 0.4) < 1e-12
          and math.abs(p.std - sd) < 1e-12 and math.abs(wide.mean - 0.9) < 1e-12 and math.abs(e[2] - 0.13) < 1e-12 and e[1] == 0
        """)
        expectError("lp.eval.prune_potential({dense = {0.1}, points = {{ratio = 0.5}}})", "points[1] needs a ratio and an error for seed 1")
        expectError("lp.eval.prune_potential(3)", "expected {dense = {errors}, points =")
        expectError("lp.eval.excess_error({0.1}, {0.1, 0.2})", "the two lists must have the same length")
    }
}
