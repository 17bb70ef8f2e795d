#include "LuaShim.h"
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <time.h>

static const char tensor_key = 0;

static lp_Dispatcher dispatcher = NULL;

// Pushes "file:line: " of the nearest Lua function on the call stack (skipping C frames
// such as the tensor __index closure, and Lopper's own Lua files, "@lopper/*.lua", whose
// wrappers would hide the script's line), or "" if there is none.
static void lp_where(lua_State *L) {
    lua_Debug ar;
    for (int level = 1; lua_getstack(L, level, &ar); level++) {
        lua_getinfo(L, "Sl", &ar);
        if (ar.currentline > 0 && strncmp(ar.source, "@lopper/", 8) != 0) {
            lua_pushfstring(L, "%s:%d: ", ar.short_src, ar.currentline);
            return;
        }
    }
    lua_pushliteral(L, "");
}

void lp_set_dispatcher(lp_Dispatcher d) { dispatcher = d; }

// Runs the Swift closure in upvalue 1; raises its error only after Swift has returned.
static int lp_trampoline(lua_State *L) {
    void *box = lua_touserdata(L, lua_upvalueindex(1));
    int n = dispatcher(L, box);
    if (n == LP_ERROR) {
        // Prefix the caller's position, as luaL_error does: "script.lua:12: message".
        if (lua_type(L, -1) == LUA_TSTRING) {
            lp_where(L);
            lua_insert(L, -2);
            lua_concat(L, 2);
        }
        return lua_error(L);
    }
    if (n == LP_RERAISE) return lua_error(L);
    return n;
}

void lp_push_binding(lua_State *L, void *box) {
    lua_pushlightuserdata(L, box);
    lua_pushcclosure(L, lp_trampoline, 1);
}

void *lp_binding_box(lua_State *L, int i) {
    if (lua_tocfunction(L, i) != lp_trampoline) return NULL;
    if (lua_getupvalue(L, i, 1) == NULL) return NULL;
    void *box = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return box;
}

int lp_traceback_handler(lua_State *L) {
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

int lp_load_text(lua_State *L, const char *buffer, size_t size, const char *chunkname) {
    return luaL_loadbufferx(L, buffer, size, chunkname, "t");
}

void *lp_touserdata_with(lua_State *L, int idx, const void *key) {
    void *p = lua_touserdata(L, idx);
    if (p == NULL || !lua_getmetatable(L, idx)) return NULL;
    lua_rawgetp(L, LUA_REGISTRYINDEX, key);
    int same = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return same ? p : NULL;
}

int lp_panic(lua_State *L) {
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, "lopper: unprotected Lua error: %s\n", msg ? msg : "(not a string)");
    fflush(stderr);
    exit(70);
}

void **lp_new_tensor(lua_State *L) { return lp_new_object(L, &tensor_key); }

void *lp_to_tensor(lua_State *L, int idx) { return lp_to_object(L, idx, &tensor_key); }

void lp_clear_slot(lua_State *L, int idx) {
    void **slot = (void **)lua_touserdata(L, idx);
    if (slot) *slot = NULL;
}

void lp_push_tensor_metatable(lua_State *L) { lua_rawgetp(L, LUA_REGISTRYINDEX, &tensor_key); }

// __index of tensors: methods by name without leaving C, anything else through Swift.
static int lp_tensor_index(lua_State *L) {
    if (lua_type(L, 2) == LUA_TSTRING) {
        lua_pushvalue(L, 2);
        if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;
        lua_pop(L, 1);
    }
    lua_pushvalue(L, lua_upvalueindex(2));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

void lp_install_indexed_metatable(lua_State *L, const void *key) {
    // Stack: metatable, methods, indexer.
    lua_pushcclosure(L, lp_tensor_index, 2);
    lua_setfield(L, -2, "__index");
    lua_rawsetp(L, LUA_REGISTRYINDEX, key);
}

void lp_install_tensor_metatable(lua_State *L) { lp_install_indexed_metatable(L, &tensor_key); }

// obj[name](obj, args...) with (obj, name, args...) as its arguments.
static int lp_method_call(lua_State *L) {
    int n = lua_gettop(L);
    lua_pushvalue(L, 2);
    lua_gettable(L, 1);
    lua_copy(L, 1, 2);
    lua_replace(L, 1);  // fn, obj, args…
    lua_call(L, n - 1, 1);
    return 1;
}

int lp_pcall_method(lua_State *L, int nargs) {
    lua_pushcfunction(L, lp_method_call);
    lua_insert(L, -(nargs + 3));
    return lua_pcall(L, nargs + 2, 1, 0);
}

static int lp_get_field(lua_State *L) {
    lua_gettable(L, 1);
    return 1;
}

int lp_pgettable(lua_State *L, int idx) {
    idx = lua_absindex(L, idx);
    lua_pushcfunction(L, lp_get_field);
    lua_pushvalue(L, idx);
    lua_rotate(L, -3, -1);
    int status = lua_pcall(L, 2, 1, 0);
    if (status != LUA_OK) { lua_pop(L, 1); lua_pushnil(L); }
    return lua_type(L, -1);
}

void **lp_host_slot(lua_State *L) { return (void **)lua_getextraspace(L); }

void **lp_new_object(lua_State *L, const void *key) {
    void **slot = (void **)lua_newuserdatauv(L, sizeof(void *), 0);
    *slot = NULL;
    lua_rawgetp(L, LUA_REGISTRYINDEX, key);
    lua_setmetatable(L, -2);
    return slot;
}

void *lp_to_object(lua_State *L, int idx, const void *key) {
    void **slot = (void **)lp_touserdata_with(L, idx, key);
    return slot ? *slot : NULL;
}

// Ctrl-C: the handler only sets a flag and a hook (both safe in a signal handler, as in
// lua.c); the hook raises the error inside the VM, and native loops poll the flag.
//
// A periodic count hook is on from the start, so every coroutine the script creates
// inherits it (Lua copies the hook into new threads): a loop inside a coroutine stops too.
// Once interrupted, the hook raises at every step until the run ends, so a loop of
// `pcall(f)` cannot swallow the stop: the next instruction outside the pcall raises again.
static volatile sig_atomic_t lp_interrupt_flag = 0;
static volatile sig_atomic_t lp_interrupt_armed = 0;
static lua_State *lp_interrupt_state = NULL;
// Instructions between two looks at the flag (and at the time limit).
#define LP_HOOK_COUNT 1000

static void lp_stop_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    if (!lp_interrupt_armed) return;
    if (lp_interrupt_flag) luaL_error(L, lp_interrupt_flag == SIGTERM ? "interrupted (SIGTERM)" : "interrupted (Ctrl-C)");
    if (lp_time_exceeded()) luaL_error(L, "%s", lp_time_limit_message());
}

