import XCTest
@testable import LopperLua
import LopperCore

/// `lp.prune.groups` and `structure = "group"`: channels traced through the graph, pruned
/// from producers, batch norms and consumers at once, and compacted the same way.
final class DependencyGroupTests: LuaTestCase {
    let helpers = """
    local function close(a, b) return (a - b):abs():max():item() < 1e-5 end
    local function rows(w)
      local r = {}
      for i = 1, w:size(1) do r[i] = w:narrow(1, i, 1):abs():sum():item() > 0 and 1 or 0 end
      return table.concat(r)
    end
    local function named(groups, name)
      for _, g in ipairs(groups) do if g.name == name then return g end end
    end

    """

    func testAResidualAdditionTiesEveryInputIntoOneGroup() {
        check(helpers + """
        local groups = lp.prune.groups(lp.models.resnet20{channels = 3, size = 32, width = 0.5})
        local stage1, inner, out = named(groups, "conv"), named(groups, "blocks.4.conv1"), named(groups, "fc")
        local stage3 = named(groups, "blocks.6.conv2")
        return #groups == 14 and groups[1].name == "input" and groups[1].fixed == "the network's input"
          and table.concat(stage1.producers, " ") == "conv.weight blocks.0.conv2.weight blocks.1.conv2.weight blocks.2.conv2.weight"
          and table.concat(stage1.norms, " ") == "bn.weight blocks.0.bn2.weight blocks.1.bn2.weight blocks.2.bn2.weight"
          and stage1.consumers[#stage1.consumers] == "blocks.3.shortcut.0.weight" and stage1.channels == 8 and stage1.prunable
          and inner.channels == 16 and #inner.producers == 1 and inner.consumers[1] == "blocks.4.conv2.weight"
          and stage3.producers[1] == "blocks.6.conv2.weight" and stage3.producers[2] == "blocks.6.shortcut.0.weight"
          and stage3.consumers[#stage3.consumers] == "fc.weight" and not out.prunable and out.fixed == "the network's output"
        """)
    }

    func testGroupPruningOfResNet20IsExactlyTheCompactedNetwork() {
        check(helpers + """
        lp.manual_seed(21)
        local net = lp.models.resnet20{channels = 3, size = 32, width = 0.5}
        local report = lp.prune.prune(net, {score = "l1", structure = "group", scope = "layer", amount = 0.5})
        local ys = {}
        for i = 1, 16 do ys[i] = i % 10 + 1 end
        lp.train{net = net, data = lp.data.tensors{x = lp.randn(16, 3, 32, 32), y = lp.from(ys)},
                 optimizer = lp.optim.SGD(net, {lr = 0.01, momentum = 0.9}), batch_size = 8, epochs = 1}
        local small, r = lp.compact(net)
        local x = lp.randn(2, 3, 32, 32)
        net:eval(); small:eval()
        -- by hand, every width halved (4, 8, 16): stem 108 + 8; stage 1: 3 × (2 × 144 + 16);
        -- stage 2: 288 + 576 + 32 + 32 + 16, then 2 × (2 × 576 + 32); stage 3: 1152 + 2304 + 64
        -- + 128 + 32, then 2 × (2 × 2304 + 64); fc 16 × 10 + 10
        local hand = 116 + 912 + 944 + 2368 + 3680 + 9344 + 170
        local b = small:get("blocks.6")
        return close(net(x), small(x)) and report.density == 0.5 and #r.notes == 0
          and small:parameter_count() == hand and r.params_before == 68786
          and b.conv1.weight:size(2) == 8 and b.shortcut:get("0").weight:size(1) == 16 and small.fc.weight:size(2) == 16
          and lp.prune.stats(net).macs_kept == lp.prune.stats(small).macs
        """)
    }

    func testALuaWrittenCompositionIsFollowedThroughItsOps() {
        check(helpers + """
        lp.manual_seed(22)
        local Two = lp.nn.module{a = lp.nn.Linear(8, 6), b = lp.nn.Linear(8, 6),
                                 forward = function(self, x) return (self.a(x) + self.b(x) * 0.5):relu() end}
        local net = lp.nn.Sequential{{"fc0", lp.nn.Linear(4, 8)}, {"two", Two}, {"out", lp.nn.Linear(6, 3)}}
        local groups = lp.prune.groups(net, {input = {4}})
        local tied = named(groups, "two.a")
        lp.prune.prune(net, {score = "magnitude", structure = "group", count = 5, input_shape = {4}})
        local small = lp.compact(net)
        local x = lp.randn(3, 4)
        return #groups == 4 and table.concat(tied.producers, " ") == "two.a.weight two.b.weight" and tied.keeps_zeros
          and close(net(x), small(x)) and rows(net.two.a.weight) == rows(net.two.b.weight)
          and small.two.a.weight:size(1) == small.two.b.weight:size(1) and small.out.weight:size(2) == small.two.a.weight:size(1)
          and small.fc0.weight:size(1) + small.two.a.weight:size(1) == 14 - 5
        """)
    }

