import XCTest
@testable import LopperLua

/// Every wrong call gets a Lua error naming the function, what it expected and what it
/// got, at the script's line — and the host survives.
final class ErrorTests: LuaTestCase {
    func testShapeErrors() {
        expectError("lp.zeros(3,4):matmul(lp.zeros(5,6))", "matmul: [3,4] and [5,6] do not align")
        expectError("return lp.zeros(2,3) + lp.zeros(4)", "add: shapes [2,3] and [4] do not broadcast")
        expectError("return lp.zeros(2,3) * lp.zeros(2)", "mul: shapes [2,3] and [2] do not broadcast")
        expectError("lp.zeros(2,3):reshape(7)", "reshape: cannot reshape [2,3] (6 elements) into [7]")
        expectError("lp.zeros(2,3):t():view(6)", "view: tensor of shape [3,2] is not contiguous")
        expectError("lp.cat({lp.zeros(2,2), lp.zeros(3,3)})", "cat: tensor 2 has shape [3,3]")
        expectError("lp.zeros(2,3):add_(lp.ones(3,3))", "add_: shapes [2,3] and [3,3] do not broadcast")
        expectError("lp.zeros(2):expand(3, 3)", "expand: shapes [2] and [3,3] do not broadcast")
    }

    func testIndexErrors() {
        expectError("return lp.zeros(2,3)[3]", "index 3 is out of range for dimension 1 of size 2 (valid: 1..2 or -2..-1)")
        expectError("return lp.zeros(2,3)[0]", "index 0 is out of range")
        expectError("return lp.zeros(2,3)[1][4]", "index 4 is out of range for dimension 1 of size 3")
        expectError("return lp.zeros(2,3)[{1, 2, 3}]", "slice has 3 entries but the tensor has 2 dimensions")
        expectError("return lp.zeros(2,3)[true]", "expected an index (number) or a slice table, got boolean")
        expectError("lp.zeros(2,3):sum(3)", "sum: dim 3 is out of range for a 2-d tensor")
        expectError("lp.zeros(2,3):select(1, 3)", "select: index 3 is out of range")
        expectError("lp.zeros(2,3):narrow(2, 2, 5)", "narrow: start 2 with length 5 runs past dimension 2 of size 3")
        expectError("lp.zeros(2,3):topk(4)", "topk: k = 4 is out of range for a dimension of size 3")
        expectError("lp.zeros(2,3):transpose(1, 3)", "transpose: dim2 3 is out of range")
        expectError("local t = lp.zeros(2); t[3] = 1", "assignment: index 3 is out of range")
        expectError("local t = lp.zeros(2); t[1] = 'x'", "assignment: a tensor element takes a number or a tensor, got string")
        expectError("return #lp.zeros(2):sum()", "#: a 0-d tensor has no length")
    }

    func testArgumentTypeAndCountErrors() {
        expectError("lp.zeros('a')", "zeros: expected size 1 to be an integer, got string")
        expectError("lp.zeros(2.5)", "zeros: expected size 1 to be an integer, got 2.5")
        expectError("lp.zeros()", "zeros: expected sizes, got no arguments")
        expectError("lp.zeros(-2)", "zeros: sizes must be non-negative, got -2")
        expectError("lp.zeros(2):sum('x')", "sum: expected dim to be an integer, got string")
        expectError("lp.zeros(2):abs(1)", "abs: expected 1 argument, got 2")
        expectError("lp.matmul(1, 2)", "matmul: expected a tensor, got number")
        expectError("lp.zeros(2):matmul({})", "matmul: expected a tensor to multiply by, got table")
        expectError("return lp.zeros(2) + {}", "add: expected a tensor or a number on each side of +, got table")
        expectError("lp.from{{1, 2}, {3}}", "from: rows must have equal lengths")
        expectError("lp.from{1, 'a'}", "from: expected a number at [2], got string")
        expectError("lp.from('x')", "from: expected a number or a (nested) table of numbers, got string")
        expectError("lp.zeros(2):sort(1, 'yes')", "sort: expected descending to be a boolean, got string")
        expectError("lp.zeros(2):item()", "item: expected a tensor with one element, got shape [2]")
        expectError("lp.zeros(2):quantile(2)", "quantile: q must be in [0, 1], got 2.0")
        expectError("lp.zeros(2):norm(-1)", "norm: p must be positive")
        expectError("local x = lp.zeros(2) < 1", "lt: comparing with < or <= needs one-element tensors, got shape [2]")
        expectError("lp.zeros(2).nothing()", "attempt to call a nil value (field 'nothing')")
        expectError("lp.zeros(2,2):permute(1, 1)", "permute: dimensions must be a permutation of 1..2, got [1,1]")
        expectError("lp.manual_seed('x')", "manual_seed: expected seed to be an integer, got string")
        expectError("lp.ones(0):max()", "max: tensor of shape [0] is empty")
    }

    func testManyErrorsUnderPcallEachGetOneMessage() throws {
        let results = try host.eval("""
            (function()
              local calls = {
                {function() return lp.zeros(3,4):matmul(lp.zeros(5,6)) end, 'matmul: '},
                {function() return lp.zeros('a') end, 'zeros: '},
                {function() return lp.zeros(2)[9] end, 'index: '},
                {function() return lp.from{1, {}} end, 'from: '},
              }
              local n = 0
              for _, case in ipairs(calls) do
                local ok, err = pcall(case[1])
                -- One message each, at the calling line, naming the function.
                if not ok and err:find('^%(eval%):%d+: ' .. case[2]) then n = n + 1 end
              end
              return n
            end)()
            """)
        XCTAssertEqual(results, ["4"])
    }

    func testSyntaxErrorsAndRuntimeErrorsCarryPositionAndTraceback() {
        do {
            try host.run("local x = = 1", chunkName: "@bad.lua")
            XCTFail("expected a syntax error")
        } catch let e as LuaScriptError {
            XCTAssertTrue(e.message.hasPrefix("bad.lua:1:"), e.message)
        } catch { XCTFail("\(error)") }
        do {
            try host.run("local function f()\n  return lp.zeros(2):reshape(3)\nend\nf()", chunkName: "@script.lua")
            XCTFail("expected an error")
        } catch let e as LuaScriptError {
            XCTAssertTrue(e.message.hasPrefix("script.lua:2: reshape: cannot reshape [2]"), e.message)
            XCTAssertTrue(e.message.contains("stack traceback:"), e.message)
            XCTAssertTrue(e.message.contains("script.lua:4:"), e.message)
        } catch { XCTFail("\(error)") }
    }

    func testMissingScriptFile() {
        XCTAssertThrowsError(try host.runFile("/nonexistent/recipe.lua")) { error in
            XCTAssertEqual((error as? LuaScriptError)?.message, "lopper: cannot open script '/nonexistent/recipe.lua': no such file")
        }
    }
}
