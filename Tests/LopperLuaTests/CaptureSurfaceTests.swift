import XCTest
@testable import LopperLua
import LopperCore

/// `lp.nn.capture`: its running reductions against the full-batch computation, and its
/// Fisher sums against Theis et al.'s gate trick.
final class CaptureSurfaceTests: LuaTestCase {
    let convNet = """
    lp.manual_seed(11)
    local net = lp.nn.Sequential{ {"conv", lp.nn.Conv2d(1, 3, 3)}, {"relu", lp.nn.ReLU()}, {"flat", lp.nn.Flatten()},
                                  {"fc", lp.nn.Linear(3 * 4 * 4, 4)} }
    local xs, ys = {}, {}
    for b = 1, 3 do xs[b] = lp.randn(5, 1, 6, 6); ys[b] = lp.from{1, 2, 3, 4, b} end

    """

    func testReductionsEqualTheFullBatchComputation() {
        check(convNet + """
        local got = lp.nn.capture(net, {"relu", "fc"}, function()
          for b = 1, 3 do net(xs[b]) end
        end, {keep = true})
        -- the same statistics from all batches at once
        local a = net.relu(net.conv(lp.cat(xs, 1)))                        -- [15, 3, 4, 4]
        local per = a:transpose(1, 2):contiguous():view(3, -1)            -- channel × values
        local h = net.flat(a)
        local r = got.relu
        local function close(u, v) return (u - v):abs():max():item() < 1e-5 end
        return r.samples == 15 and r.calls == 3 and close(r.mean, per:mean(2)) and close(r.mean_sq, per:pow(2):mean(2))
          and close(r.zeros, per:eq(0):mean(2)) and close(r.nonpositive, per:le(0):mean(2))
          and close(got.fc.input_norm, h:pow(2):sum(1):sqrt())
          and r.activation:size(1) == 5 and r.fisher == nil
        """)
    }

    func testFisherEqualsTheGateTrick() {
        check(convNet + """
        local loss = function(out, y) return lp.cross_entropy(out, y) end
        local got = lp.nn.capture(net, {"relu"}, function()
          for b = 1, 3 do loss(net(xs[b]), ys[b]):backward() end
        end)
        -- Theis et al.: a gate of ones after each feature map; dL/dgate[n][c] = Σ_hw a·∂L/∂a
        local gated = net:clone()
        local Gate = lp.nn.module{forward = function(self, x)
          self.g = lp.ones(x:size(1), x:size(2), 1, 1):requires_grad()
          return x * self.g end}
        gated:insert(3, "gate", Gate)
        local total, n = lp.zeros(3), 0
        for b = 1, 3 do
          local out = gated(xs[b])
          local dg = lp.grad(loss(out, ys[b]), {Gate.g})[1]:view(5, 3)
          total = total + dg:pow(2):sum(1)
          n = n + 5
        end
        local want = total / (2 * n)
        return got.relu.gradient_samples == 15 and (got.relu.fisher - want):abs():max():item() < 1e-6 * math.max(1, want:max():item())
          and got.relu.taylor:min():item() >= 0
        """)
    }

    func testHooksComeOffAndMistakesSayWhatIsWrong() {
        check(convNet + """
        local ok = pcall(lp.nn.capture, net, {"relu"}, function() net(xs[1]); error("stop") end)
        local got = lp.nn.capture(net, "relu", function() end)
        return not ok and got.relu.samples == 0
        """)
        expectError("lp.nn.capture(lp.models.lenet_300_100(), {'fc9'}, function() end)", "no module named 'fc9' (modules: flatten, fc1,")
        expectError("lp.nn.capture(lp.models.lenet_300_100(), {'fc1'}, 3)", "expected fn (a function that runs the network)")
    }
}
