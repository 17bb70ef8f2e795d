// swift-tools-version:6.0
import PackageDescription

// Release builds of the numeric core drop overflow and bounds checks: kernels index raw
// pointers in tight loops, and the checks block vectorisation.
let fastMath: [SwiftSetting] = [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]

let package = Package(
    name: "Lopper",
    products: [
        .executable(name: "lopper", targets: ["lopper"]),
        .library(name: "LopperCore", targets: ["LopperCore"]),
        .library(name: "LopperNN", targets: ["LopperNN"]),
        .library(name: "LopperPrune", targets: ["LopperPrune"]),
        .library(name: "LopperReport", targets: ["LopperReport"]),
        .library(name: "LopperLua", targets: ["LopperLua"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // System libraries, found through pkg-config.
        .systemLibrary(name: "CLua", pkgConfig: "lua5.4",
                       providers: [.apt(["liblua5.4-dev"])]),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // No pkgConfig: readline.pc's -D flags only draw SwiftPM warnings; the headers are in /usr/include.
        .systemLibrary(name: "CReadline", providers: [.apt(["libreadline-dev"])]),
        // Wrappers for Lua's macros and the one place that raises Lua errors.
        .target(name: "LuaShim", dependencies: ["CLua"]),
        // Fused numeric loops in C, where Swift's code generation falls short.
        .target(name: "LopperKernels", cSettings: [.unsafeFlags(["-O3", "-fno-math-errno", "-fno-slp-vectorize"])]),
        // Tensors, kernels, random numbers: no Lua here.
        .target(name: "LopperCore", dependencies: ["CBLAS", "LopperKernels"], swiftSettings: fastMath),
        // Learning: data sets (and, next, modules, optimizers, checkpoints).
        .target(name: "LopperNN", dependencies: ["LopperCore", "LopperKernels", "CZlib"], swiftSettings: fastMath),
        // Pruning: masks, scores, selection, rewinding, statistics.
        .target(name: "LopperPrune", dependencies: ["LopperCore", "LopperNN"], swiftSettings: fastMath),
        // Reports of run folders: report.html (inline SVG plots) and report.md.
        .target(name: "LopperReport"),
        // The Lua surface: the `lopper` module, tensor userdata, the script host.
        // Its Lua programs (preludes, help, the sandbox) are resources: Lua/*.lua; the
        // documentation of each binding is Docs/<area>.md.
        .target(name: "LopperLua", dependencies: ["LopperCore", "LopperNN", "LopperPrune", "LopperReport", "LuaShim", "CLua"],
                resources: [.copy("Lua"), .copy("Docs")], swiftSettings: fastMath),
        .executableTarget(name: "lopper", dependencies: [
            "LopperLua", "LopperCore", "LopperReport", "CReadline", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "lopper-bench", dependencies: ["LopperLua", "LopperNN", "LopperPrune", "LopperCore", "CBLAS"],
                          path: "Sources/LopperBench", swiftSettings: fastMath),
        .testTarget(name: "LopperCoreTests", dependencies: ["LopperCore", "LopperKernels"]),
        .testTarget(name: "LopperNNTests", dependencies: ["LopperNN"], exclude: ["Fixtures"]),
        .testTarget(name: "LopperPruneTests", dependencies: ["LopperPrune"]),
        .testTarget(name: "LopperReportTests", dependencies: ["LopperReport"]),
        .testTarget(name: "LopperLuaTests", dependencies: ["LopperLua"]),
        .testTarget(name: "LopperCLITests", dependencies: ["lopper"], exclude: ["Golden"]),
    ],
    swiftLanguageModes: [.v5]
)
