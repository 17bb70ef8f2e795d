import XCTest
import Foundation
@testable import LopperLua

final class DataSurfaceTests: LuaTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist"), "dataset-fashion-mnist not installed")
        try super.setUpWithError()
    }

    func testFashionMNISTSplitsAndBatches() {
        check("local tr, va = lp.data.fashion_mnist{validation = 5000}; return #tr == 55000 and va:size() == 5000 and tr:classes() == 10")
        check("""
            (function()
              local test = lp.data.fashion_mnist{split = "test"}
              local it = test:batches(4096, {flatten = true})
              local n, rows, shape = 0, 0, nil
              for x, y in it do n = n + 1; rows = rows + y:numel(); shape = x:shape() end
              return n == 3 and it:count() == 3 and rows == 10000 and shape[2] == 784
            end)()
            """)
        check("""
            (function()
              local test = lp.data.fashion_mnist{split = "test"}
              local function first(seed)
                for x, y in test:batches(8, {shuffle = true, seed = seed}) do return x, y end
              end
              local x1, y1 = first(3)
              local x2, y2 = first(3)
              return y1:equal(y2) and x1:equal(x2) and #x1:shape() == 4 and y1:min():item() >= 1 and y1:max():item() <= 10
            end)()
            """)
    }

    func testNormalizationCanBeLeftOut() {
        check("""
            (function()
              local raw = lp.data.fashion_mnist{split = "test", normalize = false}
              local norm = lp.data.fashion_mnist{split = "test"}
              local x = raw:batches(100)(); local z = norm:batches(100)()
              return x:min():item() == 0 and x:max():item() == 1
                 and ((x - 0.2860) / 0.3530 - z):abs():max():item() < 1e-5
            end)()
            """)
        expectError("lp.data.fashion_mnist{normalize = 1}", "expected normalize to be a boolean, got number")
    }

    func testDataErrors() {
        expectError("lp.data.fashion_mnist{split = 'valid'}", "fashion_mnist: split must be \"train\" or \"test\", got \"valid\"")
        expectError("lp.data.fashion_mnist{root = '/nowhere'}", "install it with: apt-get install dataset-fashion-mnist")
        expectError("lp.data.fashion_mnist{split = 'test'}:batches(0)", "batches: batch size must be at least 1, got 0")
        expectError("lp.data.fashion_mnist{split = 'test'}.batches(lp.zeros(1), 2)", "batches: expected a Dataset, got tensor")
    }
}

/// lp.data.tensors, lp.data.subset, Dataset:split and Dataset:per_class (no files needed).
final class TensorDataSurfaceTests: LuaTestCase {
    func testTensorsReadClassesOrValues() {
        check("tostring(lp.data.tensors{x = lp.randn(4, 3), y = lp.from{1, 2, 2, 1}}):find('2 classes', 1, true) ~= nil")
        check("lp.data.tensors{x = lp.randn(4, 3), y = lp.from{1, 2, 2, 1}, classes = 5}:classes() == 5")
        check("lp.data.tensors{x = lp.randn(4, 3), y = lp.randn(4)}:classes() == 0")
        check("lp.data.tensors{x = lp.randn(4, 3), y = lp.from{1, 2, 2, 1}, targets = 'values'}:classes() == 0")
        check("(function() local x, y = lp.data.tensors{x = lp.randn(4, 3), y = lp.randn(4, 2)}:all(); return y:size(2) == 2 end)()")
        expectError("lp.data.tensors{x = lp.randn(4, 3), y = lp.randn(4), targets = 'classes'}", "needs y of shape [N] holding classes")
        expectError("lp.data.tensors{x = lp.randn(4, 3), y = lp.ones(3)}", "do not pair")
        expectError("lp.data.tensors{x = lp.randn(4, 3), y = lp.ones(4), targets = 'labels'}", "targets must be")
        expectError("lp.data.tensors{x = lp.randn(4, 3)}", "expected options x and y")
        expectError("lp.data.tensors{x = lp.randn(4, 3), y = lp.from{1, 2, 3, 1}, classes = 2}", "class 3 is outside 1..2")
        expectError("lp.data.tensors{x = lp.randn(4, 3), y = lp.from{1, 2, 3, 1}, classes = 1 << 60}", "classes; expected 1 to")
    }

    func testSubsetsSplitsAndPerClass() {
        check("(function() local ds = lp.data.tensors{x = lp.arange(6):view(6, 1), y = lp.ones(6)}; local x = lp.data.subset(ds, lp.from{6, 2}):all(); return x:equal(lp.from{{5}, {1}}) end)()")
        check("(function() local a, b, c = lp.data.tensors{x = lp.randn(10, 1), y = lp.ones(10)}:split({4, 4}); return #a == 4 and #b == 4 and #c == 2 end)()")
        check("select('#', lp.data.tensors{x = lp.randn(10, 1), y = lp.ones(10)}:split(10)) == 1")
        check("""
            (function()
              local ds = lp.data.tensors{x = lp.arange(20):view(20, 1), y = lp.ones(20)}
              local a = ds:split(5, {shuffle = true, seed = 4}):all()
              local b = ds:split(5, {shuffle = true, seed = 4}):all()
              return a:equal(b) and not a:equal(lp.arange(5):view(5, 1))
            end)()
            """)
        check("#lp.data.tensors{x = lp.randn(5, 1), y = lp.from{1, 1, 2, 2, 2}}:per_class(1, {shuffle = true}) == 2")
        expectError("lp.data.subset(lp.data.tensors{x = lp.randn(3, 1), y = lp.ones(3)}, {4})", "index 4 is outside 1..3")
        expectError("lp.data.subset(lp.data.tensors{x = lp.randn(3, 1), y = lp.ones(3)}, lp.from{1.5})", "whole numbers")
        expectError("lp.data.tensors{x = lp.randn(3, 1), y = lp.ones(3)}:split({2, 2})", "do not fit 3 samples")
        expectError("lp.data.tensors{x = lp.randn(3, 1), y = lp.randn(3)}:per_class(1)", "value targets")
        expectError("lp.data.tensors{x = lp.randn(3, 1), y = lp.ones(3)}:split(1, {shufle = true})", "unknown option 'shufle'")
    }

