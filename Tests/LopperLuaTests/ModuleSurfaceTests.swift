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
        expectError("lp.nn.Linear(3, 2, {bais = true})", "Linear: unknown option 'bais' (known: bias, init; see help(lp.nn.Linear))")
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
}
