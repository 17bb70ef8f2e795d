import XCTest
@testable import LopperLua
import LopperCore

/// The repros of issue 12: each one once crashed, hung or went silently wrong; each is now
/// a Lua error naming the function, at the script's line, and the host lives on.
final class HardeningTests: LuaTestCase {
    func testSizesThatOverflowAreErrors() {
        expectError("lp.zeros((1 << 62) + 2):fill_(1)", "zeros: shape [4611686018427387906] has more elements than any tensor can hold")
        expectError("lp.ones(2, (1 << 62) + 2)", "ones: shape [2,4611686018427387906] has more elements")
        expectError("lp.eye(3037000500)", "eye: shape [3037000500,3037000500] has more elements")
        expectError("lp.eye(1 << 62, 3)", "eye: shape [4611686018427387904,3] has more elements")
        expectError("lp.eye(math.maxinteger)", "eye: shape [9223372036854775807,9223372036854775807]")
        expectError("lp.nn.Linear(math.maxinteger, 2)", "Linear: shape [2,9223372036854775807] has more elements")
        expectError("lp.nn.Linear(1 << 62, 4)", "Linear: shape [4,4611686018427387904] has more elements")
        expectError("lp.models.build('vgg11', {classes = 1 << 62})", "build: ")
        expectError("lp.randperm(math.maxinteger)", "randperm: shape [9223372036854775807] has more elements")
        expectError("lp.zeros(5):narrow(1, 2, math.maxinteger):sum()", "narrow: start 2 with length 9223372036854775807 runs past dimension 1 of size 5")
        expectError("lp.avg_pool2d(lp.ones(1,1,4,4), 2, {padding = math.maxinteger})", "avg_pool2d: kernel and stride must be positive")
        expectError("lp.ones(1):expand(-3):sum()", "expand: sizes must be non-negative, got -3")
        expectError("lp.ones(1,1):expand(1 << 62, 4)", "expand: shape [4611686018427387904,4] has more elements")
        expectError("lp.zeros(1, 0):expand(math.maxinteger, 0):sum(1)", "expand: shape [9223372036854775807,0] has more elements")
        expectError("lp.arange(0, 1e300)", "arange: 0.0 to 1e+300 by 1.0 is 1e+300 values")
        expectError("lp.ones(4):view(2147483648, 4611686018427387906, 3037000500)", "view: shape [2147483648,4611686018427387906,3037000500] has more elements")
        expectError("lp.ones(4):reshape(-1, 1 << 62, 4)", "reshape: shape [-1,4611686018427387904,4] has more elements")
        check("return lp.arange(-1e300):numel() == 0")
        expectError("lp.linspace(0, 1, math.maxinteger)", "linspace: shape [9223372036854775807] has more elements")
        expectError("lp.zeros(" + Array(repeating: "1", count: 65).joined(separator: ",") + ")", "zeros: a tensor has at most 64 dimensions, got 65")
    }

    func testAllocationsPastTheBudgetAreErrors() {
        expectError("lp.zeros(1e9, 1e9)", "zeros: a [1000000000,1000000000] tensor needs")
        expectError("lp.zeros(1e10)", "zeros: a [10000000000] tensor needs 37 GiB, more than the")
        expectError("lp.nn.Conv2d(1 << 31, 2, 3)", "Conv2d: a [2,2147483648,3,3] tensor needs 144 GiB")
        expectError("lp.randperm(1 << 32)", "randperm: n must be at most 16777216")
        expectError("lp.models.build('resnet6000002')", "build: models: unknown model 'resnet6000002': the zoo's ResNets are He et al.'s CIFAR ResNets of depth 6n+2")
        // Results too: a broadcast and a product whose outputs pass the budget.
        expectError("local a = lp.ones(1e5, 1):expand(1e5, 1e5) + 1", "add: a [100000,100000] tensor needs 37 GiB")
        expectError("lp.ones(1e5, 1):matmul(lp.ones(1, 1e5))", "matmul: a [100000,100000] tensor needs 37 GiB")
    }