    func testWhatGroupsCannotFollowIsFixedAndNamed() {
        check(helpers + """
        lp.manual_seed(23)
        local Rotate = lp.nn.module{forward = function(self, x) return lp.cat({x:narrow(2, 3, 2), x:narrow(2, 1, 2)}, 2) end}
        local net = lp.nn.Sequential{{"conv1", lp.nn.Conv2d(1, 4, 3)}, {"rotate", Rotate}, {"conv2", lp.nn.Conv2d(4, 4, 3)},
                                     {"relu", lp.nn.ReLU()}, {"flat", lp.nn.Flatten()}, {"fc", lp.nn.Linear(4 * 4 * 4, 2)}}
        local g = lp.prune.groups(net, {input = {1, 8, 8}})
        lp.prune.prune(net, {score = "l1", structure = "group", amount = 0.5, input_shape = {1, 8, 8}})
        local sig = lp.nn.Sequential{{"fc1", lp.nn.Linear(3, 4)}, {"act", lp.nn.Sigmoid()}, {"fc2", lp.nn.Linear(4, 2)}}
        return not named(g, "conv1").prunable and named(g, "conv1").fixed:find("`narrow`", 1, true) ~= nil
          and named(g, "conv2").prunable and rows(net.conv1.weight) == "1111" and select(2, rows(net.conv2.weight):gsub("1", "")) == 2
          and not named(lp.prune.groups(sig, {input = {3}}), "fc1").keeps_zeros
        """)
        expectError("lp.prune.groups(lp.nn.Sequential{lp.nn.Linear(2, 2)})", "does not know its input shape")
        expectError("lp.prune.prune(lp.nn.Sequential{lp.nn.Linear(2, 2)}, {score = 'l1', structure = 'group', amount = 0.5, input_shape = {2}})",
                    "found no group to prune (0: the network's output)")
    }

    func testAGroupIsScoredFromAllItsMembers() {
        check(helpers + """
        -- hidden neuron i: |producer row| = i, |consumer column| = 5, 0.1, 0.1
        local function tiny()
          local net = lp.nn.Sequential{{"a", lp.nn.Linear(2, 3)}, {"relu", lp.nn.ReLU()}, {"b", lp.nn.Linear(3, 1)}}
          lp.no_grad(function()
            net.a.weight:copy_(lp.from{{0.5, 0.5}, {1, 1}, {1.5, 1.5}})
            net.b.weight:copy_(lp.from{{5, 0.1, 0.1}})
          end)
          return net
        end
        local function pruned(opt)
          local net = tiny()
          opt.score, opt.count, opt.input_shape = "l1", 1, {2}
          lp.prune.prune(net, opt)
          return rows(net.a.weight)
        end
        local producersOnly = function(s) return s:narrow(1, 1, 1):reshape{3} end
        local net = lp.models.lenet5()
        lp.prune.prune(net, {score = "l1", structure = "group", scope = "layer", amount = 0.5})
        local small = lp.compact(net)
        local x = lp.randn(2, 1, 28, 28)
        return pruned{structure = "group"} == "101" and pruned{structure = "group", group_reduce = "mean"} == "101"
          and pruned{structure = "group", group_reduce = "max"} == "101" and pruned{structure = "channel"} == "011"
          and pruned{structure = "group", group_reduce = producersOnly} == "011"
          and pruned{structure = "group", group_reduce = "producers"} == "011"
          and pruned{structure = "group", group_reduce = function(s) return s:sum(1) end} == "101"
          and close(net(x), small(x)) and small.fc1.weight:size(2) == 8 * 25 and small.conv1.weight:size(1) == 3
        """)
        expectError("lp.prune.prune(lp.models.lenet5(), {score = 'l1', structure = 'group', amount = 0.5, group_reduce = 'median'})",
                    "unknown group_reduce 'median' (known: sum, mean, max, producers, or a function)")
        expectError("lp.prune.prune(lp.models.lenet5(), {score = 'l1', amount = 0.5, group_reduce = 'mean'})",
                    "group_reduce needs structure = \"group\"")
        expectError("lp.prune.prune(lp.models.lenet5(), {score = 'l1', structure = 'group', amount = 0.5, group_reduce = function(s) return s end})",
                    "group_reduce gave [2,6] for group conv1, expected [6] (one score per channel)")
    }
}
