import XCTest
@testable import LopperLua
import LopperCore

/// `lp.models.load`: a checkpoint rebuilds its network — compacted shapes, masks, modes and
/// input shape included — without the script; files it cannot trust are refused by name.
final class ModelLoadTests: LuaTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        try super.setUpWithError()
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("lopper-load-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: dir)
        super.tearDown()
    }

    func testACompactedResNetComesBackFromItsFileAlone() {
        check("""
        lp.manual_seed(31)
        local net = lp.models.resnet20{channels = 3, size = 32, width = 0.5}
        lp.prune.prune(net, {score = "l1", structure = "group", scope = "layer", amount = 0.5})
        local small = lp.compact(net)
        small:eval()
        lp.checkpoint.save("\(dir.path)/small.safetensors", {net = small, meta = {rate = 0.5}})
        local back, meta = lp.models.load("\(dir.path)/small.safetensors")
        local x = lp.randn(2, 3, 32, 32)
        return (back(x) - small(x)):abs():max():item() == 0 and meta.rate == "0.5" and not back:is_training()
          and back:parameter_count() == 17534 and back:get("blocks.6.shortcut.0").weight:size(1) == 16
          and tostring(back) == tostring(small) and lp.compact(back):parameter_count() == 17534
        """)
    }

    func testMasksPoolsDropoutAndResidualsRoundTrip() {
        check("""
        lp.manual_seed(32)
        local lenet = lp.models.lenet5()
        lp.prune.prune(lenet, {score = "magnitude", density = 0.2})
        lp.checkpoint.save("\(dir.path)/lenet.safetensors", {net = lenet})
        local back = lp.models.load("\(dir.path)/lenet.safetensors")
        local mixed = lp.nn.Sequential{{"fc", lp.nn.Linear(6, 6)}, {"leaky", lp.nn.LeakyReLU(0.2)}, {"drop", lp.nn.Dropout(0.3)},
          {"res", lp.nn.Residual(lp.nn.Sequential{lp.nn.Linear(6, 6), lp.nn.Tanh()}, {scale = 0.5, relu = true})},
          {"bn", lp.nn.BatchNorm1d(6)}, {"out", lp.nn.Linear(6, 2, {bias = false})}}
        mixed:eval()
        lp.checkpoint.save("\(dir.path)/mixed.safetensors", {net = mixed})
        local m2 = lp.models.load("\(dir.path)/mixed.safetensors")
        local x, v = lp.randn(2, 1, 28, 28), lp.randn(3, 6)
        return back(x):equal(lenet(x)) and lp.prune.masks(back):density() == lp.prune.masks(lenet):density()
          and back.conv1.weight.mask:equal(lenet.conv1.weight.mask) and tostring(m2) == tostring(mixed)
          and m2(v):equal(mixed(v)) and m2.out.bias == nil
        """)
    }

    func testWhatCannotBeRebuiltOrTrustedIsRefusedByName() {
        let p = dir.path
        check("""
        local Odd = lp.nn.module{forward = function(self, x) return x * 2 end}
        lp.checkpoint.save("\(p)/lua.safetensors", {net = lp.nn.Sequential{{"fc", lp.nn.Linear(2, 2)}, {"odd", Odd}}})
        lp.save("\(p)/plain.safetensors", {w = lp.ones(2)})
        local function arch(a) return '{"format":"lopper-checkpoint/1","architecture":' .. a .. '}' end
        local fc = '"kind":"Linear","in":3,"out":2,"bias":true'
        lp.save("\(p)/neg.safetensors", {weight = lp.ones(2, 3)}, {lopper = arch('{"kind":"Linear","in":-3,"out":2}')})
        lp.save("\(p)/huge.safetensors", {weight = lp.ones(2, 3)}, {lopper = arch('{"kind":"Linear","in":4000000000000,"out":4000000000000}')})
        lp.save("\(p)/shape.safetensors", {weight = lp.ones(4, 4), bias = lp.ones(2)}, {lopper = arch('{' .. fc .. '}')})
        lp.save("\(p)/what.safetensors", {}, {lopper = arch('{"kind":"Transformer"}')})
        lp.save("\(p)/deep.safetensors", {}, {lopper = arch(string.rep('{"kind":"Seq","class":"Sequential","children":[["a",', 120)
          .. '{' .. fc .. '}' .. string.rep(']]}', 120))})
        lp.save("\(p)/json.safetensors", {}, {lopper = '{"format": '})
        return true
        """)
        expectError("lp.models.load('\(p)/lua.safetensors')", "holds no architecture: odd is a LuaModule, which Lopper cannot rebuild from a file")
        expectError("lp.models.load('\(p)/plain.safetensors')", "no Lopper metadata")
        expectError("lp.models.load('\(p)/neg.safetensors')", "the network (Linear) needs a positive integer in, got -3")
        expectError("lp.models.load('\(p)/huge.safetensors')", "the network (Linear): shape [4000000000000,4000000000000] has more elements")
        expectError("lp.models.load('\(p)/shape.safetensors')", "weight")
        expectError("lp.models.load('\(p)/what.safetensors')", "the network is a Transformer, which Lopper does not know how to build")
        expectError("lp.models.load('\(p)/deep.safetensors')", "nested deeper than 100")
        expectError("lp.models.load('\(p)/json.safetensors')", "its Lopper metadata is not a JSON object")
        expectError("lp.models.load('\(p)/missing.safetensors')", "missing.safetensors")
        expectError("lp.models.load(3)", "expected path to be a string")
    }
}