    func testMemoryLimitIsSetFromLua() {
        check("return lp.memory_limit() > 0")
        _ = eval("lp.set_memory_limit('64M')")
        check("return lp.memory_limit() == 64 * 1024 * 1024")
        expectError("lp.zeros(5000, 5000)", "zeros: a [5000,5000] tensor needs 95 MiB, more than the 64 MiB tensor budget")
        check("return lp.zeros(1000, 1000):numel() == 1000000")
        expectError("lp.set_memory_limit('lots')", "set_memory_limit: expected a size such as '18G', '512M' or a number of bytes, got 'lots'")
        _ = eval("lp.set_memory_limit(nil)")
        check("return lp.memory_limit() > 64 * 1024 * 1024")
    }

    func testNestedTablesAreBounded() {
        expectError("local t = {}; t[1] = t; lp.from(t)", "from: tables nest more than 64 deep")
        expectError("local t = 1; for i = 1, 200 do t = {t} end; lp.from(t)", "from: tables nest more than 64 deep")
        check("local t = 1; for i = 1, 40 do t = {t} end; return lp.from(t):dim() == 40")
        check("local z = lp.zeros(" + Array(repeating: "1", count: 60).joined(separator: ",") + "):totable(); for i = 1, 59 do z = z[1] end; return z[1] == 0")
    }

    func testOptimizerListsHoldOnlyParameters() {
        expectError("lp.optim.SGD({1}, {lr = 0.1})", "SGD: expected parameters[1] to be a tensor or a {name = …, tensor = …} table, got number")
        expectError("lp.optim.SGD({0/0}, {lr = 0.1})", "SGD: expected parameters[1] to be a tensor")
        expectError("lp.optim.SGD({lp.ones(2):requires_grad(), 3}, {lr = 0.1})", "SGD: expected parameters[2] to be a tensor")
        expectError("lp.optim.Adam({{name = 'w', tensor = 5}}, {lr = 0.1})", "Adam: expected parameters[1].tensor to be a tensor, got number")
    }

    func testReferencesOutliveTheCoroutineThatMadeThem() {
        check("""
        local opt = lp.optim.SGD(lp.nn.Linear(2, 2), {lr = 0.1})
        coroutine.wrap(function() opt:set_schedule(function() return 0.5 end) end)()
        collectgarbage(); collectgarbage()
        return math.abs(opt:lr() - 0.05) < 1e-6
        """)
        check("""
        local net
        coroutine.wrap(function() net = lp.nn.Sequential({ {forward = function(self, x) return x * 2 end} }) end)()
        collectgarbage(); collectgarbage()
        return net(lp.ones(2)):sum():item() == 4
        """)
        // A Lua module called from inside a coroutine runs on that coroutine's stack.
        check("""
        local m = {forward = function(self, x) coroutine.yield(); return x + 1 end}
        local net = lp.nn.Sequential({m})
        local co = coroutine.wrap(function() return m:forward(lp.ones(1)):item() end)
        co()
        return co() == 2
        """)
    }

    func testYieldsCannotEscapeNoGradOrCells() {
        expectError("coroutine.wrap(function() lp.no_grad(function() coroutine.yield() end) end)()", "no_grad: the function yielded")
        check("return lp.ones(1):requires_grad():mul(2).grad_fn ~= nil")
        expectError("lp.no_grad(42)", "no_grad: expected a function, got number")
        expectError("coroutine.wrap(function() lp.cell('c', function() coroutine.yield() end) end)()", "cell: the function yielded")
        check("return lp.cell('d', function() return 5 end) == 5")
    }

    func testLoadSeesGlobals() {
        check("return load('return print')() == print")
        check("return select('#', load('return 1', 'x', 't', nil)) == 1 and not pcall(load('return print', 'x', 't', nil))")
        check("local env = {y = 3}; return load('return y', 'x', 't', env)() == 3")
    }

