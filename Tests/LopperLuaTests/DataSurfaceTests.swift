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
