import XCTest
@testable import LopperLua
import LopperCore

/// Model surgery and buffers of Lua-written modules, as a script uses them.
final class SurgerySurfaceTests: LuaTestCase {
    func testInsertRemoveAndReplaceKeepNamesAndTrainingWorks() {
        check("""
        lp.manual_seed(5)
        local net = lp.models.lenet_300_100()
        local before = {}
        for _, p in ipairs(net:parameters()) do before[#before + 1] = p.name end
        net:insert(3, "drop1", lp.nn.Dropout(0.1))       -- after fc1
        net.relu1 = lp.nn.Tanh()                          -- by assignment
        local old = net:replace("relu2", lp.nn.LeakyReLU(0.2))
        local gone = net:remove("drop1")
        net:insert(#net + 1, lp.nn.Identity())             -- appended, named by the first free number
        local after = {}
        for _, p in ipairs(net:parameters()) do after[#after + 1] = p.name end
        local kinds = {}
        for _, ch in ipairs(net:children()) do kinds[#kinds + 1] = ch.name .. "=" .. ch.module:kind() end
        local ys = {}
        for i = 1, 64 do ys[i] = i % 10 + 1 end
        local ds = lp.data.tensors{x = lp.randn(64, 1, 28, 28), y = lp.from(ys)}
        local opt = lp.optim.SGD(net, {lr = 0.05})
        local first = lp.evaluate(net, ds).loss
        lp.train{net = net, data = ds, optimizer = opt, batch_size = 16, epochs = 5}
        return table.concat(before, ",") == table.concat(after, ",") and old:kind() == "ReLU" and gone:kind() == "Dropout"
          and kinds[3] == "relu1=Tanh" and kinds[5]:find("LeakyReLU") ~= nil and kinds[#kinds] == "0=Identity"
          and lp.evaluate(net, ds).loss < first
        """)
    }

    func testReplaceReachesIntoBlocksAndLuaModules() {
        check("""
        lp.manual_seed(2)
        local net = lp.models.resnet20{channels = 3, size = 32, width = 0.25}
        net:replace("blocks.0.conv1", lp.nn.Conv2d(4, 4, 3, {padding = 1, bias = false}))
        local Inner = lp.nn.module{fc = lp.nn.Linear(3, 3), forward = function(self, x) return self.fc(x) end}
        local outer = lp.nn.Sequential{{"inner", Inner}}
        outer:replace("inner.fc", lp.nn.Linear(3, 3, {bias = false}))
        return net(lp.randn(2, 3, 32, 32)):size(2) == 10 and Inner.fc.bias == nil
          and outer:get("inner.fc"):parameter_count() == 9
        """)
    }

    func testCloneIsDeepAndEqual() {
        check("""
        lp.manual_seed(4)
        local net = lp.models.conv2{channels = 3, size = 32, width = 0.25}
        lp.prune.prune(net, {amount = 0.5, score = "magnitude"})
        local h = net.fc1:on_forward(function() error("hooks stay behind") end)
        local x = lp.randn(3, 3, 32, 32)
        local copy = net:clone()
        copy(x)
        h:remove()
        local y, yc = net(x), copy(x)
        local w, wc = net.fc1.weight, copy.fc1.weight
        local kept = select(1, lp.prune.masks(copy):count()) == select(1, lp.prune.masks(net):count())
          and math.abs(lp.prune.stats(copy).density - lp.prune.stats(net).density) < 1e-9
        lp.no_grad(function() wc:add_(1) end)
        return (y - yc):abs():max():item() == 0 and w:ne(wc):sum():item() == w:numel() and kept
          and #copy:parameters() == #net:parameters()
        """)
        // A Lua-written module's clone copies tensors and child modules, shares the rest.
        check("""
        local M = lp.nn.module{name = "Scaled", gain = lp.ones(3):requires_grad(), count = lp.zeros(1):as_buffer(),
          fc = lp.nn.Linear(3, 3), forward = function(self, x) return self.fc(x) * self.gain end}
        local C = M:clone()
        lp.no_grad(function() C.gain:mul_(2) end)
        local x = lp.randn(2, 3)
        return C ~= M and C.fc ~= M.fc and (C(x) - M(x) * 2):abs():max():item() < 1e-6 and C.forward == M.forward
          and #C:parameters() == 3 and #C:buffers() == 1 and getmetatable(C) == getmetatable(M)
        """)
    }

    func testCloneDoesNotMoveTheRandomStream() {
        check("""
        lp.manual_seed(9); local a = lp.randn(4)
        lp.manual_seed(9); local net = lp.models.lenet_300_100()
        lp.manual_seed(9); local _ = net:clone(); local b = lp.randn(4)
        return a:equal(b)
        """)
    }

    func testBuffersOfLuaModulesAreSavedAndLoaded() {
        check("""
        local function make()
          return lp.nn.module{w = lp.ones(2):requires_grad(), seen = lp.zeros(1), total = lp.zeros(2):as_buffer(),
            buffers = {"seen"},
            forward = function(self, x)
              lp.no_grad(function() self.seen:add_(1); self.total:add_(x:sum(1)) end)
              return x * self.w end}
        end
        local m = make()
        m(lp.ones(3, 2)); m(lp.ones(3, 2))
        local names = {}
        for _, b in ipairs(m:buffers()) do names[#names + 1] = b.name end
        local path = os.tmpname()
        lp.save(path, m:state_dict())
        local m2 = make()
        m2:load_state_dict(lp.load(path))
        os.remove(path)
        return table.concat(names, ",") == "seen,total" and #m:parameters() == 1 and m2.seen:item() == 2
          and m2.total:equal(lp.from{6, 6})
        """)
    }

    func testSurgeryMistakesSayWhatIsWrong() {
        let net = "local net = lp.models.lenet_300_100(); "
        expectError(net + "net:insert(9, lp.nn.ReLU())", "insert: position 9 is outside 1…7")
        expectError(net + "net:insert(1, 'fc1', lp.nn.ReLU())", "already has a child named 'fc1'")
        expectError(net + "net:remove('nope')", "has no child 'nope' (its children: flatten, fc1, relu1, fc2, relu2, fc3)")
        expectError(net + "net:replace('fc9', lp.nn.ReLU())", "no module at 'fc9'")
        expectError(net + "net:replace('fc1', net)", "would contain itself")
        expectError(net + "net.fc1 = 3", "expected a module for child 'fc1', got number")
        expectError("lp.nn.Linear(2, 2):insert(1, lp.nn.ReLU())", "expected a Sequential")
        expectError("lp.ones(2):requires_grad():as_buffer()", "a buffer is not trained")
        expectError("lp.nn.module{buffers = {'x'}, forward = function(s, x) return x end}", "buffers entry 'x': the field holds nil")
    }
}
