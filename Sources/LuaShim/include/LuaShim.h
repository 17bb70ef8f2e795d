// LuaShim: what Swift cannot import from Lua's headers (macros, varargs), and the single
// place where Lua errors are raised. Swift code never calls lua_error: a Swift binding
// returns LP_ERROR with its message on the stack, and lp_trampoline raises it after the
// Swift frame has returned, so Lua's longjmp never crosses Swift code.
#ifndef LUASHIM_H
#define LUASHIM_H

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

// A Swift binding's return value that means "the error message is on top of the stack".
#define LP_ERROR (-1)
// A Swift binding's return value that means "raise the value on top as it is" (an error
// from a nested protected call that already carries its position).
#define LP_RERAISE (-2)

// The Swift side of every binding: `box` identifies the Swift closure to run.
typedef int (*lp_Dispatcher)(lua_State *L, void *box);

// Installs the Swift dispatcher, once per process.
void lp_set_dispatcher(lp_Dispatcher dispatcher);
// Pushes a Lua function that runs the Swift closure `box` through the trampoline.
void lp_push_binding(lua_State *L, void *box);
/// The box of the binding at `i`, or NULL when that value is not a Swift binding.
void *lp_binding_box(lua_State *L, int i);
// Message handler for lua_pcall: appends a traceback to string messages.
int lp_traceback_handler(lua_State *L);
// Loads a chunk as text only (binary chunks are refused); returns a lua_load status.
int lp_load_text(lua_State *L, const char *buffer, size_t size, const char *chunkname);
// The userdata payload at `idx` if its metatable is the one registered under `key`, else NULL.
void *lp_touserdata_with(lua_State *L, int idx, const void *key);
// A panic handler that prints the message and exits instead of aborting.
int lp_panic(lua_State *L);

// Creates a tensor userdata (one pointer slot) with the tensor metatable; returns the slot.
void **lp_new_tensor(lua_State *L);
// The pointer stored in the tensor userdata at `idx`, or NULL if it is not a tensor.
void *lp_to_tensor(lua_State *L, int idx);
// Clears the pointer slot of the userdata at `idx` (after __gc released its object).
void lp_clear_slot(lua_State *L, int idx);
// With (metatable, methods table, indexer function) on the stack, pops all three and makes
// the metatable the tensor metatable; its __index finds string keys in the methods table
// and hands any other key (numbers, slice tables) to the indexer.
void lp_install_tensor_metatable(lua_State *L);
// The same for any class registered under `key` (modules, optimizers…).
void lp_install_indexed_metatable(lua_State *L, const void *key);
// With (obj, name, arg1..argN) on top, calls obj[name](obj, args…) protected; leaves one
// result or the error message. Returns a lua_pcall status.
int lp_pcall_method(lua_State *L, int nargs);
// With a key on top, replaces it by t[key] for the table at idx, metamethods included,
// protected (nil if they fail). Returns the value's type.
int lp_pgettable(lua_State *L, int idx);
// Pushes the tensor metatable.
void lp_push_tensor_metatable(lua_State *L);
// Creates a userdata (one pointer slot) with the metatable registered under `key`.
void **lp_new_object(lua_State *L, const void *key);
// The pointer stored in the userdata at `idx` if its metatable is registered under `key`.
void *lp_to_object(lua_State *L, int idx, const void *key);

// Ctrl-C (SIGTERM) makes the running script raise "interrupted (Ctrl-C)" ("(SIGTERM)") at its next Lua step;
// native loops (through StopRequest, which reads lp_stop_reason) stop at their next step.
void lp_catch_interrupts(lua_State *L);
void lp_release_interrupts(void);
int lp_interrupted(void);
// While a script runs: 1 after Ctrl-C, 3 after SIGTERM, 2 past --time-limit, else 0 (for native loops).
int lp_stop_reason(void);
// --time-limit: after `seconds` (0: none) of wall time, the script raises at its next
// Lua step and native loops stop at their next step boundary (through lp_stop_reason).
void lp_set_time_limit(double seconds);
int lp_time_exceeded(void);
const char *lp_time_limit_message(void);

// A state whose Lua heap is capped at `limit` bytes (the sandbox): past it allocation
// fails and Lua raises "not enough memory", a catchable error. Like luaL_newstate otherwise.
lua_State *lp_new_limited_state(size_t limit);
// lua_close, also freeing the allocator state of a limited state.
void lp_close_state(lua_State *L);
// Bytes of Lua heap in use in a state made by lp_new_limited_state (0 for others).
size_t lp_lua_heap_bytes(lua_State *L);

// Per-state pointer slot (LUA_EXTRASPACE) where the Swift host keeps itself.
void **lp_host_slot(lua_State *L);

static inline int lp_registryindex(void) { return LUA_REGISTRYINDEX; }
static inline int lp_upvalueindex(int i) { return lua_upvalueindex(i); }
static inline void lp_pop(lua_State *L, int n) { lua_pop(L, n); }
static inline void lp_newtable(lua_State *L) { lua_newtable(L); }
static inline const char *lp_tostring(lua_State *L, int i) { return lua_tostring(L, i); }
static inline lua_Number lp_tonumber(lua_State *L, int i) { return lua_tonumber(L, i); }
static inline lua_Integer lp_tointeger(lua_State *L, int i) { return lua_tointeger(L, i); }
static inline int lp_pcall(lua_State *L, int nargs, int nresults, int msgh) {
    return lua_pcall(L, nargs, nresults, msgh);
}
static inline void lp_pushcfunction(lua_State *L, lua_CFunction f) { lua_pushcfunction(L, f); }
static inline void lp_insert(lua_State *L, int idx) { lua_insert(L, idx); }
static inline void lp_remove(lua_State *L, int idx) { lua_remove(L, idx); }
static inline void lp_replace(lua_State *L, int idx) { lua_replace(L, idx); }
static inline int lp_isnoneornil(lua_State *L, int idx) { return lua_isnoneornil(L, idx); }
static inline int lp_isinteger(lua_State *L, int idx) { return lua_isinteger(L, idx); }
static inline void *lp_newuserdata(lua_State *L, size_t size) { return lua_newuserdatauv(L, size, 0); }
static inline void lp_pushlightuserdata(lua_State *L, void *p) { lua_pushlightuserdata(L, p); }
static inline void lp_pushglobaltable(lua_State *L) { lua_pushglobaltable(L); }
static inline const char *lp_typename_at(lua_State *L, int idx) { return luaL_typename(L, idx); }
static inline int lp_gc_step(lua_State *L, int kilobytes) { return lua_gc(L, LUA_GCSTEP, kilobytes); }
static inline int lp_gc_collect(lua_State *L) { return lua_gc(L, LUA_GCCOLLECT, 0); }
static inline int lp_gc_count_kb(lua_State *L) { return lua_gc(L, LUA_GCCOUNT, 0); }

#endif
