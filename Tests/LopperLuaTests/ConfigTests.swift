import XCTest
@testable import LopperLua

final class ConfigTests: XCTestCase {
    func testSetValuesAreTyped() throws {
        XCTAssertEqual(try SetValue.parse("5"), .integer(5))
        XCTAssertEqual(try SetValue.parse("1.2e-3"), .number(0.0012))
        XCTAssertEqual(try SetValue.parse("true"), .boolean(true))
        XCTAssertEqual(try SetValue.parse("lenet5"), .string("lenet5"))
        XCTAssertEqual(try SetValue.parse("\"5\""), .string("5"))
        XCTAssertEqual(try SetValue.parse("[20, 10,x]"), .list([.integer(20), .integer(10), .string("x")]))
        XCTAssertEqual(try SetValue.parse("[]"), .list([]))
        let (k, v) = try SetValue.parseAssignment("rounds=5")
        XCTAssertEqual(k, "rounds"); XCTAssertEqual(v, .integer(5))
    }

    func testUnknownValueFormsAreErrors() {
        func message(_ text: String) -> String {
            do { _ = try SetValue.parseAssignment(text); return "" } catch { return "\(error)" }
        }
        XCTAssertEqual(message("rounds"), "--set: expected key=value, got 'rounds'")
        XCTAssertTrue(message("1x=2").contains("key '1x'"))
        XCTAssertTrue(message("x=").contains("empty value"))
        XCTAssertTrue(message("x=[1,2").contains("missing its closing ]"))
        XCTAssertTrue(message("x={1,2}").contains("unknown value form '{1,2}'"))
        XCTAssertTrue(message("x=a,b").contains("unknown value form 'a,b'"))
        XCTAssertTrue(message("x=[[1]]").contains("lists cannot be nested"), message("x=[[1]]"))
        XCTAssertTrue(message("x=\"abc").contains("missing its closing \""))
        // Past 64 bits an integer is an error, not a float that becomes nil.
        XCTAssertTrue(message("rounds=9223372036854775808").contains("--set rounds: integer 9223372036854775808 does not fit 64 bits"))
        XCTAssertEqual(try SetValue.parse("9223372036854775807"), .integer(Int.max))
    }

    func testListSettingsCheckTheirEntries() throws {
        let mixed = try LuaHost(overrides: [("levels", .list([.integer(1), .string("a")]))])
        XCTAssertThrowsError(try mixed.run("lp.config{levels = {80, 50}}")) { e in
            XCTAssertTrue("\(e)".contains("config: levels[2] expects an integer, got string a"), "\(e)")
        }
        let fractional = try LuaHost(overrides: [("levels", .list([.number(2.5)]))])
        XCTAssertThrowsError(try fractional.run("lp.config{levels = {80}}")) { e in
            XCTAssertTrue("\(e)".contains("config: levels[1] expects an integer, got 2.5"), "\(e)")
        }
        let good = try LuaHost(overrides: [("levels", .list([.integer(3), .number(4.0)]))])
        XCTAssertEqual(try good.eval("lp.config{levels = {80}}.levels[2]"), ["4"])
        let words = try LuaHost(overrides: [("names", .list([.string("a"), .integer(1)]))])
        XCTAssertThrowsError(try words.run("lp.config{names = {'x'}}")) { e in
            XCTAssertTrue("\(e)".contains("config: names[2] expects a string, got number 1"), "\(e)")
        }
    }

    func testConfigMergesAndChecksOverrides() throws {
        let host = try LuaHost(overrides: [("rounds", .integer(3)), ("lr", .integer(1)), ("levels", .integer(7))])
        XCTAssertFalse(host.configWasRead)
        XCTAssertEqual(try host.eval("""
            (function() local c = lp.config{rounds = 12, lr = 0.1, levels = {1, 2}, name = "x"}
             return c.rounds, math.type(c.rounds), c.lr, #c.levels, c.levels[1], c.name end)()
            """), ["3", "integer", "1", "1", "7", "x"])
        XCTAssertTrue(host.configWasRead)
    }

    func testConfigRejectsUnknownKeysAndWrongTypes() throws {
        let typo = try LuaHost(overrides: [("roudns", .integer(3))])
        XCTAssertThrowsError(try typo.run("lp.config{rounds = 1, lr = 0.1}", chunkName: "@r.lua")) { e in
            XCTAssertTrue("\(e)".hasPrefix("r.lua:1: config: unknown key 'roudns' (known keys: lr, rounds)"), "\(e)")
        }
        let wrong = try LuaHost(overrides: [("rounds", .string("many"))])
        XCTAssertThrowsError(try wrong.run("lp.config{rounds = 1}")) { e in
            XCTAssertTrue("\(e)".contains("config: rounds expects a number, got string many"), "\(e)")
        }
        let fractional = try LuaHost(overrides: [("rounds", .number(2.5))])
        XCTAssertThrowsError(try fractional.run("lp.config{rounds = 1}")) { e in
            XCTAssertTrue("\(e)".contains("config: rounds expects an integer, got 2.5"), "\(e)")
        }
    }
}
