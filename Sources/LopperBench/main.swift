// lopper-bench: speed figures for release builds (run through Scripts/bench).
import Foundation
import CBLAS
import LopperCore
import LopperNN
import LopperPrune
import LopperLua

/// Seconds per call of `body`: the fastest of 7 timed batches of ~0.1 s each (the least
/// disturbed by other work on the machine).
func secondsPerCall(_ body: () throws -> Void) rethrows -> Double {
    var reps = 1
    while true {
        let t0 = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<reps { try body() }
        let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        if dt >= 0.05 { reps = max(1, Int(Double(reps) * 0.1 / dt)); break }
        reps *= 4
    }
    var samples: [Double] = []
    for _ in 0..<7 {
        let t0 = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<reps { try body() }
        samples.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9 / Double(reps))
    }
    return samples.min()!
}

func row(_ cells: [String], _ widths: [Int]) -> String {
    zip(cells, widths).map { c, w in c.padding(toLength: w, withPad: " ", startingAt: 0) }.joined(separator: "  ")
}

BLASKernels.useBest()
print("Lopper \(LopperModule.version) benchmarks — release build, \(Parallel.workers) worker threads, OpenBLAS kernels \(BLASKernels.current)")
print()
// `--contention`: only the busy-machine figures (the last section); `--cifar`: only the
// CIFAR-shape figures; `--pruning`: only what compaction buys.
let onlyContention = CommandLine.arguments.contains("--contention")
let onlyCIFAR = CommandLine.arguments.contains("--cifar")
let onlyPruning = CommandLine.arguments.contains("--pruning")

// MARK: Pruning
/// Inference latency (median of 9) of a CIFAR-shape model dense and with half of every
/// conv layer's filters removed by L1 norm and compacted, and the MAC ratio. ResNets: half
/// of every dependency group (the residual stages whole), or with `innerOnly` the first
/// conv of each block only (Li et al.), whose channels no addition ties.
func compactionFigures(_ model: String, batch: Int, innerOnly: Bool = false) throws -> (dense: Double, compacted: Double, macRatio: Double) {
    RandomGenerator.shared.reseed(1)
    var o = Zoo.Options()
    (o.channels, o.size) = (3, 32)
    let net = try Zoo.build(model, o)
    var selection = PrunableSelection()
    selection.excludeLast = true
    let targets = try selection.select(net).filter {
        $0.tensor.rank == 4 && (!innerOnly || ($0.name.hasPrefix("blocks") && $0.name.hasSuffix("conv1.weight")))
    }
    var spec = PruneSpec(target: .amount(0.5))
    (spec.structure, spec.scope) = (model.hasPrefix("resnet") && !innerOnly ? .group : .channel, .layer)
    try Pruner.prune(net, targets: targets, spec: spec) { try Scores.compute(.l1, net: net, targets: targets) }
    let small = try Compaction.compact(net).net
    func median(_ m: Module) throws -> Double {
        let t = try Benchmark.time(m, input: [3, 32, 32], batch: batch, mode: .inference, repeats: 9, warmup: 2).sorted()
        return t[t.count / 2]
    }
    func macs(_ m: Module) throws -> Double {
        Double(try PruneStatistics(m, targets: try PrunableSelection().select(m)).macs ?? 0)
    }
    MaskSet.clear(net)
    return (try median(net), try median(small), try macs(net) / (try macs(small)))
}

