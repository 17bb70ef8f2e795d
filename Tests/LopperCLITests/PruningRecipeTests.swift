import XCTest
import Foundation

/// Every pruning recipe runs end to end on a tiny setting and prints its results table.
final class PruningRecipeTests: XCTestCase {
    func run(_ recipe: String, _ settings: [String]) throws -> String {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist"), "dataset-fashion-mnist not installed")
        return try runRecipe(recipe, ["--no-run-folder"] + settings.flatMap { ["--set", $0] })
    }

    /// The data rows of the table under `title`, split into cells.
    func table(_ out: String, after title: String) -> [[String]] {
        let lines = out.components(separatedBy: "\n")
        guard let start = lines.firstIndex(where: { $0.hasPrefix(title) }) else { return [] }
        return lines[(start + 3)...].prefix { !$0.isEmpty }.map { $0.split(separator: " ").map(String.init) }
    }

    func testLotteryTicketPrunesRewindsAndRunsTheControl() throws {
        let out = try run("lottery_ticket", ["iterations=30", "rounds=2"])
        let rows = table(out, after: "lenet_300_100, 30 steps a round")
        XCTAssertEqual(rows.count, 3, out)
        XCTAssertEqual(rows.map { $0[0] }, ["100.00", "80.04", "64.06"])   // fc 20%, output 10% a round
        XCTAssertEqual(rows[1].count, 3, "the reinit control is missing: \(out)")
        for r in rows { XCTAssertGreaterThan(Double(r[1]) ?? 0, 40, out) }
    }

    func testLotteryTicketWithTheEarlyStoppingProtocol() throws {
        let out = try run("lottery_ticket", ["iterations=30", "rounds=1", "validation=1000", "eval_every=10", "reinit=false"])
        let rows = table(out, after: "lenet_300_100, 30 steps a round")
        XCTAssertEqual(rows.map { $0[0] }, ["100.00", "80.04"], out)
        for r in rows { XCTAssertGreaterThan(Double(r[1]) ?? 0, 40, out) }
    }

    func testLearningRateRewindingComparesThreeMethods() throws {
        let out = try run("lr_rewinding", ["steps=60", "budget=20", "rounds=2"])
        let rows = table(out, after: "lenet_300_100: dense")
        XCTAssertEqual(rows.map { $0[0] }, ["80.00", "64.00"], out)
        XCTAssertTrue(rows.allSatisfy { $0.count == 4 }, out)
    }

    func testIterativeMagnitudeReachesHansDensities() throws {
        let out = try run("iterative_magnitude", ["steps=40", "finetune=10", "rounds=2"])
        let rows = table(out, after: "lenet_300_100: train, prune")
        XCTAssertEqual(rows.last.map { Array($0.suffix(3)) }, ["8.00", "9.00", "26.00"], out)
    }

    func testPruningAtInitShowsSynFlowAvoidingCollapse() throws {
        let out = try run("pruning_at_init", ["iterations=0", "step=1.5", "synflow_rounds=20", "methods=[magnitude,synflow]"])
        let rows = table(out, after: "Highest compression")
        XCTAssertEqual(rows.first { $0[0] == "synflow" }?[1], "10^3.00", out)
        XCTAssertEqual(rows.first { $0[0] == "magnitude" }?[1], "10^1.50", out)
    }

    func testGradualMagnitudeReachesTheFinalSparsity() throws {
        let out = try run("gradual_magnitude", ["steps=60", "start=10", "every=5", "count=4"])
        let rows = table(out, after: "lenet_300_100, 60 steps")
        XCTAssertEqual(rows.map { $0[0] }, ["dense", "gradual"], out)
        XCTAssertEqual(rows.last?[1], "90.00", out)
    }

