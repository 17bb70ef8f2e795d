import XCTest
@testable import LopperLua
import LopperCore

final class TensorSurfaceTests: LuaTestCase {
    func testModuleIsRequireableAndGlobal() {
        check(#"require("lopper") == lp"#)
        check("type(lp.version) == 'string'")
        check("lp.tensor == lp.from")
    }

    func testOperatorsWithNumbersOnEitherSide() {
        check("(0.5 * lp.from{2, 4}):equal(lp.from{1, 2})")
        check("(lp.from{2, 4} * 0.5):equal(lp.from{1, 2})")
        check("(1 + lp.from{1, 2}):equal(lp.from{2, 3})")
        check("(10 - lp.from{1, 2}):equal(lp.from{9, 8})")
        check("(lp.from{1, 2} - 1):equal(lp.from{0, 1})")
        check("(8 / lp.from{2, 4}):equal(lp.from{4, 2})")
        check("(2 ^ lp.from{1, 3}):equal(lp.from{2, 8})")
        check("(lp.from{2, 3} ^ 2):equal(lp.from{4, 9})")
        check("(-lp.from{1, -2}):equal(lp.from{-1, 2})")
        check("(lp.from{{1}, {2}} + lp.from{10, 20}):equal(lp.from{{11, 21}, {12, 22}})")
        check("(lp.from{1, 2} * lp.from{3, 4}):equal(lp.from{3, 8})")
        check("lp.from{3}:sum() > 2 and lp.from{1, 1}:sum() <= 2 and 1 < lp.from{2}")
        check(#"("x=" .. lp.from{1.5}) == "x=1.5""#)
    }

    func testOneBasedIndexing() {
        check("local t = lp.from{{1, 2, 3}, {4, 5, 6}}; return t[1][1] == 1 and t[2][3] == 6 and t[-1][-1] == 6")
        check("local t = lp.from{{1, 2, 3}, {4, 5, 6}}; t[2][3] = 60; return t[2][3] == 60")
        check("local t = lp.zeros(2, 3); t[1] = 7; return t:sum():item() == 21")
        check("local t = lp.zeros(2, 2); t[2] = lp.from{1, 2}; return t:equal(lp.from{{0, 0}, {1, 2}})")
        check("local t = lp.from{{1, 2, 3}, {4, 5, 6}}; return #t == 2 and #t[1] == 3")
        check("lp.from{{1, 2, 3}, {4, 5, 6}}[{{}, {2, 3}}]:equal(lp.from{{2, 3}, {5, 6}})")
        check("lp.from{{1, 2, 3}, {4, 5, 6}}[{2, {-2}}]:equal(lp.from{5})")
        check("local t = lp.zeros(3, 3); t[{{1, 2}, 2}] = 1; return t:sum():item() == 2 and t[2][2] == 1")
        check("lp.arange(10):narrow(1, 3, 2):equal(lp.from{2, 3})")
        check("lp.from{{1, 2}, {3, 4}}:select(2, 1):equal(lp.from{1, 3})")
    }

    func testViewsShareStorage() {
        check("local t = lp.zeros(2, 3); local v = t:view(3, 2); v[1][1] = 5; return t[1][1] == 5 and v:shares_storage(t)")
        check("local t = lp.zeros(2, 3); local r = t:transpose(); r[3][2] = 4; return t[2][3] == 4")
        check("local t = lp.zeros(4); t:narrow(1, 2, 2):fill_(1); return t:equal(lp.from{0, 1, 1, 0})")
        check("local t = lp.arange(6):reshape(2, 3); return t:t():is_contiguous() == false and t:t():contiguous():is_contiguous()")
    }

    func testMethodsAndFunctionsAgree() {
        check("local t = lp.from{{1, 2}, {3, 4}}; return t:sum(1):equal(lp.sum(t, 1))")
        check("lp.from{{1, 2}, {3, 4}}:sum(2):equal(lp.from{3, 7})")
        check("lp.from{{1, 2}, {3, 4}}:sum(-1, true):equal(lp.from{{3}, {7}})")
        check("lp.abs(lp.from{-1}):equal(lp.from{1})")
    }

    func testShapeAndConversions() {
        XCTAssertEqual(eval("table.concat(lp.zeros(2, 3, 4):shape(), ',')"), ["2,3,4"])
        XCTAssertEqual(eval("lp.zeros({2, 3}):numel(), lp.zeros(2, 3):dim(), lp.zeros(2, 3):size(2)"), ["6", "2", "3"])
        XCTAssertEqual(eval("lp.from{{1, 2}, {3, 4}}:totable()[2][1]"), ["3.0"])
        XCTAssertEqual(eval("lp.from{7}:sum():item()"), ["7.0"])
        XCTAssertEqual(eval("tostring(lp.eye(2))"), ["[[1 0]\n [0 1]]\n[Tensor of shape 2x2]"])
        XCTAssertEqual(eval("lp.full({2}, 3):totable()[2], lp.full(2, 2, 5):sum():item()"), ["3.0", "20.0"])
    }

    func testReductionsAndOrderingAreOneBased() {
        check("local v, i = lp.from{{1, 5}, {7, 2}}:max(2); return v:equal(lp.from{5, 7}) and i:equal(lp.from{2, 1})")
        check("lp.from{3, 9, 1}:argmax():item() == 2 and lp.from{3, 9, 1}:argmin():item() == 3")
        check("local v, i = lp.from{3, 9, 1, 7}:topk(2); return v:equal(lp.from{9, 7}) and i:equal(lp.from{2, 4})")
        check("local v, i = lp.from{3, 9, 1}:sort(); return v:equal(lp.from{1, 3, 9}) and i:equal(lp.from{3, 1, 2})")
        check("local v, i = lp.from{3, 9, 1}:kthvalue(2); return v:item() == 3 and i:item() == 1")
        check("lp.from{1, 2, 3, 4}:quantile(0.5):item() == 2.5")
        check("lp.from{0, 2, 0}:count_nonzero():item() == 1")
        check("lp.from{3, 4}:norm():item() == 5 and lp.from{3, -4}:norm(1):item() == 7 and lp.from{3, -4}:norm(math.huge):item() == 4")
        check("math.abs(lp.from{1, 2, 3, 4}:var():item() - 5/3) < 1e-6 and lp.from{1, 3}:std(1, false):item() == 1")
    }

    func testCreationAndRandomSeeding() {
        check("lp.arange(3):equal(lp.from{0, 1, 2}) and lp.arange(1, 3):equal(lp.from{1, 2})")
        check("lp.linspace(0, 1, 3):equal(lp.from{0, 0.5, 1})")
        check("lp.manual_seed(5); local a = lp.randn(4); lp.manual_seed(5); return a:equal(lp.randn(4))")
        check("lp.manual_seed(5); local a = lp.rand(4); return not a:equal(lp.rand(4))")
        check("local p = lp.randperm(5):sort(); return p:equal(lp.from{1, 2, 3, 4, 5})")
        check("lp.cat({lp.ones(2), lp.zeros(1)}):equal(lp.from{1, 1, 0})")
        check("lp.stack({lp.ones(2), lp.zeros(2)}, 2):equal(lp.from{{1, 0}, {1, 0}})")
        check("lp.where(lp.from{1, 0}, 5, lp.from{7, 8}):equal(lp.from{5, 8})")
        check("local t = lp.ones(2):add_(lp.ones(2), 2):mul_(2); return t:equal(lp.from{6, 6})")
        check("local t = lp.from{1, -5}; return t:clamp_(-1, 1) == t and t:equal(lp.from{1, -1})")
        check("lp.from{{1, 2}}:matmul(lp.from{{3}, {4}}):item() == 11")
    }

    func testBinaryChunksAreRefused() {
        XCTAssertEqual(eval("select(2, load(string.dump(function() end)))"), ["attempt to load a binary chunk (mode is 't')"])
    }

    func testTensorMemoryIsReportedToTheCollector() throws {
        // 400 tensors of 4 MB: Lua's heap is a few KB, so without reporting native bytes no
        // collection would run and 1.6 GB would pile up.
        let before = Storage.liveBytes
        host.setGlobal(LuaFunction("live_bytes") { c in c.push(int: Storage.liveBytes) })
        try host.run("""
            peak = 0
            for i = 1, 400 do
              local t = lp.zeros(1024, 1024)
              peak = math.max(peak, live_bytes())
            end
            """)
        let peak = Int(Double(try host.eval("peak").first ?? "") ?? -1)
        XCTAssertGreaterThan(peak - before, 4_000_000)
        XCTAssertLessThan(peak - before, 200_000_000, "tensor memory piled up: peak \(peak - before) bytes")
    }
}