if onlyPruning || (!onlyContention && !onlyCIFAR) {
print("Pruning: half of every conv layer's filters removed (L1; ResNet: of every dependency group, so the")
print("residual stages too; resnet20-inner: the first conv of each block only), compacted (lp.compact);")
print("CIFAR shapes, inference in evaluation mode, median of 9 passes")
let widths = [15, 8, 12, 16, 10, 10]
print(row(["model", "batch", "dense ms", "compacted ms", "speed-up", "MAC ratio"], widths))
for model in ["vgg11", "conv6", "resnet20", "resnet20-inner"] {
    for batch in [64, 1] {
        let f = try compactionFigures(model == "resnet20-inner" ? "resnet20" : model, batch: batch, innerOnly: model == "resnet20-inner")
        print(row([model, "\(batch)", String(format: "%.2f", f.dense * 1e3), String(format: "%.2f", f.compacted * 1e3),
                   String(format: "%.2fx", f.dense / f.compacted), String(format: "%.2fx", f.macRatio)], widths))
    }
}
print()
print("Unstructured: 95% of each layer's weights removed (magnitude), compacted and stored as sparse rows")
print("where that times faster (lp.compact{sparse = true}); Conv-6 at CIFAR shapes; median of 9 (LeNet at batch 1: of 201)")
let sparseWidths = [15, 8, 12, 12, 10, 14]
print(row(["model", "batch", "dense ms", "sparse ms", "speed-up", "layers sparse"], sparseWidths))
for (model, shape) in [("lenet_300_100", [1, 28, 28]), ("conv6", [3, 32, 32])] {
    for batch in [1, 64] {
        RandomGenerator.shared.reseed(1)
        var o = Zoo.Options()
        if model == "conv6" { (o.channels, o.size) = (3, 32) }
        let net = try Zoo.build(model, o)
        let targets = try PrunableSelection().select(net)
        var spec = PruneSpec(target: .density(0.05))
        spec.scope = .layer
        try Pruner.prune(net, targets: targets, spec: spec) { try Scores.compute(.magnitude, net: net, targets: targets) }
        let sparse = try Compaction.compact(net).net
        let choices = try SparseConversion.convert(sparse, batch: batch, inputShape: shape)
        MaskSet.clear(net)
        // A batch-1 LeNet pass takes microseconds: many passes, so the median is not a cold one's.
        let (repeats, warmup) = model == "lenet_300_100" && batch == 1 ? (201, 50) : (9, 3)
        func median(_ m: Module) throws -> Double {
            try Benchmark.time(m, input: shape, batch: batch, mode: .inference, repeats: repeats, warmup: warmup).sorted()[repeats / 2]
        }
        let d = try median(net), s = try median(sparse)
        print(row([model, "\(batch)", String(format: "%.3f", d * 1e3), String(format: "%.3f", s * 1e3),
                   String(format: "%.2fx", d / s), "\(choices.filter { $0.sparse }.count) of \(choices.count)"], sparseWidths))
    }
}
print()
// The crossover: below which density a Linear layer's sparse rows time faster than dense.
print("Crossover: the highest density (of 0.5, 0.3, 0.2, 0.1, 0.05, 0.02, 0.01) at which sparse rows time")
print("faster than the dense layer, random weights removed at random; median of 9")
let crossWidths = [14, 8, 12]
print(row(["layer", "batch", "crossover"], crossWidths))
for (inputs, outputs) in [(784, 300), (300, 100), (512, 512), (2048, 2048)] {
    for batch in [1, 64] {
        var found = "none"
        for density in [0.5, 0.3, 0.2, 0.1, 0.05, 0.02, 0.01] {
            RandomGenerator.shared.reseed(2)
            let dense = try Linear(inputs, outputs)
            for i in 0..<dense.weight.count where Double(RandomGenerator.shared.uniformFloat()) >= density { dense.weight.data[i] = 0 }
            let sparse = try SparseLinear(dense)
            func median(_ m: Module) throws -> Double {
                try Benchmark.time(m, input: [inputs], batch: batch, mode: .inference, repeats: 9, warmup: 2).sorted()[4]
            }
            if try median(sparse) < (try median(dense)) { found = String(format: "%.2f", density); break }
        }
        print(row(["\(inputs)→\(outputs)", "\(batch)", found], crossWidths))
    }
}
print()
}