    func testSparseTrainingKeepsEachMethodAtItsDensity() throws {
        let out = try run("sparse_training", ["steps=30", "every=5", "seeds=[1,2]", "densities=[0.1]", "methods=[static,rigl,gradual]"])
        let rows = table(out, after: "lenet_300_100: sparse training at 30 steps, 2 seeds")
        XCTAssertEqual(rows.map { $0[0] }, ["static", "rigl", "gradual"], out)
        XCTAssertEqual(rows.map { $0[1] }, ["10.00", "10.00", "10.00"], out)
        // RigL's updates reach weights the static mask never had; gradual starts dense.
        XCTAssertEqual(rows[0][4], "10.00", out)
        XCTAssertGreaterThan(Double(rows[1][4]) ?? 0, 10, out)
        XCTAssertEqual(rows[2][4], "100.00", out)
        for r in rows { XCTAssertGreaterThan(Double(r[2]) ?? 0, 20, out) }
    }

    func testCoresetNeuronsComparesFourSelectionsAtEqualCompression() throws {
        let out = try run("coreset_neurons", ["steps=30", "finetune=10", "models=[lenet_300_100]", "keep=[0.3]"])
        let rows = table(out, after: "lenet_300_100: 0.3 of each hidden layer's neurons kept, 10 fine-tuning steps")
        XCTAssertEqual(rows.map { $0[0] }, ["dense", "coreset", "sensitivity", "outgoing", "random"], out)
        // fc1 keeps 90 of 300 and fc2 30 of 100 in every method: the same compression
        XCTAssertEqual(rows[0][1], "400", out)
        XCTAssertEqual(rows[1][1], "120", out)
        XCTAssertEqual(rows[2][2], "120", out)   // "sensitivity top" is two cells
        XCTAssertEqual(rows[3][2], "120", out)   // "outgoing L1"
        XCTAssertEqual(rows[4][1], "120", out)
    }

    func testLostInPruningReportsPrunePotentialPerDistribution() throws {
        let out = try run("lost_in_pruning", ["steps=30", "retrain=10", "rounds=2", "seeds=[1,2]", "samples=500"])
        let rows = table(out, after: "lenet5: prune potential (δ = 0.5%), 2 rounds of 20%, 2 seeds")
        XCTAssertEqual(rows.map { $0[0] }, ["weights", "weights", "filters", "filters"], out)
        XCTAssertEqual(rows.map { $0[1] }, ["clean", "noise", "clean", "noise"], out)
        // a potential is a prune ratio reached: 0, or one of the rounds' (weights: 20%, 36%)
        for r in rows.prefix(2) { XCTAssertTrue(["0.00", "20.00", "36.00"].contains(r[r.count - 2]), out) }
        let agreement = table(out, after: "Top-1 agreement with the unpruned network")
        XCTAssertEqual(agreement.count, 8, out)
        for r in agreement { for v in r.dropFirst() { XCTAssertGreaterThanOrEqual(Double(v) ?? -1, 0, out); XCTAssertLessThanOrEqual(Double(v) ?? 101, 100, out) } }
    }

    func testSTEMasksKeepTheirDensityAndMove() throws {
        let out = try run("ste_masks", ["steps=20", "every=5"])
        let rows = table(out, after: "lenet_300_100 at 10% density: straight-through masks")
        XCTAssertEqual(rows.map { $0[0] }, ["static", "STE", "SR-STE"], out)
        XCTAssertEqual(rows.map { $0[1] }, ["10.00", "10.00", "10.00"], out)
        XCTAssertEqual(rows[0][4], "10.00", out)
        XCTAssertGreaterThan(Double(rows[1][4]) ?? 0, 10, out)   // the mask moved
    }

    func testSoftFilterPruningAgainstHardAtTheSameSparsity() throws {
        let out = try run("soft_filter", ["steps=40", "per_epoch=10"])
        let rows = table(out, after: "lenet5: 30% of each conv layer's filters")
        XCTAssertEqual(rows.map { $0[0] }, ["soft", "hard"], out)
        // conv1 loses 2 of 6 filters and conv2 5 of 16, in both: 31.37% of the conv weights
        XCTAssertEqual([rows[0][2], rows[1][1]], ["31.37", "31.37"], out)   // "soft (SFP)" is two cells
        XCTAssertEqual(rows[0].last, "3", out)                 // epochs 2, 3 and 4 zeroed filters
    }

