import XCTest
@testable import LopperLua
import LopperCore

/// Forward and backward hooks, tensor hooks and retain_grad, as a script uses them.
final class HookSurfaceTests: LuaTestCase {
    /// A small net whose activations and gradients the tests compute by hand.
    let net = """
    lp.manual_seed(3)
    local net = lp.nn.Sequential{ {"fc1", lp.nn.Linear(4, 3)}, {"act", lp.nn.Tanh()}, {"fc2", lp.nn.Linear(3, 2)} }
    local x = lp.randn(5, 4)
    local function loss_of(out) return out:pow(2):sum() end

    """

    func testForwardHooksSeeTheLayersTensorsAndCanReplaceTheOutput() {
        check(net + """
        local seen
        local h = net.act:on_forward(function(m, input, output) seen = {m = m, input = input, output = output} end)
        local out = net(x)
        local z = x:matmul(net.fc1.weight:t()) + net.fc1.bias
        local ok = seen.m:kind() == "Tanh" and (seen.input - z):abs():max():item() < 1e-6
          and (seen.output - z:tanh()):abs():max():item() < 1e-6
        -- a returned tensor replaces the output: zeros leave only fc2's bias
        local h2 = net.act:on_forward(function(m, input, output) return output * 0 end)
        local replaced = net(x)
        local bias_only = (replaced - net.fc2.bias:view(1, 2)):abs():max():item() < 1e-6
        -- removal: each handle once, and the net computes as before
        local removed = h:remove() and h2:remove() and not h:remove()
        seen = nil
        local again = net(x)
        return ok and bias_only and removed and seen == nil and (again - out):abs():max():item() == 0
        """)
    }

    func testBackwardHooksGiveTheGradientsOfOutputAndInputAgainstFiniteDifferences() {
        check(net + """
        local got
        net.act:on_backward(function(m, grad_output, grad_input) got = {gy = grad_output, gx = grad_input} end)
        loss_of(net(x)):backward()
        -- finite differences of the loss in each element of act's output and of its input,
        -- perturbed through forward hooks
        local function numeric(module, n, k)
          local eps, base = 1e-2, nil
          local function at(delta)
            local h = module:on_forward(function(m, input, output)
              local d = lp.zeros(5, 3); d[n][k] = delta; return output + d end)
            local v = lp.no_grad(function() return loss_of(net(x)):item() end)
            h:remove()
            return v
          end
          return (at(eps) - at(-eps)) / (2 * eps)
        end
        local worst = 0
        for n = 1, 5 do for k = 1, 3 do
          worst = math.max(worst, math.abs(numeric(net.act, n, k) - got.gy[n][k]),
                                  math.abs(numeric(net.fc1, n, k) - got.gx[n][k]))
        end end
        return worst < 2e-2 and got.gx:size(1) == 5 and got.gy:size(2) == 3
        """)
    }

    func testHooksFireInOrderInsideTrainingAndOnLuaModules() {
        check(net + """
        local log = {}
        for _, name in ipairs{"fc1", "act", "fc2"} do
          net[name]:on_forward(function() log[#log + 1] = "f:" .. name end)
          net[name]:on_backward(function() log[#log + 1] = "b:" .. name end)
        end
        net:on_forward(function() log[#log + 1] = "f:net" end)
        loss_of(net(x)):backward()
        local order = table.concat(log, " ")
        -- the first layer's input needs no gradient: its hook still runs, with grad_input nil
        local first_input
        net.fc1:on_backward(function(m, gy, gx) first_input = gx == nil end)
        log = {}
        local ds = lp.data.tensors{x = lp.randn(12, 4), y = lp.randn(12, 2)}
        lp.train{net = net, data = ds, optimizer = lp.optim.SGD(net:parameters(), {lr = 0.01}), batch_size = 4, epochs = 1,
                 loss = function(out, y) return (out - y):pow(2):mean() end}
        local forwards = 0
        for _, e in ipairs(log) do if e == "f:net" then forwards = forwards + 1 end end
        -- a Lua-written module keeps its hooks though each use wraps it anew
        local Double = lp.nn.module{forward = function(self, x) return x * 2 end}
        local calls = 0
        local h = Double:on_forward(function(m, input, output) calls = calls + 1; assert(m == Double) end)
        lp.nn.Sequential{Double, lp.nn.ReLU()}(x); Double(x)
        h:remove(); Double(x)
        return order == "f:fc1 f:act f:fc2 f:net b:fc2 b:act b:fc1" and forwards == 3 and first_input and calls == 2
        """)
    }

    func testBackwardHookCanReplaceTheInputGradient() {
        check(net + """
        net.act:on_backward(function(m, gy, gx) return gx * 0 end)
        loss_of(net(x)):backward()
        return net.fc1.weight.grad:abs():max():item() == 0 and net.fc2.weight.grad:abs():max():item() > 0
        """)
    }

    func testRetainGradAndTensorHooks() {
        check("""
        local a = lp.tensor{1, 2, 3}:requires_grad()
        local b = a * 2
        b:retain_grad()
        local scaled = a * 3
        local h = scaled:register_hook(function(g) return g * 10 end)
        local total = (b * b):sum() + scaled:sum()
        total:backward()
        -- d/db Σb² = 2b; d/da = 2·2b + 3·10
        local ok = (b.grad - b * 2):abs():max():item() == 0 and (a.grad - (b * 4 + 30)):abs():max():item() < 1e-5
        a.grad = nil
        h:remove()
        lp.sum(a * 3):backward()
        return ok and (a.grad - 3):abs():max():item() == 0
        """)
    }

    func testHookMistakesSayWhatIsWrong() {
        expectError("lp.nn.ReLU():on_forward(3)", "expected fn(module, input, output) as a function, got number")
        expectError("local m = lp.nn.Tanh(); m:on_forward(function() return 'x' end); m(lp.ones(2))",
                    "on_forward: the hook returned string, expected a tensor or nil")
        expectError("local m = lp.nn.Linear(2, 2); m:on_backward(function(m, gy, gx) return lp.ones(3) end); m(lp.ones(1, 2):requires_grad()):sum():backward()",
                    "a backward hook returned shape [3] for an input gradient of shape [1,2]")
        expectError("lp.ones(2):retain_grad()", "does not require grad")
        expectError("local m = lp.nn.ReLU(); m:on_forward(function(m, x) return m(x) end); m(lp.ones(2))",
                    "hooked calls nest more than 40 deep")
        expectError("local t = lp.ones(2):requires_grad() * 1; t:register_hook(function() return lp.ones(3) end); t:sum():backward()",
                    "gradient hook returned shape [3]")
    }
}