// MARK: CIFAR shapes
/// Training samples/s (the better of two runs of 8 steps, batch 128, SGD with momentum)
/// and inference latency at batch 64 and 1 (the fastest of 5) on random 3x32x32 inputs.
func cifarFigures(_ model: String) throws -> (train: Double, batch64: Double, batch1: Double) {
    RandomGenerator.shared.reseed(1)
    var o = Zoo.Options()
    (o.channels, o.size) = (3, 32)
    let net = try Zoo.build(model, o)
    let x = try Tensor.randn([512, 3, 32, 32], generator: RandomGenerator(seed: 2))
    let data = try Dataset(name: "random", x: x, labels: (0..<512).map { Int32($0 % 10) }, classes: 10)
    let opt = try SGD(net.namedParameters(), lr: 0.01, momentum: 0.9, weightDecay: 1e-4)
    _ = try Trainer.train(net, data: data, optimizer: opt, batchSize: 128, epochs: nil, iterations: 2)
    let best = try (0..<2).map { _ in try Trainer.train(net, data: data, optimizer: opt, batchSize: 128, epochs: nil, iterations: 8) }
        .min { $0.seconds < $1.seconds }!
    func latency(_ batch: Int) throws -> Double {
        let xb = try x.narrow(0, 0, batch).contiguous()
        return try net.evaluating {
            try Autograd.noGrad {
                _ = try net(xb)
                return try (0..<5).map { _ in
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    _ = try net(xb)
                    return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
                }.min()!
            }
        }
    }
    return (Double(best.samples) / best.seconds, try latency(64), try latency(1))
}

if !onlyContention && !onlyPruning {
print("CIFAR shapes, random 3x32x32 inputs: training batch 128, SGD momentum 0.9, weight decay 1e-4;")
print("inference in evaluation mode. PyTorch CPU figures, measured side by side: README (Speed).")
let cifarWidths = [12, 18, 18, 16]
print(row(["model", "train samples/s", "inference b64 ms", "inference b1 ms"], cifarWidths))
for model in ["resnet20", "resnet56", "vgg11", "vgg16", "conv6"] {
    let f = try cifarFigures(model)
    print(row([model, String(format: "%.0f", f.train), String(format: "%.1f", f.batch64 * 1e3), String(format: "%.2f", f.batch1 * 1e3)], cifarWidths))
}
print()
}
if !onlyContention && !onlyCIFAR && !onlyPruning {

// MARK: matmul against raw sgemm
print("matmul (Tensor.matmul, allocating its result, split over the workers) vs raw cblas_sgemm on")
print("preallocated buffers, threaded by OpenBLAS itself over as many threads")
let widths = [22, 14, 14, 10]
print(row(["shape (m×k · k×n)", "lopper GFLOP/s", "sgemm GFLOP/s", "overhead"], widths))
let g = RandomGenerator(seed: 1)
for (m, k, n) in [(64, 64, 64), (256, 256, 256), (1024, 1024, 1024), (60, 784, 300), (512, 784, 300)] {
    let a = try Tensor.randn([m, k], generator: g), b = try Tensor.randn([k, n], generator: g)
    let c = try Tensor(shape: [m, n])
    let flops = 2.0 * Double(m * n * k)
    openblas_set_num_threads(Int32(Parallel.workers))
    let raw = secondsPerCall {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1,
                    a.data, Int32(k), b.data, Int32(n), 0, c.data, Int32(n))
    }
    openblas_set_num_threads(1)
    let ours = try secondsPerCall { _ = try a.matmul(b) }
    print(row(["\(m)×\(k) · \(k)×\(n)", String(format: "%.1f", flops / ours / 1e9),
               String(format: "%.1f", flops / raw / 1e9), String(format: "%+.1f%%", (ours / raw - 1) * 100)], widths))
}
print()