static void lp_on_interrupt(int sig) {
    signal(sig, SIG_DFL);  // a second Ctrl-C ends the process at once
    lp_interrupt_flag = sig;
    if (lp_interrupt_state)
        lua_sethook(lp_interrupt_state, lp_stop_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

void lp_catch_interrupts(lua_State *L) {
    lp_interrupt_state = L;
    lp_interrupt_flag = 0;
    lp_interrupt_armed = 1;
    lua_sethook(L, lp_stop_hook, LUA_MASKCOUNT, LP_HOOK_COUNT);
    signal(SIGINT, lp_on_interrupt);
    signal(SIGTERM, lp_on_interrupt);  // kill, scancel and a sweep's stop end a run as Ctrl-C does
}

void lp_release_interrupts(void) {
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    lp_interrupt_armed = 0;
    if (lp_interrupt_state) lua_sethook(lp_interrupt_state, NULL, 0, 0);
    lp_interrupt_state = NULL;
}

int lp_interrupted(void) { return lp_interrupt_flag; }

int lp_stop_reason(void) {
    if (!lp_interrupt_armed) return 0;
    if (lp_interrupt_flag) return lp_interrupt_flag == SIGTERM ? 3 : 1;
    return lp_time_exceeded() ? 2 : 0;
}

// --time-limit: a deadline on the monotonic clock, 0 for none.
static double lp_deadline = 0;
static double lp_limit_seconds = 0;
static char lp_limit_text[96];

static double lp_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void lp_set_time_limit(double seconds) {
    lp_limit_seconds = seconds;
    lp_deadline = seconds > 0 ? lp_now() + seconds : 0;
    snprintf(lp_limit_text, sizeof lp_limit_text, "time limit: the script ran past --time-limit %g s", seconds);
}

int lp_time_exceeded(void) { return lp_deadline > 0 && lp_now() > lp_deadline; }

const char *lp_time_limit_message(void) { return lp_limit_text; }

// The sandbox's allocator: lauxlib's l_alloc with a running total and a cap.
typedef struct { size_t used, limit; } lp_heap;

static void *lp_limited_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    lp_heap *h = (lp_heap *)ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        h->used -= old;
        return NULL;
    }
    if (nsize > old && h->used - old + nsize > h->limit) return NULL;
    void *p = realloc(ptr, nsize);
    if (p) h->used = h->used - old + nsize;
    return p;
}

static void lp_warn_off(void *ud, const char *msg, int tocont) { (void)ud; (void)msg; (void)tocont; }

lua_State *lp_new_limited_state(size_t limit) {
    lp_heap *h = (lp_heap *)malloc(sizeof(lp_heap));
    if (!h) return NULL;
    h->used = 0;
    h->limit = limit;
    lua_State *L = lua_newstate(lp_limited_alloc, h);
    if (!L) { free(h); return NULL; }
    lua_setwarnf(L, lp_warn_off, NULL);
    return L;
}

size_t lp_lua_heap_bytes(lua_State *L) {
    void *ud = NULL;
    lua_Alloc f = lua_getallocf(L, &ud);
    return f == lp_limited_alloc ? ((lp_heap *)ud)->used : 0;
}

void lp_close_state(lua_State *L) {
    void *ud = NULL;
    lua_Alloc f = lua_getallocf(L, &ud);
    lua_close(L);
    if (f == lp_limited_alloc) free(ud);
}
