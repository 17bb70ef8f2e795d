import XCTest
@testable import LopperLua

final class AutogradSurfaceTests: LuaTestCase {
    func testSortTopkAndGatherPassGradients() {
        check("local x = lp.from{2, 0, 1}:requires_grad(); local v = x:sort(); (v * lp.from{10, 20, 30}):sum():backward(); return x.grad:equal(lp.from{30, 10, 20})")
        check("local x = lp.from{2, 0, 1}:requires_grad(); local v = x:topk(1); v:sum():backward(); return x.grad:equal(lp.from{1, 0, 0})")
        check("local x = lp.from{{1, 2}, {3, 4}}:requires_grad(); local g = x:gather(2, lp.from{{2}, {1}}); g:sum():backward(); return g:equal(lp.from{{2}, {3}}) and x.grad:equal(lp.from{{0, 1}, {1, 0}})")
    }

    func testBackwardFillsGradOfLeaves() {
        check("local x = lp.from{1, 2, 3}:requires_grad(); (x * x):sum():backward(); return x.grad:equal(lp.from{2, 4, 6})")
        check("local x = lp.from{1, 2}:requires_grad(); (3 * x):sum():backward(); (x * 1):sum():backward(); return x.grad:equal(lp.from{4, 4})")
        check("local x = lp.from{1, 2}:requires_grad(); (x * 2):sum():backward(); x.grad = nil; return x.grad == nil")
        check("local x = lp.ones(2):requires_grad(); return x:is_leaf() and not (x + 1):is_leaf() and (x + 1):grad_fn() == 'add'")
    }

    func testBackwardFreesTheGraphUnlessRetained() {
        check("local x = lp.from{1, 2}:requires_grad(); local l = (x * x):sum(); l:backward({retain_graph = true}); l:backward(); return x.grad:equal(lp.from{4, 8})")
        check("""
            local x = lp.from{1, 2}:requires_grad(); local l = (x * x):sum(); l:backward()
            local ok, e = pcall(function() l:backward() end)
            return not ok and e:find("freed by an earlier backward; pass retain_graph = true", 1, true) ~= nil
            """)
    }

    func testLeafGradientsDoNotShareStorage() {
        // Both sides of `a + b` get the same backward gradient; each .grad must be its own.
        check("""
            (function()
              local a, b = lp.ones(2):requires_grad(), lp.ones(2):requires_grad()
              local loss = ((a + b) * lp.from{2, 3}):sum()
              loss:backward()
              a.grad:zero_()
              return b.grad:equal(lp.from{2, 3}) and not a.grad:shares_storage(b.grad)
            end)()
            """)
        check("local x = lp.ones(2):requires_grad(); local s = lp.from{1, 2}; (x * 1):backward(s); s:zero_(); return x.grad:equal(lp.from{1, 2})")
    }

    func testMaxAlongADimensionIsDifferentiable() {
        check("""
            (function()
              local x = lp.from{{1, 5}, {7, 2}}:requires_grad()
              local v, i = x:max(2)
              v:sum():backward()
              return x.grad:equal(lp.from{{0, 1}, {1, 0}}) and i:equal(lp.from{2, 1})
            end)()
            """)
    }

    func testHandWrittenLossAndManualSGDStep() {
        // A user-written loss (mean absolute error) and one SGD step, in Lua.
        check("""
            (function()
              local w = lp.from{{0.5}, {-0.5}}:requires_grad()
              local x, y = lp.from{{1, 2}, {3, 4}}, lp.from{{1}, {2}}
              local loss = (x:matmul(w) - y):abs():mean()
              loss:backward()
              lp.no_grad(function() w:add_(w.grad, -0.1) end)
              local after = (x:matmul(w) - y):abs():mean()
              return after:item() < loss:item() and not after:is_leaf()
            end)()
            """)
    }

    func testNoGradAndGradFunction() {
        check("local x = lp.ones(2):requires_grad(); local y = lp.no_grad(function() return x * 2 end); return y:is_leaf() and lp.is_grad_enabled()")
        check("""
            (function()
              local x = lp.from{1, 2}:requires_grad()
              local g = lp.grad((x ^ 3):sum(), {x}, {create_graph = true})[1]   -- 3x²
              local h = lp.grad(g:sum(), {x})[1]                                  -- 6x
              return g:equal(lp.from{3, 12}) and h:equal(lp.from{6, 12}) and x.grad == nil
            end)()
            """)
        check("local ok, err = pcall(lp.no_grad, function() error('boom', 0) end); return not ok and err == 'boom' and lp.is_grad_enabled()")
    }

    func testLossesFromLua() {
        check("math.abs(lp.from{{0, math.log(3)}}:cross_entropy(lp.from{2}):item() + math.log(0.75)) < 1e-6")
        check("lp.from{{1, 0}, {0, 1}}:accuracy(lp.from{1, 1}) == 0.5")
        check("lp.mse_loss(lp.from{1, 3}, lp.from{1, 1}):item() == 2")
    }

    func testAutogradErrors() {
        expectError("local x = lp.ones(2):requires_grad(); x:add_(1)", "add_: in-place change of a tensor that requires grad")
        expectError("lp.ones(2):requires_grad():mul(2):backward()", "backward: output of shape [2] is not a scalar")
        expectError("lp.ones(1):backward()", "backward: the tensor does not require grad")
        expectError("lp.from{{1, 2}}:cross_entropy(lp.from{3})", "cross_entropy: target 3.0 is not a class index in 1..2")
        expectError("local x = lp.ones(2); x.grad = lp.ones(3)", ".grad must have the tensor's shape [2], got [3]")
    }
}