// MARK: Lua → Swift calls
print("Lua → Swift call cost (a Lua loop of calls, minus the empty loop)")
let host = try LuaHost()
host.setGlobal(LuaFunction("noop") { _ in 0 })
try host.run("t = lp.zeros(3)")
func luaLoop(_ body: String, iterations: Int = 2_000_000) throws -> Double {
    try host.run("function bench() for i = 1, \(iterations) do \(body) end end")
    return try secondsPerCall { try host.run("bench()") } / Double(iterations)
}
let empty = try luaLoop("")
for (label, body) in [("noop()  (bare binding)", "noop()"), ("lp.is_tensor(t)", "lp.is_tensor(t)"),
                      ("t:numel()  (method lookup + call)", "t:numel()")] {
    let per = try luaLoop(body) - empty
    print(row([label, String(format: "%.0f ns per call", per * 1e9)], [34, 20]))
}
print()

// MARK: Kernels that pruning leans on
print("Pruning-threshold kernels on 1M elements")
let big = try Tensor.randn([1_000_000], generator: g)
for (label, body) in [
    ("abs", { _ = try big.abs() }),
    ("sum", { _ = try big.sum() }),
    ("kthvalue (k = 500,000)", { _ = try big.kthvalue(500_000) }),
    ("quantile(0.8)", { _ = try big.quantile(0.8) }),
    ("topk(1000)", { _ = try big.topk(1000) }),
    ("sort", { _ = try big.sort() }),
] as [(String, () throws -> Void)] {
    let s = try secondsPerCall(body)
    print(row([label, String(format: "%.2f ms", s * 1e3)], [34, 12]))
}
print()

// MARK: Training throughput
/// Resident-set high-water mark of this process, from /proc (Linux).
func peakResidentMB() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return .nan }
    return kb / 1024
}

print("Training one epoch of Fashion-MNIST (60,000 images; the faster of two), native loop (lp.train), SGD lr 0.1")
print("PyTorch CPU on this machine kind: LeNet-300-100 b60 ≈ 90,000 samples/s, b512 ≈ 134,000; LeNet-5 b60 ≈ 21,500, b256 ≈ 26,000")
let trainWidths = [16, 7, 14, 12, 18]
print(row(["model", "batch", "samples/s", "epoch (s)", "peak tensor MB"], trainWidths))
let fashion = try FashionMNIST.load(split: "train")
for (model, batch) in [("lenet_300_100", 60), ("lenet_300_100", 512), ("lenet5", 60), ("lenet5", 256), ("lenet5", 512)] {
    RandomGenerator.shared.reseed(1)
    let net = try Zoo.build(model)
    let opt = try SGD(net.namedParameters(), lr: 0.1)
    _ = try Trainer.train(net, data: fashion, optimizer: opt, batchSize: batch, epochs: nil, iterations: 20)   // warm-up
    Storage.resetPeakBytes()
    // The faster of two epochs: the machine's neighbours slow single runs down.
    let r = try (0..<2).map { _ in try Trainer.train(net, data: fashion, optimizer: opt, batchSize: batch, epochs: 1, iterations: nil) }
        .min { $0.seconds < $1.seconds }!
    print(row([model, "\(batch)", String(format: "%.0f", Double(r.samples) / r.seconds), String(format: "%.2f", r.seconds),
               String(format: "%.1f", Double(Storage.peakBytes) / 1e6)], trainWidths))
}
print()

