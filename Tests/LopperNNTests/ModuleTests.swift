import XCTest
@testable import LopperNN
import LopperCore

final class ModuleTests: XCTestCase {
    override func setUp() { RandomGenerator.shared.reseed(3) }

    func testZooParameterCountsMatchThePapers() throws {
        var fmnist = Zoo.Options()
        XCTAssertEqual(try Zoo.build("lenet_300_100", fmnist).parameterCount, 266_610)
        XCTAssertEqual(try Zoo.build("lenet5", fmnist).parameterCount, 61_706)
        fmnist.channels = 3; fmnist.size = 32
        XCTAssertEqual(try Zoo.build("conv2", fmnist).parameterCount, 4_301_642)   // Frankle & Carbin: 4.3M
        XCTAssertEqual(try Zoo.build("resnet20", fmnist).parameterCount, 272_474)  // He et al.: 0.27M
        fmnist.width = 0.25
        XCTAssertEqual(try Zoo.build("vgg11", fmnist).parameterCount, 579_098)  // 576,432 conv + 1,376 BN + 1,290 fc
    }

    func testNamesFollowPyTorchStateDicts() throws {
        let lenet = try Zoo.build("lenet_300_100")
        XCTAssertEqual(lenet.namedParameters().map { $0.0 }, ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"])
        var o = Zoo.Options(); o.channels = 3; o.size = 32
        let names = try Zoo.build("resnet20", o).stateDict().map { $0.0 }
        XCTAssertEqual(Array(names.prefix(6)), ["conv.weight", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked"])
        XCTAssertTrue(names.contains("blocks.3.shortcut.0.weight"))
        XCTAssertTrue(names.contains("blocks.3.shortcut.1.running_var"))
        XCTAssertEqual(names.last, "fc.bias")
        let seq = Sequential([try Linear(2, 3), try Elementwise.relu(), try Linear(3, 1)])
        XCTAssertEqual(seq.namedParameters().map { $0.0 }, ["0.weight", "0.bias", "2.weight", "2.bias"])
    }

    func testInitialisersAreSeededAndScaled() throws {
        RandomGenerator.shared.reseed(7)
        let a = try Linear(400, 300)
        RandomGenerator.shared.reseed(7)
        let b = try Linear(400, 300)
        XCTAssertEqual(a.weight.toArray(), b.weight.toArray())
        let bound = 1 / Float(400).squareRoot()
        XCTAssertLessThanOrEqual(a.weight.toArray().map(abs).max()!, bound)
        XCTAssertGreaterThan(a.weight.toArray().map(abs).max()!, 0.95 * bound)
        let k = try Conv2d(16, 32, kernel: (3, 3), init: .kaimingNormal)
        let std = Double(try k.weight.std().item()), want = (2.0 / 144).squareRoot()
        XCTAssertEqual(std, want, accuracy: 0.05 * want)
        // Biases keep PyTorch's default U(±1/√fan_in) whatever initialises the weights.
        let biases = k.bias!.toArray().map(abs)
        XCTAssertLessThanOrEqual(biases.max()!, 1 / Float(144).squareRoot())
        XCTAssertGreaterThan(biases.max()!, 0)
        let x = try Linear(300, 100, init: .xavierUniform)
        XCTAssertLessThanOrEqual(x.weight.toArray().map(abs).max()!, (6 / Float(400)).squareRoot())
    }

    func testBatchNormGradientsAndStatistics() throws {
        let bn = try BatchNorm(3, spatial: true)
        let x = try Tensor.rand([4, 3, 2, 2], low: -1, high: 2, generator: RandomGenerator(seed: 1))
        try Autograd.noGrad { try bn.weight.copy_(Tensor(shape: [3], values: [1.5, 0.5, 2])) }
        if let m = try GradCheck.check([x, bn.weight, bn.bias], { _ in
            bn.runningMean.zero_(); bn.runningVar.fill_(1)
            return try bn.forward(x)
        }) { XCTFail("batchnorm2d: \(m)") }
        // Running statistics after one batch: 0.9·init + 0.1·batch (unbiased variance).
        bn.runningMean.zero_(); bn.runningVar.fill_(1)
        _ = try Autograd.noGrad { try bn.forward(x) }
        let channel0 = try x.select(1, 0).contiguous().toArray().map(Double.init)
        let mean = channel0.reduce(0, +) / 16
        let unbiased = channel0.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 15
        XCTAssertEqual(Double(bn.runningMean[0]), 0.1 * mean, accuracy: 1e-5)
        XCTAssertEqual(Double(bn.runningVar[0]), 0.9 + 0.1 * unbiased, accuracy: 1e-5)
        // Evaluation normalises with the running statistics.
        bn.train(false)
        let y = try Autograd.noGrad { try bn.forward(x) }
        let expected = (Double(x[0, 0, 0, 0]) - Double(bn.runningMean[0])) / (Double(bn.runningVar[0]) + 1e-5).squareRoot() * 1.5
        XCTAssertEqual(Double(y[0, 0, 0, 0]), expected, accuracy: 1e-5)
        let bn1 = try BatchNorm(2, spatial: false)
        if let m = try GradCheck.check([try Tensor.rand([5, 2], low: -1, high: 1, generator: RandomGenerator(seed: 2))], { try bn1.forward($0[0]) }) {
            XCTFail("batchnorm1d: \(m)")
        }
    }

    func testModuleGradientsAgainstFiniteDifferences() throws {
        let block = try BasicBlock(2, 3, stride: 2)
        block.train(false)   // eval-mode batch norm: a fixed affine map, checkable elementwise
        let x = try Tensor.rand([1, 2, 4, 4], low: -1, high: 1, generator: RandomGenerator(seed: 4))
        let params = block.parameters()
        if let m = try GradCheck.check([x] + params, { _ in try block.forward(x) }) { XCTFail("BasicBlock: \(m)") }
        let net = Sequential([try Conv2d(1, 2, kernel: (3, 3), padding: (1, 1)), try Elementwise.tanh(), Pool2d.average(2),
                              Elementwise.flatten(), try Linear(8, 2)])
        let input = try Tensor.rand([2, 1, 4, 4], low: -1, high: 1, generator: RandomGenerator(seed: 5))
        if let m = try GradCheck.check([input] + net.parameters(), { _ in try net.forward(input) }) { XCTFail("conv net: \(m)") }
    }

    func testDropoutTrainAndEval() throws {
        let d = try Dropout(0.5)
        let x = try Tensor.ones([1000])
        let y = try d.forward(x).toArray()
        XCTAssertTrue(y.allSatisfy { $0 == 0 || $0 == 2 })
        XCTAssertEqual(Double(y.filter { $0 == 0 }.count), 500, accuracy: 60)
        d.train(false)
        XCTAssertTrue(try d.forward(x) === x)
    }

    func testStateDictLoadChecksNamesAndShapes() throws {
        let a = try Zoo.build("lenet_300_100"), b = try Zoo.build("lenet_300_100")
        try b.loadStateDict(Dictionary(uniqueKeysWithValues: a.stateDict()))
        XCTAssertEqual(a.parameters()[0].toArray(), b.parameters()[0].toArray())
        var state = Dictionary(uniqueKeysWithValues: a.stateDict())
        state["fc2.weight"] = try Tensor(shape: [100, 301])
        XCTAssertThrowsError(try b.loadStateDict(state)) { e in
            XCTAssertTrue("\(e)".contains("fc2.weight has shape [100,301] in the file but [100,300] in the model"), "\(e)")
        }
        state["fc2.weight"] = nil
        state["extra"] = try Tensor(shape: [1])
        XCTAssertThrowsError(try b.loadStateDict(state)) { e in
            XCTAssertTrue("\(e)".contains("missing fc2.weight; unexpected extra"), "\(e)")
        }
    }
}
