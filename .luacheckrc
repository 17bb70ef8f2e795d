-- luacheck settings for Lopper's Lua: the shipped files (Sources/LopperLua/Lua), the
-- recipes and the fuzz target. Run by LuaSourcesTests (Debian's lua-check).
std = "lua54"
max_line_length = 160
-- lp is the module every script sees; help is the prompt's documentation.
read_globals = { "lp", "arg" }
files["Sources/LopperLua/Lua"] = {
  -- The preludes define lp's Lua-written functions and replace print, load, loadfile,
  -- dofile and (in the sandbox) parts of io and os.
  globals = { "lp", "help", "print", "load", "loadfile", "dofile", "io", "os", "require", "debug", "package" },
}
