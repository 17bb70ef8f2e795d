import CLua
import LuaShim
import LopperCore

/// Assembles the `lopper` Lua module: `lp` global, `require "lopper"`, the tensor
/// metatable and its methods.
public enum LopperModule {
    public static let version = "0.1.0"

    /// Every function in `lp`: constructors and every tensor method.
    static let functions: [LuaFunction] = TensorFunctions.all + methods + AutogradBindings.functions + TrainBindings.functions + IOBindings.functions + RunBindings.functions + HelpBindings.functions
    /// Methods of tensors (also in `lp`).
    static let methods: [LuaFunction] = TensorMethods.all + AutogradBindings.methods + HookBindings.tensorMethods + SurgeryBindings.tensorMethods + TensorIndexing.all + LayerFunctions.all

    static func install(_ L: OpaquePointer) {
        // Tensor metatable: metamethods, then __index over the methods table.
        lua_createtable(L, 0, Int32(TensorMetamethods.metamethods.count + 2))
        for (name, f) in TensorMetamethods.metamethods {
            f.push(L)
            lua_setfield(L, -2, name)
        }
        lua_pushstring(L, "lopper.Tensor")
        lua_setfield(L, -2, "__name")
        lua_createtable(L, 0, Int32(methods.count))
        for f in methods {
            f.document(as: "Tensor:\(f.name)")
            f.push(L)
            lua_setfield(L, -2, f.name)
        }
        TensorMetamethods.indexer.push(L)
        lp_install_tensor_metatable(L)

        // The module table.
        lua_createtable(L, 0, Int32(functions.count + 4))
        for f in functions {
            f.document(as: "lp.\(f.name)")
            f.push(L)
            lua_setfield(L, -2, f.name)
        }
        lua_getfield(L, -1, "from")
        lua_setfield(L, -2, "tensor")
        DataBindings.install(L)
        lua_createtable(L, 0, Int32(DataBindings.functions.count))
        for f in DataBindings.functions {
            f.document(as: "lp.data.\(f.name)")
            f.push(L)
            lua_setfield(L, -2, f.name)
        }
        lua_setfield(L, -2, "data")
        ModuleBindings.install(L)
        OptimBindings.install(L)
        PruneBindings.install(L)
        RunBindings.install(L)
        setTable(L, "nn", ModuleBindings.constructors + [ModuleBindings.luaModule, CaptureBindings.capture])
        setTable(L, "optim", OptimBindings.optimizers)
        setTable(L, "schedule", OptimBindings.schedules)
        setTable(L, "models", TrainBindings.models)
        setTable(L, "checkpoint", IOBindings.checkpoint)
        setTable(L, "prune", PruneBindings.functions + MaskEditBindings.functions + [StructuredBindings.groups, StructuredBindings.coreset, StructuredBindings.mvee])
        MaskBindings.constructor.document(as: "lp.masks")
        MaskBindings.constructor.push(L)
        lua_setfield(L, -2, "masks")
        lua_pushstring(L, version)
        lua_setfield(L, -2, "version")
        lua_pushvalue(L, -1)
        lua_setglobal(L, "lp")
        lua_getfield(L, lp_registryindex(), LUA_LOADED_TABLE)
        lua_pushvalue(L, -2)
        lua_setfield(L, -2, "lopper")
        lp_pop(L, 2)
    }

    /// Sets `lp[name]` to a table of functions (lp is on top of the stack).
    static func setTable(_ L: OpaquePointer, _ name: String, _ functions: [LuaFunction]) {
        lua_createtable(L, 0, Int32(functions.count))
        for f in functions {
            f.document(as: "lp.\(name).\(f.name)")
            f.push(L)
            lua_setfield(L, -2, f.name)
        }
        lua_setfield(L, -2, name)
    }
}