    func testExpandedTensorsRefuseInPlaceWrites() {
        expectError("local b = lp.zeros(1, 3); b:expand(2, 3):add_(lp.ones(2, 3))", "add_: in-place write to an expanded tensor of shape [2,3]")
        expectError("local b = lp.zeros(1, 3); b:expand(2, 3):fill_(1)", "fill_: in-place write to an expanded tensor")
        expectError("local b = lp.zeros(1, 3); local e = b:expand(2, 3); e[1] = 5", "write into an expanded tensor")
        check("local b = lp.zeros(1, 3); local c = b:expand(2, 3):clone(); c:add_(1); return c:sum():item() == 6")
    }

    func testZeroGeneratorStatesAreRefused() {
        XCTAssertThrowsError(try RandomGenerator(seed: 1).restore([0, 0, 0, 0, 1, 0]))
    }

    func testReductionsOverEmptyTensorsDoNotLoop() {
        check("return lp.zeros(1 << 40, 0):sum(1):numel() == 0")
        check("return lp.zeros(3, 0):sum(2):equal(lp.zeros(3))")
    }

    func testMetamethodsNeverUnwindThroughSwift() {
        // A score table whose __index raises: read under protection, the prune fails cleanly.
        for _ in 0..<50 {
            expectError("""
            local net = lp.nn.Sequential{lp.nn.Linear(3, 2)}
            lp.prune.prune(net, {score = setmetatable({}, {__index = function() error("no") end}), amount = 0.5})
            """.replacingOccurrences(of: "\n", with: " "), "prune: the score table gave no tensor for")
        }
        // A child whose __index edits its parent while the parent's fields are walked.
        check("""
        local parent = {forward = function(self, x) return x end, w = lp.ones(2):requires_grad()}
        parent.child = setmetatable({}, {__index = function(t, k)
          for i = 1, 50 do parent["added" .. i] = i end
          if k == "forward" then return function(self, x) return x end end
        end})
        local net = lp.nn.Sequential({parent})
        return #net:parameters() == 1
        """)
    }

    func testErrorsNameTheFunctionCalled() {
        expectError("lp.models.build('resnet18')", "build: models: unknown model 'resnet18': the zoo's ResNets are He et al.'s CIFAR ResNets of depth 6n+2 (resnet20, resnet32, resnet44, resnet56, resnet110); known: lenet_300_100")
        expectError("local t = {}; t.a = t; lp.json(t)", "json: a table that contains itself")
        expectError("""
        local r = {forward = function() end}; local net = lp.nn.Sequential({r})
        function r.forward(self, x) return (net(x)) end; net(lp.ones(2))
        """.replacingOccurrences(of: "\n", with: " "), "forward: Lua modules nest more than 40 calls deep")
    }

    func testTheSmallHolesSayWhatIsWrong() {
        // Inf scores are an error, as NaN ones are: one Inf would keep or drop a whole layer.
        let net = "local net = lp.models.lenet_300_100(); "
        expectError(net + "lp.prune.prune(net, {amount = 0.5, score = function(n, names) local s = {} " +
                    "for _, k in ipairs(names) do s[k] = n:get(k):abs() end; s[names[1]][1][1] = 1/0; return s end})",
                    "prune: the score of fc1.weight holds Inf at element 1 (scores must be finite numbers")
        expectError(net + "lp.prune.prune(net, {amount = 0.5, score = function(n, names) local s = {} " +
                    "for _, k in ipairs(names) do s[k] = n:get(k):abs() end; s[names[2]][1][2] = 0/0; return s end})",
                    "prune: the score of fc2.weight holds NaN at element 2")
        // Assigning a field of a native module, and indexing the number a 1-d tensor gives.
        expectError(net + "net.relu9 = lp.nn.ReLU()", "Module: cannot assign field 'relu9': only an existing child can be replaced (children: flatten, fc1, relu1,")
        expectError("local t = lp.from{1, 2, 3}; return t[2]:item()",
                    "attempt to index a number value (2.0, field 'item'): t[k] of a 1-d tensor is a Lua number already")
        check("(function() local t = lp.from{1, 2, 3}; return t[2] == 2 and t:narrow(1, 2, 1):item() == 2 end)()")
    }
}
