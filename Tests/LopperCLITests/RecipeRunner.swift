import XCTest
import Foundation

/// Runs `lopper run Recipes/<recipe>.lua` with `arguments` after the script; fails the
/// test unless it exits 0, and returns its standard output.
func runRecipe(_ recipe: String, _ arguments: [String]) throws -> String {
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Recipes/\(recipe).lua").standardized.path
    let p = Process()
    p.executableURL = lopperBinary
    p.arguments = ["run", path] + arguments
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    XCTAssertEqual(p.terminationStatus, 0, e)
    return o
}