    func testLoadReadsNpyAndSafetensorsWithZeroBasedClasses() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("load-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try host.run("dir = '\(dir)'", chunkName: "=dir")
        check("""
            (function()
              lp.save_npy(dir .. "/x.npy", lp.arange(6):view(3, 2)); lp.save_npy(dir .. "/y.npy", lp.from{0, 2, 1})
              local ds = lp.data.load{x = dir .. "/x.npy", y = dir .. "/y.npy"}
              local x, y = ds:all()
              local one = lp.data.load{x = dir .. "/x.npy", y = dir .. "/y.npy", first_class = 1, targets = "values"}
              return ds:classes() == 3 and y:equal(lp.from{1, 3, 2}) and x[3][2] == 5 and one:classes() == 0
            end)()
            """)
        check("""
            (function()
              lp.save(dir .. "/d.safetensors", {x = lp.ones(2, 2), y = lp.from{1, 0}})
              local _, y = lp.data.load{file = dir .. "/d.safetensors"}:all()
              return y:equal(lp.from{2, 1})
            end)()
            """)
        expectError("lp.data.load{file = dir .. '/d.safetensors', x = 'images'}", "holds no tensor 'images' (it holds: x, y)")
        expectError("lp.data.load{x = dir .. '/x.npy'}", "expected x and y")
        expectError("lp.data.load{x = dir .. '/missing.npy', y = dir .. '/y.npy'}", "missing.npy")
        expectError("lp.data.load{x = dir .. '/x.npy', y = dir .. '/y.npy', first_class = 2}", "first_class must be 0 or 1")
    }

    func testAugmentCorruptEvaluateAndPredictFromLua() {
        check("""
            (function()
              local ds = lp.data.tensors{x = lp.rand(4, 3, 8, 8), y = lp.from{1, 2, 1, 2}}
              local aug = lp.data.augment(ds, {padding = 2, flip = true, transform = function(x, y) return x * 2 end})
              lp.manual_seed(3); local a = aug:all()
              lp.manual_seed(3); local b = aug:all()
              local flat = aug:batches(4, {flatten = true})()
              return a:equal(b) and a:max():item() <= 2 and flat:size(2) == 192 and tostring(aug):find('augmented', 1, true) ~= nil
            end)()
            """)
        check("(function() local _, y = lp.data.augment(lp.data.tensors{x = lp.rand(2, 1, 2, 2), y = lp.from{1, 2}}, {transform = function(x, y) return x, y + 1 end}):all(); return y:equal(lp.from{2, 3}) end)()")
        expectError("lp.data.augment(lp.data.tensors{x = lp.rand(2, 3), y = lp.ones(2)}, 'cifar')", "crops and flips need image samples")
        expectError("lp.data.augment(lp.data.tensors{x = lp.rand(2, 1, 2, 2), y = lp.ones(2)}, 'imagenet')", "unknown augmentation 'imagenet'")
        expectError("lp.data.augment(lp.data.tensors{x = lp.rand(2, 1, 2, 2), y = lp.ones(2)}, {pading = 4})", "unknown option 'pading'")
        expectError("lp.data.augment(lp.data.tensors{x = lp.rand(2, 1, 2, 2), y = lp.ones(2)}, {transform = function() return 1 end}):all()", "expected a tensor")
        check("""
            (function()
              local ds = lp.data.tensors{x = lp.eye(3), y = lp.from{1, 2, 3}}
              local net = lp.nn.Linear(3, 3, {bias = false})
              lp.no_grad(function() net.weight:copy_(lp.eye(3)) end)
              local r = lp.evaluate(net, ds)
              local swapped = lp.evaluate(net, ds, {transform = function(x, y) return x:narrow(2, 1, 3) * -1 end})
              return r.accuracy == 1 and r.per_class[3] == 1 and swapped.accuracy < 1
                and lp.predict(net, lp.eye(3)):equal(lp.eye(3))
            end)()
            """)
        check("lp.data.corrupt(lp.zeros(100), {strength = 0}):equal(lp.zeros(100))")
        expectError("lp.data.corrupt(lp.zeros(3), {noise = 'salt'})", "expected option strength")
        expectError("lp.data.corrupt(lp.zeros(3), {noise = 'salt', strength = 1})", "unknown noise 'salt'")
        expectError("lp.predict(lp.nn.Linear(2, 2), lp.zeros(0, 2))", "N ≥ 1")
    }

    func testTrainingAndEvaluatingOnValueTargets() {
        check("""
            (function()
              lp.manual_seed(1)
              local x = lp.randn(64, 3)
              local y = x:matmul(lp.from{{1}, {-2}, {0.5}})
              local data = lp.data.tensors{x = x, y = y}
              local net = lp.nn.Linear(3, 1)
              local mse = function(out, t) return out:mse_loss(t) end
              local before = lp.evaluate(net, data, {loss = mse}).loss
              lp.train{net = net, data = data, optimizer = lp.optim.SGD(net, {lr = 0.1}), epochs = 30, batch_size = 16, loss = mse}
              local r = lp.evaluate(net, data, {loss = mse})
              return r.loss < before / 20 and r.accuracy ~= r.accuracy
            end)()
            """)
    }
}
