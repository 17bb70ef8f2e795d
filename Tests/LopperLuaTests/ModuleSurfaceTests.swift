import XCTest
@testable import LopperLua
import LopperCore

/// Modules, optimizers, schedules, training and checkpoints as a script sees them.
final class ModuleSurfaceTests: LuaTestCase {
    func testLayersNamesAndCallSyntax() {
        check("""
        local net = lp.nn.Sequential{ {"fc1", lp.nn.Linear(4, 3)}, lp.nn.ReLU(), {"out", lp.nn.Linear(3, 2, {bias = false})} }
        local names = {}
        for _, p in ipairs(net:parameters()) do names[#names + 1] = p.name .. "=" .. table.concat(p.tensor:size(), "x") end
        local y = net(lp.ones(5, 4))
        return table.concat(names, " ") == "fc1.weight=3x4 fc1.bias=3 out.weight=2x3" and y:size(1) == 5 and y:size(2) == 2
          and net.fc1.weight:size(2) == 4 and #net == 3 and net[2]:kind() == "ReLU"
          and net:get("fc1.bias"):numel() == 3 and net:parameter_count() == 21
        """)
        check("""
        local c = lp.nn.Conv2d(1, 4, 3, {padding = 1, stride = 2})
        local y = c(lp.randn(2, 1, 8, 8))
        return y:size(2) == 4 and y:size(3) == 4 and lp.nn.MaxPool2d(2)(y):size(4) == 2
          and lp.nn.AdaptiveAvgPool2d(1)(y):size(3) == 1 and lp.nn.BatchNorm2d(4)(y):size(1) == 2
        """)
    }

    func testLuaModulesMixWithNativeOnes() {
        check("""
        lp.manual_seed(1)
        local Scale = lp.nn.module{ name = "Scale", gain = lp.full({3}, 2):requires_grad(),
          forward = function(self, x) return x * self.gain end }
        local net = lp.nn.Sequential{ {"fc", lp.nn.Linear(2, 3)}, {"scale", Scale}, lp.nn.Tanh() }
        local names = {}
        for _, p in ipairs(net:parameters()) do names[#names + 1] = p.name end
        local x = lp.randn(4, 2)
        local loss = net(x):sum()
        loss:backward()
        net:eval()
        return table.concat(names, ",") == "fc.weight,fc.bias,scale.gain" and Scale.gain.grad ~= nil
          and Scale.training == false and net.scale == Scale and tostring(net):find("Scale") ~= nil
        """)
    }

    func testOptimizersStateAndSchedules() {
        check("""
        local w = lp.tensor({1, 2, 3}):requires_grad()
        local opt = lp.optim.SGD({w}, {lr = 0.1, momentum = 0.9, schedule = function(step) return 0.5 ^ step end})
        w.grad = lp.ones(3)
        opt:step()
        local s = opt:state(w)
        opt:reset_state(w, lp.tensor({1, 0, 1}))
        return math.abs(w[1] - 0.9) < 1e-6 and math.abs(opt:lr() - 0.05) < 1e-7 and s.momentum_buffer[2] == 0 and s.momentum_buffer[1] == 1
          and opt:iteration() == 1
        """)
        check("""
        local s = lp.schedule.warmup{steps = 2, after = lp.schedule.cosine{total = 10}}
        return s:at(0) == 0.5 and math.abs(s(1) - 0.9755283) < 1e-6 and math.abs(s:at(5) - 0.5) < 1e-6 and lp.schedule.step{every = 2, gamma = 0.1}:at(4) < 0.0101
        """)
    }

    func testTrainEvaluateCallbacksAndErrors() {
        check("""
        lp.manual_seed(3)
        local train = lp.data.fashion_mnist{split = "test"}
        local net = lp.models.lenet_300_100()
        local opt = lp.optim.Adam(net, {lr = 1e-3})
        local steps, epochs, typed = 0, 0, true
        local r = lp.train{net = net, data = train, optimizer = opt, batch_size = 50, iterations = 30,
          on_step = function(s)
            steps = steps + 1
            typed = typed and math.type(s.iteration) == "integer" and math.type(s.loss) == "float"
            return s.iteration < 20
          end,
          on_epoch = function(e) epochs = epochs + 1 end}
        local ev = lp.evaluate(net, train, {batch_size = 500})
        return r.iterations == 20 and r.stopped and steps == 20 and typed and ev.count == 10000 and ev.accuracy > 0.5
        """)
        expectError("lp.train{net = lp.nn.ReLU(), data = 1, optimizer = 2, epochs = 1}", "train: expected a Dataset, got number")
        expectError("lp.nn.Linear(3, 2, {bais = true})", "Linear: unknown option 'bais' (known: bias, bias_init, init; see help(lp.nn.Linear))")
        expectError("lp.nn.Linear(3, 2)(lp.ones(2, 4))", "Linear: expected an input with 3 features in its last dimension, got [2,4]")
        expectError("lp.models.build('lenet7')", "unknown model 'lenet7'")
        expectError("lp.optim.SGD(lp.nn.Linear(2, 2), {})", "SGD: expected option lr")
    }