// MARK: Hand-written Lua loop against the native loop
print("LeNet-300-100, batch 60, SGD: hand-written Lua loop (forward, loss, backward, step) vs lp.train")
try host.run("""
lp.manual_seed(1)
bench_data = lp.data.fashion_mnist{}
function native_epoch()
  local net = lp.models.lenet_300_100()
  local r = lp.train{net = net, data = bench_data, optimizer = lp.optim.SGD(net, {lr = 0.1}), batch_size = 60, epochs = 1}
  return r.seconds
end
function lua_epoch()
  local net = lp.models.lenet_300_100()
  local opt = lp.optim.SGD(net, {lr = 0.1})
  local t0 = lp.clock()
  for x, y in bench_data:batches(60, {shuffle = true}) do
    local loss = net(x):cross_entropy(y)
    opt:zero_grad()
    loss:backward()
    opt:step()
  end
  return lp.clock() - t0
end
""")
var native: [Double] = [], hand: [Double] = []
for _ in 0..<3 {
    native.append(Double(try host.eval("native_epoch()")[0])!)
    hand.append(Double(try host.eval("lua_epoch()")[0])!)
}
let (n, h) = (native.min()!, hand.min()!)
print(row(["native loop", String(format: "%.0f samples/s", 60_000 / n)], [20, 20]))
print(row(["Lua loop", String(format: "%.0f samples/s", 60_000 / h), String(format: "%+.1f%% time", (h / n - 1) * 100)], [20, 20, 14]))
print()
print(String(format: "peak resident memory of this benchmark process: %.0f MB", peakResidentMB()))
print()
}

// MARK: Training on a busy machine
/// One CPU-bound process per core (a shell loop), stopped by pid when `body` returns.
func withCompetitors<T>(_ n: Int, _ body: () throws -> T) rethrows -> T {
    let procs = (0..<n).map { _ -> Process in
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "while :; do :; done"]
        try? p.run()
        return p
    }
    defer { for p in procs where p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() } }
    usleep(200_000)
    return try body()
}

if !onlyCIFAR && !onlyPruning {
let cores = Parallel.workers
print("Training with \(cores) competing CPU-bound processes (one per core) against the same without; samples/s,")
print("the better of two runs of a fixed number of steps. PyTorch's 2 OpenMP threads were reported at ~159 samples/s on LeNet-5 so loaded.")
let contentionWidths = [26, 12, 12, 12, 12, 14]
print(row(["model, batch", "idle pool", "idle 1 thr", "busy pool", "busy 1 thr", "busy / idle"], contentionWidths))
let fashionBusy = try FashionMNIST.load(split: "train")
func deepMLP() throws -> Module {
    var layers: [(String, Module)] = [("flatten", Elementwise.flatten()), ("fc1", try Linear(784, 256)), ("act1", try Elementwise.tanh())]
    for i in 2..<40 { layers += [("fc\(i)", try Linear(256, 256)), ("act\(i)", try Elementwise.tanh())] }
    layers.append(("fc40", try Linear(256, 10)))
    return Sequential(layers, kind: "MLP-40")
}
for (label, build, batch, steps) in [("LeNet-5, 60", { try Zoo.build("lenet5") }, 60, 300),
                                     ("40-layer MLP (256), 128", deepMLP, 128, 60),
                                     ("ResNet-20 (1x28x28), 128", { try Zoo.build("resnet20") }, 128, 4)] as [(String, () throws -> Module, Int, Int)] {
    func rate(threads: Int) throws -> Double {
        Parallel.use(threads)
        defer { Parallel.use(cores) }
        RandomGenerator.shared.reseed(1)
        let net = try build()
        let opt = try SGD(net.namedParameters(), lr: 0.01)
        _ = try Trainer.train(net, data: fashionBusy, optimizer: opt, batchSize: batch, epochs: nil, iterations: 5)
        let best = try (0..<2).map { _ in try Trainer.train(net, data: fashionBusy, optimizer: opt, batchSize: batch, epochs: nil, iterations: steps) }
            .min { $0.seconds < $1.seconds }!
        return Double(best.samples) / best.seconds
    }
    let idlePool = try rate(threads: cores), idleOne = try rate(threads: 1)
    let (busyPool, busyOne) = try withCompetitors(cores) { (try rate(threads: cores), try rate(threads: 1)) }
    print(row([label, String(format: "%.0f", idlePool), String(format: "%.0f", idleOne), String(format: "%.0f", busyPool),
               String(format: "%.0f", busyOne), String(format: "%.2f×", busyPool / idlePool)], contentionWidths))
}
}