    func testGroupLassoThenPruneAndCompact() throws {
        let out = try run("group_lasso", ["steps=20", "finetune=5"])
        let rows = table(out, after: "lenet5: 50% of each conv layer's filters removed after training")
        XCTAssertEqual(rows.map { $0[0] }, ["no", "group"], out)
        XCTAssertEqual(rows.map { $0.last }, ["35820", "35820"], out)
    }

    func testFilterPruningRemovesHalfTheFilters() throws {
        let out = try run("filter_pruning", ["steps=20", "finetune=10", "repeats=2"])
        let rows = table(out, after: "lenet5: 50%")
        XCTAssertEqual(rows.count, 4, out)
        // conv1 keeps 3 of 6 filters and conv2 8 of 16, and their groups take conv2's and
        // fc1's columns with them (fc1 reads 200 features instead of 400): 153,720 MACs of
        // 416,520 remain, masked as compacted.
        XCTAssertEqual(rows[1][3], "36.91", out)
        XCTAssertEqual(rows[1][4], "153720", out)
        XCTAssertEqual(rows[3].prefix(2), ["l1", "compacted"], out)
        XCTAssertEqual(rows[3][4], "153720", out)
        XCTAssertEqual(rows[3].last, rows[1].last, "the compacted network's accuracy differs from the masked one's: \(out)")
        XCTAssertTrue(out.contains("compacted: 35820 parameters of 61706"), out)
    }

    func testFisherPruningRemovesChannelsOneAtATimeAgainstL1AtEqualMACs() throws {
        let out = try run("fisher_pruning", ["steps=60", "every=5", "channels=3", "finetune=10", "batches=1"])
        let rows = table(out, after: "lenet5: channels removed one at a time")
        XCTAssertEqual(rows.map { $0[0] }, ["dense", "fisher", "l1"], out)
        XCTAssertEqual(rows[1][1], "3", out)
        // L1 stops at the first count whose MACs are no more than Fisher's
        let fisherMACs = Double(rows[1][3]) ?? 0, l1MACs = Double(rows[2][4]) ?? .infinity
        XCTAssertLessThanOrEqual(l1MACs, fisherMACs, out)
        for r in rows { XCTAssertGreaterThan(Double(r.last!) ?? 0, 20, out) }
    }

    func testRobustPruningAtInitRescalesTheKeptWeights() throws {
        let out = try run("robust_pruning_at_init", ["depth=6", "width=32", "steps=10", "density=0.2", "resnet=false"])
        let rows = table(out, after: "Pruned at init to 20%")
        XCTAssertEqual(rows.count, 3, out)
        XCTAssertEqual(rows.map { $0.suffix(4).first! }, ["dense", "pruned", "rescaled"], out)
        XCTAssertEqual(rows[1][rows[1].count - 3], "20.00", out)
    }

    func testNetworkSlimmingPrunesByBatchNormScalesAndCompacts() throws {
        let out = try run("network_slimming", ["steps=20", "finetune=5", "width=0.125"])
        let rows = table(out, after: "vgg11 (width 0.125): 50% of the conv channels removed")
        XCTAssertEqual(rows.count, 2, out)
        XCTAssertEqual(rows.map { $0[0] }, ["no", "λ"], out)
        // Half the channels in and out: about a quarter of the parameters stay.
        for r in rows {
            let params = Double(r[r.count - 2]) ?? 0
            XCTAssertTrue(params > 15 && params < 40, out)
        }
    }

    func testSpeedupTabulatesEachKindOfPruning() throws {
        let out = try runRecipe("speedup", ["--no-run-folder", "--set", "width=0.125", "--set", "repeats=2", "--set", "sparsities=[0.5]"])
        let rows = table(out, after: "vgg11 (width 0.125, 3x32x32)")
        XCTAssertEqual(rows.count, 4, out)
        XCTAssertEqual(rows.map { $0[0] }, ["dense", "unstructured,", "unstructured,", "channels,"], out)
        // Channels cut out: a quarter of the parameters and of the MACs are left, roughly.
        let channels = rows[3]
        XCTAssertLessThan(Double(channels[4]) ?? 100, 35, out)
        for r in rows { XCTAssertGreaterThan(Double(r.last!) ?? 0, 0, out) }
    }
}