    func testErrorsInsideLuaModulesKeepTheirPosition() throws {
        do {
            try host.run("""
            local bad = lp.nn.module{ forward = function(self, x) return x:matmul(lp.ones(7, 7)) end }
            local net = lp.nn.Sequential{ bad }
            net(lp.ones(2, 3))
            """, chunkName: "=recipe")
            XCTFail("expected an error")
        } catch let e as LuaScriptError {
            let first = e.message.split(separator: "\n").first.map(String.init) ?? ""
            XCTAssertTrue(first.hasPrefix("recipe:1: matmul: [2,3] and [7,7] do not align"), first)
        }
    }

    func testCheckpointsFromLua() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lopper-lua-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        check("""
        lp.manual_seed(5)
        local net = lp.models.lenet5()
        local opt = lp.optim.SGD(net, {lr = 0.1, momentum = 0.9})
        net(lp.randn(2, 1, 28, 28)):sum():backward()
        opt:step()
        lp.checkpoint.save("\(dir.path)/ck.safetensors", {net = net, optimizer = opt, meta = {round = 3}})
        local after = lp.randn(1)
        local net2 = lp.models.lenet5()
        local opt2 = lp.optim.SGD(net2, {lr = 0.1, momentum = 0.9})
        local meta = lp.checkpoint.load("\(dir.path)/ck.safetensors", {net = net2, optimizer = opt2})
        local same = lp.equal(net.conv1.weight, net2.conv1.weight)
          and lp.equal(opt:state("fc1.weight").momentum_buffer, opt2:state("fc1.weight").momentum_buffer)
        lp.save("\(dir.path)/t.safetensors", {a = lp.ones(2)}, {note = "x"})
        local t, m = lp.load("\(dir.path)/t.safetensors")
        lp.save_npy("\(dir.path)/t.npy", lp.arange(1, 7):reshape(2, 3))
        return same and meta.round == "3" and lp.equal(lp.randn(1), after) and m.note == "x" and t.a:sum():item() == 2
          and lp.load_npy("\(dir.path)/t.npy")[2][3] == 6
        """)
        expectError("lp.checkpoint.load('/no/file', {net = lp.models.lenet5()})", "load: no file at /no/file")
    }

    func testInitialisersHaveTheAskedMoments() {
        // 40,000 draws with a fixed seed: the mean within 0.01·std and the std within 1%.
        try? host.run("lp.manual_seed(7)")
        check("(function() local t = lp.nn.init(lp.zeros(200, 200), 'normal', {mean = 0.5, std = 2}) " +
              "return math.abs(t:mean():item() - 0.5) < 0.03 and math.abs(t:std():item() - 2) < 0.02 end)()")
        // U(a, b): mean (a+b)/2, std (b−a)/√12, and nothing outside.
        check("(function() local t = lp.nn.init(lp.zeros(40000), 'uniform', {a = -1, b = 3}) " +
              "return math.abs(t:mean():item() - 1) < 0.03 and math.abs(t:std():item() - 4 / math.sqrt(12)) < 0.012 " +
              "and t:min():item() >= -1 and t:max():item() <= 3 end)()")
        check("lp.nn.init(lp.zeros(2, 3), 'constant', {value = 1.5}):equal(lp.full(2, 3, 1.5))")
        check("lp.nn.init(lp.zeros(4), 'ones'):equal(lp.ones(4)) and lp.nn.init(lp.ones(4), 'zeros'):equal(lp.zeros(4))")
        // A gain scales kaiming's std: gain/√fan_in (fan_in 400 here).
        check("(function() local t = lp.nn.init(lp.zeros(100, 400), 'kaiming_normal', {gain = 3}) " +
              "return math.abs(t:std():item() - 3 / 20) < 0.0025 end)()")
        check("(function() local t = lp.nn.init(lp.zeros(100, 100), 'xavier_uniform', {gain = 2}) " +
              "return t:abs():max():item() <= 2 * math.sqrt(6 / 200) + 1e-6 and t:abs():max():item() > 0.9 * 2 * math.sqrt(6 / 200) end)()")
        // Orthogonal: rows orthonormal when wide, columns when tall (conv weights as [out, in·k·k]).
        check("(function() local q = lp.nn.init(lp.zeros(4, 2, 3, 3), 'orthogonal'):reshape(4, 18) " +
              "return (q:matmul(q:transpose()) - lp.eye(4)):abs():max():item() < 1e-5 end)()")
        check("(function() local q = lp.nn.init(lp.zeros(10, 3), 'orthogonal', {gain = 0.5}) " +
              "return (q:transpose():matmul(q) - lp.eye(3) * 0.25):abs():max():item() < 1e-5 end)()")
        expectError("lp.nn.init(lp.zeros(3), 'kaiming_normal')", "init: 'kaiming_normal' needs a weight with at least 2 dimensions, got [3]")
        expectError("lp.nn.init(lp.zeros(3), 'constant')", "init: constant needs value =")
        expectError("lp.nn.init(lp.zeros(1, 1):expand(4000, 4000), 'orthogonal')", "orthogonal: a 4000x4000 matrix is too large")
        expectError("lp.nn.init(lp.zeros(3), 'uniform', {a = 2, b = 1})", "init: uniform needs finite a ≤ b, got a 2.0, b 1.0")
        expectError("lp.nn.init(lp.zeros(3, 3), 'pytorch', {gain = 2})", "init: 'pytorch' takes no gain")
        expectError("lp.nn.init(lp.zeros(3, 3), 'normal', {sd = 2})", "init: unknown option 'sd'")
        expectError("lp.nn.init(lp.zeros(3, 3), 'gaussian')", "init: unknown initialiser 'gaussian' (known: pytorch, kaiming_normal")
    }

    func testInitNetVisitsEveryParameterByName() {
        check("""
        (function()
          local net, seen = lp.models.lenet_300_100(), {}
          lp.nn.init_net(net, function(name, t)
            seen[#seen + 1] = name
            if name:match("bias$") then return "constant", {value = 0.25} end
            if name == "fc3.weight" then t:fill_(1) return end
            return "normal", {std = 0.01}
          end)
          return #seen == 6 and seen[1] == "fc1.weight" and net:get("fc2.bias"):equal(lp.full(100, 0.25))
            and net:get("fc3.weight"):equal(lp.ones(10, 100)) and net:get("fc1.weight"):std():item() < 0.011
        end)()
        """)
        expectError("lp.nn.init_net(lp.models.lenet5(), function() return 3 end)", "init_net: the function returned number for conv1.weight")
        expectError("lp.nn.init_net(3, print)", "init_net: expected a module and a function(name, tensor), got number and function")
    }

    func testBiasInitFillsEveryBiasWithTheAskedMoments() {
        check("""
        lp.manual_seed(8)
        local fc = lp.nn.Linear(10, 20000, {bias_init = {"normal", mean = 0.5, std = 0.2}})
        local m, s = fc.bias:mean():item(), fc.bias:std():item()
        local conv = lp.nn.Conv2d(1, 4, 3, {bias_init = {"constant", value = 0.1}})
        local net = lp.models.lenet5{bias_init = "zeros"}
        local zero = true
        for _, p in ipairs(net:parameters()) do if p.name:match("bias$") then zero = zero and p.tensor:abs():max():item() == 0 end end
        -- 20,000 draws: the mean is within 4 standard errors (0.2/√20000 ≈ 0.0014)
        return math.abs(m - 0.5) < 0.006 and math.abs(s - 0.2) < 0.006 and conv.bias:equal(lp.full({4}, 0.1)) and zero
        """)
        expectError("lp.nn.Linear(2, 2, {bias_init = {'normal', sdt = 1}})", "bias_init: unknown option 'sdt'")
        expectError("lp.models.lenet5{bias_init = 'kaiming_normal'}", "unknown initialiser 'kaiming_normal' for biases")
    }
}
